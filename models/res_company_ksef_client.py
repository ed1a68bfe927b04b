import logging

from markupsafe import Markup, escape

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..ksef_core.client import KsefClient
from ..ksef_core.errors import KsefError
from .l10n_pl_ksef_send_turn import PROBE_ATTEMPTS, PROBE_KEY, PROBE_TIMEOUT

_logger = logging.getLogger(__name__)


class ResCompany(models.Model):
    _inherit = "res.company"

    # Access and refresh tokens obtained from KSeF, shared by users and cron workers (encrypted JSON),
    # kept in l10n_pl_ksef.token.state so that a run never locks the company row
    l10n_pl_ksef_session_state = fields.Char(
        string="KSeF session (encrypted)",
        groups="base.group_system",
        compute="_compute_l10n_pl_ksef_session_state",
        inverse="_inverse_l10n_pl_ksef_session_state",
    )
    l10n_pl_ksef_last_check = fields.Text(string="Last KSeF connection test", readonly=True, copy=False)

    _l10n_pl_ksef_session_field = "l10n_pl_ksef_session_state"

    def _compute_l10n_pl_ksef_session_state(self):
        states = self.env["l10n_pl_ksef.token.state"].sudo().search([("company_id", "in", self.ids)])
        by_company = {state.company_id.id: state.state for state in states}
        for company in self:
            company.l10n_pl_ksef_session_state = by_company.get(company.id, False)

    def _inverse_l10n_pl_ksef_session_state(self):
        States = self.env["l10n_pl_ksef.token.state"]
        for company in self:
            States._l10n_pl_ksef_write_session(
                States._l10n_pl_ksef_for(company), "state", company.l10n_pl_ksef_session_state
            )

    def _l10n_pl_ksef_session_holder(self):
        """Kept in its own table: a login or refresh never writes (so never locks) the company row."""
        self.ensure_one()
        self.invalidate_recordset(["l10n_pl_ksef_session_state"])
        return self.env["l10n_pl_ksef.token.state"]._l10n_pl_ksef_for(self), "state"

    def _l10n_pl_ksef_reset_session(self, named_tokens=True):
        """Forget the KSeF session tokens: the company's (its credentials changed) and, unless
        ``named_tokens`` is false, the users' ones too (environment, address or NIP changed)."""
        # written as logins write them (apart when possible): a login of the connection test right after
        # must not overtake a pending reset of the same row (a serialization failure of the whole save)
        States = self.env["l10n_pl_ksef.token.state"]
        for state in States.sudo().search([("company_id", "in", self.ids)]):
            States._l10n_pl_ksef_write_session(state, "state", False)
        self.invalidate_recordset(["l10n_pl_ksef_session_state"])
        if named_tokens:
            for named in self.env["l10n_pl_ksef.user.token"].sudo().search([("company_id", "in", self.ids)]):
                named._l10n_pl_ksef_write_session(named, "session_state", False)
        self._l10n_pl_ksef_credentials_changed()

    def _l10n_pl_ksef_credentials_changed(self, ksef_user=None):
        """New credentials: what waited after an error (a revoked token, a missing permission: 30
        minutes) is tried at once, sending and receiving alike; a wait KSeF asked for (429) stays.
        ``ksef_user``: only that user's named token changed (only receiving by the company's own
        credentials is left alone then)."""
        domain = [
            ("company_id", "in", self.ids),
            ("state", "=", "to_send"),
            ("next_try", "!=", False),
            ("last_error", "!=", False),  # a 429's wait writes no error
        ]
        if ksef_user is not None:
            domain.append(("ksef_user_id", "=", ksef_user.id))
        documents = self.env["l10n_pl_ksef.document"].sudo().search(domain)
        resumed = self.env["l10n_pl_ksef.send.turn"].sudo()._l10n_pl_ksef_resume(self)
        if documents:
            documents._l10n_pl_ksef_set({"next_try": False})
        if documents or resumed:
            self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send").sudo()._trigger()
        if ksef_user is not None:
            return
        # a company importing right now is left alone: writing its state under the run would fail the run
        free = self.filtered(lambda company: not company._l10n_pl_ksef_receive_running())
        states = (
            self.env["l10n_pl_ksef.receive.state"]
            .sudo()
            .search([("company_id", "in", free.ids), ("outcome", "=", "error"), ("next_attempt", "!=", False)])
        )
        if states:
            states.write({"next_attempt": fields.Datetime.now()})
            self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive").sudo()._trigger()

    def _l10n_pl_ksef_named_token(self, ksef_user=None):
        """The named token ``ksef_user`` (default: the current user) sends under in this company, if any."""
        self.ensure_one()
        return self.env["l10n_pl_ksef.user.token"]._l10n_pl_ksef_for(
            self.env.user if ksef_user is None else ksef_user, self
        )

    def _l10n_pl_ksef_client(self, ksef_user=None, **options):
        """A ``KsefClient`` for this company with its stored credentials and session tokens.

        When ``ksef_user`` (default: the current user) has a named token for this company, the
        client logs in with it; otherwise with the company's token or certificate.
        """
        self.ensure_one()
        environment, custom_url = self._l10n_pl_ksef_get_environment()
        params = self.env["ir.config_parameter"].sudo()
        kwargs = {
            # one number (not a (connect, read) pair): simpler to tune in System Parameters
            "timeout": float(params.get_param("l10n_pl_ksef.http_timeout", 30)),
            "environment": environment,
            "custom_api_url": custom_url,
            "nip": self.l10n_pl_ksef_nip,
            "token_state": self._l10n_pl_ksef_load_session_state(),
            "on_token_change": self._l10n_pl_ksef_store_session_state,
        }
        named = self._l10n_pl_ksef_named_token(ksef_user)
        if named:
            kwargs.update(
                ksef_token=named._l10n_pl_ksef_get_token(),
                token_state=named._l10n_pl_ksef_load_session_state(),
                on_token_change=named._l10n_pl_ksef_store_session_state,
            )
        elif self.l10n_pl_ksef_auth_method == "certificate":
            certificate = self.sudo().l10n_pl_ksef_certificate_id
            if not certificate:
                raise UserError(
                    _(
                        "No KSeF certificate is stored for %(company)s: upload one in Settings > KSeF.",
                        company=self.name,
                    )
                )
            kwargs["certificate"] = certificate._l10n_pl_ksef_credential()
        else:
            token = self._l10n_pl_ksef_get_token()
            if not token:
                raise UserError(
                    _(
                        "No KSeF token is stored for %(company)s: paste one in Settings > KSeF.",
                        company=self.name,
                    )
                )
            kwargs["ksef_token"] = token
        if self.env.context.get(PROBE_KEY):
            # KSeF failed for this company last time: a short look, so that it never holds up the other companies
            kwargs.update(timeout=min(kwargs["timeout"], PROBE_TIMEOUT), max_attempts=PROBE_ATTEMPTS)
        kwargs.update(options)
        try:
            return KsefClient(**kwargs)
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None

    def _l10n_pl_ksef_check_connection(self, ksef_user=None):
        """Authenticate and read the permissions; returns the report as a dict (errors as data)."""
        self.ensure_one()
        try:
            with self._l10n_pl_ksef_client(ksef_user=ksef_user) as client:
                report = client.check_connection()
        except KsefError as exc:
            return {"ok": False, "error": exc.bilingual(), "code": exc.code}
        except UserError as exc:
            return {"ok": False, "error": exc.args[0], "code": "configuration"}
        data = report.to_dict()
        data.update(ok=True, messages_pl=report.messages("pl"), messages_en=report.messages("en"))
        return data

    def _l10n_pl_ksef_connection_report_html(self, ksef_user=None):
        """Run the connection test and describe the outcome in plain words.

        With ``ksef_user`` given, the test logs in as that user would (his named token if he has
        one) and the text is kept on his token; otherwise on the company.
        """
        self.ensure_one()
        company_only = self.env["res.users"]  # no user: test the company's own credentials
        report = self._l10n_pl_ksef_check_connection(ksef_user=company_only if ksef_user is None else ksef_user)
        named = self._l10n_pl_ksef_named_token(ksef_user) if ksef_user is not None else None
        env_label = dict(self._fields["l10n_pl_ksef_environment"]._description_selection(self.env)).get(
            self.l10n_pl_ksef_environment
        )
        rows = [(_("Environment"), env_label), (_("Context (NIP)"), self.l10n_pl_ksef_nip)]
        if not report["ok"]:
            rows.append((_("Result"), _("Connection failed")))
            rows.append((_("Reason"), report["error"]))
        else:
            method = _("certificate") if report["method"] == "certificate" else _("KSeF token")
            if named:
                method = _("named KSeF token of %(user)s", user=named.user_id.name)
            rows.append((_("Result"), _("Connected")))
            rows.append((_("Method"), method))
            permissions = report["permissions"]
            rows.append((_("Permissions found"), ", ".join(permissions) if permissions else _("none listed")))
            if report["missing"]:
                rows.append((_("Missing"), ", ".join(report["missing"])))
            if not report["can_receive"] and permissions is not None:
                rows.append((_("Consequence"), _("Receiving supplier invoices stays off (no InvoiceRead).")))
            if not report["can_send"] and permissions is not None:
                rows.append((_("Consequence"), _("Invoices cannot be sent (no InvoiceWrite).")))
            for message in report["messages_pl"] + report["messages_en"]:
                rows.append((_("Note"), message))
            if report.get("certificate_not_after"):
                rows.append((_("Certificate valid until"), report["certificate_not_after"][:10]))
        body = Markup("").join(
            Markup("<tr><th>%s</th><td>%s</td></tr>") % (escape(label), escape(value or "")) for label, value in rows
        )
        html = Markup('<table class="table table-sm o_l10n_pl_ksef_check">%s</table>') % body
        text = "\n".join("%s: %s" % (label, value or "") for label, value in rows)
        if named:
            named.last_check = text
            return html
        self.sudo().l10n_pl_ksef_last_check = text
        if report["ok"] and not report["can_receive"] and report["permissions"] is not None:
            self.sudo().l10n_pl_ksef_receive = False
        return html
