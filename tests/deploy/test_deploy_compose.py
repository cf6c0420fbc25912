"""The files in deploy/ parse, and docker compose runs the whole stack in order, with several
workers that get time to stop gracefully, interpolating only Settings. No Docker here (CI
has none): the files are read and checked against what they must match, so a renamed
setting, a typo in a variable or a mismatched port fails here instead of at someone's
deployment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.deploy_files import (
    APP_SERVICES,
    COMPOSE,
    DEPLOY,
    DOCKERFILE,
    LLM_CALL_TIMEOUT_S,
    REPO_ROOT,
    SETTING_NAMES,
    TEMPORAL_VALUES,
    argv,
    compose_services,
    helm_extra_objects,
    k8s_object,
    load_all,
    pod_spec,
    strings_in,
    yaml_files,
)

pytestmark = pytest.mark.fast

COMPOSE_SERVICES = {
    "temporal-db",
    "temporal-schema",
    "temporal",
    "temporal-ui",
    "search-attributes",
    "db",
    "migrate",
    "worker",
    "api",
}
# Services that run to completion; the rest must wait for them to succeed.
ONE_SHOT = {"temporal-schema", "search-attributes", "migrate"}


def duration_seconds(text: str) -> float:
    """A compose duration ('5m30s', '90s', '1h') in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text)
    assert "".join(n + u for n, u in parts) == text, f"not a compose duration: {text!r}"
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


# --- every file parses ---


def test_the_deploy_files_exist() -> None:
    expected = {"compose.yaml", "config.yaml", "migrate-job.yaml", "worker.yaml", "api.yaml"}
    expected.add(TEMPORAL_VALUES.name)
    missing = expected - {p.name for p in yaml_files()}
    assert not missing, f"missing from deploy/: {sorted(missing)}"
    assert DOCKERFILE.is_file()
    assert (REPO_ROOT / ".dockerignore").is_file()


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_parses(path: Path) -> None:
    documents = load_all(path)
    assert documents, f"{path.relative_to(REPO_ROOT)} holds no YAML document"


def test_helm_extra_objects_parse_as_kubernetes_objects() -> None:
    for obj in helm_extra_objects():
        assert {"apiVersion", "kind", "metadata"} <= obj.keys(), f"not an object: {obj}"


# --- docker compose ---


def test_compose_has_the_whole_stack() -> None:
    services = compose_services()
    missing = COMPOSE_SERVICES - services.keys()
    assert not missing, f"deploy/compose.yaml lacks services {sorted(missing)}"
    assert services["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert "alembic upgrade head" in argv(services["migrate"]["command"])
    assert "temporalio/admin-tools" in services["search-attributes"]["image"]


def test_compose_runs_several_workers() -> None:
    replicas = compose_services()["worker"].get("deploy", {}).get("replicas", 1)
    assert replicas >= 2, f"compose worker replicas: {replicas}, expected at least 2"


def test_compose_app_services_are_the_quizgen_image() -> None:
    built = {name for name, service in compose_services().items() if "build" in service}
    assert built == APP_SERVICES, f"services built from deploy/Dockerfile: {sorted(built)}"
    for name in APP_SERVICES:
        build = compose_services()[name]["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_compose_starts_services_in_order() -> None:
    services = compose_services()
    problems = []
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        if isinstance(depends_on, list):
            # The short form only waits for the container to start, not to be ready.
            problems.append(f"{name}: depends_on without conditions: {depends_on}")
            continue
        for target, rule in depends_on.items():
            condition = rule.get("condition")
            if target in ONE_SHOT:
                expected = "service_completed_successfully"
            else:
                expected = "service_healthy"
                if not (services[target].get("healthcheck") or {}).get("test"):
                    problems.append(f"{name} waits for {target} to be healthy: no healthcheck")
            if condition != expected:
                problems.append(f"{name} -> {target}: condition {condition!r}, want {expected!r}")
    for one_shot in ONE_SHOT:
        waiting = [n for n, s in services.items() if one_shot in s.get("depends_on", {})]
        if not waiting:
            problems.append(f"nothing waits for the one-shot service {one_shot}")
    for name in ("worker", "api"):
        needs = set(services[name]["depends_on"])
        if not {"migrate", "search-attributes"} <= needs:
            problems.append(f"{name} does not wait for migrate and search-attributes: {needs}")
    assert not problems, "\n".join(problems)


def test_compose_interpolates_only_settings() -> None:
    # Compose replaces $NAME and ${NAME...} everywhere, shell scripts included:
    # a script's own variables must be written $$name.
    problems = []
    for text in strings_in(load_all(COMPOSE)[0]):
        for match in re.finditer(r"\$(\{[^}]*\}|\w*)", text.replace("$$", "")):
            variable = re.fullmatch(r"\{([A-Z][A-Z0-9_]*)(?::?[-?+][^}]*)?\}", match.group(1))
            if variable is None or variable.group(1) not in SETTING_NAMES:
                problems.append(f"${match.group(1)} in {text[:60]!r}...")
    assert not problems, "unescaped or unknown compose variables:\n" + "\n".join(problems)


def test_workers_get_time_to_stop_gracefully() -> None:
    # A worker lets running LLM calls finish for up to LLM_CALL_TIMEOUT on SIGTERM.
    grace = duration_seconds(compose_services()["worker"].get("stop_grace_period", "10s"))
    assert grace > LLM_CALL_TIMEOUT_S, f"compose stop_grace_period {grace}s"
    k8s_grace = pod_spec(k8s_object("Deployment", "quizgen-worker")).get(
        "terminationGracePeriodSeconds", 30
    )
    assert k8s_grace > LLM_CALL_TIMEOUT_S, f"k8s terminationGracePeriodSeconds {k8s_grace}"
