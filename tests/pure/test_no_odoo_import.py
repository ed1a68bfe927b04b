"""ksef_core must work where Odoo is absent: import every module with ``odoo`` blocked."""

import subprocess
import sys
import textwrap
from pathlib import Path

ADDON_ROOT = Path(__file__).resolve().parents[2]

BLOCKER = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    class BlockOdoo(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "odoo" or name.startswith("odoo."):
                raise ImportError("odoo is blocked in this process")
            return None

    sys.meta_path.insert(0, BlockOdoo())
    sys.path.insert(0, sys.argv[1])
    try:
        import odoo  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker did not work")
    import ksef_core
    names = ["ksef_core"]
    for info in pkgutil.walk_packages(ksef_core.__path__, "ksef_core."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    leaked = sorted(n for n in sys.modules if n == "odoo" or n.startswith("odoo."))
    if leaked:
        raise SystemExit("odoo modules got imported: %s" % leaked)
    print(len(names))
    """
)


def test_every_ksef_core_module_imports_without_odoo():
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, str(ADDON_ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # The package has many modules (client, simulator, fa3...): all of them were imported.
    assert int(result.stdout.strip().splitlines()[-1]) >= 10


def test_no_source_file_mentions_an_odoo_import():
    offenders = []
    for path in (ADDON_ROOT / "ksef_core").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("import odoo", "from odoo")):
                offenders.append("%s: %s" % (path.relative_to(ADDON_ROOT), stripped))
    assert not offenders, offenders
