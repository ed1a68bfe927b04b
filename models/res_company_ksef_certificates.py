"""The way to a KSeF certificate from the company: the end of tokens, the wizard, KSeF's list of certificates."""

import datetime

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import RedirectWarning

from ..ksef_core.token_end import TOKENS_ACCEPTED_UNTIL, tokens_ended, tokens_ended_error

#: administrators of a company still on a token get a to-do this many days before tokens end
TOKEN_END_NOTICE_DAYS = 30
TOKEN_END_ACTIVITY = "l10n_pl_ksef.mail_activity_type_tokens_end"


class ResCompany(models.Model):
    _inherit = "res.company"

    l10n_pl_ksef_tokens_ended = fields.Boolean(
        string="KSeF tokens ended",
        compute="_compute_l10n_pl_ksef_tokens_ended",
        help="KSeF accepts tokens until 31 December 2026 (Dz.U. 2025 poz. 1815); after that only certificates.",
    )

    def _compute_l10n_pl_ksef_tokens_ended(self):
        ended = tokens_ended(fields.Datetime.now().replace(tzinfo=datetime.timezone.utc))
        for company in self:
            company.l10n_pl_ksef_tokens_ended = ended

    def action_l10n_pl_ksef_get_certificate(self):
        """The Get a KSeF certificate wizard of this company."""
        self.ensure_one()
        self.env["l10n_pl_ksef.cert.wizard"]._l10n_pl_ksef_check_admin(self)
        return {
            "type": "ir.actions.act_window",
            "name": _("Get a KSeF certificate"),
            "res_model": "l10n_pl_ksef.cert.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_company_id": self.id},
        }

    @api.model
    def _l10n_pl_ksef_redirect_tokens_ended(self):
        """Raise what a button that logged in says when KSeF refused the token because tokens have ended:
        the way out, Get a KSeF certificate."""
        action = self.env.ref("l10n_pl_ksef.l10n_pl_ksef_cert_wizard_action")
        raise RedirectWarning(tokens_ended_error().bilingual(), action.id, _("Get a KSeF certificate"))

    def _l10n_pl_ksef_check_connection(self, ksef_user=None):
        # EXTENDS: when KSeF refuses the token because tokens have ended, Test connection opens the way out
        report = super()._l10n_pl_ksef_check_connection(ksef_user=ksef_user)
        if report.get("code") == "tokens_ended" and self.env.context.get("l10n_pl_ksef_redirect_tokens_ended"):
            action = self.env.ref("l10n_pl_ksef.l10n_pl_ksef_cert_wizard_action")
            raise RedirectWarning(report["error"], action.id, _("Get a KSeF certificate"))
        return report

    def action_l10n_pl_ksef_ksef_certificates(self):
        """The company's certificates as KSeF lists them."""
        self.ensure_one()
        rows = self.env["l10n_pl_ksef.ksef.certificate"]._l10n_pl_ksef_load(self)
        return {
            "type": "ir.actions.act_window",
            "name": _("Certificates in KSeF"),
            "res_model": "l10n_pl_ksef.ksef.certificate",
            "view_mode": "list",
            "views": [(self.env.ref("l10n_pl_ksef.l10n_pl_ksef_ksef_certificate_view_list").id, "list")],
            "domain": [("id", "in", rows.ids)],
            "target": "current",
        }

    def _l10n_pl_ksef_on_token(self):
        """Whether the company still logs in to KSeF with a token."""
        self.ensure_one()
        return (
            self.l10n_pl_ksef_active and self.l10n_pl_ksef_auth_method == "token" and self.sudo().l10n_pl_ksef_token_set
        )

    @api.model
    def _l10n_pl_ksef_token_end_todos(self):
        """From 30 days before tokens end, one to-do per administrator of each company still on a token
        (on the company's contact), pointing to Get a KSeF certificate; returns how many were made."""
        now = fields.Datetime.now()
        if now.date() < TOKENS_ACCEPTED_UNTIL - datetime.timedelta(days=TOKEN_END_NOTICE_DAYS):
            return 0
        activity_type = self.env.ref(TOKEN_END_ACTIVITY)
        group = self.env.ref("base.group_system").sudo()
        made = 0
        companies = self.sudo().search([("l10n_pl_ksef_active", "=", True)])
        on_token = companies.filtered(lambda c: c._l10n_pl_ksef_on_token())
        (companies - on_token)._l10n_pl_ksef_token_end_done()  # left the token another way (Set up credentials)
        for company in on_token:
            partner = company.partner_id
            already = partner.activity_ids.filtered(lambda a: a.activity_type_id == activity_type).user_id
            admins = group.all_user_ids.filtered(
                lambda u, c=company: u.active and not u.share and c in u.company_ids and not u._is_superuser()
            )
            for admin in admins - already:
                partner.activity_schedule(
                    TOKEN_END_ACTIVITY,
                    date_deadline=min(fields.Date.context_today(partner), TOKENS_ACCEPTED_UNTIL),
                    summary=_("KSeF tokens end on 31 December 2026"),
                    note=company._l10n_pl_ksef_token_end_note(),
                    user_id=admin.id,
                )
                made += 1
        return made

    def _l10n_pl_ksef_token_end_note(self):
        self.ensure_one()
        return Markup("<p>%s</p><p>%s</p>") % (
            _(
                "%(company)s still logs in to KSeF with a token. KSeF accepts tokens only until 31 December 2026 "
                "(Dz.U. 2025 poz. 1815); after that, invoices cannot be sent or imported with it.",
                company=self.name,
            ),
            _(
                "Get a KSeF certificate in Settings > KSeF > Get a KSeF certificate: sign the request Odoo prepares "
                "once, with a qualified signature or seal or with Profil Zaufany; Odoo installs the certificate and "
                "renews it by itself."
            ),
        )

    def _l10n_pl_ksef_token_end_done(self):
        """The company left its token: the to-dos about the end of tokens are done."""
        for company in self:
            company.partner_id.sudo().activity_unlink([TOKEN_END_ACTIVITY])
