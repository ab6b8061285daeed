"""Django settings for the youjun web application.

Embedded SQLite by default (zero set-up); PostgreSQL when ``DATABASE_URL`` is set
(``postgres://user:password@host:5432/name``). ``YOUJUN_ENV=production`` switches on the secure settings and
requires ``YOUJUN_SECRET_KEY`` and ``YOUJUN_ALLOWED_HOSTS``.

Operations: logs go to stderr (and to ``YOUJUN_LOG_FILE`` when set), every line with the request id; security events
(logins, lockouts, resets, refusals) are logged by ``youjun.security``. Sessions end after two idle hours and at the
latest ``YOUJUN_SESSION_MAX_AGE`` seconds (12 h) after the login.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from youjun.web.site import network

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("YOUJUN_DATA_DIR", Path.cwd() / "var"))
PRODUCTION = os.environ.get("YOUJUN_ENV") == "production"
#: ``make demo`` (never in production): DEBUG off, the machine's own addresses allowed as hosts, and QR codes that
#: carry the address of this machine on the network when the server listens there (YOUJUN_DEMO_HOST / _PORT).
DEMO = not PRODUCTION and os.environ.get("YOUJUN_DEMO") == "1"
DEMO_HOST = os.environ.get("YOUJUN_DEMO_HOST", "127.0.0.1").strip()
DEMO_PORT = os.environ.get("YOUJUN_DEMO_PORT", "8000").strip()

if PRODUCTION:
    from django.core.exceptions import ImproperlyConfigured

    missing = [name for name in ("YOUJUN_SECRET_KEY", "YOUJUN_ALLOWED_HOSTS") if not os.environ.get(name)]
    if missing:
        raise ImproperlyConfigured("生产环境必须设置环境变量：" + "、".join(missing))
    SECRET_KEY = os.environ["YOUJUN_SECRET_KEY"]
    ALLOWED_HOSTS = [h.strip() for h in os.environ["YOUJUN_ALLOWED_HOSTS"].split(",") if h.strip()]
    DEBUG = False
else:
    SECRET_KEY = os.environ.get("YOUJUN_SECRET_KEY", "youjun-development-key-not-for-production-use-0123456789")
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    ALLOWED_HOSTS += [h.strip() for h in os.environ.get("YOUJUN_ALLOWED_HOSTS", "").split(",") if h.strip()]
    # Development: Django's debug pages; the demo (``make demo``) shows what users see, the Chinese error pages.
    DEBUG = os.environ.get("YOUJUN_DEBUG", "0" if DEMO else "1") == "1"
    if DEMO:  # phones on the same network reach the demo by this machine's name or any of its addresses
        ALLOWED_HOSTS += network.own_host_names()
        if DEMO_HOST not in network.WILDCARDS:
            ALLOWED_HOSTS.append(DEMO_HOST.strip("[]"))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "youjun.web.organisation",
    "youjun.web.accounts",
    "youjun.web.audit",
    "youjun.web.downloads",
    "youjun.web.rulesets",
    "youjun.web.collection",
    "youjun.web.evaluation",
    "youjun.web.planning",
    "youjun.web.api",
    "youjun.web.assessment",
    "youjun.web.survey",
    "youjun.web.programme",
    "youjun.web.monitoring",
    "youjun.web.recognition",
    "youjun.web.todo",
    "youjun.web.operations",
    "youjun.web.site",
]

MIDDLEWARE = [
    "youjun.web.accounts.middleware.RequestIdMiddleware",
    "youjun.web.accounts.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "youjun.web.accounts.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "youjun.web.safety.DatabaseInputMiddleware",
    "youjun.web.site.errors.MethodNotAllowedMiddleware",
    "youjun.web.shortcuts.RefusalMiddleware",
]
# Refusals Django answers itself get Chinese pages: 400/403/404/500 templates, 405 (the middleware above) and a
# failed CSRF check (site.errors).
CSRF_FAILURE_VIEW = "youjun.web.site.errors.csrf_failure"

ROOT_URLCONF = "youjun.web.urls"
WSGI_APPLICATION = "youjun.web.wsgi.application"
TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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


#: Writers wait for each other (busy timeout) and take the write lock when their transaction begins, so that a
#: transaction that read first never fails on upgrading its lock ("database is locked"): concurrent requests of the
#: embedded deployment queue instead of failing.
# The embedded database: writers queue (IMMEDIATE, 20 s), readers never wait for them (write-ahead log), so the web
# server and the worker can share the file.
SQLITE_OPTIONS = {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}


def database_from_url(url: str | None) -> dict[str, object]:
    """``DATABASE_URL`` (postgres://… or sqlite:///…) to a Django database setting; SQLite in DATA_DIR by default."""
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "youjun.sqlite3", "OPTIONS": SQLITE_OPTIONS}
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        name = unquote(parsed.path[1:]) or ":memory:"
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name, "OPTIONS": SQLITE_OPTIONS}
    if parsed.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,  # a connection the server dropped is replaced, not failed on
        }
    raise ValueError(f"unsupported DATABASE_URL scheme: {parsed.scheme}")


DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Django's validators with Chinese messages (accounts.passwords).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "youjun.web.accounts.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "youjun.web.accounts.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "youjun.web.accounts.passwords.CommonPasswordValidator"},
    {"NAME": "youjun.web.accounts.passwords.NumericPasswordValidator"},
]

# Sessions end after two idle hours, when the browser closes, and at the latest this long after the login.
SESSION_COOKIE_AGE = 2 * 60 * 60
YOUJUN_SESSION_MAX_AGE = int(os.environ.get("YOUJUN_SESSION_MAX_AGE", str(12 * 60 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Login throttling (accounts.throttle, counted in the database): failed attempts per user name within the window
# lock that name for LOGIN_LOCKOUT seconds; the per-address limit is far higher (an office behind one NAT address).
LOGIN_MAX_FAILURES = int(os.environ.get("YOUJUN_LOGIN_MAX_FAILURES", "5"))
LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("YOUJUN_LOGIN_MAX_FAILURES_PER_ADDRESS", "100"))
LOGIN_FAILURE_WINDOW = 15 * 60
LOGIN_LOCKOUT = int(os.environ.get("YOUJUN_LOGIN_LOCKOUT", str(15 * 60)))
# Reverse proxies whose X-Forwarded-For names the client (comma-separated IPs); none: REMOTE_ADDR is the client.
YOUJUN_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("YOUJUN_TRUSTED_PROXIES", "").split(",") if p.strip()]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "youjun"}}

