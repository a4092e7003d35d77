"""Pod logs (``pods/log``: the official client's ``read_namespaced_pod_log`` and
``kubectl logs``, pod and job/NAME) and the audit log of the API stand-in.

Facts: kube-apiserver's pod log REST (``pkg/registry/core/pod/rest/log.go``,
``strategy.go`` ``LogLocation``) answers 400 for an ambiguous or unknown container, a
pod without a node, and a container waiting to start; the log bytes come from the
kubelet. The audit log (``--audit-log-path``, ``audit.k8s.io/v1`` Events at level
Metadata) records verb, requestURI, user, userAgent, objectRef and responseStatus.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from harness.emulation.apiserver.audit import (
    AuditedStore,
    AuditLog,
    acting_as,
    kubelet,
    read_events,
)
from harness.emulation.apiserver.kubeconfig import find_kubectl, write_kubeconfig
from harness.emulation.apiserver.podlogs import LogUnavailable
from harness.emulation.apiserver.threaded import ThreadedServer


class FakeKubelet:
    def __init__(self) -> None:
        self.logs: dict[tuple[str, str, int], bytes] = {}
        self.down = False

    def read_container_log(
        self, pod: dict[str, Any], container: str, attempt: int
    ) -> bytes:
        if self.down:
            raise LogUnavailable(
                "dial tcp 198.18.0.12:10250: connect: no route to host"
            )
        return self.logs[(pod["metadata"]["name"], container, attempt)]


@pytest.fixture
def audited(tmp_path: Path) -> Iterator[tuple[ThreadedServer, Path, client.CoreV1Api]]:
    audit = tmp_path / "audit.log"
    server = ThreadedServer(store=AuditedStore(AuditLog(audit))).start()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url, "logs-test")
    api = config.new_client_from_config(config_file=str(kubeconfig))
    api.user_agent = "logs-test/1"
    try:
        yield server, audit, client.CoreV1Api(api)
    finally:
        api.close()
        server.stop()


@pytest.fixture
def kubectl_for(tmp_path: Path) -> Any:
    """A kubectl runner against the stand-in at a URL (skips without kubectl)."""
    binary = find_kubectl()
    if binary is None:
        pytest.skip("kubectl not found: neither $KUBECTL nor kubectl on PATH")

    def make(url: str) -> Any:
        conf = write_kubeconfig(tmp_path / "kubectl.conf", url, "logs-kubectl")
        env = {
            **os.environ,
            "KUBECONFIG": str(conf),
            "KUBECACHEDIR": str(tmp_path / "c"),
        }

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            proc = subprocess.run(
                [binary, *args], env=env, capture_output=True, text=True, timeout=30
            )
            assert proc.returncode == 0, proc.stderr
            return proc

        return run

    return make


def _pod(name: str, containers: list[str], node: str | None = "n1") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "l"}},
        "spec": {
            "nodeName": node,
            "containers": [{"name": c, "image": "busybox"} for c in containers],
        },
    }


def _state(
    server: ThreadedServer,
    name: str,
    states: dict[str, dict[str, Any]],
    restarts: int = 0,
) -> None:
    statuses = [
        {"name": c, "restartCount": restarts, "state": st} for c, st in states.items()
    ]
    server.call(
        server.store.patch,
        "pods",
        name,
        {
            "status": {
                "phase": "Running",
                "hostIP": "198.18.0.12",
                "containerStatuses": statuses,
            }
        },
        "merge",
        "default",
        subresource="status",
    )


def test_read_namespaced_pod_log_from_the_nodes_kubelet(audited: Any) -> None:
    server, _, core = audited
    kubelet_ = FakeKubelet()
    kubelet_.logs[("p", "c", 0)] = b"one\ntwo\nthree\n"
    kubelet_.logs[("p", "c", 1)] = b"after restart\n"
    server.call(server.store.pod_logs.register, "n1", kubelet_)
    server.call(server.store.create, "pods", _pod("p", ["c"]))
    _state(server, "p", {"c": {"running": {}}})
    assert core.read_namespaced_pod_log("p", "default") == "one\ntwo\nthree\n"
    assert core.read_namespaced_pod_log("p", "default", tail_lines=2) == "two\nthree\n"
    assert core.read_namespaced_pod_log("p", "default", limit_bytes=3) == "one"
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("p", "default", previous=True)
    assert err.value.status == 400 and "previous terminated container" in err.value.body
    _state(server, "p", {"c": {"running": {}}}, restarts=1)
    assert core.read_namespaced_pod_log("p", "default") == "after restart\n"
    assert core.read_namespaced_pod_log("p", "default", previous=True).startswith("one")
    kubelet_.down = True
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("p", "default")
    assert err.value.status == 500 and "no route to host" in err.value.body


def test_log_errors_the_api_server_gives(audited: Any) -> None:
    server, _, core = audited
    server.call(server.store.pod_logs.register, "n1", FakeKubelet())
    server.call(server.store.create, "pods", _pod("two", ["a", "b"]))
    server.call(server.store.create, "pods", _pod("unbound", ["c"], node=None))
    server.call(server.store.create, "pods", _pod("waiting", ["c"]))
    _state(server, "waiting", {"c": {"waiting": {"reason": "ErrImagePull"}}})
    cases = [
        (
            "two",
            None,
            "a container name must be specified for pod two, choose one of: [a b]",
        ),
        ("two", "zz", "container zz is not valid for pod two"),
        ("unbound", None, "pod unbound does not have a host assigned"),
        (
            "waiting",
            None,
            'container "c" in pod "waiting" is waiting to start: ErrImagePull',
        ),
    ]
    for pod, container, message in cases:
        kwargs = {"container": container} if container else {}
        with pytest.raises(ApiException) as err:
            core.read_namespaced_pod_log(pod, "default", **kwargs)
        status = json.loads(err.value.body)
        assert (err.value.status, status["reason"]) == (400, "BadRequest")
        assert status["message"] == message, (pod, container)


def test_kubectl_logs_pod_and_job(
    audited: Any, tmp_path: Path, kubectl_for: Any
) -> None:
    server, _, _ = audited
    kubelet_ = FakeKubelet()
    server.call(server.store.pod_logs.register, "n1", kubelet_)
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "jj", "namespace": "default"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "nodeName": "n1",
                    "containers": [{"name": "c", "image": "busybox"}],
                }
            }
        },
    }
    created = server.call(server.store.create, "jobs", job)
    pod = _pod("jj-abcde", ["c"])
    pod["metadata"]["labels"] = created["spec"]["template"]["metadata"]["labels"]
    server.call(server.store.create, "pods", pod)
    _state(server, "jj-abcde", {"c": {"terminated": {"exitCode": 0}}})
    kubelet_.logs[("jj-abcde", "c", 0)] = b'{"report": 1}\n'
    run = kubectl_for(server.url)
    assert run("logs", "pod/jj-abcde").stdout == '{"report": 1}\n'
    assert run("logs", "job/jj").stdout == '{"report": 1}\n'


def test_audit_records_http_and_in_process_writes_once(audited: Any) -> None:
    server, audit, core = audited
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="a1")))
    core.list_namespace()
    with pytest.raises(ApiException):
        core.read_namespace("missing")

    def as_kubelet() -> None:
        with acting_as(kubelet("n1")):
            server.store.create("pods", _pod("k", ["c"]))

    server.call(as_kubelet)
    server.call(server.store.create, "pods", _pod("unattributed", ["c"]))
    events = read_events(audit)
    ours = [(e["verb"], e["requestURI"], e["responseStatus"]["code"]) for e in events]
    assert ours == [
        ("create", "/api/v1/namespaces", 201),
        ("list", "/api/v1/namespaces", 200),
        ("get", "/api/v1/namespaces/missing", 404),
        ("create", "/api/v1/namespaces/default/pods", 201),
    ]
    first, *_, last = events
    assert (
        first["userAgent"] == "logs-test/1"
        and first["user"]["username"] == "system:anonymous"
    )
    assert first["objectRef"] == {
        "resource": "namespaces",
        "name": "a1",
        "apiVersion": "v1",
    }
    assert last["user"]["username"] == "system:node:n1"
    assert last["objectRef"]["name"] == "k"  # a create names the new object
    assert last["userAgent"].startswith("kubelet/v1.32.4")
    for e in events:
        assert e["apiVersion"] == "audit.k8s.io/v1" and e["stage"] == "ResponseComplete"
        assert e["requestReceivedTimestamp"] <= e["stageTimestamp"]


def test_follow_streams_until_the_container_stops(audited: Any) -> None:
    server, _, core = audited
    kubelet_ = FakeKubelet()
    kubelet_.logs[("f", "c", 0)] = b"first\n"
    server.call(server.store.pod_logs.register, "n1", kubelet_)
    server.call(server.store.create, "pods", _pod("f", ["c"]))
    _state(server, "f", {"c": {"running": {}}})

    def later() -> None:
        time.sleep(0.5)
        kubelet_.logs[("f", "c", 0)] = b"first\nsecond\n"
        time.sleep(0.5)
        _state(server, "f", {"c": {"terminated": {"exitCode": 0}}})

    writer = threading.Thread(target=later)
    writer.start()
    stream = core.read_namespaced_pod_log(
        "f", "default", follow=True, _preload_content=False
    )
    body = stream.read().decode()
    writer.join()
    assert body == "first\nsecond\n"
