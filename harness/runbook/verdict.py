"""The verdict of a validation and the exit code that gates a change ticket.

Exit 0 only when nothing of the CNI is left, nothing foreign was destroyed or changed,
and every ``expect`` step held. Each failing verdict adds its own bit, so one number
says everything that failed and each can be tested alone
(``rc & Verdict.FOREIGN_DESTROYED``)::

    0   clean: nothing left, no collateral, every expectation held
    1   error: the validation itself could not run (cluster, tooling)
    2   usage: bad command line, or a runbook that cannot be read (file:line: step …)
    8   the CNI's objects are left on a node or in the API
    16  foreign objects were destroyed or changed
    32  an expect step did not hold

>>> int(Verdict.LEFT | Verdict.FOREIGN_DESTROYED)
24
>>> Verdict.decode(40)
['cni_objects_left', 'expectations_failed']
"""

from __future__ import annotations

from enum import IntFlag


class Verdict(IntFlag):
    CLEAN = 0
    ERROR = 1
    USAGE = 2
    LEFT = 8
    FOREIGN_DESTROYED = 16
    EXPECT_FAILED = 32

    @classmethod
    def decode(cls, code: int) -> list[str]:
        """The names of the failing verdicts in an exit code (JSON ``verdicts``)."""
        return [NAMES[v] for v in cls if v and code & v and v in NAMES]

    @classmethod
    def of(cls, left: bool, destroyed: bool, expect_failed: bool) -> Verdict:
        code = cls.CLEAN
        if left:
            code |= cls.LEFT
        if destroyed:
            code |= cls.FOREIGN_DESTROYED
        if expect_failed:
            code |= cls.EXPECT_FAILED
        return code


NAMES = {
    Verdict.ERROR: "error",
    Verdict.USAGE: "usage",
    Verdict.LEFT: "cni_objects_left",
    Verdict.FOREIGN_DESTROYED: "foreign_objects_destroyed",
    Verdict.EXPECT_FAILED: "expectations_failed",
}

HEADLINES = {
    Verdict.LEFT: "CNI objects left",
    Verdict.FOREIGN_DESTROYED: "foreign objects destroyed",
    Verdict.EXPECT_FAILED: "expectations failed",
}


def headline(code: int) -> str:
    """``PASS`` or ``FAIL: CNI objects left, foreign objects destroyed``."""
    failed = [HEADLINES[v] for v in Verdict if v in HEADLINES and code & v]
    if code & Verdict.ERROR:
        return "ERROR: the validation could not run"
    return "PASS: clean, no collateral" if not failed else "FAIL: " + ", ".join(failed)
