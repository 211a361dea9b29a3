"""A minimal Django project with django-allauth's MFA over its headless API (app client).

The peer of bench/run.py: the second step with an authenticator app's code,
``POST /_allauth/app/v1/auth/2fa/authenticate`` with ``X-Session-Token``, served by
gunicorn (one gthread worker, 8 threads) on the benchmark's PostgreSQL. Settings are
allauth's defaults except where the comments say why.
"""

import os
from urllib.parse import urlsplit

_DB = urlsplit(os.environ["PEER_DATABASE_URL"])

SECRET_KEY = "bench-peer-secret-key-" + "p" * 40
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "peer_urls"
WSGI_APPLICATION = "peer_wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
]

# Django's start-project middleware, and allauth's.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _DB.path.lstrip("/"),
        "USER": _DB.username or "",
        "HOST": _DB.hostname or "",
        "PORT": str(_DB.port or ""),
        # Persistent connections, one per gunicorn thread: the fastest way Django has
        # short of a pool; a new connection per request would cost more than the step.
        "CONN_MAX_AGE": None,
    }
}
# Sessions in the database (Django's default): the app client's session token names one.
# The cache is Django's default, LocMemCache: allauth keeps its rate limits and the TOTP
# replay guard (a used code) there, in this process's memory.

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Seeding signs every account in with its password first; the measured step checks none.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# Every request of the benchmark comes from 127.0.0.1: the per-address limits (login 30/m,
# login_failed 10/m) would refuse almost all of them. The per-account limit of the second
# step stays (5 failures in 5 minutes, allauth's default; ours is 10 then a backoff).
ACCOUNT_RATE_LIMITS = {"login": None, "login_failed": "5/300s/key"}

HEADLESS_ONLY = True
HEADLESS_CLIENTS = ("app",)
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": "http://localhost/verify/{key}",
    "account_reset_password_from_key": "http://localhost/reset/{key}",
    "account_signup": "http://localhost/signup",
}

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# One time step either side, as Ankra Auth accepts (allauth's default is the current one
# only): a code made for one step may be checked in the next.
MFA_TOTP_TOLERANCE = 1

LOGGING = {"version": 1, "disable_existing_loggers": False}
