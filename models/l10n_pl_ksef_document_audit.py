"""The KSeF audit trail in the invoice's chatter: one internal note per step of its KSeF document.

Queued (by whom), sent (the session), accepted (the KSeF number; the UPO once it is kept), rejected (the reason),
withdrawn (by whom), issued offline (the mode). An accountant answers "who sent this, and when" from the invoice.

The notes are logged, not posted: internal (``mail.mt_note``), nobody is notified, no e-mail leaves, and many
invoices of one run are logged in one batch. They carry numbers, references, names and reasons only, never a
token or any other secret.
"""

from odoo import _, models
from odoo.tools import SQL


class L10nPlKsefDocument(models.Model):
    _inherit = "l10n_pl_ksef.document"

    def _l10n_pl_ksef_audit_text(self, to_state):
        """The chatter line of this document's move to ``to_state`` (None: that step is not logged)."""
        self.ensure_one()
        if to_state == "processing":
            if self.session_id.kind == "batch":
                return _("Sent to KSeF in batch session %(session)s.", session=self.session_id.reference or "-")
            return _("Sent to KSeF in online session %(session)s.", session=self.session_id.reference or "-")
        if to_state == "accepted":
            if self.move_id._l10n_pl_ksef_takes_payment_reference():
                return _(
                    "Accepted by KSeF with number %(number)s; it is now the invoice's payment reference.",
                    number=self.ksef_number,
                )
            return _("Accepted by KSeF with number %(number)s.", number=self.ksef_number)
        if to_state == "rejected":
            return _(
                "Rejected by KSeF (code %(code)s): %(reason)s",
                code=self.status_code or "-",
                reason=self.reason or "-",
            )
        if to_state == "cancelled":
            return _("Withdrawn from the KSeF queue by %(user)s before it was sent.", user=self.env.user.name)
        # back in the queue (KSeF did not get it, or a file to send again): the next "sent" line says when it went
        return None

    def _l10n_pl_ksef_audit(self, to_state):
        """Log the line of each of these documents' move to ``to_state`` on its invoice (one batch)."""
        self._l10n_pl_ksef_log({document: document._l10n_pl_ksef_audit_text(to_state) for document in self})

    def _l10n_pl_ksef_log(self, texts):
        """Log ``{document: text}`` (plain text; falsy texts are skipped) on the documents' invoices."""
        bodies = {document.move_id.id: text for document, text in texts.items() if text}
        if bodies:
            moves = self.env["account.move"].browse(list(bodies))
            moves._message_log_batch(bodies=bodies)

    def _l10n_pl_ksef_audit_queued(self):
        """The "queued by" line of these new documents."""
        who = self.env.user.name
        texts = {}
        for document in self:
            if document.waits_for_id:
                texts[document] = _(
                    "Queued for KSeF by %(user)s; it goes once %(invoice)s, which it corrects, has its KSeF number.",
                    user=who,
                    invoice=document.waits_for_id.move_id.name,
                )
            else:
                texts[document] = _("Queued for KSeF by %(user)s.", user=who)
        self._l10n_pl_ksef_log(texts)

    def _l10n_pl_ksef_audit_upo(self, attachments):
        """The line with the UPO just kept for each of these accepted documents (``{document: attachment}``; the
        attachment opens from the chatter): one batch of lines, their attachments linked in one statement."""
        bodies = {}
        for document, attachment in attachments.items():
            bodies[document.move_id.id] = _(
                "UPO (KSeF's official receipt) of KSeF number %(number)s kept: %(name)s",
                number=document.ksef_number,
                name=attachment.name,
            )
        moves = self.env["account.move"].browse(list(bodies))
        messages = moves._message_log_batch(bodies=bodies)
        by_move = {document.move_id.id: attachment.id for document, attachment in attachments.items()}
        pairs = [(message.id, by_move[message.res_id]) for message in messages]
        self.env.cr.execute(
            SQL(
                "INSERT INTO message_attachment_rel (message_id, attachment_id)"
                " SELECT * FROM unnest(%s::int[], %s::int[])",
                [pair[0] for pair in pairs],
                [pair[1] for pair in pairs],
            )
        )
        messages.invalidate_recordset(["attachment_ids"])
