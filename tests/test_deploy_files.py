"""The files in deploy/ parse and agree with the code they run.

No Docker, Helm or cluster here (CI has none): the files are read and checked
against what they must match (Settings, the packages, quizgen/names.py), so a
renamed setting, a typo in a variable or a mismatched port fails here instead
of at someone's deployment.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.api.enums.v1 import IndexedValueType

from quizgen.names import SEARCH_ATTRIBUTES
from quizgen.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEPLOY = REPO_ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
README = DEPLOY / "README.md"
TEMPORAL_VALUES = K8S / "temporal-values.yaml"

# Variables the app containers may set that are not Settings fields, and why.
NOT_SETTINGS = {
    "PATH": "the venv's bin/ first (Dockerfile)",
    "PYTHONUNBUFFERED": "log lines reach the container log at once",
    "PYTHONDONTWRITEBYTECODE": "nothing to write on a read-only root filesystem",
}

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
# Services running the quizgen image, i.e. reading Settings.
APP_SERVICES = {"migrate", "worker", "api"}

# The defaults, not Settings(): that would read this machine's environment and .env.
FIELDS = Settings.model_fields
SETTING_NAMES = {name.upper() for name in FIELDS}
API_PORT: int = FIELDS["api_port"].default
METRICS_PORT = int(FIELDS["worker_metrics_address"].default.rpartition(":")[2])
LLM_CALL_TIMEOUT_S: float = FIELDS["llm_call_timeout"].default.total_seconds()

Doc = dict[str, Any]


# --- reading the files ---


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml"})


def load_all(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def compose_services() -> dict[str, Doc]:
    services: dict[str, Doc] = load_all(COMPOSE)[0]["services"]
    return services


def k8s_objects() -> list[tuple[str, Doc]]:
    """(file name, object) for every Kubernetes object in deploy/k8s (not Helm values)."""
    return [
        (path.name, doc)
        for path in sorted(K8S.glob("*.yaml"))
        for doc in load_all(path)
        if "kind" in doc
    ]


def k8s_object(kind: str, name: str) -> Doc:
    found = [
        doc for _, doc in k8s_objects() if (doc["kind"], doc["metadata"]["name"]) == (kind, name)
    ]
    assert len(found) == 1, f"expected one {kind} {name!r} in deploy/k8s, found {len(found)}"
    return found[0]


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def app_containers() -> Iterator[tuple[str, Doc]]:
    """Containers in deploy/k8s that run the quizgen image, with a readable label."""
    for file, doc in k8s_objects():
        if doc["kind"] not in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            continue
        spec = pod_spec(doc)
        for container in spec.get("initContainers", []) + spec["containers"]:
            if "quizgen" in container["image"]:
                yield f"k8s/{file} {doc['kind']}/{doc['metadata']['name']}", container


def env_mapping(environment: dict[str, Any] | list[str] | None) -> dict[str, Any]:
    """A compose `environment` in either of its forms, as a mapping."""
    if environment is None:
        return {}
    if isinstance(environment, dict):
        return dict(environment)
    return dict(item.partition("=")[::2] for item in environment)


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


def argv(command: str | list[str] | None) -> str:
    return " ".join(command) if isinstance(command, list) else command or ""


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or not (line or pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        pending = ""
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def exec_form(keyword: str) -> list[str]:
    """The last CMD or ENTRYPOINT of the final stage, which must be a JSON list."""
    found = [arguments for kw, arguments in final_stage() if kw == keyword]
    if not found:
        return []
    try:
        parsed = json.loads(found[-1])
    except json.JSONDecodeError:
        parsed = None
    # The shell form runs the command under /bin/sh, which does not pass SIGTERM on:
    # the worker would never shut down gracefully.
    assert isinstance(parsed, list), f"Dockerfile {keyword} must be exec form: {found[-1]}"
    return [str(part) for part in parsed]


def duration_seconds(text: str) -> float:
    """A compose duration ('5m30s', '90s', '1h') in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text)
    assert "".join(n + u for n, u in parts) == text, f"not a compose duration: {text!r}"
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


