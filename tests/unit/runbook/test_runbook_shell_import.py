"""A plain shell script is accepted as is: complete commands become steps (bash decides
completeness: continuations, here-documents, if/for/while/case blocks, open quotes),
``kubectl`` lines run once against the cluster (and say so), the rest on every node;
``set -e`` turns later failures into stops; a script bash cannot parse names the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.runbook import loader
from harness.runbook.loader import BLOCK_NOTE, ONCE_NOTE, RunbookError

LATEST = (
    "https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml"
)
SCRIPT = r"""#!/bin/bash
# Flannel removal, from the wiki

# delete the manifest
kubectl delete -f LATEST || true
sudo rm -f /etc/cni/net.d/10-flannel.conflist \
    /etc/cni/net.d/10-flannel.conf
for dev in cni0 flannel.1; do
  ip link delete "$dev" || echo "no $dev"
done
cat > /etc/motd <<'EOF'
kubectl is not run here: this is a here-document
EOF
if [ -d /run/flannel ]; then
  rm -rf /run/flannel
fi
echo "a quote
spanning lines"
iptables -F &&
  iptables -t nat -F
set -euo pipefail
kubectl get nodes -o name | while read -r n; do kubectl annotate "$n" x-; done
systemctl restart kubelet
""".replace("LATEST", LATEST)


def _load(tmp_path: Path, text: str, name: str = "runbook.sh") -> loader.Runbook:
    path = tmp_path / name
    path.write_text(text)
    return loader.load(path)


def test_complete_commands_become_steps_in_order(tmp_path: Path) -> None:
    rb = _load(tmp_path, SCRIPT)
    assert rb.format == "shell"
    got = [(s.line, s.kind, s.source.splitlines()[0]) for s in rb.steps]
    assert got == [
        (5, "kubectl", f"kubectl delete -f {LATEST} || true"),
        (6, "shell", "sudo rm -f /etc/cni/net.d/10-flannel.conflist \\"),
        (8, "shell", "for dev in cni0 flannel.1; do"),
        (11, "shell", "cat > /etc/motd <<'EOF'"),
        (14, "shell", "if [ -d /run/flannel ]; then"),
        (17, "shell", 'echo "a quote'),
        (19, "shell", "iptables -F &&"),
        (
            22,
            "kubectl",
            'kubectl get nodes -o name | while read -r n; do kubectl annotate "$n" x-; done',
        ),
        (23, "shell", "systemctl restart kubelet"),
    ]
    assert rb.steps[2].source.endswith("done") and rb.steps[3].source.endswith("EOF")


def test_kubectl_lines_run_once_and_say_so(tmp_path: Path) -> None:
    rb = _load(tmp_path, SCRIPT)
    once, block = rb.steps[0], rb.steps[7]
    assert once.params == {
        "args": [
            "delete",
            "-f",
            "https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml",
        ],
        "tolerate_failure": True,
    }
    assert once.notes == (ONCE_NOTE,) and "once against the cluster" in ONCE_NOTE
    assert block.params == {"script": block.source} and block.notes == (BLOCK_NOTE,)
    assert all(s.nodes == "all" for s in rb.steps if s.kind == "shell")
    # a here-document that merely mentions kubectl stays a node command
    assert rb.steps[3].kind == "shell"


def test_the_comment_above_a_command_names_its_step(tmp_path: Path) -> None:
    rb = _load(tmp_path, SCRIPT)
    assert rb.steps[0].name == "delete the manifest"
    assert rb.steps[0].label == "delete the manifest"
    assert rb.steps[1].name == ""


def test_set_e_stops_the_run_from_there_on(tmp_path: Path) -> None:
    rb = _load(tmp_path, SCRIPT)
    policies = [s.on_failure for s in rb.steps]
    assert policies == ["continue"] * 7 + ["stop"] * 2
    assert any("line 21" in n and "stops the run" in n for n in rb.notes)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("ls\nfi\n", 2, "unexpected token `fi'"),
        ("ls\nif true; then\n  ls\n", 2, "never ends"),
        ("cat <<EOF\nabc\n", 1, "here-document"),
        ("echo 'open\n", 1, "never ends"),
    ],
)
def test_a_script_bash_cannot_parse_names_the_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    with pytest.raises(RunbookError) as exc:
        _load(tmp_path, text)
    issue = exc.value.issues[0]
    assert (issue.file, issue.line) == (str(tmp_path / "runbook.sh"), line)
    assert words in issue.message


def test_an_empty_script_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match="no commands"):
        _load(tmp_path, "#!/bin/sh\n# nothing\n\n")


def test_a_kubectl_line_with_shell_expansion_runs_as_a_block(tmp_path: Path) -> None:
    rb = _load(
        tmp_path, 'kubectl drain "$(hostname)"\nsudo kubectl get pods 2>/dev/null\n'
    )
    assert rb.steps[0].kind == "kubectl" and rb.steps[0].notes == (BLOCK_NOTE,)
    assert rb.steps[1].params == {"args": ["get", "pods"], "tolerate_failure": False}
