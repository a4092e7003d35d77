"""CLI of the runtime emulation, run inside a sandbox node (test emulation only).

``add --sandbox-id ID --pod-name N --pod-namespace NS --pod-uid UID [--runtime R]
[--port-mappings JSON]``, ``del --sandbox-id ID [--runtime R] [--del-config
current|cached] [--force]``, ``status [--runtime R]``, ``list``. Each prints ONE JSON
object on stdout and exits 0; exit 1 means an internal error (message on stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from typing import Any

from harness.emulation.runtime import sandbox
from harness.emulation.runtime.confsel import RUNTIMES
from harness.emulation.runtime.state import Paths
from harness.emulation.runtime.wording import DEFAULT_RUNTIME, Pod

_SANDBOX_ID = re.compile(r"^[0-9a-f]{64}$")


def _sandbox_id(text: str) -> str:
    if not _SANDBOX_ID.match(text):
        raise argparse.ArgumentTypeError(
            "sandbox id must be 64 lowercase hex characters"
        )
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.emulation.runtime")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create the pod netns and run CNI ADD")
    add.add_argument("--sandbox-id", required=True, type=_sandbox_id)
    add.add_argument("--pod-name", required=True)
    add.add_argument("--pod-namespace", required=True)
    add.add_argument("--pod-uid", required=True)
    add.add_argument(
        "--port-mappings", default=None, help="JSON list (CNI portMappings)"
    )
    delete = sub.add_parser("del", help="run CNI DEL and remove the pod netns")
    delete.add_argument("--sandbox-id", required=True, type=_sandbox_id)
    delete.add_argument("--del-config", choices=("current", "cached"), default=None)
    delete.add_argument(
        "--force", action="store_true", help="remove netns even on error"
    )
    status = sub.add_parser("status", help="NetworkReady as kubelet reports it")
    sub.add_parser("list", help="known sandboxes")
    for command in (add, delete, status):
        command.add_argument("--runtime", choices=RUNTIMES, default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse ``argv`` and perform the command; return the JSON object."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr
    )
    paths = Paths.from_env()
    if args.command == "add":
        mappings = (
            None if args.port_mappings is None else json.loads(args.port_mappings)
        )
        if mappings is not None and not isinstance(mappings, list):
            raise ValueError("--port-mappings must be a JSON list")
        pod = Pod(args.sandbox_id, args.pod_name, args.pod_namespace, args.pod_uid)
        return sandbox.add(paths, args.runtime or DEFAULT_RUNTIME, pod, mappings)
    if args.command == "del":
        return sandbox.delete(
            paths, args.sandbox_id, args.runtime, args.del_config, args.force
        )
    if args.command == "status":
        return sandbox.status(paths, args.runtime or DEFAULT_RUNTIME)
    return sandbox.list_sandboxes(paths)


def main(argv: list[str] | None = None) -> int:
    """CLI entry: print one JSON object; exit 0, or 1 on internal errors."""
    try:
        obj = run(argv)
    except Exception as exc:  # internal error: report and exit 1
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n")
        return 1
    sys.stdout.write(sandbox.dumps(obj) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
