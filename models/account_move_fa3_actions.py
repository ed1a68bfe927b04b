"""FA(3) on the invoice: checked when a KSeF invoice is confirmed, and shown with "Preview FA(3)"."""

from odoo import _, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    def _l10n_pl_ksef_needs_fa3(self):
        """The customer invoices / credit notes of KSeF companies dated from their KSeF start date."""
        return self.filtered(
            lambda move: move.move_type in ("out_invoice", "out_refund")
            and move.company_id.l10n_pl_ksef_active
            and not (
                move.company_id.l10n_pl_ksef_start_date
                and (move.invoice_date or fields.Date.context_today(move)) < move.company_id.l10n_pl_ksef_start_date
            )
        )

    def _post(self, soft=True):
        """Check the FA(3) of KSeF invoices when they are confirmed; never waits on the network.

        Invoices in another currency get the rate of art. 31a / 31b from the stored NBP rates
        (``account_move_fa3_rate.py``). A user confirming by hand is refused with the problems; an
        automated flow posts and the invoice is held from KSeF until fixed (``account_move_ksef_hold.py``).
        """
        ksef = self._l10n_pl_ksef_needs_fa3()
        for move in ksef.filtered(lambda m: m.currency_id != m.company_currency_id):
            move._l10n_pl_ksef_apply_vat_rate()
        posted = super()._post(soft=soft)
        to_check = posted & ksef
        documents = None
        held = self.browse()
        if to_check and not self.env.context.get("l10n_pl_ksef_skip_fa3_check"):
            documents = to_check._l10n_pl_ksef_fa3_documents()
            failed = to_check.filtered(lambda move: documents[move.id].problems)
            if failed and self._l10n_pl_ksef_post_is_interactive():
                lang = self.env.lang
                blocks = ["%s\n%s" % (move.name or move.display_name, documents[move.id].text(lang)) for move in failed]
                raise UserError(
                    _(
                        "These invoices cannot be confirmed: their KSeF document (FA(3)) would be refused. "
                        "Fix the following, then confirm again.\n\n%(problems)s",
                        problems="\n\n".join(blocks),
                    )
                )
            if failed:
                failed._l10n_pl_ksef_hold_invoices(documents)
                held = failed
            (to_check - failed)._l10n_pl_ksef_release()
        auto = (to_check - held).filtered(lambda move: move.company_id.l10n_pl_ksef_send_mode == "auto")
        if auto:
            # the FA(3) just checked is the one queued: built once
            auto._l10n_pl_ksef_queue(built=documents)
        return posted

    def action_l10n_pl_ksef_preview_fa3(self):
        """Open the FA(3) document of this invoice: readable, with its problems and the XML to download."""
        self.ensure_one()
        if self.move_type not in ("out_invoice", "out_refund"):
            raise UserError(_("Only customer invoices and credit notes have an FA(3) document to send to KSeF."))
        wizard = self.env["l10n_pl_ksef.fa3.preview"].create({"move_id": self.id})
        return {
            "type": "ir.actions.act_window",
            "name": _("FA(3) document of %(invoice)s", invoice=self.display_name),
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }
