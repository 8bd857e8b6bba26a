"""Settings shared by every environment. Everything a deployment changes comes from the
environment through ``env`` (django-environ); nothing secret has a usable default here."""

from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file is convenient on a developer's machine; the real environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "monitoring",
    "indicators",
    "budgets",
    "surveys",
    "knowledge",
    "governance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "monitoring.middleware.RejectNulMiddleware",
    # ETag and If-None-Match / If-Modified-Since for every GET (API pages included); streamed
    # responses are left alone.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

# No inline or third-party script anywhere: pages load plotly.js and their own scripts from
# /static/ and pass data as JSON. Plotly styles its SVG inline and draws PNG exports from
# data:/blob: images, hence the style and image sources.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

ROOT_URLCONF = "monitoring.urls"
WSGI_APPLICATION = "monitoring.wsgi.application"
ASGI_APPLICATION = "monitoring.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded default is a SQLite file next to the code; DATABASE_URL selects PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Spanish first: the programme works in Spanish; the fund reads English.
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
# Evidence and deliverable files: at most this size each (default 10 MB); so are uploaded
# expenditure, response and workbook files. They are served only through views that check who
# is asking, as downloads, never from MEDIA_URL.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
# A request's fields other than files (the largest: a report form with every indicator's
# comment and cells), and any body that is not a file upload (JSON included).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
# An uploaded file larger than this goes to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# A whole request, files included, is refused unread (413) above this: a report form may
# carry one evidence file per indicator, so room for five at the limit and the other fields.
REQUEST_MAX_BYTES = env.int(
    "REQUEST_MAX_BYTES", default=5 * EVIDENCE_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE
)

