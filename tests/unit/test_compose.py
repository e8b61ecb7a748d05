"""docker-compose.yml checked structurally (no Docker daemon on our machines or CI)."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from tests.e2e.test_packaging import PACKAGES
from worker_runs.cli import main

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _resolve(args: list[str]) -> click.Command:
    """The click command a `worker-runs ...` argv would run (fails if it does not exist)."""
    command: click.Command = main
    ctx = click.Context(main)
    for arg in args:
        if arg.startswith("-") or not isinstance(command, click.Group):
            break
        sub = command.get_command(ctx, arg)
        assert sub is not None, f"`worker-runs {' '.join(args)}`: no command {arg!r}"
        command = sub
    return command


def test_no_obsolete_version_key() -> None:
    assert "version" not in COMPOSE


def test_backing_services_have_healthchecks() -> None:
    assert "pg_isready -h 127.0.0.1" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])
    assert "ping" in SERVICES["redis"]["healthcheck"]["test"]
    assert "noeviction" in SERVICES["redis"]["command"]


def test_app_services_wait_for_healthy_backends_and_migration() -> None:
    for name in ("api", "worker", "relay"):
        depends = SERVICES[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_app_services_point_at_postgres_and_redis() -> None:
    for name in ("api", "worker", "relay"):
        env = SERVICES[name]["environment"]
        assert env["WORKER_RUNS_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["WORKER_RUNS_BROKER_URL"].startswith("redis://redis:6379")


def test_every_service_command_exists() -> None:
    for name in ("migrate", "api", "worker", "relay"):
        argv = SERVICES[name]["command"]
        assert argv[0] == "worker-runs"
        assert not isinstance(_resolve(argv[1:]), click.Group), f"{name}: {argv} is not a command"


def test_api_has_a_readiness_healthcheck() -> None:
    assert "/readyz" in " ".join(SERVICES["api"]["healthcheck"]["test"])


def test_image_ships_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in PACKAGES:
        assert f"COPY {package} ./{package}" in dockerfile


def test_replicas_share_the_session_secret() -> None:
    # Sessions signed by one API replica must verify on another: the key comes from the
    # operator, never generated per container.
    for name in ("api", "worker", "relay"):
        assert "WORKER_RUNS_SECRET_KEY" in SERVICES[name]["environment"]


def test_only_the_proxy_is_published_and_it_fronts_the_api() -> None:
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy = SERVICES["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    # the upstream is the compose service, on the port the api command listens on
    assert "server api:8000;" in conf
    assert SERVICES["api"]["command"][-2:] == ["--port", "8000"]
    assert proxy["ports"] == ["8000:8080"] and "listen 8080;" in conf
    for directive in ("client_header_timeout 10s;", "client_body_timeout 10s;", "client_max_body_size 1m;"):
        assert directive in conf
