"""The commands and settings in deploy/ agree with the code they run: `python -m` modules
exist, every variable an app container sets is a Settings field, Secret references resolve,
the containers listen beyond localhost, and the ports match the Settings defaults. No
Docker, Helm or cluster here (CI has none): the files are read and checked against Settings
and the packages, so a renamed setting, a typo in a variable or a mismatched port fails here
instead of at someone's deployment."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.deploy_files import (
    API_PORT,
    APP_SERVICES,
    DOCKERFILE,
    METRICS_PORT,
    README,
    REPO_ROOT,
    SETTING_NAMES,
    Doc,
    argv,
    compose_services,
    env_mapping,
    final_stage,
    k8s_object,
    k8s_objects,
    pod_spec,
    yaml_files,
)

pytestmark = pytest.mark.fast

# Variables the app containers may set that are not Settings fields, and why.
NOT_SETTINGS = {
    "PATH": "the venv's bin/ first (Dockerfile)",
    "PYTHONUNBUFFERED": "log lines reach the container log at once",
    "PYTHONDONTWRITEBYTECODE": "nothing to write on a read-only root filesystem",
}


def app_containers() -> Iterator[tuple[str, Doc]]:
    """Containers in deploy/k8s that run the quizgen image, with a readable label."""
    for file, doc in k8s_objects():
        if doc["kind"] not in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            continue
        spec = pod_spec(doc)
        for container in spec.get("initContainers", []) + spec["containers"]:
            if "quizgen" in container["image"]:
                yield f"k8s/{file} {doc['kind']}/{doc['metadata']['name']}", container


def container_env(container: Doc) -> dict[str, Any]:
    """Names a container sets, with their values (None when taken from a Secret)."""
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        for ref_key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if ref_key in source:
                obj = k8s_object(kind, source[ref_key]["name"])
                env.update(obj.get("data", {}) | obj.get("stringData", {}))
    for var in container.get("env", []):
        env[var["name"]] = var.get("value")
    return env


# --- commands and settings ---


def commands_in_deploy() -> list[tuple[str, str]]:
    """(where, text) for the files and for every argv list in the YAML files."""
    texts = [
        (str(path.relative_to(REPO_ROOT)), path.read_text())
        for path in [DOCKERFILE, README, *yaml_files()]
    ]
    for name, service in compose_services().items():
        for key in ("entrypoint", "command"):
            texts.append((f"compose {name} {key}", argv(service.get(key))))
    for where, container in app_containers():
        texts.append((where, argv(container.get("command")) + " " + argv(container.get("args"))))
    return texts


def test_python_m_modules_exist() -> None:
    found: dict[str, str] = {}
    for where, text in commands_in_deploy():
        for module in re.findall(r"\bpython3?[\"',\s]+-m[\"',\s]+([A-Za-z_][\w.]*)", text):
            found[module] = where
    assert {"worker", "api"} <= found.keys(), f"python -m commands found: {found}"
    missing = []
    for module, where in found.items():
        path = REPO_ROOT / module.replace(".", "/")
        runnable = (path / "__main__.py").is_file() or path.with_suffix(".py").is_file()
        if not runnable and module.split(".")[0] not in sys.stdlib_module_names:
            missing.append(f"python -m {module} ({where}): no {module}/__main__.py in the repo")
    assert not missing, "\n".join(missing)


def app_environments() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, environment) for every app container in compose, Kubernetes and the image."""
    for name in sorted(APP_SERVICES):
        yield f"compose.yaml {name}", env_mapping(compose_services()[name].get("environment"))
    for where, container in app_containers():
        yield where, container_env(container)
    dockerfile_env: dict[str, str] = {}
    for keyword, arguments in final_stage():
        if keyword == "ENV":
            dockerfile_env.update(re.findall(r"([A-Za-z_]\w*)=(\S*)", arguments))
    yield "Dockerfile ENV", dockerfile_env


def test_app_environment_names_are_settings() -> None:
    unknown = [
        f"{where}: {name}"
        for where, env in app_environments()
        for name in env
        if name.upper() not in SETTING_NAMES and name not in NOT_SETTINGS
    ]
    assert not unknown, (
        "variables that are neither Settings fields (quizgen/settings.py) nor in "
        "NOT_SETTINGS:\n" + "\n".join(unknown)
    )


def test_k8s_references_resolve() -> None:
    problems = []
    for where, container in app_containers():
        for var in container.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref is None:
                continue
            secret = k8s_object("Secret", ref["name"])
            if ref["key"] not in secret.get("stringData", {}) | secret.get("data", {}):
                problems.append(f"{where}: {var['name']} reads missing key {ref['key']}")
    assert not problems, "\n".join(problems)


def test_containers_listen_beyond_localhost() -> None:
    # The defaults (127.0.0.1) are unreachable from outside a container.
    for where, env in app_environments():
        if "api" in where:
            assert env.get("API_HOST") == "0.0.0.0", f"{where}: API_HOST {env.get('API_HOST')}"
        if "worker" in where:
            address = str(env.get("WORKER_METRICS_ADDRESS"))
            assert address == f"0.0.0.0:{METRICS_PORT}", f"{where}: metrics at {address}"
        assert env.get("API_PORT") in (None, API_PORT, str(API_PORT)), f"{where}: API_PORT"
        assert env.get("LOG_FORMAT") in (None, "json"), f"{where}: LOG_FORMAT"


def test_ports_match_the_settings_defaults() -> None:
    services = compose_services()
    api_ports = {int(str(p).rpartition(":")[2].split("/")[0]) for p in services["api"]["ports"]}
    assert api_ports == {API_PORT}, f"compose api publishes container ports {api_ports}"
    check = " ".join(services["api"]["healthcheck"]["test"])
    assert f":{API_PORT}/readyz" in check, f"compose api healthcheck: {check}"

    exposed = {int(p) for k, a in final_stage() if k == "EXPOSE" for p in a.split()}
    assert {API_PORT, METRICS_PORT} <= exposed, f"Dockerfile EXPOSE {exposed}"

    api = k8s_object("Deployment", "quizgen-api")
    assert [p["containerPort"] for p in pod_spec(api)["containers"][0]["ports"]] == [API_PORT]
    # The API's /metrics needs a bearer token, which annotation-based scraping cannot send.
    assert "annotations" not in api["spec"]["template"]["metadata"]
    api_env = {e["name"] for e in pod_spec(api)["containers"][0]["env"]}
    assert "API_METRICS_TOKEN" in api_env
    service = k8s_object("Service", "quizgen-api")
    assert service["spec"]["ports"][0]["targetPort"] in ("http", API_PORT)

    worker = k8s_object("Deployment", "quizgen-worker")
    ports = pod_spec(worker)["containers"][0]["ports"]
    assert {"name": "metrics", "containerPort": METRICS_PORT} in ports, f"worker ports {ports}"
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert annotations.get("prometheus.io/scrape") == "true"
    assert annotations.get("prometheus.io/port") == str(METRICS_PORT)
