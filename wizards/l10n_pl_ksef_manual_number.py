"""An invoice already issued in KSeF outside Odoo gets its KSeF number by hand, and is never sent."""

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..ksef_core.client.online import check_ksef_number
from ..ksef_core.errors import KsefError
from ..ksef_core.ksef_number import ksef_number_nip


class L10nPlKsefManualNumber(models.TransientModel):
    _name = "l10n_pl_ksef.manual.number"
    _description = "KSeF number of an invoice issued outside Odoo"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, readonly=True, ondelete="cascade")
    ksef_number = fields.Char(
        string="KSeF number",
        required=True,
        help="The number KSeF gave the invoice, e.g. 5265877635-20261120-0123456789AB-7C.",
    )

    def action_confirm(self):
        self.ensure_one()
        move = self.move_id
        number = (self.ksef_number or "").strip()
        try:
            check_ksef_number(number)
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None
        if ksef_number_nip(number) != move.company_id.l10n_pl_ksef_nip:
            raise UserError(
                _(
                    "The KSeF number %(number)s belongs to another seller (NIP %(nip)s), not to %(company)s.",
                    number=number,
                    nip=ksef_number_nip(number),
                    company=move.company_id.name,
                )
            )
        # locked first, then checked on fresh values: a send (cron or click) that queued or sent the invoice
        # since this wizard opened is seen, and none can start until this transaction ends
        self.env["res.company"]._with_locked_records(move)
        move.invalidate_recordset()
        move.l10n_pl_ksef_document_ids.invalidate_recordset()
        refusals = move._l10n_pl_ksef_refusals()
        if move in refusals:
            raise UserError(refusals[move])
        Document = self.env["l10n_pl_ksef.document"].sudo()
        document = Document.create(
            {
                "move_id": move.id,
                "company_id": move.company_id.id,
                "state": "accepted",
                "invoicing_mode": "manual",
                "ksef_number": number,
                "acceptance_date": fields.Datetime.now(),
                "ksef_user_id": self.env.user.id,
            }
        )
        document._l10n_pl_ksef_log(
            {
                document: _(
                    "KSeF number %(number)s entered by hand by %(user)s: the invoice was issued outside Odoo.",
                    number=number,
                    user=self.env.user.name,
                )
            }
        )
        return {"type": "ir.actions.act_window_close"}
