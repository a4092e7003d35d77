"""Pod ``status`` as kubelet reports it, kept per pod and rendered on change (test
emulation): phase, conditions, init/container statuses with waiting/running/terminated
states and restart counts, podIP(s) and hostIP.

>>> pod = {"metadata": {}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
>>> s = PodStatus(pod, "198.18.0.11")
>>> s.running("c", ["10.244.1.2"], 0); s.render()["phase"]
'Running'
"""

from __future__ import annotations

import secrets
import time
from typing import Any


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class PodStatus:
    def __init__(self, pod: dict[str, Any], host_ip: str) -> None:
        spec = pod["spec"]
        self.restart_policy = spec.get("restartPolicy") or "Always"
        self.host_ip = host_ip
        self.start = now()
        self.pod_ips: list[str] = []
        self.inited = not spec.get("initContainers")
        self.init = {
            c["name"]: self._fresh(c, "PodInitializing")
            for c in spec.get("initContainers") or []
        }
        self.main = {
            c["name"]: self._fresh(
                c,
                "PodInitializing"
                if spec.get("initContainers")
                else "ContainerCreating",
            )
            for c in spec["containers"]
        }

    @staticmethod
    def _fresh(c: dict[str, Any], reason: str) -> dict[str, Any]:
        return {
            "name": c["name"],
            "image": c["image"],
            "imageID": "",
            "ready": False,
            "started": False,
            "restartCount": 0,
            "state": {"waiting": {"reason": reason}},
        }

    def _get(self, name: str) -> dict[str, Any]:
        return self.main.get(name) or self.init[name]

    def waiting_all(self, reason: str, message: str) -> None:
        for st in [*self.init.values(), *self.main.values()]:
            st["state"] = {
                "waiting": {
                    "reason": reason,
                    **({"message": message} if message else {}),
                }
            }

    def waiting(self, name: str, reason: str, message: str) -> None:
        self._get(name)["state"] = {"waiting": {"reason": reason, "message": message}}

    def init_done(self, name: str) -> None:
        st = self.init[name]
        st["state"] = {
            "terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": now()}
        }
        st["ready"] = True

    def init_failed(self, name: str, rc: int, attempt: int) -> None:
        st = self.init[name]
        st["restartCount"] = attempt
        st["state"] = {
            "terminated": {"exitCode": rc, "reason": "Error", "finishedAt": now()}
        }

    def initialized(self) -> None:
        self.inited = True

    def running(self, name: str, pod_ips: list[str], attempt: int) -> None:
        self.pod_ips = pod_ips
        st = self.main[name]
        st.update(
            ready=True,
            started=True,
            restartCount=attempt,
            containerID=f"containerd://{secrets.token_hex(32)}",
            state={"running": {"startedAt": now()}},
        )

    def terminated(self, name: str, rc: int, attempt: int) -> None:
        st = self.main[name]
        st.update(
            ready=False,
            started=False,
            restartCount=attempt,
            state={
                "terminated": {
                    "exitCode": rc,
                    "reason": "Completed" if rc == 0 else "Error",
                    "finishedAt": now(),
                }
            },
        )

    def phase(self) -> str:
        """kubelet's ``getPhase``: Running while a container runs or will be
        restarted; with all containers terminated, Succeeded/Failed as the restart
        policy says (Never: Failed if any failed; OnFailure: Succeeded if all
        succeeded); an init container that failed under Never fails the pod."""
        states = [s["state"] for s in self.main.values()]
        if self.restart_policy == "Never" and any(
            s["state"].get("terminated", {}).get("exitCode", 0) != 0
            for s in self.init.values()
        ):
            return "Failed"
        if any("running" in st for st in states):
            return "Running"
        if states and all("terminated" in st for st in states):
            failed = any(st["terminated"].get("exitCode", 0) != 0 for st in states)
            if self.restart_policy == "Never":
                return "Failed" if failed else "Succeeded"
            if self.restart_policy == "OnFailure" and not failed:
                return "Succeeded"
            return "Running"
        return "Pending"

    def render(self) -> dict[str, Any]:
        ready = self.inited and all(s["ready"] for s in self.main.values())
        cond = [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Initialized", "status": str(self.inited)},
            {"type": "ContainersReady", "status": str(ready)},
            {"type": "Ready", "status": str(ready)},
        ]
        out: dict[str, Any] = {
            "phase": self.phase(),
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "startTime": self.start,
            "conditions": [{**c, "lastTransitionTime": self.start} for c in cond],
            "containerStatuses": list(self.main.values()),
        }
        if self.init:
            out["initContainerStatuses"] = list(self.init.values())
        if self.pod_ips:
            out["podIP"] = self.pod_ips[0]
            out["podIPs"] = [{"ip": ip} for ip in self.pod_ips]
        return out
