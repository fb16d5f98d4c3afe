"""docker-compose.yml and the Dockerfile agree with the app's settings (no Docker engine needed)."""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from sqlalchemy.engine import make_url

from marketplace.config import PROJECT_ROOT, Settings
from marketplace.embedded import MEILI_VERSION

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
APP_SERVICES = ("app", "worker")
BACKING_SERVICES = ("postgres", "meilisearch")
VARIABLE = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose's ${VAR:-default} gives the default; a required ${VAR:?…} gives the variable's name."""
    return VARIABLE.sub(lambda m: m[3] if m[2] == "-" else m[1].lower(), str(value))


def env(service: str) -> dict[str, str]:
    environment = SERVICES[service].get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def container_ports(service: str) -> list[int]:
    ports = SERVICES[service].get("ports", [])
    return [int(p["target"]) if isinstance(p, dict) else int(str(p).split(":")[-1].split("/")[0]) for p in ports]


def test_the_four_services_exist():
    assert set(SERVICES) >= {"app", "worker", "postgres", "meilisearch"}, f"services: {sorted(SERVICES)}"


def test_app_and_worker_run_the_same_image():
    app, worker = SERVICES["app"], SERVICES["worker"]
    assert (app.get("build"), app.get("image")) == (worker.get("build"), worker.get("image")), "app and worker differ"
    assert app.get("build"), "app must be built from this repository"
    assert worker["command"].split()[:2] == ["marketplace", "worker"], f"worker runs {worker['command']!r}"


def test_app_environment_names_are_settings():
    for service in APP_SERVICES:
        unknown = sorted(name for name in env(service) if name.lower() not in Settings.model_fields)
        assert not unknown, f"{service} sets variables Settings does not read: {unknown}"


def test_app_environment_with_its_defaults_is_valid():
    for service in APP_SERVICES:
        values = {name.lower(): interpolate(value) for name, value in env(service).items()}
        Settings(**values)  # raises on e.g. SMTP_PORT="" (an empty default for an int)


def test_database_url_points_at_the_postgres_service():
    url = make_url(interpolate(env("app")["DATABASE_URL"]))
    postgres = {name: interpolate(value) for name, value in env("postgres").items()}
    assert url.drivername == "postgresql+asyncpg", f"driver is {url.drivername}"
    assert (url.host, url.port) == ("postgres", 5432), f"DATABASE_URL points at {url.host}:{url.port}"
    assert url.database == postgres["POSTGRES_DB"], f"database {url.database} is not POSTGRES_DB"
    assert url.username == postgres["POSTGRES_USER"], "DATABASE_URL's user is not POSTGRES_USER"
    assert url.password == postgres["POSTGRES_PASSWORD"], "DATABASE_URL's password is not POSTGRES_PASSWORD"


def test_the_app_is_given_time_to_drain_and_finish_its_requests():
    """Compose kills the app after stop_grace_period: it must outlast the drain and the grace together."""
    values = {name.lower(): interpolate(value) for name, value in env("app").items()}
    settings = Settings(**values)
    seconds = int(SERVICES["app"]["stop_grace_period"].removesuffix("s"))
    assert seconds > settings.drain_seconds + settings.shutdown_grace_seconds


def test_meili_url_points_at_the_meilisearch_service():
    url = urlsplit(env("app")["MEILI_URL"])
    assert (url.hostname, url.port) == ("meilisearch", 7700), f"MEILI_URL is {url.geturl()}"


def test_app_publishes_the_settings_port():
    port = Settings.model_fields["port"].default
    assert container_ports("app") == [port], f"app publishes {container_ports('app')}, the app listens on {port}"
    assert "--host 0.0.0.0" in SERVICES["app"]["command"], "the app must listen on all interfaces in its container"


def test_meilisearch_is_the_official_image_at_the_embedded_version():
    assert SERVICES["meilisearch"]["image"] == f"getmeili/meilisearch:v{MEILI_VERSION}"


def test_meili_master_key_comes_from_the_environment_and_is_shared():
    server, app = env("meilisearch")["MEILI_MASTER_KEY"], env("app")["MEILI_MASTER_KEY"]
    assert VARIABLE.fullmatch(server), f"meilisearch's MEILI_MASTER_KEY is a literal: {server!r}"
    assert VARIABLE.fullmatch(server)[1] == VARIABLE.fullmatch(app)[1], f"{app!r} is not {server!r}"


def test_app_and_worker_wait_for_healthy_backing_services():
    for backing in BACKING_SERVICES:
        assert SERVICES[backing].get("healthcheck", {}).get("test"), f"{backing} has no healthcheck"
        for service in APP_SERVICES:
            condition = SERVICES[service].get("depends_on", {}).get(backing, {}).get("condition")
            assert condition == "service_healthy", f"{service} does not wait for {backing} to be healthy"


def test_named_volumes_are_declared_and_mounted():
    mounted = {
        str(volume).split(":")[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
        if not str(volume).startswith((".", "/", "~"))
    }
    assert mounted == set(COMPOSE.get("volumes") or {}), f"mounted {sorted(mounted)}, declared {COMPOSE.get('volumes')}"


def test_postgres_keeps_its_data_where_postgres_18_expects_it():
    assert "pgdata:/var/lib/postgresql" in SERVICES["postgres"]["volumes"], "PostgreSQL 18+ needs /var/lib/postgresql"


def test_only_the_app_publishes_a_port():
    published = sorted(name for name, service in SERVICES.items() if service.get("ports"))
    assert published == ["app"], f"services with published ports: {published}"


def test_dockerfile_runs_marketplace_on_the_exposed_port():
    cmd = json.loads(re.search(r"^CMD\s+(\[.*\])\s*$", DOCKERFILE, re.M)[1])
    exposed = re.findall(r"^EXPOSE\s+(\d+)", DOCKERFILE, re.M)
    assert cmd[0] == "marketplace", f"CMD runs {cmd}"
    assert exposed == [str(Settings.model_fields["port"].default)], f"EXPOSE {exposed}"


def test_dockerfile_puts_the_runtime_files_next_to_the_package():
    final_stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    workdir = re.search(r"^WORKDIR\s+(\S+)", final_stage, re.M)[1]
    copies = [line.split()[1:-1] for line in final_stage.splitlines() if line.startswith("COPY ")]
    sources = {Path(source).name for args in copies for source in args if not source.startswith("--")}
    missing = {"alembic.ini", "migrations", "templates", "static", "node_modules", "marketplace"} - sources
    assert not missing, f"the image lacks {sorted(missing)}"
    assert f"PYTHONPATH={workdir}" in final_stage, "the app must import marketplace from the WORKDIR (PROJECT_ROOT)"
