"""One settings module, read from the environment.

Every value has a default that is safe for a single-machine pilot (SQLite under var/, no broker,
DEBUG off). A secret may also be given as a file: FOO_FILE=/run/secrets/foo is read for FOO.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def envbool(name: str, default: str = "False") -> bool:
    return env(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: str) -> int:
    return int(env(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


VAR_DIR = Path(env("MINYI_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret(file_name: str, length: int = 50) -> str:
    """A secret kept in var/ so that a pilot needs no set-up and keeps sessions across restarts."""
    path = VAR_DIR / file_name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(length), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


DEBUG = envbool("DEBUG")
SECRET_KEY = env("SECRET_KEY") or _local_secret("secret_key")
# Key for citizens' personal data (names, phones, addresses): encrypted at rest, keyed hashes
# for matching. Losing it loses the data, so production must set and back it up.
MINYI_DATA_KEY = env("MINYI_DATA_KEY") or _local_secret("data_key", 32)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_NAME = env("MINYI_SITE_NAME", "民意 · 群众安全感满意度工作平台")

INSTALLED_APPS = [
    "minyi.core",
    "minyi.orgs",
    "minyi.workcal",
    "minyi.intake",
    "minyi.orders",
    "minyi.api",
    "minyi.reports",
    "minyi.notifications",
    "minyi.assessment",
    "minyi.campaigns",
    "minyi.callbacks",
    "minyi.public",
    "minyi.surveys",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "minyi.urls"
WSGI_APPLICATION = "minyi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "minyi" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "minyi.core.context_processors.shell",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'minyi.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", "0"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so two writers queue instead of both
    # reading the audit chain's last hash and forking it; WAL lets readers go on meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that the live server of the browser tests and concurrency tests see
    # the same data; one per process, so that two test runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # One test database per process, so that two suites on one server never drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, background work ------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Without a broker the in-process scheduler of `minyi serve` runs the periodic tasks; with
# REDIS_URL set, Celery workers and beat take them over (see README).
MINYI_INPROCESS_SCHEDULER = envbool("MINYI_INPROCESS_SCHEDULER", "False" if REDIS_URL else "True")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves it to another
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "orgs.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", str(12 * 3600))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static files: everything is served by the project itself (police networks are offline) --
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "minyi" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- SMS (notifications: supervision notices to unit heads; later the callbacks' rating links) -
# "console" (default): logged and written, number masked, one JSON line per message to
# MINYI_SMS_FILE_PATH; "file": the same with the full number, for a program beside Minyi (an SMS
# modem) to pick up; "http": POST {"to", "text", "id"} as JSON to MINYI_SMS_HTTP_URL with the
# bearer token MINYI_SMS_HTTP_TOKEN, 2xx meaning accepted. Failed messages are retried with
# back-off (1, 2, 4 … minutes, at most an hour) and given up after MINYI_SMS_MAX_ATTEMPTS.
MINYI_SMS_BACKEND = env("MINYI_SMS_BACKEND", "console")
MINYI_SMS_FILE_PATH = env("MINYI_SMS_FILE_PATH", str(VAR_DIR / "sms" / "sms.jsonl"))
MINYI_SMS_HTTP_URL = env("MINYI_SMS_HTTP_URL")
MINYI_SMS_HTTP_TOKEN = env("MINYI_SMS_HTTP_TOKEN")
MINYI_SMS_HTTP_TIMEOUT = float(env("MINYI_SMS_HTTP_TIMEOUT", "10"))
MINYI_SMS_MAX_ATTEMPTS = envint("MINYI_SMS_MAX_ATTEMPTS", "8")

# --- the public's pages -----------------------------------------------------------------------
# The address the public reaches Minyi under: rating links sent by SMS point there.
MINYI_PUBLIC_BASE_URL = env("MINYI_PUBLIC_BASE_URL", "http://127.0.0.1:8000")

# Surveys: how long a self-completion link sent by SMS stays usable, and the fewest respondents
# a township or station needs in a wave to be ranked (fewer: shown with their n, marked 样本不足).
MINYI_SURVEY_LINK_DAYS = envint("MINYI_SURVEY_LINK_DAYS", "7")
MINYI_SURVEY_MIN_N = envint("MINYI_SURVEY_MIN_N", "30")
