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
3. within an HTTP request, only a call of the web client (``WEB_CLIENT_ROUTES``: its buttons, its ORM calls,
   the server actions of its Action menu) by an internal user acting as himself (no sudo) is interactive:
   someone reads the message.  Everything else is automated: sudo (Point of Sale, e-commerce, payment
   flows), a portal / public user, and the external API (``/jsonrpc``, ``/xmlrpc/2/object``, JSON-2
   ``/json/2/...``), OCA's ``/queue_job/runjob`` and any other controller, whose caller is a program (the
   external API runs with ``request`` lent away: the URL of the thread tells it);
4. no HTTP request and no cron (a script, the shell, a test): interactive, as a Confirm button.
"""

import threading
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools.translate import LazyTranslate

from .fa3_problems import Problem

_lt = LazyTranslate(__name__)

INTERACTIVE_KEY = "l10n_pl_ksef_interactive"
HOLD_ACTIVITY_XMLID = "l10n_pl_ksef.mail_activity_type_ksef_hold"
#: the routes of Odoo 19's web client (addons/web/controllers/dataset.py, action.py) through which a person
#: at the screen confirms: a button, an ORM call, a server action of the Action menu
WEB_CLIENT_ROUTES = ("/web/dataset/call_button", "/web/dataset/call_kw", "/web/action/run")


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
        if request:
            path = request.httprequest.path
        else:
            # the external API (/jsonrpc, /xmlrpc/2/object) runs without ``request`` (Odoo lends it away), but
            # its thread still has the URL it serves; a script or the shell has none
            url = getattr(threading.current_thread(), "url", None)
            if not url:
                return True
            path = urlsplit(url).path
        if self.env.su:
            return False
        if not any(path == route or path.startswith(route + "/") for route in WEB_CLIENT_ROUTES):
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
        # members through an implied group too (all_group_ids), not only those the group names
        managers = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("all_group_ids", "in", self.env.ref("account.group_account_manager").ids),
                    ("company_ids", "in", self.company_id.ids),
                    ("share", "=", False),
                ],
                order="id",
            )
            .filtered(lambda user: not user._is_superuser())
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
                refusal = move._l10n_pl_ksef_rebook_refusal(booking)
                if refusal:
                    raise UserError(refusal)
                move.button_draft()
                if move.state != "draft":  # an override refused (e.g. the Point of Sale session is open)
                    text = _lt(
                        "%(invoice)s could not be reset to draft to book it at the rate the VAT act asks for; nothing "
                        "was changed. Reset it to draft yourself (Odoo tells you why it cannot), confirm it again, "
                        "then click Check again.",
                        invoice=move.name,
                    )
                    raise UserError(Problem(text._translate("en_US"), text._translate("pl_PL")).line(self.env.lang))
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

    def _l10n_pl_ksef_rebook_refusal(self, booking):
        """Why Odoo must not reset this posted invoice to book it at the VAT act's rate ``booking`` by itself,
        as a message (English and Polish) saying what the accountant does, or None.  A paid or reconciled
        invoice (its payments and exchange differences would no longer match), one of an open Point of Sale
        session, one secured by its journal's inalterability hash or dated in a locked period is never reset
        automatically."""
        self.ensure_one()
        intro = _lt(
            "%(invoice)s was booked at %(booked)s PLN per %(currency)s because the NBP rate was not there when it "
            "was confirmed; its VAT in PLN must be converted at %(rate)s PLN (art. 31a and 31b of the VAT act), in "
            "its KSeF document and in its entry alike. Odoo does not book it again by itself, and nothing was "
            "changed:",
            invoice=self.name,
            booked="%.6g" % (1.0 / self.invoice_currency_rate),
            currency=self.currency_id.name,
            rate="%.6g" % (1.0 / booking),
        )
        reconciled = self.line_ids.filtered(lambda line: line.matched_debit_ids or line.matched_credit_ids)
        if self.payment_state in ("in_payment", "paid", "partial", "reversed") or reconciled:
            reason = _lt(
                "it is paid or partly paid. Unreconcile its payments (on the invoice: Payments ▸ Unreconcile), "
                "reset it to draft and confirm it (Odoo books it at the NBP rate), reconcile the payments again, "
                "then click Check again."
            )
        elif "pos_order_ids" in self._fields and self.sudo().pos_order_ids:
            reason = _lt(
                "it is an invoice of the Point of Sale. Once its session is closed, reset it to draft, confirm it "
                "(Odoo books it at the NBP rate), then click Check again."
            )
        elif self.inalterable_hash or self.journal_id.restrict_mode_hash_table:
            reason = _lt(
                "its journal %(journal)s secures its entries with an inalterability hash, so it cannot be reset to "
                "draft nor booked again. It cannot go to KSeF with a VAT in PLN its entry does not show: your "
                "accountant decides how to book it right (e.g. the difference by a journal entry).",
                journal=self.journal_id.display_name,
            )
        elif self.company_id._get_violated_lock_dates(self.date, bool(self.line_ids.tax_ids), self.journal_id):
            reason = _lt(
                "its accounting date %(date)s is in a locked period (Accounting ▸ Configuration ▸ Settings ▸ Lock "
                "Dates). An accountant who may lift the lock resets it to draft and confirms it (Odoo books it at "
                "the NBP rate), then clicks Check again.",
                date=self.date,
            )
        else:
            return None
        english, polish = ("%s %s" % (intro._translate(lang), reason._translate(lang)) for lang in ("en_US", "pl_PL"))
        return Problem(english, polish).line(self.env.lang)

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
