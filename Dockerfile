# syntax=docker/dockerfile:1
# The yuyue image: the wheel of every distribution of the repository, installed without a compiler, run as a
# non-root user. Build from the repository root:
#
#   docker build -t yuyue:0.1.0 .
#
# deploy/compose.yaml runs it as the app, the worker and the one-shot `migrate` (`yuyue init`); docs/operations.md
# tells how. tests/deploy/ checks this file and builds it where a Docker engine runs.

# --- build: one wheel per distribution, dependencies left to the runtime stage ---
FROM python:3.12-slim-trixie AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY . .
# The same list as requirements-dev.txt's -e lines (tests/deploy/test_image.py keeps them equal).
RUN pip wheel --no-deps --wheel-dir /wheels \
        ./schemas \
        . \
        ./plugins/activity \
        ./plugins/vehicle \
        ./plugins/course \
        ./plugins/exhibition \
        ./plugins/scenic \
        ./themes/default \
        ./themes/ink

# --- runtime: the wheels and their dependencies, pg_dump for `yuyue backup`, no compiler, no sources ---
FROM python:3.12-slim-trixie AS runtime

LABEL org.opencontainers.image.title="yuyue" \
      org.opencontainers.image.description="Multi-tenant, low-code booking platform" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/yuyue \
    PATH=/opt/yuyue/bin:$PATH \
    YUYUE_INSTANCE_PATH=/var/lib/yuyue

# postgresql-client: `yuyue backup` and `yuyue restore` run pg_dump and pg_restore; trixie's (17) reads a 16 server.
# Not pinned to a version (DL3008): Debian replaces a package's version with each security update, and the old one
# leaves the archive, so a pin would break the build rather than keep it repeatable.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --yes --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# A fixed numeric id, so that an orchestrator's "run as non-root" check can see it and volumes can be chowned to it.
# backups/ exists in the image so that a new named volume mounted there takes its owner.
RUN groupadd --system --gid 10001 yuyue \
    && useradd --system --uid 10001 --gid yuyue --home-dir /var/lib/yuyue --no-create-home --shell /usr/sbin/nologin yuyue \
    && install --directory --owner yuyue --group yuyue --mode 0750 /var/lib/yuyue /var/lib/yuyue/backups

# --only-binary: every dependency must come as a wheel, since this stage has no compiler. The wheels are mounted
# from the build stage, not copied, so they take no layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv "$VIRTUAL_ENV" \
    && pip install --only-binary=:all: /wheels/*.whl

USER 10001:10001
WORKDIR /var/lib/yuyue
EXPOSE 8000

# Liveness only (is the server answering?); compose's app checks readiness (/api/v1/ready) instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4)"]

ENTRYPOINT ["yuyue"]
CMD ["serve", "--bind", "0.0.0.0:8000"]
