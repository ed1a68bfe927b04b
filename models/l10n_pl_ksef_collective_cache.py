"""What KSeF answered for a collective identifier quoted by a customer's transfer: its invoices and amounts.

Asked once per identifier (``POST /collective-identifiers/invoices``, 10 a request) and kept: an identifier's
invoices never change once KSeF issued it. An identifier KSeF does not know is kept as unknown too (a typo in
a transfer title stays a typo).
"""

import json

from odoo import api, fields, models


class L10nPlKsefCollectiveCache(models.Model):
    _name = "l10n_pl_ksef.collective.cache"
    _description = "KSeF collective identifier (as KSeF gave it)"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    identifier = fields.Char(string="Collective identifier", required=True, index=True)
    known = fields.Boolean(string="Known to KSeF")
    invoices_json = fields.Text(
        string="Invoices (as KSeF gave them)",
        help="[[KSeF number, amount or null, currency or null], ...] as KSeF gave them.",
    )

    _identifier_unique = models.Constraint("UNIQUE(company_id, identifier)", "One entry per identifier.")

    @api.model
    def _l10n_pl_ksef_invoices(self, company, identifiers, remote=True):
        """``{identifier: [(ksef_number, amount or None, currency or None)] or None}``: from this table, KSeF
        asked once for those not in it yet (with ``remote`` False: not asked, those are left out). KSeF errors
        (unreachable, refusing) are raised as they come."""
        identifiers = list(dict.fromkeys(identifiers))
        if not identifiers:
            return {}
        cached = self.sudo().search([("company_id", "=", company.id), ("identifier", "in", identifiers)])
        out = {c.identifier: json.loads(c.invoices_json) if c.known else None for c in cached}
        missing = [i for i in identifiers if i not in out]
        if not remote:
            identifiers = [i for i in identifiers if i in out]
        elif missing:
            with company.sudo()._l10n_pl_ksef_client(ksef_user=self.env["res.users"]) as client:
                answered = client.collective.invoices_many(missing)
            rows = []
            for identifier in missing:
                items = answered.get(identifier)
                found = (
                    None
                    if items is None
                    else [(i.ksef_number, None if i.amount is None else str(i.amount), i.currency) for i in items]
                )
                out[identifier] = found
                rows.append(
                    {
                        "company_id": company.id,
                        "identifier": identifier,
                        "known": found is not None,
                        "invoices_json": json.dumps(found or []),
                    }
                )
            self.sudo().create(rows)
        return {i: [tuple(row) for row in out[i]] if out[i] is not None else None for i in identifiers}
