"""Regenerate ``golden/*.xml`` from ``fa3_cases.py`` (a tool, not a test).

Run only after reviewing the intended change against the FA(3) XSD
documentation; then read the diff of every golden file before keeping it.
Usage: python tests/pure/fa3/regen_golden.py [case ...]
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
sys.path.insert(0, str(HERE))

from fa3_cases import CASES  # noqa: E402

from ksef_core.fa3 import build_fa3  # noqa: E402

if __name__ == "__main__":
    names = sys.argv[1:] or sorted(CASES)
    for name in names:
        (HERE / "golden" / ("%s.xml" % name)).write_bytes(build_fa3(CASES[name]()))
        print("wrote", name)
