# The web app, the Celery worker and Celery beat share this image (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=monitoring.settings.production

WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/base.txt

COPY . .
# Static files are collected at build time and served by WhiteNoise from gunicorn.
RUN DJANGO_SETTINGS_MODULE=monitoring.settings.local DJANGO_SECRET_KEY=collectstatic-only \
    python manage.py collectstatic --noinput --verbosity 0 \
 && useradd --system --uid 10001 --home-dir /app conjunto \
 && mkdir -p /app/media && chown -R conjunto /app/media

USER conjunto
EXPOSE 8000
CMD ["gunicorn", "monitoring.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
