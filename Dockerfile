# sevbot container image: `docker build -t sevbot .`, then `docker run sevbot web|worker|migrate|run`.
# Runs as a non-root user and works with a read-only root filesystem (writes only to /tmp and
# /data, which are volumes). Logs are JSON lines on stderr.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/sevbot
WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir bot && touch bot/__init__.py \
    && /opt/sevbot/bin/pip install . \
    && /opt/sevbot/bin/pip uninstall --yes sevbot
COPY bot ./bot
COPY migrations ./migrations
COPY config ./config
# Editable: the code, migrations and config stay together under /app, where sevbot finds them.
RUN /opt/sevbot/bin/pip install --no-deps -e . \
    && /opt/sevbot/bin/python -m compileall -q /app/bot /app/migrations /opt/sevbot/lib

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="sevbot" \
      org.opencontainers.image.description="Incident and postmortem Slack bot" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 sevbot \
    && useradd --system --uid 10001 --gid sevbot --home-dir /app --shell /usr/sbin/nologin sevbot \
    && mkdir -p /data \
    && chown sevbot:sevbot /data
COPY --from=build /opt/sevbot /opt/sevbot
COPY --from=build /app /app
ENV PATH=/opt/sevbot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOG_FORMAT=json \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/sevbot.db
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000
# Every process serves /healthz on PORT: web with Slack, worker and Socket Mode without it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
ENTRYPOINT ["sevbot"]
CMD ["web"]
