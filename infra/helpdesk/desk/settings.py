"""A minimal Django site around django-helpdesk, for Bugline's connector tests and local development.

Everything a run writes (SQLite database, uploaded attachments, sent mail as files) goes under
``HELPDESK_DATA_DIR``, so each test session gets a fresh helpdesk. Loopback only; not for production.
Webhook targets come from django-helpdesk's own environment variables
(HELPDESK_NEW_TICKET_WEBHOOK_URLS, HELPDESK_FOLLOWUP_WEBHOOK_URLS), read by the package itself.
"""

import os
from pathlib import Path

DATA_DIR = Path(os.environ["HELPDESK_DATA_DIR"])
SECRET_KEY = os.environ.get("HELPDESK_SECRET_KEY", "bugline-test-helpdesk-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "desk.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "helpdesk.sqlite3",
        # A throwaway database: no fsync for each of the 64 migrations' commits on every start.
        "OPTIONS": {"init_command": "PRAGMA synchronous=OFF; PRAGMA journal_mode=MEMORY;"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Fast hashing: the superuser is created on every test session start.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = "helpdesk@bugline.test"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}

# Teams mode needs pinax-teams; plain queues are all Bugline uses.
HELPDESK_TEAMS_MODE_ENABLED = False
# The package's default attachment types leave out what Bugline sends most (recordings, logs):
# the connector's `attachment_types` setting mirrors this list (docs/helpdesk.md).
HELPDESK_VALID_EXTENSIONS = [".txt", ".log", ".json", ".pdf", ".jpg", ".png", ".gif", ".webp", ".webm", ".mp4"]

USE_TZ = True
TIME_ZONE = "UTC"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
