# The app image: `marketplace run` by default, `marketplace worker` for the worker (docker-compose.yml).

# Front-end packages, exactly as package-lock.json pins them.
FROM node:22-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# The package and exactly the dependency versions of uv.lock in a virtual environment (no test or
# dev extras), installed by uv (pinned, from PyPI) as `make` does.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY marketplace/ marketplace/
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
# The app finds templates/, static/, node_modules/, migrations/ and alembic.ini next to the
# folder that holds the package (config.PROJECT_ROOT), so it is imported from /app, ahead of the
# copy pip put in site-packages.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data
# /data is DATA_DIR (generated files, uploads): a named volume in docker-compose.yml.
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home marketplace \
    && mkdir /data && chown marketplace:marketplace /data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=assets /src/node_modules node_modules/
COPY alembic.ini ./
COPY migrations/ migrations/
COPY templates/ templates/
COPY static/ static/
COPY marketplace/ marketplace/
USER marketplace
EXPOSE 8000
CMD ["marketplace", "run", "--host", "0.0.0.0"]
