"""infra/k8s: every manifest valid against the Kubernetes API schemas (strict: an unknown or
misspelled field fails), the kustomization renders, and the pieces fit together: probes on
the real health routes, selectors that select, the autoscaler's target, the image's user and
writable folders, settings Bugline accepts."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bugline.routes.health import READY_TIMEOUT, routes
from bugline.settings import Settings, describe
from tests.infra.files import DOCKERFILE, K8S, dockerfile_stages, env_pairs, yaml_documents

SETTINGS = {name for name, _, _ in describe()}
# The oldest Kubernetes release still commonly run, and the newest the schemas know.
VERSIONS = ["1.29.0", kubernetes_validate.latest_version()]
WORKLOADS = {"Deployment", "Job"}


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def manifests() -> list[dict[str, Any]]:
    docs = []
    for name in kustomization()["resources"]:
        docs += yaml_documents((K8S / name).read_text())
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(doc)
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def image_runtime() -> tuple[str, dict[str, str]]:
    """(the runtime stage's USER uid, its ENV)."""
    runtime = dockerfile_stages(DOCKERFILE.read_text())[1][-1]
    env: dict[str, str] = {}
    for i in runtime.all("ENV"):
        env.update(env_pairs(i.args))
    return runtime.all("USER")[-1].args.split(":")[0], env


def test_every_manifest_is_listed_and_every_listed_file_exists() -> None:
    listed = set(kustomization()["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == on_disk, "add new manifests to kustomization.yaml (or name them *.example.yaml)"


@pytest.mark.parametrize("version", VERSIONS)
def test_manifests_validate_against_the_kubernetes_schemas(version: str) -> None:
    docs = manifests() + yaml_documents((K8S / "secret.example.yaml").read_text())
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_validation_catches_a_misspelled_field() -> None:
    job = by_kind(manifests(), "Job")
    broken = yaml.safe_load(yaml.safe_dump(job))
    broken["spec"]["template"]["spec"]["restartPolcy"] = "Never"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    # No skip: a machine without kubectl fails here rather than passing without the render.
    assert kubectl, "kubectl is needed to render infra/k8s (kubectl kustomize); install it"
    done = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return yaml_documents(done.stdout)


def test_the_kustomization_renders_valid_namespaced_objects_with_the_release_image(
    rendered: list[dict[str, Any]],
) -> None:
    assert len(rendered) == len(manifests())
    target = kustomization()["images"][0]
    image = f"{target['newName']}:{target['newTag']}"
    for doc in rendered:
        kubernetes_validate.validate(doc, VERSIONS[-1], strict=True)
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "bugline"
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "bugline"
        if doc["kind"] in WORKLOADS:
            assert {c["image"] for c in containers(doc)} == {image}
    assert target["newTag"] != "latest"


def test_app_probes_use_the_health_routes() -> None:
    app = by_kind(manifests(), "Deployment", "bugline-app")
    (container,) = pod_spec(app)["containers"]
    assert container["args"] == ["serve"]
    paths = {r.path for r in routes}
    port_names = {p["name"] for p in container["ports"]}
    for probe, path in (
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/healthz"),
    ):
        get = container[probe]["httpGet"]
        assert get["path"] == path and path in paths
        assert get["port"] in port_names
    # /readyz checks the database, then the store, each for up to READY_TIMEOUT seconds: a
    # shorter probe timeout would mark a slow-but-answering pod unready.
    assert container["readinessProbe"]["timeoutSeconds"] > 2 * READY_TIMEOUT
    _, env = image_runtime()
    assert {p["containerPort"] for p in container["ports"]} == {int(env["PORT"])}


def test_every_container_has_resource_requests_and_a_memory_limit() -> None:
    for doc in manifests():
        if doc["kind"] in WORKLOADS:
            for c in containers(doc):
                assert {"cpu", "memory"} <= set(c["resources"]["requests"]), (
                    f"{doc['metadata']['name']}/{c['name']}"
                )
                assert "memory" in c["resources"]["limits"], f"{doc['metadata']['name']}/{c['name']}"


def test_the_autoscaler_owns_the_app_replicas() -> None:
    docs = manifests()
    hpa = by_kind(docs, "HorizontalPodAutoscaler")
    ref = hpa["spec"]["scaleTargetRef"]
    app = by_kind(docs, ref["kind"], ref["name"])
    assert ref["apiVersion"] == app["apiVersion"]
    # With replicas in the manifest every `kubectl apply` would undo the autoscaler's choice.
    assert "replicas" not in app["spec"]
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"  # a Utilization target needs a CPU request
    assert "cpu" in pod_spec(app)["containers"][0]["resources"]["requests"]


def test_migrations_run_as_a_job_and_pods_wait_for_the_schema() -> None:
    docs = manifests()
    job = by_kind(docs, "Job", "bugline-migrate")
    (migrate,) = pod_spec(job)["containers"]
    assert migrate["args"] == ["migrate"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    dockerfile = DOCKERFILE.read_text()
    for name in ("bugline-app", "bugline-worker"):
        (init,) = pod_spec(by_kind(docs, "Deployment", name))["initContainers"]
        command = init["command"][0]
        assert f"/opt/bugline/bin/{command}" in dockerfile, f"{command} is not installed in the image"
        assert init["envFrom"] == migrate["envFrom"]


def test_worker_runs_the_worker_with_its_metrics_as_liveness() -> None:
    worker = by_kind(manifests(), "Deployment", "bugline-worker")
    (container,) = pod_spec(worker)["containers"]
    assert container["args"] == ["worker"]
    config = by_kind(manifests(), "ConfigMap", "bugline")["data"]
    port = int(config["BUGLINE_WORKER_METRICS_PORT"])
    assert [p["containerPort"] for p in container["ports"]] == [port]
    probe = container["livenessProbe"]["httpGet"]
    assert probe["path"] == "/metrics" and probe["port"] == container["ports"][0]["name"]
    assert "readinessProbe" not in container  # a worker takes no traffic
    # A stopping worker finishes what it holds: at least the outbox lease's 80% cut-off.
    lease = Settings().outbox_lease
    assert pod_spec(worker)["terminationGracePeriodSeconds"] >= 0.8 * lease


def test_pods_run_as_the_image_user_with_writable_data_and_tmp() -> None:
    uid, env = image_runtime()
    for doc in manifests():
        if doc["kind"] not in WORKLOADS:
            continue
        spec = pod_spec(doc)
        name = doc["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert str(spec["securityContext"]["runAsUser"]) == uid, f"{name}: the image's user is {uid}"
        assert spec["automountServiceAccountToken"] is False
        volumes = {v["name"] for v in spec.get("volumes", [])}
        for c in containers(doc):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
            assert sc["readOnlyRootFilesystem"] is True
            if c in spec["containers"]:
                # A read-only root needs somewhere to write: DATA_DIR (spooled uploads) and /tmp.
                mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
                assert {env["BUGLINE_DATA_DIR"], "/tmp"} <= set(mounts), f"{name}/{c['name']}"
                assert set(mounts.values()) <= volumes


def test_selectors_select_the_pods() -> None:
    docs = manifests()
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] == "Deployment"
    }
    for d in docs:
        if d["kind"] == "Deployment":
            assert d["spec"]["selector"]["matchLabels"].items() <= pods[d["metadata"]["name"]].items()
    service = by_kind(docs, "Service")
    pdb = by_kind(docs, "PodDisruptionBudget")
    for selector in (service["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]):
        matched = [n for n, labels in pods.items() if selector.items() <= labels.items()]
        assert matched == ["bugline-app"]
    (port,) = service["spec"]["ports"]
    app_ports = {
        p["name"] for p in pod_spec(by_kind(docs, "Deployment", "bugline-app"))["containers"][0]["ports"]
    }
    assert port["targetPort"] in app_ports
    backend = by_kind(docs, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] == port["name"]


def test_settings_are_ones_bugline_accepts() -> None:
    docs = manifests()
    config = by_kind(docs, "ConfigMap", "bugline")["data"]
    secret = yaml_documents((K8S / "secret.example.yaml").read_text())[0]
    unknown = sorted(
        k for k in [*config, *secret["stringData"]] if k.startswith("BUGLINE_") and k not in SETTINGS
    )
    assert not unknown, f"Bugline refuses to start on unknown settings {unknown}"
    assert not set(config) & set(secret["stringData"]), "a key in both: the Secret silently wins"
    for key in config:
        assert not any(w in key for w in ("PASSWORD", "SECRET", "DATABASE_URL", "USERNAME")), (
            f"{key} is secret"
        )
    env = {**config, **secret["stringData"], "BUGLINE_SECRET_KEY": "k" * 40}
    settings = Settings.from_env(env)
    assert not settings.triage_in_web and not settings.outbox_in_web and not settings.notify_in_web
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            for c in containers(doc):
                refs = [(next(iter(r)), next(iter(r.values()))["name"]) for r in c["envFrom"]]
                assert refs == [("configMapRef", "bugline"), ("secretRef", secret["metadata"]["name"])]
