import base64

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.res_company import ENVIRONMENTS
from .reopen import reopen_wizard
from .sealed_inputs import sealed


class L10nPlKsefSetupWizard(models.TransientModel):
    """Guided KSeF set-up for one company: environment, then credentials, then a connection test.

    Every credential is checked before anything is stored: a wrong token, password,
    key or certificate raises a message saying what is wrong and how to fix it, and
    leaves the company's stored credentials untouched.
    """

    _name = "l10n_pl_ksef.setup.wizard"
    _inherit = ["l10n_pl_ksef.sealed.inputs"]
    _description = "KSeF set-up"
    _l10n_pl_ksef_sealed_fields = (
        "token",
        "certificate_file",
        "key_file",
        "password",
        "offline_certificate_file",
        "offline_key_file",
        "offline_password",
    )

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    step = fields.Selection(
        selection=[("environment", "Environment"), ("credentials", "Credentials"), ("done", "Connection test")],
        default="environment",
        required=True,
    )
    environment = fields.Selection(ENVIRONMENTS, required=True, default="test")
    custom_url = fields.Char(string="KSeF API address")
    auth_method = fields.Selection(
        [("token", "KSeF token"), ("certificate", "Certificate")],
        string="Log in to KSeF with",
        default="token",
        required=True,
    )
    token = sealed(fields.Char, string="KSeF token")
    certificate_file = sealed(fields.Binary, string="Certificate file")
    certificate_filename = fields.Char(string="Certificate file name")
    key_file = sealed(fields.Binary, string="Private key file")
    key_filename = fields.Char(string="Key file name")
    password = sealed(fields.Char, string="Password")
    offline_certificate_file = sealed(fields.Binary, string="Offline certificate file (optional)")
    offline_certificate_filename = fields.Char(string="Offline certificate file name")
    offline_key_file = sealed(fields.Binary, string="Offline private key file")
    offline_key_filename = fields.Char(string="Offline key file name")
    offline_password = sealed(fields.Char, string="Offline certificate password")
    result = fields.Html(string="Connection test result", readonly=True, sanitize=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        company = self.env["res.company"].browse(values.get("company_id")) or self.env.company
        values.update(
            environment=company.l10n_pl_ksef_environment or "test",
            custom_url=company.l10n_pl_ksef_custom_url,
            auth_method=company.l10n_pl_ksef_auth_method or "token",
        )
        return values

    def _reopen(self):
        return reopen_wizard(self, _("KSeF set-up"))

    def _check_admin(self):
        if not self.env.user.has_group("base.group_system"):
            raise UserError(_("Only administrators (Settings) can set KSeF credentials."))
        if self.company_id not in self.env.user.company_ids:
            raise UserError(
                _(
                    "You do not work in %(company)s: only its own administrators can set its KSeF credentials.",
                    company=self.company_id.name,
                )
            )

    def action_next(self):
        self.ensure_one()
        self._check_admin()
        if self.environment == "custom" and not (self.custom_url or "").startswith(("http://", "https://")):
            raise UserError(
                _(
                    "Enter the address of the KSeF-compatible API, starting with http:// or https:// "
                    "(e.g. http://127.0.0.1:8765/v2 for the simulator)."
                )
            )
        self.step = "credentials"
        return self._reopen()

    def action_back(self):
        self.ensure_one()
        self.step = "environment" if self.step == "credentials" else "credentials"
        return self._reopen()

    def _decode(self, value):
        return base64.b64decode(value) if value else None

    def action_save_credentials(self):
        """Check and store the credentials, then test the connection."""
        self.ensure_one()
        self._check_admin()
        company = self.company_id
        certificates = self.env["l10n_pl_ksef.certificate"]
        inputs = self._l10n_pl_ksef_unseal_all()
        # the pasted secrets do not stay in the wizard (after a refusal, only their encrypted form does,
        # until the transient records are vacuumed)
        self._l10n_pl_ksef_forget_inputs()
        # 1. check everything first: nothing is stored unless all given credentials are usable
        token = auth_cert = offline_cert = None
        if self.auth_method == "token":
            if not inputs.get("token") and not company.l10n_pl_ksef_token_set:
                raise UserError(_("Paste the KSeF token generated in the KSeF taxpayer application."))
            if inputs.get("token"):
                token = company._l10n_pl_ksef_check_token(inputs["token"])
        else:
            if not inputs.get("certificate_file") and not company.l10n_pl_ksef_certificate_id:
                raise UserError(
                    _(
                        "Upload the certificate: a .p12/.pfx file with its password, or a .crt/.pem file "
                        "with its .key file."
                    )
                )
            if inputs.get("certificate_file"):
                auth_cert = certificates._l10n_pl_ksef_load(
                    self._decode(inputs["certificate_file"]),
                    inputs.get("password"),
                    self._decode(inputs.get("key_file")),
                    "authentication",
                )
        if inputs.get("offline_certificate_file"):
            offline_cert = certificates._l10n_pl_ksef_load(
                self._decode(inputs["offline_certificate_file"]),
                inputs.get("offline_password"),
                self._decode(inputs.get("offline_key_file")),
                "offline",
            )
        # 2. store
        company.sudo().write(
            {
                "l10n_pl_ksef_environment": self.environment,
                "l10n_pl_ksef_custom_url": self.custom_url if self.environment == "custom" else False,
                "l10n_pl_ksef_auth_method": self.auth_method,
                "l10n_pl_ksef_active": True,
            }
        )
        if token:
            company._l10n_pl_ksef_set_token(token)
        if auth_cert:
            certificates._l10n_pl_ksef_create_from_credential(company, *auth_cert, "authentication")
        if offline_cert:
            certificates._l10n_pl_ksef_create_from_credential(company, *offline_cert, "offline")
        # (storing credentials, or changing the environment, drops the KSeF session of the old ones)
        self.step = "done"
        self.result = company._l10n_pl_ksef_connection_report_html()
        return self._reopen()
