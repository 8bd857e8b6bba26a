"""Settings come from the environment only (checked in fresh interpreters, because settings
are read once at import)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"
)
STRONG_KEY = "x7#kP2q!vR9zL4m@wN8cT1bY6fH3jD5sG0aE-uQ_iO+oZ=lK^rV&tX*pC(yB)nM$"


def run(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_nothing_set_it_runs_on_sqlite_with_tasks_in_process():
    result = run(["-c", PRINT], DJANGO_SETTINGS_MODULE="monitoring.settings.local")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "memory://"]


def test_database_and_redis_urls_select_postgresql_and_a_real_broker():
    result = run(
        ["-c", PRINT],
        DJANGO_SETTINGS_MODULE="monitoring.settings.local",
        DATABASE_URL="postgres://u@db.example:5432/conjunto",
        REDIS_URL="redis://cache.example:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "False",
        "redis://cache.example:6379/0",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "short"}, "at least 50 random characters"),
        ({"DJANGO_SECRET_KEY": STRONG_KEY}, "DJANGO_ALLOWED_HOSTS must be set"),
        (
            {"DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_ALLOWED_HOSTS": "monitoring.example.org"},
            "EMAIL_URL must be set",
        ),
    ],
)
def test_production_refuses_to_start_without_its_secrets(env, message):
    result = run(["-c", PRINT], DJANGO_SETTINGS_MODULE="monitoring.settings.production", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="monitoring.settings.production",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS="monitoring.example.org",
        EMAIL_URL="smtp+tls://mailer:secret@smtp.example.org:587",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_migrations_match_the_models():
    result = run(
        ["manage.py", "makemigrations", "--check", "--dry-run"],
        DJANGO_SETTINGS_MODULE="monitoring.settings.test",
    )
    assert result.returncode == 0, result.stdout + result.stderr
