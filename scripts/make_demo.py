# Run by scripts/start.sh through `odoo-bin shell` (stdin), which provides `env`: makes the database's main
# company the KSeF demo company, connected to the simulator at $KSEF_API_URL, and commits.
import os

summary = env["l10n_pl_ksef.demo"]._l10n_pl_ksef_make_demo(env.company, os.environ["KSEF_API_URL"])  # noqa: F821
env.cr.commit()  # noqa: F821
print("Demo company: %s (NIP %s)" % (summary["company"], summary["nip"]))
for row in summary["connection"]:
    print("  " + row)
for name, partner, state, number in summary["invoices"]:
    print("  %-16s %-28s %-10s %s" % (name, partner, state or "draft", number or ""))
