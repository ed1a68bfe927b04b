"""The JDK's own XML-DSig implementation as a third, independent judge of signed files (the tests using it are
skipped where no ``java`` is installed)."""

import shutil
import subprocess
from pathlib import Path

VERIFIER = Path(__file__).resolve().parent / "identity" / "XadesVerify.java"
HAS_JAVA = shutil.which("java") is not None


def jdk_verdicts(paths):
    """One line per file, ``<path> valid=<bool> ...``, as ``XadesVerify.java`` prints them."""
    out = subprocess.run(
        ["java", str(VERIFIER), *map(str, paths)], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()
