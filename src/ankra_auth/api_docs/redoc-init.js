// Starts ReDoc on /redoc. ReDoc writes its styles into <style> elements: the
// page's CSP admits them by a per-response nonce, which ReDoc stamps on each.
// Search is off: it runs in a worker made from a blob: URL, which the CSP refuses.
window.addEventListener("load", () => {
  const root = document.getElementById("redoc");
  Redoc.init("/openapi.json", { nonce: root.dataset.nonce, disableSearch: true }, root);
});
