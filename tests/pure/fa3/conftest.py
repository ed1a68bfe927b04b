"""Fixtures of the FA(3) engine tests: the case catalogue lives in ``fa3_cases.py`` next to this file."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