# Celery: with REDIS_URL, a real broker and workers; without it, tasks run in-process
# (the embedded default). The same task code runs either way.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={})
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "monitoring.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["monitoring.api.permissions.TokenScope"],
    "DEFAULT_PAGINATION_CLASS": "monitoring.api.pagination.StablePagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["monitoring.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_RATE_TOKEN", default="1200/minute"),
        "anon": env.str("API_RATE_ANON", default="60/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "monitoring.api.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Exports with more rows than this (or any XLSX/DOCX/IATI file of a programme that large) are
# built by a worker and offered when ready; smaller ones download at once.
EXPORT_SYNC_MAX_ROWS = env.int("EXPORT_SYNC_MAX_ROWS", default=50_000)

SPECTACULAR_SETTINGS = {
    "TITLE": "Conjunto API",
    "DESCRIPTION": (
        "Results, progress reports, budgets and surveys of UN joint programmes. Machine "
        "clients send `Authorization: Token <key>`; donors' tokens see approved data only."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "monitoring.api.schema.document_error_responses",
    ],
    # No validator.swagger.io badge: the docs page calls nothing outside the site.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "ActivityStatusEnum": "monitoring.models.Activity.Status",
        "PeriodKindEnum": "monitoring.models.ReportingPeriod.Kind",
        "PeriodStatusEnum": "monitoring.models.ReportingPeriod.Status",
        "ReportStatusEnum": "indicators.models.ProgressReport.Status",
        "ActivityProgressStatusEnum": "indicators.models.ActivityProgress.Status",
        "AchievementStatusEnum": "indicators.models.Status",
        "SurveyKindEnum": "surveys.models.Survey.Kind",
        "SurveyStatusEnum": "surveys.models.Survey.Status",
        "ExpenditureStatusEnum": "budgets.models.Expenditure.Status",
        "ExpenditureKindEnum": "budgets.models.Expenditure.Kind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

from celery.schedules import crontab  # noqa: E402

# The minute sweep recomputes what was requested at least this many seconds ago and is still
# owed (its task was lost or its worker died); younger requests are left to their own task.
RECOMPUTE_SWEEP_AFTER = env.int("RECOMPUTE_SWEEP_AFTER", default=60)

CELERY_BEAT_SCHEDULE = {
    "nightly-recompute-and-quality": {
        "task": "indicators.tasks.recompute_all",
        "schedule": crontab(hour=2, minute=30),
    },
    "sweep-pending-recomputes": {
        "task": "indicators.tasks.sweep_pending",
        "schedule": 60.0,
    },
}

# E-mail: EMAIL_URL picks the backend and server in django-environ's syntax, e.g.
# smtp+tls://user:password@host:587 or smtp+ssl://user:password@host:465; locally the default
# prints messages to the console (the log); production requires it. Django 6.1 takes it as
# MAILERS, not EMAIL_* settings.
_SMTP_OPTIONS = {
    "EMAIL_HOST": "host",
    "EMAIL_PORT": "port",
    "EMAIL_HOST_USER": "username",
    "EMAIL_HOST_PASSWORD": "password",
    "EMAIL_USE_TLS": "use_tls",
    "EMAIL_USE_SSL": "use_ssl",
}


def mailer_from_url(url: dict) -> dict:
    """The default mailer from a parsed EMAIL_URL; only SMTP takes the server's options."""
    if not url["EMAIL_BACKEND"].endswith(".smtp.EmailBackend"):
        return {"BACKEND": url["EMAIL_BACKEND"]}
    options = {option: url[key] for key, option in _SMTP_OPTIONS.items() if url.get(key)}
    # A mail server that stops answering must not hold a worker forever.
    options["timeout"] = env.int("EMAIL_TIMEOUT", default=30)
    return {"BACKEND": url["EMAIL_BACKEND"], "OPTIONS": options}


# An empty EMAIL_URL (as compose files pass an unset one) means the default too.
MAILERS = {
    "default": mailer_from_url(
        env.email_url_config(env.str("EMAIL_URL", default="") or "consolemail://")
    )
}
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Conjunto <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in e-mails are absolute: the address users open the site at, without a trailing path.
SITE_URL = env.str("DJANGO_SITE_URL", default="http://127.0.0.1:8000")

# Report reminders (indicators.reminders): to the coordinators this many days before the due
# date and the day after it; escalated to the agency's approvers, then to the RCO, this many
# days after it; to the approvers when a report has waited this long for approval.
REPORT_REMINDER_DAYS_BEFORE = env.int("REPORT_REMINDER_DAYS_BEFORE", default=7)
REPORT_ESCALATE_APPROVER_AFTER = env.int("REPORT_ESCALATE_APPROVER_AFTER", default=7)
REPORT_ESCALATE_RCO_AFTER = env.int("REPORT_ESCALATE_RCO_AFTER", default=14)
REPORT_APPROVAL_REMINDER_AFTER = env.int("REPORT_APPROVAL_REMINDER_AFTER", default=5)
CELERY_BEAT_SCHEDULE["daily-report-reminders"] = {
    "task": "indicators.tasks.send_report_reminders",
    "schedule": crontab(hour=7, minute=0),
}
# Overdue follow-up actions (a management response's, a committee meeting's): one reminder per
# action and due date.
CELERY_BEAT_SCHEDULE["daily-knowledge-action-reminders"] = {
    "task": "knowledge.tasks.send_overdue_action_reminders",
    "schedule": crontab(hour=7, minute=10),
}
CELERY_BEAT_SCHEDULE["daily-meeting-action-reminders"] = {
    "task": "governance.tasks.send_overdue_action_reminders",
    "schedule": crontab(hour=7, minute=20),
}

# The public survey page: at most this many responses per hour from one address on an open
# link; behind N trusted proxies the address is the N-th from the right of X-Forwarded-For.
SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS = env.int("SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS", default=20)
SURVEY_TRUSTED_PROXIES = env.int("SURVEY_TRUSTED_PROXIES", default=0)

# Operations, security and scale-out settings, each kept in a part of its own.
from .parts import ops, scaling, security  # noqa: E402

for _part in (ops, security, scaling):
    _part.apply(globals())
