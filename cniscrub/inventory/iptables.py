"""Inventory of iptables rules in BOTH backends (legacy, nft) and BOTH families.

``collect`` runs ``iptables-save``/``ip6tables-save`` of each backend (the ``-nft``/
``-legacy`` variants, or the plain name when ``--version`` says it is that backend). A
missing binary is a note, never an error, and never widens what is deleted. ``parse``
is pure: save text -> ``ipt_chain`` and ``ipt_rule`` resources (counters dropped).

>>> text = "*nat\\n:POSTROUTING ACCEPT [0:0]\\n:FLANNEL-POSTRTG - [0:0]\\n" \\
...        "-A POSTROUTING -m comment --comment \\"flanneld masq\\" " \\
...        "-j FLANNEL-POSTRTG\\nCOMMIT\\n"
>>> [r.key for r in parse(text, "nft", 4)]
['nft:4:nat:POSTROUTING', 'nft:4:nat:FLANNEL-POSTRTG', 'nft:4:nat:POSTROUTING:1']
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from cniscrub.inventory.model import Resource
from cniscrub.node.runner import Runner

BACKENDS = ("nft", "legacy")
FAMILIES = (4, 6)
MARKER = {"nft": "nf_tables", "legacy": "legacy"}


def tool(runner: Runner, backend: str, family: int, verb: str) -> str | None:
    """The binary for ``verb`` (save/restore) of a backend and family, if installed."""
    base = "iptables" if family == 4 else "ip6tables"
    specific = f"{base}-{backend}-{verb}"
    if runner.which(specific):
        return specific
    generic = f"{base}-{verb}"
    if runner.which(generic):
        version = runner.run([generic, "--version"]).stdout
        if MARKER[backend] in version or (
            backend == "legacy" and "nf_tables" not in version
        ):
            return generic
    return None


def _save_one(runner: Runner, backend: str, family: int) -> tuple[Any, str | None]:
    save = tool(runner, backend, family, "save")
    if save is None:
        return None, (
            f"iptables {backend} backend (IPv{family}) not inspected: no "
            f"{'ip6' if family == 6 else 'ip'}tables-{backend}-save binary"
        )
    res = runner.run([save])
    if not res.ok:
        return None, f"{save} failed (exit {res.rc}): {res.stderr.strip()[:200]}"
    item = {"backend": backend, "family": family, "argv": [save], "stdout": res.stdout}
    return item, None


def collect(runner: Runner) -> tuple[list[dict[str, Any]], list[str]]:
    """Every backend and family, the ``*-save`` processes running concurrently (they
    spend their time in the kernel and in their own process); results in fixed order."""
    import threading

    combos = [(b, f) for b in BACKENDS for f in FAMILIES]
    out: list[tuple[Any, str | None]] = [(None, None)] * len(combos)

    def work(i: int) -> None:
        out[i] = _save_one(runner, *combos[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(combos))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    raw = [item for item, _ in out if item is not None]
    return raw, [note for _, note in out if note]


class Pending:
    """:func:`collect` running in a thread, started early (e.g. by the CLI before it
    imports the rest of cniscrub) so the ``*-save`` processes overlap other work."""

    def __init__(self, runner: Runner) -> None:
        import threading

        self._out: tuple[list[dict[str, Any]], list[str]] | None = None
        self._err: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(runner,), daemon=True)
        self._thread.start()

    def _run(self, runner: Runner) -> None:
        try:
            self._out = collect(runner)
        except BaseException as exc:  # re-raised by result() in the caller's thread
            self._err = exc

    def result(self) -> tuple[list[dict[str, Any]], list[str]]:
        self._thread.join()
        if self._err is not None:
            raise self._err
        assert self._out is not None
        return self._out


def _rule_data(tokens: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"source": None, "dest": None, "jump": None, "comment": None}
    data.update(not_source=False, not_dest=False)
    neg = False
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok == "!":
            neg = True
            continue
        if tok == "-s":
            data["source"], data["not_source"] = nxt, neg
        elif tok == "-d":
            data["dest"], data["not_dest"] = nxt, neg
        elif tok in ("-j", "-g"):
            data["jump"] = nxt
        elif tok == "--comment":
            data["comment"] = nxt
        neg = False
    return data


def _new_chain(
    backend: str, family: int, table: str, name: str, policy: str
) -> dict[str, Any]:
    return {
        "backend": backend,
        "family": family,
        "table": table,
        "chain": name,
        "policy": policy,
        "builtin": policy != "-",
        "rules": [],
    }


def _tokens(spec: str) -> list[str]:
    tokens = spec.split()  # shlex only when quoting is present (fast path)
    if '"' in spec or "'" in spec:
        try:
            tokens = shlex.split(spec)
        except ValueError:
            pass
    return tokens


RuleFilter = Callable[[str, str, str], bool]  # (table, chain, line) -> worth parsing


def parse(
    text: str, backend: str, family: int, keep: RuleFilter | None = None
) -> list[Resource]:
    """Pure: one ``*-save`` output -> chains (with their rule specs) and rules.

    ``keep`` (a footprint's cheap pre-filter) narrows which rule lines become
    ``ipt_rule`` resources; every chain still lists all its rule specs, and
    positions count every rule. Measured on the bench's large node (10 000 foreign
    rules): 0.015 s instead of 0.39 s to parse all four ``*-save`` outputs."""
    chains: dict[tuple[str, str], dict[str, Any]] = {}
    rules: list[Resource] = []
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":"):
            name, policy = line[1:].split()[:2]
            chains[(table, name)] = _new_chain(backend, family, table, name, policy)
        elif line.startswith("-A "):
            _, chain, spec = [*line.split(" ", 2), ""][:3]
            ch = chains.get((table, chain))
            if ch is None:
                ch = chains[(table, chain)] = _new_chain(
                    backend, family, table, chain, "-"
                )
            ch["rules"].append(spec)
            if keep is not None and not keep(table, chain, line):
                continue
            tokens = _tokens(spec)
            data = {
                "backend": backend,
                "family": family,
                "table": table,
                "chain": chain,
                "pos": len(ch["rules"]),
                "spec": spec,
                "tokens": tokens,
                **_rule_data(tokens),
            }
            rules.append(Resource("ipt_rule", _key(data, data["pos"]), data))
    return [Resource("ipt_chain", _key(c), c) for c in chains.values()] + rules


def _key(d: dict[str, Any], pos: int | None = None) -> str:
    key = f"{d['backend']}:{d['family']}:{d['table']}:{d['chain']}"
    return key if pos is None else f"{key}:{pos}"


def parse_all(
    raw: list[dict[str, Any]], keep: RuleFilter | None = None
) -> list[Resource]:
    out: list[Resource] = []
    for item in raw:
        out += parse(item["stdout"], item["backend"], item["family"], keep)
    return out
