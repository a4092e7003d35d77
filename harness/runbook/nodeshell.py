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
__cs_save() {
  __cs_rc=$?
  set +eu
  printf '%s' "$__CS_MARKER"
  for __cs_v in $(compgen -v); do
    case "$__cs_fresh" in *" $__cs_v "*) continue ;; esac
    case "$__cs_v" in __cs_*|__CS_*|BASH_*|FUNCNAME|PIPESTATUS|_) continue ;; esac
    declare -p "$__cs_v" 2>/dev/null
  done
  declare -f | awk '/^(sudo|__cs_save) \(\) $/{skip=1} skip&&/^}$/{skip=0; next} !skip'
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
