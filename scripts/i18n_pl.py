"""Merge i18n/l10n_pl_ksef.pot into i18n/pl.po, keeping existing translations.

Usage (Odoo's Python has polib): python scripts/i18n_pl.py [--odoo /opt/odoo/19.0]
With --odoo, terms that Odoo itself already translates (e.g. the labels of the
mail.thread fields our models inherit) are filled from Odoo's own pl.po files.
Lists the terms still missing a Polish translation and exits 1 if there are any.
"""

import sys
from pathlib import Path

import polib

I18N = Path(__file__).resolve().parents[1] / "i18n"


ODOO_PO = ("odoo/addons/base", "addons/mail", "addons/account", "addons/sms", "addons/web")


def odoo_translations(odoo_src):
    known = {}
    for addon in ODOO_PO:
        path = Path(odoo_src) / addon / "i18n" / "pl.po"
        if path.exists():
            for entry in polib.pofile(str(path)):
                if entry.msgstr and entry.msgid not in known:
                    known[entry.msgid] = entry.msgstr
    return known


def main(argv):
    pot = polib.pofile(str(I18N / "l10n_pl_ksef.pot"))
    po_path = I18N / "pl.po"
    po = polib.pofile(str(po_path)) if po_path.exists() else polib.POFile()
    po.merge(pot)
    po.metadata = dict(pot.metadata, Language="pl", **{"Plural-Forms": (
        "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);")})
    for entry in po.obsolete_entries():
        po.remove(entry)
    if "--odoo" in argv:
        known = odoo_translations(argv[argv.index("--odoo") + 1])
        for entry in po:
            if not entry.msgstr and entry.msgid in known:
                entry.msgstr = known[entry.msgid]
    po.save(str(po_path))
    missing = [e.msgid for e in po if not e.msgstr]
    for msgid in missing:
        sys.stdout.write("missing: %r\n" % msgid)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
