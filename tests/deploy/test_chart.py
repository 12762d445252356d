"""The Helm chart rendered with helm-python-sdk (Helm v4, no binary) and checked with
kubernetes-validate against a current Kubernetes version: defaults, HTTP with 3 web replicas,
and Socket Mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from bot.settings import load_settings

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "sevbot"
# The newest Kubernetes whose schemas kubernetes-validate ships (1.37 with 1.37.0).
KUBERNETES = kubernetes_validate.latest_version()

HTTP_3_WEB = {
    "web": {"replicas": 3},
    "ingress": {"enabled": True, "className": "nginx", "tls": [{"secretName": "sevbot-tls"}]},
    "secrets": {"existingSecret": "sevbot-prod"},
    "env": {"INCIDENTS_CHANNEL": "sev-room", "LOG_FORMAT": "json"},
}
SOCKET_MODE = {
    "socketMode": True,
    "worker": {"replicas": 3},  # ignored: one connection, one scheduler
    "ingress": {"enabled": True},  # ignored: nothing to expose
    "secrets": {"values": {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}},
    "policy": {"incidents_channel": "sev-room", "update_nudge_after": "45m"},
}


@pytest.fixture(scope="module")
def chart() -> Iterator[Any]:
    with helm.Chart.load(CHART) as loaded:
        yield loaded


def render(chart: Any, values: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Render like `helm template sevbot deploy/helm/sevbot -n ops`; return the manifests."""
    rendered = chart.render(values=values, name="sevbot", namespace="ops", is_install=True)
    return [
        doc
        for path, text in sorted(rendered.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def by_kind(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def container(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]["template"]["spec"] if "template" in doc["spec"] else doc["spec"]
    [only] = spec["containers"]
    return dict(only)


@pytest.mark.parametrize(
    "values", [None, HTTP_3_WEB, SOCKET_MODE], ids=["defaults", "http-3-web", "socket-mode"]
)
def test_rendered_manifests_are_valid_kubernetes(chart: Any, values: dict[str, Any]) -> None:
    docs = render(chart, values)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_validation_catches_a_broken_manifest(chart: Any) -> None:
    web = by_kind(render(chart, None))["Deployment", "sevbot-web"]
    web["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES, strict=True)
    del web["spec"]["replicas"]
    web["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pth"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES, strict=True)


def test_chart_lints_clean() -> None:
    report = helm.lint(CHART, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_defaults_web_worker_migration_hook_and_security(chart: Any) -> None:
    found = by_kind(render(chart, None))
    web, worker = found["Deployment", "sevbot-web"], found["Deployment", "sevbot-worker"]
    assert web["spec"]["replicas"] == 2 and worker["spec"]["replicas"] == 1
    assert container(web)["args"] == ["web"] and container(worker)["args"] == ["worker"]
    for deployment in (web, worker):
        probes = container(deployment)
        assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert probes["readinessProbe"]["httpGet"]["path"] == "/healthz"
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        security = container(deployment)["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert container(deployment)["envFrom"] == [{"secretRef": {"name": "sevbot-env"}}]
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/path"] == "/metrics"
    job = found["Job", "sevbot-migrate"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert container(job)["args"] == ["migrate"]
    # The Secret the Job reads exists before it: a hook with a lower weight.
    secret = found["Secret", "sevbot-env"]
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert found["PodDisruptionBudget", "sevbot-web"]["spec"]["minAvailable"] == 1
    assert found["Service", "sevbot"]["spec"]["selector"]["app.kubernetes.io/component"] == "web"
    assert not [k for k in found if k[0] in {"Ingress", "ConfigMap"}]
    assert container(found["Pod", "sevbot-doctor"])["args"] == ["doctor"]


def test_http_mode_with_three_web_replicas_and_an_ingress(chart: Any) -> None:
    found = by_kind(render(chart, HTTP_3_WEB))
    assert found["Deployment", "sevbot-web"]["spec"]["replicas"] == 3
    ingress = found["Ingress", "sevbot"]
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert {p["path"] for p in paths} == {"/slack/events", "/pagerduty/webhook"}
    assert {p["backend"]["service"]["name"] for p in paths} == {"sevbot"}
    assert ("Secret", "sevbot-env") not in found  # the existing Secret is referenced instead
    web = container(found["Deployment", "sevbot-web"])
    assert web["envFrom"] == [{"secretRef": {"name": "sevbot-prod"}}]
    assert {"name": "INCIDENTS_CHANNEL", "value": "sev-room"} in web["env"]


def test_socket_mode_has_one_worker_and_nothing_exposed(
    chart: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = by_kind(render(chart, SOCKET_MODE))
    kinds = {kind for kind, _ in found}
    assert "Ingress" not in kinds and "Service" not in kinds and "PodDisruptionBudget" not in kinds
    assert ("Deployment", "sevbot-web") not in found
    worker = found["Deployment", "sevbot-worker"]
    assert worker["spec"]["replicas"] == 1 and worker["spec"]["strategy"]["type"] == "Recreate"
    secret = found["Secret", "sevbot-env"]["stringData"]
    assert secret == {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
    # The policy ConfigMap is mounted where SEVBOT_CONFIG points, and sevbot accepts it.
    env = {e["name"]: e["value"] for e in container(worker)["env"]}
    policy = found["ConfigMap", "sevbot-policy"]["data"]["sevbot.yaml"]
    assert env["SEVBOT_CONFIG"] == "/etc/sevbot/sevbot.yaml"
    mounted = tmp_path / "sevbot.yaml"
    mounted.write_text(policy)
    monkeypatch.setenv("SEVBOT_CONFIG", str(mounted))
    settings = load_settings()
    assert settings.incidents_channel == "sev-room"
    assert settings.update_nudge_after.total_seconds() == 45 * 60


def test_policy_file_given_as_text_is_mounted_as_is(chart: Any) -> None:
    text = (CHART.parents[2] / "config" / "sevbot.yaml").read_text()
    found = by_kind(render(chart, {"policy": text}))
    assert found["ConfigMap", "sevbot-policy"]["data"]["sevbot.yaml"].strip() == text.strip()


@pytest.mark.parametrize(
    "values",
    [{"web": {"replicas": "three"}}, {"socketmode": True}, {"service": {"type": "Internal"}}],
    ids=["replicas-not-a-number", "misspelt-key", "unknown-service-type"],
)
def test_values_schema_refuses_mistakes(chart: Any, values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError, match="schema"):
        render(chart, values)
