// Starts Swagger UI on /docs. A file, not an inline script, so the page's
// Content-Security-Policy can stay "script-src 'self'".
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    deepLinking: true,
    // The default would send the spec to, and load a badge from, a third-party validator.
    validatorUrl: null,
  });
});
