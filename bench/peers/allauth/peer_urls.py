"""allauth's headless API, and a health check for the benchmark to wait on."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def healthz(_request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


urlpatterns = [
    path("_allauth/", include("allauth.headless.urls")),
    path("healthz", healthz),
]
