"""HTTP-level behaviour of the API stand-in: discovery, OpenAPI, Status errors,
serving on several pre-bound sockets, the standalone entry point, kubeconfig."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from harness.emulation.apiserver import Store, make_app, serve
from harness.emulation.apiserver.kubeconfig import write_kubeconfig
from harness.emulation.apiserver.threaded import ThreadedServer


def _call(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    ctype: str = "application/json",
) -> tuple[int, dict[str, Any], str]:
    req = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": ctype}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read()), resp.headers["Content-Type"]
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers["Content-Type"]


def test_discovery_documents(apiserver: ThreadedServer) -> None:
    url = apiserver.url
    assert _call(f"{url}/api")[1]["versions"] == ["v1"]
    core = _call(f"{url}/api/v1")[1]
    assert core["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["namespaces"]["namespaced"] is False
    assert (
        by_name["pods"]["namespaced"] is True and "po" in by_name["pods"]["shortNames"]
    )
    assert "nodes/status" in by_name
    groups = {g["name"] for g in _call(f"{url}/apis")[1]["groups"]}
    assert {
        "apps",
        "batch",
        "rbac.authorization.k8s.io",
        "coordination.k8s.io",
    } <= groups
    assert _call(f"{url}/apis/apps")[1]["preferredVersion"]["groupVersion"] == "apps/v1"
    apps = _call(f"{url}/apis/apps/v1")[1]
    assert apps["groupVersion"] == "apps/v1"
    assert _call(f"{url}/version")[1]["minor"] == "32"


def test_openapi_v3_advertises_field_validation(apiserver: ThreadedServer) -> None:
    index = _call(f"{apiserver.url}/openapi/v3")[1]["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1"} <= set(index)
    doc = _call(apiserver.url + index["apis/apps/v1"]["serverRelativeURL"])[1]
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}"][
        "patch"
    ]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "DaemonSet",
    }
    assert [p["name"] for p in patch["parameters"]] == ["fieldValidation"]
    assert _call(f"{apiserver.url}/openapi/v2")[0] == 404


def test_status_errors(apiserver: ThreadedServer) -> None:
    url = apiserver.url
    code, body, ctype = _call(
        f"{url}/api/v1/namespaces/default/configmaps",
        "POST",
        b"k8s\x00\n\x0f",
        "application/vnd.kubernetes.protobuf",
    )
    assert (code, body["reason"], ctype) == (
        415,
        "UnsupportedMediaType",
        "application/json",
    )
    code, body, _ = _call(f"{url}/api/v1/namespaces/default/configmaps", "PUT", b"{}")
    assert (code, body["reason"]) == (405, "MethodNotAllowed")
    code, body, _ = _call(f"{url}/api/v1/widgets")
    assert (code, body["kind"], body["reason"]) == (404, "Status", "NotFound")
    code, body, _ = _call(f"{url}/api/v1/namespaces/default/configmaps", "POST", b"{x")
    assert (code, body["reason"]) == (400, "BadRequest")
    code, body, _ = _call(f"{url}/api/v1/pods?labelSelector=a%20b")
    assert (code, body["reason"]) == (400, "BadRequest")
    apiserver.call(apiserver.store.create, "nodes", {"metadata": {"name": "n1"}})
    code, body, _ = _call(f"{url}/api/v1/nodes/n1/status", "DELETE")
    assert (code, body["reason"]) == (405, "MethodNotAllowed")
    code, body, _ = _call(f"{url}/api/v1/nodes/nope/status")
    assert (code, body["message"]) == (404, 'nodes "nope" not found')


def test_yaml_body_server_side_apply_and_dry_run(apiserver: ThreadedServer) -> None:
    url = apiserver.url + "/api/v1/namespaces/default/configmaps"
    doc = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "ssa"},
            "data": {"a": "1"},
        }
    ).encode()
    code, body, _ = _call(
        f"{url}/ssa?fieldManager=t", "PATCH", doc, "application/apply-patch+yaml"
    )
    assert code == 200 and body["data"] == {"a": "1"}
    code, body, _ = _call(
        f"{url}?dryRun=All", "POST", json.dumps({"metadata": {"name": "dry"}}).encode()
    )
    assert code == 201 and body["metadata"]["name"] == "dry"
    assert _call(f"{url}/dry")[0] == 404
    code, body, _ = _call(f"{url}/ssa", "DELETE")
    assert (code, body["kind"], body["status"]) == (200, "Status", "Success")


def test_serve_on_several_prebound_sockets() -> None:
    async def scenario() -> list[str]:
        socks = []
        for _ in range(2):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(16)
            sock.setblocking(False)
            socks.append(sock)
        store = Store()
        runner = await serve(make_app(store), socks)
        try:
            store.create("nodes", {"metadata": {"name": "n1"}})
            names = []
            async with aiohttp.ClientSession() as session:
                for sock in socks:
                    port = sock.getsockname()[1]
                    async with session.get(
                        f"http://127.0.0.1:{port}/api/v1/nodes/n1"
                    ) as resp:
                        names.append((await resp.json())["metadata"]["name"])
            return names
        finally:
            await runner.cleanup()

    assert asyncio.run(asyncio.wait_for(scenario(), 10)) == ["n1", "n1"]


def test_open_watch_does_not_block_shutdown() -> None:
    server = ThreadedServer().start()
    try:
        resp = urllib.request.urlopen(f"{server.url}/api/v1/pods?watch=true", timeout=5)
        assert resp.headers["Content-Type"] == "application/json"
    finally:
        server.stop(timeout=5)
    resp.close()


def test_main_prints_url_and_writes_kubeconfig(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.emulation.apiserver",
            "--port",
            "0",
            "--kubeconfig",
            str(kubeconfig),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert _call(f"{url}/api/v1/namespaces/default")[1]["metadata"]["name"] == (
            "default"
        )
        config = yaml.safe_load(kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == url
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


def test_write_kubeconfig_shape_and_mode(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "sub" / "config", "http://127.0.0.1:1", "lab")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["current-context"] == "lab"
    assert config["contexts"][0]["context"] == {"cluster": "lab", "user": "admin@lab"}
    assert config["clusters"][0] == {
        "name": "lab",
        "cluster": {"server": "http://127.0.0.1:1"},
    }


def test_dropped_watch_client_is_unregistered(apiserver: ThreadedServer) -> None:
    store = apiserver.store
    resp = urllib.request.urlopen(f"{apiserver.url}/api/v1/pods?watch=1", timeout=5)
    deadline = time.monotonic() + 5
    while apiserver.call(lambda: len(store.hub.watchers)) != 1:
        assert time.monotonic() < deadline, "the watch never registered"
        time.sleep(0.02)
    resp.close()
    while apiserver.call(lambda: len(store.hub.watchers)) != 0:
        assert time.monotonic() < deadline, "the dropped watch stayed registered"
        time.sleep(0.02)


def test_delete_collection_with_selector(apiserver: ThreadedServer) -> None:
    for name, app in (("a", "x"), ("b", "x"), ("c", "y")):
        apiserver.call(
            apiserver.store.create,
            "configmaps",
            {"metadata": {"name": name, "labels": {"app": app}}},
        )
    url = f"{apiserver.url}/api/v1/namespaces/default/configmaps"
    code, body, _ = _call(f"{url}?labelSelector=app%3Dx", "DELETE")
    assert code == 200 and [i["metadata"]["name"] for i in body["items"]] == ["a", "b"]
    assert [i["metadata"]["name"] for i in _call(url)[1]["items"]] == ["c"]
