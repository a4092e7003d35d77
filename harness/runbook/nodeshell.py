"""One operator shell per node, spread over many steps.

An operator pastes a runbook into one root shell per node: a ``cd`` or a variable set by
one line is still there for the next, ``sudo`` just runs the command. Each shell step
runs as its own ``bash -c`` inside the node (so every step has its own exit code, output
and duration), and this module carries the shell's state from one step to the next: the
variables and functions the runbook defined and the working directory travel in the
step's output after a marker (:func:`wrap` appends them, :func:`split` takes them out),
and the next step starts by restoring them. Nothing is written into the node for this.

>>> script = wrap("X=1; cd /tmp", state="")
>>> "X=1; cd /tmp" in script
True
>>> split("out\\n" + MARKER + "declare -- X=\\"1\\"\\n")
('out\\n', 'declare -- X="1"\\n')
"""

from __future__ import annotations

MARKER = "\n#cniscrub-validate-shell-state#\n"
SANDBOX_NOTE = "[sandbox: no systemd]"

# Runs before every step. ``sudo`` is a no-op wrapper where the node has none (steps run
# as root, as after ``sudo -i``). The variables a fresh bash has are remembered so that
# only the runbook's own are saved.
_PREAMBLE = r"""
__cs_fresh=" $(compgen -v | tr '\n' ' ') "
if ! command -v sudo >/dev/null 2>&1; then
  sudo() {
    while [ "$#" -gt 0 ]; do
      case "$1" in
        -u|-g|-C|-D|-h|-p|-r|-t|-T|-U) shift 2 ;;
        --) shift; break ;;
        -*) shift ;;
        *) break ;;
      esac
    done
    "$@"
  }
fi
# Sandbox nodes have no systemd: their kubelet and container runtime run in the lab's
# control plane and keep running. Restarting them changes no node network state, so the
# runbook's `systemctl restart kubelet` is answered (and says so) instead of failing.
if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then
  __cs_service() {
    local verb="" unit="" a
    for a in "$@"; do
      case "$a" in -*) ;; *) if [ -z "$verb" ]; then verb=$a; else unit=${a%.service}; fi ;; esac
    done
    case "$unit" in
      kubelet|containerd|crio|cri-o|docker)
        echo "$SANDBOX_NOTE: \`systemctl $verb $unit\`: $unit keeps running" >&2
        return 0 ;;
    esac
    command systemctl "$@"
  }
  systemctl() { __cs_service "$@"; }
  service() { __cs_service "$2" "$1"; }
fi
__cs_save() {
  __cs_rc=$?
  set +eu
  printf '%s' "$__CS_MARKER"
  for __cs_v in $(compgen -v); do
    case "$__cs_fresh" in *" $__cs_v "*) continue ;; esac
    case "$__cs_v" in __cs_*|__CS_*|SANDBOX_NOTE|BASH_*|FUNCNAME|PIPESTATUS|_) continue ;; esac
    declare -p "$__cs_v" 2>/dev/null
  done
  declare -f | awk '/^(sudo|systemctl|service|__cs_service|__cs_save) \(\) $/{skip=1}
    skip&&/^}$/{skip=0; next} !skip'
  printf 'cd -- %q 2>/dev/null\n' "$PWD"
  exit "$__cs_rc"
}
"""


def wrap(script: str, state: str) -> str:
    """The ``bash -c`` text for one step: restore ``state``, run ``script``, print the
    new state after :data:`MARKER` on the way out (also after ``exit`` or ``set -e``)."""
    return "\n".join(
        (
            f"__CS_MARKER={_quote(MARKER)}",
            f"SANDBOX_NOTE={_quote(SANDBOX_NOTE)}",
            _PREAMBLE,
            state,
            "trap __cs_save EXIT",
            script,
        )
    )


def split(stdout: str) -> tuple[str, str]:
    """(the step's own output, the shell state it left) from a wrapped step's stdout."""
    out, sep, state = stdout.rpartition(MARKER)
    if not sep:
        return stdout, ""
    return out, state


def _quote(text: str) -> str:
    return (
        "$'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
    )
