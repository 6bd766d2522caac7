# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY migrations ./migrations
COPY data ./data
# A non-editable install: the wheel carries the migrations and the corpus (package data).
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
# Charts draw Korean, Japanese and Chinese labels: a font with their glyphs (bot/services/plot.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
# A numeric user and group, so the host and Kubernetes' runAsNonRoot can tell it is not root.
RUN groupadd --gid 10001 brief \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin brief \
    && mkdir -p /app/var \
    && chown 10001:10001 /app/var
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////app/var/peninsula-brief.db \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080
USER 10001:10001
VOLUME ["/app/var"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "healthcheck"]
# `run` migrates to head (and seeds an empty database) before it connects.
CMD ["python", "-m", "bot", "run"]