def strings_in(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings_in(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


def helm_extra_objects() -> list[Doc]:
    """The Helm values' extraObjects, template expressions replaced by a placeholder."""
    values = load_all(TEMPORAL_VALUES)[0]
    return [
        yaml.safe_load(re.sub(r"\{\{.*?\}\}", "TEMPLATE", text))
        for text in values.get("extraObjects", [])
    ]


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


# --- Dockerfile ---


def test_dockerfile_runs_as_non_root() -> None:
    users = [arguments for keyword, arguments in final_stage() if keyword == "USER"]
    assert users, "the final stage of deploy/Dockerfile has no USER: it would run as root"
    uid = users[-1].partition(":")[0]
    # Numeric, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]}: want a non-zero numeric uid"


def test_dockerfile_default_command_is_the_worker() -> None:
    command = exec_form("ENTRYPOINT") + exec_form("CMD")
    assert command == ["python", "-m", "worker"], f"default command: {command}"


def copied_from_context(instructions: list[tuple[str, str]]) -> set[str]:
    """The build-context paths the COPY instructions take (not those from another stage)."""
    sources: set[str] = set()
    for keyword, arguments in instructions:
        parts = arguments.split()
        if keyword == "COPY" and not any(part.startswith("--from") for part in parts):
            sources.update(part for part in parts[:-1] if not part.startswith("--"))
    return sources


def test_dockerfile_installs_every_package() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in patterns}
    copied = copied_from_context(dockerfile_instructions())
    assert packages <= copied, f"pyproject packages not copied: {sorted(packages - copied)}"
    missing = sorted(source for source in copied if not (REPO_ROOT / source).exists())
    assert not missing, f"the Dockerfile copies paths that do not exist: {missing}"
    assert any(k == "RUN" and "pip install ." in a for k, a in dockerfile_instructions())
    # `alembic upgrade head` needs these next to each other in the working directory.
    assert {"alembic.ini", "migrations"} <= copied_from_context(final_stage())


def test_dockerignore_keeps_secrets_out_and_sources_in() -> None:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert {".env", ".git", ".venv"} <= set(patterns), f".dockerignore: {patterns}"
    ignored = sorted(
        source
        for source in copied_from_context(dockerfile_instructions())
        for pattern in patterns
        if not pattern.startswith("!") and fnmatch(source, pattern)
    )
    assert not ignored, f".dockerignore leaves out what the Dockerfile copies: {ignored}"


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
    assert api["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(API_PORT)
    service = k8s_object("Service", "quizgen-api")
    assert service["spec"]["ports"][0]["targetPort"] in ("http", API_PORT)

    worker = k8s_object("Deployment", "quizgen-worker")
    ports = pod_spec(worker)["containers"][0]["ports"]
    assert {"name": "metrics", "containerPort": METRICS_PORT} in ports, f"worker ports {ports}"
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert annotations.get("prometheus.io/scrape") == "true"
    assert annotations.get("prometheus.io/port") == str(METRICS_PORT)


# --- Kubernetes ---


def test_every_k8s_file_is_in_the_readme() -> None:
    readme = README.read_text()
    unmentioned = [p.name for p in sorted(K8S.iterdir()) if f"k8s/{p.name}" not in readme]
    assert not unmentioned, "deploy/README.md does not mention " + ", ".join(
        f"k8s/{name}" for name in unmentioned
    )


def test_k8s_api_probes() -> None:
    container = pod_spec(k8s_object("Deployment", "quizgen-api"))["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe"):
        port = container[probe]["httpGet"]["port"]
        named = {p.get("name"): p["containerPort"] for p in container["ports"]}
        assert named.get(port, port) == API_PORT, f"{probe} port {port}"


def test_k8s_selectors_match_their_pods() -> None:
    labels = {}
    for file, doc in k8s_objects():
        if doc["kind"] == "Deployment":
            pod_labels = doc["spec"]["template"]["metadata"]["labels"]
            selector = doc["spec"]["selector"]["matchLabels"]
            # The API server refuses a Deployment whose selector misses its own pods.
            assert selector.items() <= pod_labels.items(), f"k8s/{file}: selector {selector}"
            labels[doc["metadata"]["name"]] = pod_labels
    pdb = k8s_object("PodDisruptionBudget", "quizgen-worker")["spec"]["selector"]["matchLabels"]
    assert pdb.items() <= labels["quizgen-worker"].items(), f"PDB selects {pdb}: not the workers"
    also = [
        name
        for name, pod in labels.items()
        if name != "quizgen-worker" and pdb.items() <= pod.items()
    ]
    assert not also, f"the workers' PDB also selects the pods of {also}"


def test_k8s_workers_are_replicated() -> None:
    replicas = k8s_object("Deployment", "quizgen-worker")["spec"]["replicas"]
    assert replicas >= 2, f"quizgen-worker replicas: {replicas}"


# --- Temporal search attributes and namespace ---


def expected_search_attributes() -> set[tuple[str, str]]:
    prefix = "INDEXED_VALUE_TYPE_"
    return {
        (
            key.name,
            IndexedValueType.Name(key.indexed_value_type)
            .removeprefix(prefix)
            .title()
            .replace("_", ""),
        )
        for key in SEARCH_ATTRIBUTES
    }


def registered(text: str) -> set[tuple[str, str]]:
    """Attributes a script registers: `--name X --type T` flags or `X=T` loop items."""
    flags = re.findall(r"--name\s+(\w+)\s+(?:\\\s*)?--type\s+(\w+)", text)
    items = re.findall(r"\b([A-Z]\w*)=(Keyword|Int|Text|Double|Bool|Datetime|KeywordList)\b", text)
    return set(flags) | set(items)


def test_search_attributes_match_the_code() -> None:
    compose = compose_services()["search-attributes"]
    helm_job = helm_extra_objects()[0]
    sources = {
        "deploy/README.md": README.read_text(),
        "compose.yaml search-attributes": argv(compose["command"]),
        "k8s/temporal-values.yaml extraObjects": " ".join(strings_in(helm_job)),
    }
    expected = expected_search_attributes()
    for where, text in sources.items():
        assert registered(text) == expected, f"{where} registers {registered(text)}"


def test_search_attributes_go_to_the_apps_namespace() -> None:
    compose = compose_services()
    compose_ns = re.findall(r"namespace=(\S+)", argv(compose["search-attributes"]["command"]))
    app_ns = env_mapping(compose["worker"]["environment"]).get("TEMPORAL_NAMESPACE")
    assert compose_ns == [app_ns], f"compose registers in {compose_ns}, workers use {app_ns}"

    k8s_ns = k8s_object("ConfigMap", "quizgen-config")["data"]["TEMPORAL_NAMESPACE"]
    values = load_all(TEMPORAL_VALUES)[0]
    created = [ns["name"] for ns in values["server"]["config"]["namespaces"]["namespace"]]
    assert k8s_ns in created, f"the Helm values create {created}, the app uses {k8s_ns}"
    helm_ns = re.findall(r"namespace=(\S+)", " ".join(strings_in(helm_extra_objects()[0])))
    assert helm_ns == [k8s_ns], f"the Helm Job registers in {helm_ns}, the app uses {k8s_ns}"
