"""Reading the files in deploy/ for the tests of tests/test_deploy_*.py: the paths, the
Settings defaults they must match, and parsers for compose, Kubernetes objects, the Helm
values and the Dockerfile. No Docker, Helm or cluster: the files are only read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from quizgen.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
README = DEPLOY / "README.md"
TEMPORAL_VALUES = K8S / "temporal-values.yaml"

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


def env_mapping(environment: dict[str, Any] | list[str] | None) -> dict[str, Any]:
    """A compose `environment` in either of its forms, as a mapping."""
    if environment is None:
        return {}
    if isinstance(environment, dict):
        return dict(environment)
    return dict(item.partition("=")[::2] for item in environment)


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
