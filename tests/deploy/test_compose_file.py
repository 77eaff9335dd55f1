"""deploy/compose.yaml is a valid Compose file whose services start in a safe order, each watched by a health check.

No Docker engine runs here, and the client has no compose plugin, so the file is checked as data: against the
Compose Specification's JSON Schema (the copy check-jsonschema vendors), and for what the deployment relies on.
``docker compose config`` runs too where the plugin is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.resources import files

import pytest
from deploy_files import COMPOSE_FILE, ENV_EXAMPLE, compose, compose_variables, env_example
from jsonschema import Draft202012Validator
from local_services import redis_reachable

import yuyue

REQUIRED = {"POSTGRES_PASSWORD": "postgres-password", "YUYUE_SECRET_KEY": "secret-key", "YUYUE_SECRETS_KEY": "fernet-key"}
LONG_RUNNING = ("app", "worker", "postgres", "redis")
IMAGE_SERVICES = ("migrate", "app", "worker")
BACKUP_DIR = "/var/lib/yuyue/backups"


@pytest.fixture(scope="module")
def services() -> dict:
    return compose(REQUIRED)["services"]


def compose_spec_schema() -> dict:
    """The Compose Specification's schema (github.com/compose-spec/compose-spec, Apache-2.0), as check-jsonschema ships it."""
    return json.loads((files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text(encoding="utf-8"))


def test_compose_file_is_valid_against_the_compose_specification():
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in Draft202012Validator(compose_spec_schema()).iter_errors(compose(REQUIRED))
    ]
    assert errors == []


def test_the_schema_check_catches_a_misspelt_option():
    document = compose(REQUIRED)
    document["services"]["app"]["healthcheck"]["intervall"] = "1s"
    assert any("intervall" in error.message for error in Draft202012Validator(compose_spec_schema()).iter_errors(document))


def test_compose_file_refuses_to_start_without_the_keys_and_the_database_password():
    assert {name for name, operator in compose_variables().items() if operator.endswith("?")} == set(REQUIRED)
    for name in REQUIRED:
        with pytest.raises(KeyError, match=name):
            compose({other: value for other, value in REQUIRED.items() if other != name})


def test_env_example_names_every_required_setting_and_holds_no_secret():
    example = env_example()
    assert set(REQUIRED) <= set(example)
    assert {name: example[name] for name in REQUIRED} == dict.fromkeys(REQUIRED, "")


def test_every_variable_compose_reads_is_in_env_example():
    documented = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert [name for name in compose_variables() if f"{name}=" not in documented] == []


def test_the_services_are_the_app_the_worker_migrations_postgresql_and_redis(services):
    assert set(services) == {"migrate", "app", "worker", "postgres", "redis"}


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_every_long_running_service_has_a_health_check_and_restarts(services, service):
    healthcheck = services[service]["healthcheck"]
    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"} and not healthcheck.get("disable")
    assert {"interval", "timeout", "retries"} <= set(healthcheck)
    assert services[service]["restart"] == "unless-stopped"


def test_migrations_run_once_in_a_one_shot_service_that_app_and_worker_wait_for(services):
    migrate = services["migrate"]
    assert migrate["command"] == ["init"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for service in ("app", "worker"):
        assert services[service]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }


def test_app_health_check_asks_for_readiness_without_curl(services):
    test = services["app"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:8000/api/v1/ready" in test[3]


def test_app_can_be_scaled_out(services):
    app = services["app"]
    assert "container_name" not in app
    # A range of host ports: each replica gets one of its own instead of all fighting for one.
    [published] = app["ports"]
    host_ports, container_port = published.rsplit(":", 1)
    assert container_port == "8000" and "-" in host_ports
    assert app["command"][:3] == ["serve", "--bind", "0.0.0.0:8000"]


def test_exactly_one_worker_runs_the_scheduled_jobs(services):
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 1


@pytest.mark.parametrize("service", IMAGE_SERVICES)
def test_yuyue_services_share_one_image_and_the_settings_of_a_several_node_installation(services, service):
    environment = services[service]["environment"]
    assert services[service]["image"] == f"yuyue:{yuyue.__version__}"
    assert services[service]["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    assert environment["YUYUE_DATABASE_URL"] == "postgresql://yuyue:postgres-password@postgres:5432/yuyue"
    assert environment["YUYUE_REDIS_URL"].startswith("redis://redis:6379/")
    assert (environment["YUYUE_SECRET_KEY"], environment["YUYUE_SECRETS_KEY"]) == ("secret-key", "fernet-key")


@pytest.mark.parametrize("service", ("app", "worker"))
def test_backups_go_to_a_volume_mounted_at_the_backup_directory(services, service):
    assert services[service]["environment"]["YUYUE_BACKUP_DIR"] == BACKUP_DIR
    assert f"backups:{BACKUP_DIR}" in services[service]["volumes"]


def test_data_of_postgresql_and_redis_outlives_their_containers(services):
    volumes = compose(REQUIRED)["volumes"]
    assert {"postgres-data", "redis-data", "backups"} <= set(volumes)
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert "--appendonly" in services["redis"]["command"]


def test_postgresql_16_and_redis_are_checked_by_their_own_tools_and_not_published(services):
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "ports" not in services["postgres"] and "ports" not in services["redis"]


def test_every_image_names_a_version(services):
    images = {name: service["image"] for name, service in services.items()}
    untagged = {name: image for name, image in images.items() if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")}
    assert untagged == {}


def test_docker_compose_accepts_the_file():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no `docker compose` plugin here: the file is checked against the Compose Specification's schema instead")
    completed = subprocess.run(
        [docker, "compose", "--file", str(COMPOSE_FILE), "--env-file", str(ENV_EXAMPLE), "config", "--quiet"],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", **REQUIRED},
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr


def run_worker_check(services: dict, redis_url: str) -> int:
    [kind, python, flag, code] = services["worker"]["healthcheck"]["test"]
    assert (kind, python, flag) == ("CMD", "python", "-c")
    environment = {"PATH": os.environ["PATH"], "YUYUE_REDIS_URL": redis_url}
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, timeout=30).returncode


def test_worker_health_check_passes_while_its_redis_answers(services):
    if not redis_reachable():
        pytest.skip("no Redis server answers on 127.0.0.1:6379")
    assert run_worker_check(services, "redis://127.0.0.1:6379/0") == 0


def test_worker_health_check_fails_when_its_redis_does_not_answer(services):
    assert run_worker_check(services, "redis://127.0.0.1:9/0") == 1
