"""The Kubernetes manifests (deploy/k8s/), checked without a cluster: linted, and what production needs.

yamllint (with deploy/k8s/.yamllint) checks each file; its documents are then checked for the structure
Kubernetes requires and for the choices the README promises: the lock store on, several Rasa replicas,
socket.io sticky, REST spread, secrets only from a Secret.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from bot import PROJECT_DIR

MANIFESTS = sorted((PROJECT_DIR / "deploy" / "k8s").glob("*.yaml"))
WORKLOADS = {"Deployment", "StatefulSet"}
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET")


@pytest.mark.parametrize("path", MANIFESTS, ids=[path.name for path in MANIFESTS])
def test_yamllint_finds_nothing_in_a_manifest(path: Path):
    config = YamlLintConfig(file=str(PROJECT_DIR / "deploy" / "k8s" / ".yamllint"))
    problems = [f"{path.name}:{p.line}: {p.desc} ({p.rule})" for p in linter.run(path.read_text(), config)]
    assert problems == []


def documents() -> list[dict]:
    return [document for path in MANIFESTS for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))]


def by_kind(kind: str) -> dict[str, dict]:
    return {document["metadata"]["name"]: document for document in documents() if document["kind"] == kind}


def containers(workload: dict) -> list[dict]:
    return workload["spec"]["template"]["spec"]["containers"]


def pod_labels(workload: dict) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def env(container: dict) -> dict[str, dict]:
    return {variable["name"]: variable for variable in container.get("env", [])}


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_every_manifest_is_yaml_kubernetes_can_read(path: Path):
    assert "\t" not in path.read_text(encoding="utf-8")
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        assert {"apiVersion", "kind", "metadata", "spec"} <= set(document), (path, document)
        assert document["metadata"]["name"]


def test_every_service_selects_a_workload_and_names_a_port_it_exposes():
    workloads = by_kind("Deployment") | by_kind("StatefulSet")
    for name, service in by_kind("Service").items():
        selector = service["spec"]["selector"].items()
        [workload] = [workload for workload in workloads.values() if selector <= pod_labels(workload).items()]
        ports = {port["name"] for container in containers(workload) for port in container.get("ports", [])}
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= ports, name


def test_several_rasa_replicas_share_postgres_and_the_redis_lock_store():
    rasa = by_kind("Deployment")["rasa"]
    assert rasa["spec"]["replicas"] >= 2
    [container] = containers(rasa)
    command = " ".join(container["command"])
    assert "--endpoints endpoints.prod.yml" in command
    variables = env(container)
    assert variables["REDIS_HOST"]["value"] in by_kind("Service")
    assert variables["POSTGRES_HOST"]["value"] in by_kind("Service")
    endpoints = yaml.safe_load((PROJECT_DIR / "endpoints.prod.yml").read_text(encoding="utf-8"))
    assert endpoints["lock_store"]["type"] == "bot.lock_store.AtomicRedisLockStore"
    assert endpoints["tracker_store"]["dialect"] == "postgresql"


def test_socketio_is_sticky_and_rest_is_spread():
    ingresses = by_kind("Ingress")
    paths = {
        path["path"]: ingress
        for ingress in ingresses.values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert paths["/socket.io/"]["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert "nginx.ingress.kubernetes.io/affinity" not in paths["/webhooks/"]["metadata"].get("annotations", {})


def test_secrets_come_from_a_secret_never_from_a_literal():
    for workload in (by_kind("Deployment") | by_kind("StatefulSet")).values():
        for container in containers(workload):
            for name, variable in env(container).items():
                if any(word in name for word in SECRET_WORDS):
                    assert "secretKeyRef" in variable.get("valueFrom", {}), (workload["metadata"]["name"], name)
    assert not by_kind("Secret"), "create the Secret with kubectl (README), never commit one"
