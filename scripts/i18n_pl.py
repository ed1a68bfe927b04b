"""Merge i18n/l10n_pl_ksef.pot into i18n/pl.po, keeping existing translations.

Usage (Odoo's Python has polib): python scripts/i18n_pl.py
Lists the terms still missing a Polish translation and exits 1 if there are any.
"""

import sys
from pathlib import Path

import polib

I18N = Path(__file__).resolve().parents[1] / "i18n"


def main():
    pot = polib.pofile(str(I18N / "l10n_pl_ksef.pot"))
    po_path = I18N / "pl.po"
    po = polib.pofile(str(po_path)) if po_path.exists() else polib.POFile()
    po.merge(pot)
    po.metadata = dict(pot.metadata, Language="pl", **{"Plural-Forms": (
        "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);")})
    for entry in po.obsolete_entries():
        po.remove(entry)
    po.save(str(po_path))
    missing = [e.msgid for e in po if not e.msgstr]
    for msgid in missing:
        sys.stdout.write("missing: %r\n" % msgid)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
