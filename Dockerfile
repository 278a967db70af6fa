# Stationmaster application image (web, Celery worker and Celery beat share it).
#
#   docker build -t stationmaster .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=... -e REDIS_URL=... -p 8000:8000 stationmaster
#
# Stage "build" creates a virtualenv holding the project and its dependencies;
# stage "runtime" copies that virtualenv into a clean slim image, so build
# artefacts (pip caches, build/, *.egg-info) never reach the final image.
# Nothing is fetched from the network at runtime.

ARG PYTHON_IMAGE=python:3.13-slim

# --------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

WORKDIR /src

# Dependencies first, read straight from pyproject.toml, so this layer stays
# cached until the dependency list itself changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# Then the project itself (PEP 621 / setuptools).
COPY . .
RUN pip install --no-deps .

# --------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# PYTHONPATH=/app makes the source tree in /app (with manage.py, templates/,
# static/) take precedence over the copy installed in site-packages, so
# BASE_DIR-relative paths in the settings resolve inside /app.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    DATA_DIR=/app/var \
    WEB_CONCURRENCY=3

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY . .

# Static files are collected at build time into /app/staticfiles (served by
# WhiteNoise). The settings need a SECRET_KEY to load; the values below exist
# only for this RUN step and are not part of the image's environment.
# The code stays root-owned and read-only for the app user; only DATA_DIR
# (/app/var, a volume in docker-compose.yml) is writable.
RUN SECRET_KEY=collectstatic-build-only-not-secret \
    DEBUG=false \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
    && rm -f /tmp/collectstatic.sqlite3 \
    && mkdir -p /app/var \
    && chown app:app /app/var

USER app:app

EXPOSE 8000

# Liveness only (/healthz); readiness (/readyz, DB + broker) is checked by
# docker-compose.yml. Worker and beat containers override or disable this.
# The Host header is the first ALLOWED_HOSTS entry so Django accepts the
# request; X-Forwarded-Proto avoids an HTTPS redirect when the app trusts it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=4)"]

CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
