"""The kube-router manifest fixture (fact: kube-router-footprint.md §1, the table and
the ``install-cni`` init container of ``kubeadm-kuberouter.yaml``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from harness.emulation.images import resolve
from harness.emulation.kube_router.image import KubeRouterImage
from harness.kube_router_install import cni_conf, kube_router_versions, manifest_path

VERSIONS = kube_router_versions()
LABELS = {"k8s-app": "kube-router", "tier": "node"}
# §1: the init container's script, as the reference quotes it
INSTALL_CNI = (
    "set -e -x; "
    "if [ ! -f /etc/cni/net.d/10-kuberouter.conflist ]; then "
    "if [ -f /etc/cni/net.d/*.conf ]; then rm -f /etc/cni/net.d/*.conf; fi; "
    "TMP=/etc/cni/net.d/.tmp-kuberouter-cfg; cp /etc/kube-router/cni-conf.json ${TMP}; "
    "mv ${TMP} /etc/cni/net.d/10-kuberouter.conflist; "
    "fi; "
    "if [ -x /usr/local/bin/cni-install ]; then /usr/local/bin/cni-install; fi;"
)


def load(version: str) -> dict[str, dict[str, Any]]:
    docs = yaml.safe_load_all(manifest_path(version).read_text())
    return {d["kind"]: d for d in docs if d}


def pod(version: str) -> dict[str, Any]:
    spec: dict[str, Any] = load(version)["DaemonSet"]["spec"]["template"]["spec"]
    return spec


def test_one_fixture_named_for_the_reference_snapshot() -> None:
    # fact: kube-router-footprint.md (header: HEAD 7c2c2779, about v2.11.1)
    assert "v2.11.1" in VERSIONS
    with pytest.raises(FileNotFoundError, match=r"have: .*v2\.11\.1"):
        manifest_path("v1.0.0")


@pytest.mark.parametrize("version", VERSIONS)
def test_objects_names_namespace_labels(version: str) -> None:
    # fact: kube-router-footprint.md §1 (Objects)
    m = load(version)
    assert sorted(m) == sorted(
        [
            "ConfigMap",
            "DaemonSet",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
        ]
    )
    assert m["ConfigMap"]["metadata"]["name"] == "kube-router-cfg"
    for kind in ("ConfigMap", "DaemonSet", "ServiceAccount"):
        assert m[kind]["metadata"]["namespace"] == "kube-system"
    for kind in ("DaemonSet", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
        assert m[kind]["metadata"]["name"] == "kube-router"
    for doc in m.values():
        assert doc["metadata"]["labels"] == LABELS


@pytest.mark.parametrize("version", VERSIONS)
def test_cni_conf_json_has_no_portmap_hairpin_or_subnet(version: str) -> None:
    # fact: kube-router-footprint.md §1 (ConfigMap cni-conf.json, the bullets below it)
    conf = cni_conf(version)
    assert conf == {
        "cniVersion": "0.3.0",
        "name": "mynet",
        "plugins": [
            {
                "name": "kubernetes",
                "type": "bridge",
                "bridge": "kube-bridge",
                "isDefaultGateway": True,
                "ipam": {"type": "host-local"},
            }
        ],
    }
    text = json.dumps(conf)
    assert "portmap" not in text and "hairpin" not in text
    assert "subnet" not in text and "usePodCidr" not in text


@pytest.mark.parametrize("version", VERSIONS)
def test_container_args_env_probe_resources(version: str) -> None:
    # fact: kube-router-footprint.md §1 (Image, Args, Env, Resources, Probe)
    (c,) = pod(version)["containers"]
    assert c["image"].startswith("docker.io/cloudnativelabs/kube-router")
    assert c["imagePullPolicy"] == "Always"
    assert c["args"] == [
        "--run-router=true",
        "--run-firewall=true",
        "--run-service-proxy=false",
        "--bgp-graceful-restart=true",
    ]
    assert "command" not in c  # the image's entrypoint runs with these args
    env = {e["name"]: e for e in c["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert (
        env["KUBE_ROUTER_CNI_CONF_FILE"]["value"]
        == "/etc/cni/net.d/10-kuberouter.conflist"
    )
    assert c["resources"] == {"requests": {"cpu": "250m", "memory": "250Mi"}}
    probe = c["livenessProbe"]
    assert probe["httpGet"] == {"path": "/healthz", "port": 20244}
    assert (probe["initialDelaySeconds"], probe["periodSeconds"]) == (10, 3)
    assert c["securityContext"] == {"privileged": True}


@pytest.mark.parametrize("version", VERSIONS)
def test_pod_spec_and_volumes(version: str) -> None:
    # fact: kube-router-footprint.md §1 (Pod spec, hostPath volumes)
    spec = pod(version)
    assert spec["hostNetwork"] is True and spec["hostPID"] is True
    assert spec["priorityClassName"] == "system-node-critical"
    assert spec["serviceAccountName"] == "kube-router"
    assert {
        (t.get("key"), t.get("effect"), t["operator"]) for t in spec["tolerations"]
    } == {
        (None, "NoSchedule", "Exists"),
        ("CriticalAddonsOnly", None, "Exists"),
        (None, "NoExecute", "Exists"),
    }
    vols = {v["name"]: v for v in spec["volumes"]}
    host = {n: v["hostPath"] for n, v in vols.items() if "hostPath" in v}
    assert host == {
        "lib-modules": {"path": "/lib/modules"},
        "cni-conf-dir": {"path": "/etc/cni/net.d"},
        "kubeconfig": {"path": "/var/lib/kube-router/kubeconfig"},  # no type
        "xtables-lock": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
        "host-opt": {"path": "/opt"},
    }
    assert vols["kube-router-cfg"]["configMap"]["name"] == "kube-router-cfg"
    (c,) = spec["containers"]
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert "host-opt" not in mounts  # /opt: the init container only
    assert mounts["lib-modules"]["readOnly"] and mounts["kubeconfig"]["readOnly"]


@pytest.mark.parametrize("version", VERSIONS)
def test_install_cni_init_container(version: str) -> None:
    # fact: kube-router-footprint.md §1 (the install-cni init container)
    (init,) = pod(version)["initContainers"]
    (c,) = pod(version)["containers"]
    assert init["name"] == "install-cni"
    assert init["image"] == c["image"]  # the same image
    assert init["command"][:2] == ["/bin/sh", "-c"]
    assert " ".join(init["command"][2].split()) == INSTALL_CNI
    assert {m["mountPath"] for m in init["volumeMounts"]} == {
        "/etc/cni/net.d",
        "/etc/kube-router",
        "/opt",
    }
    assert KubeRouterImage.classify(init["command"]) == "shell"
    assert KubeRouterImage.classify(c["args"]) == "kube-router"
    assert isinstance(resolve(c["image"]), KubeRouterImage)


@pytest.mark.parametrize("version", VERSIONS)
def test_rbac(version: str) -> None:
    # fact: kube-router-footprint.md §1 (RBAC)
    m = load(version)
    rules = {
        (g, r): set(rule["verbs"])
        for rule in m["ClusterRole"]["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
    }
    read = {"get", "list", "watch"}
    for res in ("namespaces", "pods", "services", "nodes", "endpoints"):
        assert rules[("", res)] == read
    assert rules[("networking.k8s.io", "networkpolicies")] == read
    assert rules[("extensions", "networkpolicies")] == read
    assert rules[("discovery.k8s.io", "endpointslices")] == read
    assert rules[("coordination.k8s.io", "leases")] == {"get", "create", "update"}
    assert rules[("", "services/status")] == {"update"}
    crb = m["ClusterRoleBinding"]
    assert crb["roleRef"]["name"] == "kube-router"
    assert crb["subjects"] == [
        {"kind": "ServiceAccount", "name": "kube-router", "namespace": "kube-system"}
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_cleaner_cluster_footprint_is_the_manifest(version: str) -> None:
    # §1 Objects: what `cniscrub cluster --cni kube-router` removes is exactly what the
    # manifest creates (never the kube-system namespace); §2.6: kube-router writes
    # nothing to the Node objects, so no annotations or conditions are removed
    from cniscrub import footprints

    spec = footprints.get("kube-router").cluster
    assert spec is not None
    created = {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace"))
               for d in load(version).values()}  # fmt: skip
    assert {(o.kind, o.name, o.namespace) for o in spec.objects} == created
    assert not [o for o in spec.objects if o.kind == "Namespace"]
    assert spec.node_annotation_prefixes == () and spec.node_condition_reasons == ()
    for doc in load(version).values():
        key, value = spec.labels[0].split("=")
        assert doc["metadata"]["labels"][key] == value
