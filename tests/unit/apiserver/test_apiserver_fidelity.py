"""What the real flanneld's client needs from the API stand-in (issue 14's fidelity
bugs, one test each): TLS with a cluster CA on the in-cluster endpoint, the
service-account token volume pods get at admission, ``kube-root-ca.crt`` in every
namespace, the kubelet's projected files, watch bookmarks, in-cluster client config.

Facts: real-flannel.md §2 (in-cluster config: https only, token + ca.crt under
/var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST/PORT), §3 #3
(the reflector watches with ``allowWatchBookmarks=true``), §6 (watch objects carry kind
and apiVersion).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.emulation.apiserver import pki as pki_mod
from harness.emulation.apiserver.handlers import BOOKMARK_KEY
from harness.emulation.apiserver.server import make_app, serve
from harness.emulation.apiserver.serviceaccounts import (
    MOUNT_PATH,
    ROOT_CA_CONFIGMAP,
    admit_pod,
    issue_token,
)
from harness.emulation.apiserver.store import Store
from harness.emulation.controlplane import rootca
from harness.emulation.flannel import kube
from harness.emulation.kubelet.podspec import projected_files, volume_sources
from harness.emulation.kubelet.shim import inside


@pytest.fixture(scope="module")
def pki() -> pki_mod.PKI:
    return pki_mod.make_pki(["127.0.0.1"])


def _listen() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    return sock


def _get(url: str, context: ssl.SSLContext | None = None) -> bytes:
    with urllib.request.urlopen(url, timeout=10, context=context) as resp:
        return bytes(resp.read())


def test_tls_endpoint_is_trusted_through_the_cluster_ca(
    pki: pki_mod.PKI, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(pki.ca_cert)

    async def scenario() -> tuple[bytes, str]:
        plain, secure = _listen(), _listen()
        runner = await serve(
            make_app(Store()), [plain], pki_mod.server_context(pki), [secure]
        )
        try:
            port = secure.getsockname()[1]
            trusted = ssl.create_default_context(cafile=str(ca_file))
            body = await asyncio.to_thread(
                _get, f"https://127.0.0.1:{port}/version", trusted
            )
            try:  # the system roots do not know the cluster CA (§2)
                await asyncio.to_thread(
                    _get,
                    f"https://127.0.0.1:{port}/version",
                    ssl.create_default_context(),
                )
                refused = ""
            except urllib.error.URLError as exc:
                refused = str(exc.reason)
            plain_port = plain.getsockname()[1]
            await asyncio.to_thread(_get, f"http://127.0.0.1:{plain_port}/version")
            return body, refused
        finally:
            await runner.cleanup()

    body, refused = asyncio.run(scenario())
    assert json.loads(body)["major"] == "1"
    assert "CERTIFICATE_VERIFY_FAILED" in refused


def test_pki_is_made_once_and_reused(tmp_path: Path) -> None:
    first = pki_mod.load_or_create(tmp_path / "pki", ["198.18.0.1"])
    assert (tmp_path / "pki" / "ca.key").stat().st_mode & 0o777 == 0o600
    assert pki_mod.load_or_create(tmp_path / "pki", ["198.18.0.1"]) == first


def test_admission_adds_the_token_volume_to_every_container() -> None:
    store = Store()
    pod = {
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {
            "initContainers": [{"name": "i", "image": "x"}],
            "containers": [{"name": "c", "image": "x", "volumeMounts": []}],
        },
    }
    created = store.create("pods", pod)
    volumes = created["spec"]["volumes"]
    assert len(volumes) == 1 and volumes[0]["name"].startswith("kube-api-access-")
    sources = volumes[0]["projected"]["sources"]
    assert [next(iter(s)) for s in sources] == [
        "serviceAccountToken",
        "configMap",
        "downwardAPI",
    ]
    for c in [*created["spec"]["initContainers"], *created["spec"]["containers"]]:
        assert c["volumeMounts"] == [
            {"name": volumes[0]["name"], "readOnly": True, "mountPath": MOUNT_PATH}
        ]


def test_admission_respects_opt_out_and_own_mounts() -> None:
    opted_out = {"spec": {"automountServiceAccountToken": False, "containers": [{}]}}
    admit_pod(opted_out)
    assert "volumes" not in opted_out["spec"]
    own = {"spec": {"containers": [{"volumeMounts": [{"mountPath": MOUNT_PATH}]}]}}
    admit_pod(own)
    assert "volumes" not in own["spec"]


def test_root_ca_configmap_in_every_namespace() -> None:
    store = Store()
    rootca.install(store, "PEM")
    assert store.get("configmaps", ROOT_CA_CONFIGMAP, "kube-system")["data"] == {
        "ca.crt": "PEM"
    }
    store.create("namespaces", {"metadata": {"name": "kube-flannel"}})
    assert store.get("configmaps", ROOT_CA_CONFIGMAP, "kube-flannel")
    store.delete("configmaps", ROOT_CA_CONFIGMAP, "kube-flannel")
    assert store.get("configmaps", ROOT_CA_CONFIGMAP, "kube-flannel")  # published again


def test_projected_files_as_the_kubelet_writes_them() -> None:
    store = Store()
    pod = store.create(
        "pods",
        {
            "metadata": {"name": "p", "namespace": "kube-system"},
            "spec": {"containers": [{"name": "c", "image": "x"}]},
        },
    )
    (src,) = [s for s in volume_sources(pod).values() if s["type"] == "projected"]
    assert src["path"].startswith(f"/var/lib/kubelet/pods/{pod['metadata']['uid']}/")
    token = issue_token(pod, b"k" * 32, now=1000.0)
    files = projected_files(
        pod, src["sources"], token, {ROOT_CA_CONFIGMAP: {"data": {"ca.crt": "PEM"}}}
    )
    assert files == {"token": token, "ca.crt": "PEM", "namespace": "kube-system"}
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == "system:serviceaccount:kube-system:default"
    assert claims["exp"] - claims["iat"] == 3607
    with pytest.raises(KeyError):
        projected_files(pod, src["sources"], token, {})


def test_container_paths_follow_symlinks_inside_the_container(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "run").mkdir(parents=True)
    (root / "var").mkdir()
    os.symlink("/run", root / "var" / "run")  # Debian: /var/run -> /run
    os.symlink("../run", root / "var" / "rel")
    assert inside(str(root), MOUNT_PATH) == str(
        root / "run" / "secrets/kubernetes.io/serviceaccount"
    )
    assert inside(str(root), "/var/rel/x") == str(root / "run" / "x")
    os.symlink("/../../..", root / "var" / "up")
    assert inside(str(root), "/var/up/etc").startswith(str(root))


def test_watch_bookmarks_when_allowed() -> None:
    store = Store()
    rv = store.resource_version

    async def scenario() -> list[dict[str, object]]:
        app = make_app(store)
        app[BOOKMARK_KEY] = 0.2
        sock = _listen()
        runner = await serve(app, [sock])
        port = sock.getsockname()[1]
        url = (
            f"http://127.0.0.1:{port}/api/v1/nodes?watch=true&timeoutSeconds=1"
            f"&allowWatchBookmarks=true&resourceVersion={store.resource_version}"
        )
        try:
            raw = await asyncio.to_thread(_get, url)
        finally:
            await runner.cleanup()
        return [json.loads(line) for line in raw.splitlines()]

    events = asyncio.run(scenario())
    assert events and {e["type"] for e in events} == {"BOOKMARK"}
    obj = events[0]["object"]
    assert isinstance(obj, dict)
    assert (obj["kind"], obj["apiVersion"]) == ("Node", "v1")
    assert obj["metadata"] == {"resourceVersion": rv}


def test_in_cluster_client_config(
    pki: pki_mod.PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "token").write_text("tok")
    (tmp_path / "ca.crt").write_bytes(pki.ca_cert)
    monkeypatch.setattr(kube, "SA_DIR", str(tmp_path))
    env = {"KUBERNETES_SERVICE_HOST": "198.18.0.1", "KUBERNETES_SERVICE_PORT": "6443"}
    api = kube.api_client("", env, "/nonexistent")
    assert api.configuration.host == "https://198.18.0.1:6443"
    assert api.configuration.ssl_ca_cert == str(tmp_path / "ca.crt")
    assert api.configuration.api_key["BearerToken"].lower() == "bearer tok"
