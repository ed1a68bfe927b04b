"""Invoices posted by an automated flow whose FA(3) would be refused: posted, but held from KSeF until fixed.

A user clicking Confirm is told at once what to fix (``UserError``) and the invoice stays a draft.  An
automated flow must not break for one invoice: Point of Sale, e-commerce and payment flows, subscriptions,
Odoo's auto-post of dated drafts and every scheduled action post the invoice; it is then HELD
(``l10n_pl_ksef_hold`` lists its problems): the KSeF banner says what to do, its salesperson gets a to-do,
and it never goes to KSeF (Send, the queue, Send & Print refuse it) until it is fixed: reset to draft, fix,
confirm again, or "Check again" once the missing piece (an NBP rate...) has arrived.

Which post is interactive (``_l10n_pl_ksef_post_is_interactive``):

1. the context key ``l10n_pl_ksef_interactive`` (True / False) decides when it is set;
2. a scheduled action (``cron_id`` in the context: Odoo's crons, subscriptions, the auto-post) is automated;
3. within an HTTP request, an internal user acting as himself (no sudo) is interactive; sudo (Point of
   Sale, e-commerce, payment flows) or a portal / public user is automated;
4. no HTTP request and no cron (a script, the shell, a test): interactive, as a Confirm button.
"""

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.http import request

INTERACTIVE_KEY = "l10n_pl_ksef_interactive"
HOLD_ACTIVITY_XMLID = "l10n_pl_ksef.mail_activity_type_ksef_hold"


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_hold = fields.Text(
        string="To fix before KSeF",
        copy=False,
        readonly=True,
        help="This invoice was confirmed by an automated flow (Point of Sale, e-commerce, auto-post...) although "
        "its KSeF document would be refused: what to fix. It does not go to KSeF until fixed.",
    )

    # ------------------------------------------------------------------ who posts

    @api.model
    def _l10n_pl_ksef_post_is_interactive(self):
        """True when a user is confirming by hand and can be told what to fix (rule in the module docstring)."""
        forced = self.env.context.get(INTERACTIVE_KEY)
        if forced is not None:
            return bool(forced)
        if self.env.context.get("cron_id"):
            return False
        if not request:
            return True
        if self.env.su:
            return False
        return self.env.user._is_internal()

    def _autopost_draft_entries(self, *args, **kwargs):
        # Odoo's auto-post of dated drafts is never a user at the screen, however it is started
        return super(AccountMove, self.with_context(**{INTERACTIVE_KEY: False}))._autopost_draft_entries(
            *args, **kwargs
        )

    # ------------------------------------------------------------------ holding and releasing

    def _l10n_pl_ksef_hold_invoices(self, documents):
        """Hold these posted invoices with the problems of their FA(3) ``documents`` and schedule a to-do."""
        activity_type = self.env.ref(HOLD_ACTIVITY_XMLID, raise_if_not_found=False)
        for move in self:
            user = move._l10n_pl_ksef_hold_user()
            text = documents[move.id].text(user.lang or self.env.lang)
            move.sudo().l10n_pl_ksef_hold = text
            note = _(
                "%(invoice)s was confirmed automatically, but its KSeF document (FA(3)) would be refused: it is "
                "not sent to KSeF until fixed.\n%(problems)s\nFix what is listed (for an NBP rate not fetched yet: "
                "wait a minute), then click Check again on the invoice; or reset it to draft, fix it and confirm.",
                invoice=move.name,
                problems=text,
            )
            existing = move.sudo().activity_ids.filtered(
                lambda activity: activity_type and activity.activity_type_id == activity_type
            )
            if existing:
                existing.write({"note": Markup("<br/>").join(escape(line) for line in note.split("\n"))})
                continue
            move.sudo().activity_schedule(
                activity_type_id=activity_type.id if activity_type else False,
                summary=_("Fix the invoice before it goes to KSeF"),
                note=Markup("<br/>").join(escape(line) for line in note.split("\n")),
                user_id=user.id,
            )

    def _l10n_pl_ksef_hold_user(self):
        """Who fixes a held invoice: its salesperson, else its creator, else an accounting manager."""
        self.ensure_one()
        for user in (self.invoice_user_id, self.create_uid, self.env.user):
            if user and user.active and user._is_internal() and not user._is_superuser():
                return user
        managers = (
            self.env.ref("account.group_account_manager")
            .sudo()
            .user_ids.filtered(
                lambda user: user.active and self.company_id in user.company_ids and not user._is_superuser()
            )
        )
        return managers[:1] or self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user

    def _l10n_pl_ksef_release(self):
        """These invoices' FA(3) is fine now: no longer held, the to-do done."""
        held = self.filtered("l10n_pl_ksef_hold")
        if not held:
            return
        held.sudo().l10n_pl_ksef_hold = False
        activity_type = self.env.ref(HOLD_ACTIVITY_XMLID, raise_if_not_found=False)
        if activity_type:
            held.sudo().activity_ids.filtered(lambda a: a.activity_type_id == activity_type).action_feedback(
                feedback=_("Fixed: the invoice may go to KSeF.")
            )

    def action_l10n_pl_ksef_check_hold(self):
        """Check again: rebuild the FA(3) of a held invoice; when it is fine, release it (queued for KSeF when
        the company sends automatically). A held invoice booked at a rate other than the VAT act's (its NBP
        rate was not fetched when it was posted) is confirmed again at that rate."""
        interactive = self.with_context(**{INTERACTIVE_KEY: True})
        for move in interactive.filtered("l10n_pl_ksef_hold"):
            if move.state == "draft":
                move.action_post()
                continue
            booking = move._l10n_pl_ksef_booking_rate() if move._l10n_pl_ksef_foreign() else None
            if booking and abs(booking - move.invoice_currency_rate) > 1e-12 * booking:
                move.button_draft()
                move.action_post()  # applies the rate, checks again, releases (or refuses, nothing changed)
                continue
            document = move._l10n_pl_ksef_fa3_document()
            if document.problems:
                raise UserError(
                    _(
                        "%(invoice)s still cannot go to KSeF: its KSeF document (FA(3)) would be refused. Fix the "
                        "following (reset the invoice to draft to edit it), then check again.\n\n%(problems)s",
                        invoice=move.name,
                        problems=document.text(self.env.lang),
                    )
                )
            move._l10n_pl_ksef_release()
            if move.company_id.l10n_pl_ksef_send_mode == "auto":
                move._l10n_pl_ksef_queue(built={move.id: document})
        return True

    def _l10n_pl_ksef_hold_banner(self):
        """The banner of a held invoice: what to fix and how."""
        self.ensure_one()
        if self.state == "draft":
            intro = _("Fix the following, then confirm: its KSeF document (FA(3)) would be refused.")
        else:
            intro = _(
                "Not sent to KSeF: this invoice was confirmed automatically, but its KSeF document (FA(3)) would be "
                "refused. Fix the following (reset to draft, fix, confirm again), or click Check again once it is "
                "fixed (e.g. the NBP rate has arrived)."
            )
        lines = [escape(intro)] + [escape(line) for line in (self.l10n_pl_ksef_hold or "").split("\n") if line]
        return Markup("<br/>").join(lines)
