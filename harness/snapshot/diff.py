"""The difference between two snapshots, by object name, readable as it stands.

>>> d = diff({"link cni0 (bridge)": "", "file /a": "644 x"}, {"file /a": "644 y", "link kb": ""})
>>> d.vanished, d.appeared, d.changed
(['link cni0 (bridge)'], ['link kb'], ['file /a'])
>>> print(d.text())
- link cni0 (bridge)
+ link kb
~ file /a (644 x -> 644 y)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.snapshot import Objects


@dataclass
class Diff:
    vanished: list[str] = field(default_factory=list)
    appeared: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    fingerprints: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.vanished or self.appeared or self.changed)

    def text(self) -> str:
        lines = [f"- {n}" for n in self.vanished] + [f"+ {n}" for n in self.appeared]
        for n in self.changed:
            old, new = self.fingerprints[n]
            lines.append(f"~ {n} ({old} -> {new})")
        return "\n".join(lines)


def diff(before: Objects, after: Objects) -> Diff:
    changed = sorted(n for n in before if n in after and before[n] != after[n])
    return Diff(
        vanished=sorted(n for n in before if n not in after),
        appeared=sorted(n for n in after if n not in before),
        changed=changed,
        fingerprints={n: (before[n], after[n]) for n in changed},
    )