# Uploads: a county workbook of a few hundred schools is well under 10 MB.
YOUJUN_MAX_UPLOAD_BYTES = int(os.environ.get("YOUJUN_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
# Evidence files (assessment): refused above this size, before and while the body is read; stored by random name.
YOUJUN_EVIDENCE_MAX_BYTES = int(os.environ.get("YOUJUN_EVIDENCE_MAX_BYTES", str(20 * 1024 * 1024)))
YOUJUN_EVIDENCE_DIR = Path(os.environ.get("YOUJUN_EVIDENCE_DIR", DATA_DIR / "evidence"))
# Files prepared in the background (large exports), kept 7 days; on several app servers a shared folder.
YOUJUN_PREPARED_DIR = Path(os.environ.get("YOUJUN_PREPARED_DIR", DATA_DIR / "prepared"))
FILE_UPLOAD_PERMISSIONS = 0o640  # uploads spooled to disk are readable by the service only

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("YOUJUN_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if os.environ.get("YOUJUN_CACHE_URL", "").startswith("redis://"):
        CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": os.environ["YOUJUN_CACHE_URL"],
            }
        }

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
if not PRODUCTION:  # development and tests: serve straight from the source folders, no collectstatic needed
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Static assets (styles, scripts) are served by the application itself: intranets need no CDN and no extra server.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

YOUJUN_STANDARD = os.environ.get("YOUJUN_STANDARD", "national-2017")

# Background work (recomputes, reminders, exports) through Django's tasks API with the database backend: no broker,
# the same on SQLite and PostgreSQL; `youjun-web worker` runs the jobs (several workers on several machines may share
# one PostgreSQL). YOUJUN_TASKS=immediate runs every job inside the request instead (a single process, no worker).
TASKS: dict[str, dict[str, Any]]
if os.environ.get("YOUJUN_TASKS") == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A job running longer than this (seconds) is taken to have lost its worker and goes back to the queue.
YOUJUN_TASK_LEASE = int(os.environ.get("YOUJUN_TASK_LEASE", str(60 * 60)))
# The daily jobs (local time): deadline and to-do reminders, stale results brought up to date, old job records pruned.
YOUJUN_SCHEDULE = [("reminders", "07:30"), ("recompute_stale", "02:00"), ("prune", "03:30")]

# The address people outside this machine use (QR codes and links in e-mails carry it), e.g. http://10.1.2.3:8000 or
# https://youjun.jyt.gov.cn; unset, links take the address of the request.
YOUJUN_PUBLIC_URL = os.environ.get("YOUJUN_PUBLIC_URL", "").rstrip("/")
#: The demo's own address on this machine, and the one other devices use (QR codes carry it unless the user set
#: YOUJUN_PUBLIC_URL): ``make demo HOST=0.0.0.0`` gives http://<this machine's network address>:<PORT>.
YOUJUN_DEMO_URL = ""
if DEMO:
    YOUJUN_DEMO_URL, _lan_url = network.demo_urls(DEMO_HOST, DEMO_PORT)
    YOUJUN_PUBLIC_URL = YOUJUN_PUBLIC_URL or _lan_url
if not PRODUCTION:
    if urlparse(YOUJUN_PUBLIC_URL).hostname:  # links must carry an address this server answers to
        ALLOWED_HOSTS.append(str(urlparse(YOUJUN_PUBLIC_URL).hostname))
    ALLOWED_HOSTS = list(dict.fromkeys(ALLOWED_HOSTS))

# E-mail (reminders): sent through SMTP when YOUJUN_SMTP_HOST is set; otherwise nothing is sent (in-app only).
YOUJUN_EMAIL_ENABLED = bool(os.environ.get("YOUJUN_SMTP_HOST"))
if YOUJUN_EMAIL_ENABLED:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["YOUJUN_SMTP_HOST"]
    EMAIL_PORT = int(os.environ.get("YOUJUN_SMTP_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("YOUJUN_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("YOUJUN_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("YOUJUN_SMTP_TLS", "0") == "1"
    EMAIL_USE_SSL = os.environ.get("YOUJUN_SMTP_SSL", "0") == "1"
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("YOUJUN_EMAIL_FROM", "youjun@localhost")

# Logs: stderr (collected by systemd / the container runtime) and YOUJUN_LOG_FILE if set (reopened when rotated).
# Every record carries the request id; Django's request errors (django.request, with traceback) and security
# warnings (django.security) are included.
_LOG_HANDLERS = {
    "stderr": {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "line",
        "filters": ["request_id"],
    }
}
if os.environ.get("YOUJUN_LOG_FILE"):
    _LOG_HANDLERS["file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": os.environ["YOUJUN_LOG_FILE"],
        "encoding": "utf-8",
        "formatter": "line",
        "filters": ["request_id"],
    }
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "youjun.web.accounts.logs.RequestIdFilter"}},
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(process)d %(message)s"},
    },
    "handlers": _LOG_HANDLERS,
    "root": {"handlers": list(_LOG_HANDLERS), "level": os.environ.get("YOUJUN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "youjun": {"handlers": [], "level": "INFO", "propagate": True},
        # A line per job in production (the worker's log); the demo's terminal keeps the logins.
        "django_tasks": {"handlers": [], "level": "WARNING" if DEMO else "INFO", "propagate": True},
    },
}
