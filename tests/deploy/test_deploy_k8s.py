"""The Kubernetes files in deploy/k8s and the Temporal search attributes and namespace: every
file is in the README, probes and selectors match their pods, workers are replicated, and
compose, the Helm values and the README register the search attributes of
quizgen/names.py in the app's namespace. No Helm or cluster here (CI has none): the files
are read and checked against the code."""

from __future__ import annotations

import re

import pytest
from temporalio.api.enums.v1 import IndexedValueType

from quizgen.names import SEARCH_ATTRIBUTES
from tests.support.deploy_files import (
    API_PORT,
    K8S,
    README,
    TEMPORAL_VALUES,
    argv,
    compose_services,
    env_mapping,
    helm_extra_objects,
    k8s_object,
    k8s_objects,
    load_all,
    pod_spec,
    strings_in,
)

pytestmark = pytest.mark.fast

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
