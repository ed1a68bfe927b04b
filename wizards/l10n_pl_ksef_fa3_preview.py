"""Preview FA(3): the invoice's KSeF document shown readably, its problems, and the XML to download."""

import base64

from odoo import api, fields, models

from ..ksef_core.fa3.buckets import BUCKETS
from ..ksef_core.fa3.rates import RATES


class L10nPlKsefFa3Preview(models.TransientModel):
    _name = "l10n_pl_ksef.fa3.preview"
    _description = "KSeF FA(3) preview"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, readonly=True, ondelete="cascade")
    valid = fields.Boolean(compute="_compute_document")
    problems = fields.Text(compute="_compute_document")
    document_html = fields.Html(compute="_compute_document", sanitize=False)
    xml_file = fields.Binary(string="FA(3) XML", compute="_compute_document")
    xml_filename = fields.Char(compute="_compute_document")

    @api.depends("move_id")
    def _compute_document(self):
        for wizard in self:
            move = wizard.move_id
            document = move._l10n_pl_ksef_fa3_document()
            wizard.valid = bool(document.xml)
            wizard.problems = document.text(self.env.lang) or False
            wizard.xml_file = base64.b64encode(document.xml) if document.xml else False
            wizard.xml_filename = "%s.xml" % (move.name or "FA3").replace("/", "_")
            wizard.document_html = (
                self.env["ir.qweb"]._render(
                    "l10n_pl_ksef.fa3_preview_document",
                    {
                        "inv": document.invoice,
                        "move": move,
                        "buckets": BUCKETS,
                        "rates": RATES,
                        "rate_note": document.rate_note,
                    },
                )
                if document.invoice
                else False
            )
