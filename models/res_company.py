from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..ksef_core import nip as ksef_nip
from ..ksef_core.client.tokens import check_ksef_token
from ..ksef_core.errors import KsefError

ENVIRONMENTS = [
    ("test", "TEST (integration tests, fictitious data)"),
    ("demo", "DEMO (pre-production, real data)"),
    ("prod", "PRODUCTION"),
    ("custom", "Custom address (KSeF simulator)"),
]


class ResCompany(models.Model):
    _name = "res.company"
    _inherit = ["res.company", "l10n_pl_ksef.secret.mixin"]

    l10n_pl_ksef_active = fields.Boolean(string="KSeF enabled")
    l10n_pl_ksef_environment = fields.Selection(
        ENVIRONMENTS,
        string="KSeF environment",
        default="test",
        required=True,
        help="TEST: the Ministry's test system, for trying the integration with fictitious data (invoices there "
        "have no legal effect). DEMO: pre-production with real data and no legal effect. PRODUCTION: invoices sent "
        "there are legally issued. Tokens and certificates belong to one environment: after switching, set the "
        "credentials of the new one.",
    )
    l10n_pl_ksef_custom_url = fields.Char(
        string="KSeF API address",
        help="Base address of a KSeF-compatible API, e.g. the bundled simulator: http://127.0.0.1:8765/v2",
    )
    l10n_pl_ksef_nip = fields.Char(
        string="NIP for KSeF",
        compute="_compute_l10n_pl_ksef_nip",
        store=True,
        readonly=False,
        help="The company's Polish tax number used as the KSeF context; taken from the company's VAT number.",
    )
    l10n_pl_ksef_start_date = fields.Date(
        string="Using KSeF since",
        help="Invoices dated before this day are not sent to KSeF (e.g. those issued before the company joined). "
        "Supplier invoices are imported from KSeF from this day on (without a date: from 30 days back).",
    )
    l10n_pl_ksef_send_mode = fields.Selection(
        [
            ("auto", "Automatically, when an invoice is confirmed"),
            ("manual", "Manually, with the Send to KSeF button"),
        ],
        string="Sending to KSeF",
        default="manual",
        required=True,
        help="Automatically: every customer invoice is sent to KSeF as soon as it is confirmed. Manually: the "
        "accountant decides when, with the Send to KSeF button.",
    )
    l10n_pl_ksef_payment_reference = fields.Boolean(
        string="KSeF number as payment reference",
        default=True,
        help="Once KSeF accepts a customer invoice, its KSeF number becomes the invoice's payment reference, and "
        "the invoice's PDF and e-mail ask the customer to quote it in the transfer title (from 1 January 2027 a "
        "VAT payer must quote it, art. 108g ustawy o VAT). An invoice not yet in KSeF keeps Odoo's reference.",
    )
    l10n_pl_ksef_receive = fields.Boolean(
        string="Import supplier invoices from KSeF",
        help="Regularly download the invoices that suppliers issued to this company and create draft vendor bills.",
    )
    l10n_pl_ksef_receive_interval = fields.Selection(
        [
            ("1", "Every hour"),
            ("4", "Every 4 hours"),
            ("12", "Twice a day"),
            ("24", "Once a day"),
        ],
        string="Check KSeF for new supplier invoices",
        default="1",
        required=True,
        help="How often Odoo asks KSeF for invoices issued to this company. The invoices stay in KSeF for years: "
        "a longer interval only delays them, it never loses any.",
    )
    l10n_pl_ksef_receive_journal_id = fields.Many2one(
        "account.journal",
        string="Journal for imported bills",
        domain="[('type', '=', 'purchase'), ('company_id', '=', id)]",
        check_company=True,
        help="The purchase journal in which supplier invoices downloaded from KSeF are created as draft bills.",
    )
    l10n_pl_ksef_receive_subject3 = fields.Boolean(
        string="Also import invoices naming this company as a third party",
        help="KSeF also lists invoices on which this company is a third party (Podmiot3): the payer, the "
        "recipient, an additional buyer, a member of a VAT group... When ticked, they are imported as draft "
        "bills too, like the invoices issued to this company.",
    )
    l10n_pl_ksef_unavailable_mode = fields.Selection(
        [
            ("offline", "Issue offline invoices and send them when KSeF is back"),
            ("wait", "Keep invoices waiting until KSeF is back"),
        ],
        string="When KSeF is unavailable",
        default="offline",
        required=True,
        help="Offline invoices get two QR codes (KOD I and KOD II, which needs an Offline certificate) and must "
        "reach KSeF within the legal deadline (next business day; 7 business days after a declared failure).",
    )
    l10n_pl_ksef_auth_method = fields.Selection(
        [("token", "KSeF token"), ("certificate", "Certificate")],
        string="Log in to KSeF with",
        default="token",
        required=True,
        help="KSeF token: generated in the KSeF taxpayer application, accepted until 31 December 2026. Certificate: "
        "a KSeF certificate or a qualified seal/signature, which keeps working after that date. Users with a "
        "named token of their own send under it instead.",
    )
    l10n_pl_ksef_certificate_id = fields.Many2one(
        "l10n_pl_ksef.certificate",
        string="Authentication certificate",
        compute="_compute_l10n_pl_ksef_certificates",
    )
    l10n_pl_ksef_offline_certificate_id = fields.Many2one(
        "l10n_pl_ksef.certificate",
        string="Offline certificate",
        compute="_compute_l10n_pl_ksef_certificates",
    )
    l10n_pl_ksef_token_encrypted = fields.Char(
        string="KSeF token (encrypted)",
        groups="base.group_system",
        copy=False,
    )
    l10n_pl_ksef_token_set = fields.Boolean(
        string="KSeF token stored",
        compute="_compute_l10n_pl_ksef_token_set",
        compute_sudo=True,
    )

    def _auto_init(self):
        result = super()._auto_init()
        self._l10n_pl_ksef_payment_reference_on()
        return result

    def _l10n_pl_ksef_payment_reference_on(self):
        """The option "KSeF number as payment reference" is on by default. A company that existed when the
        column was made, before the option had that default, kept NULL (off): it is turned on at the module's
        upgrade. A company that turned the option off has False and keeps it."""
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET l10n_pl_ksef_payment_reference = TRUE WHERE l10n_pl_ksef_payment_reference IS NULL",
                SQL.identifier(self._table),
            )
        )

    @api.depends("vat")
    def _compute_l10n_pl_ksef_nip(self):
        for company in self:
            nip = ksef_nip.normalize_nip(company.vat)
            company.l10n_pl_ksef_nip = nip if ksef_nip.is_valid_nip(nip) else company.l10n_pl_ksef_nip

    @api.constrains("l10n_pl_ksef_nip", "l10n_pl_ksef_active")
    def _check_l10n_pl_ksef_nip(self):
        for company in self.filtered("l10n_pl_ksef_active"):
            try:
                ksef_nip.validate_nip(company.l10n_pl_ksef_nip, field_en="The company's NIP for KSeF")
            except KsefError as exc:
                raise ValidationError(
                    _("Company %(company)s: %(error)s", company=company.name, error=exc.bilingual())
                ) from None

    @api.constrains("l10n_pl_ksef_receive_journal_id")
    def _check_l10n_pl_ksef_receive_journal(self):
        for company in self:
            journal = company.l10n_pl_ksef_receive_journal_id
            if journal and (journal.type != "purchase" or journal.company_id != company):
                raise ValidationError(
                    _(
                        "Supplier invoices from KSeF of %(company)s go to one of its own purchase journals; "
                        "%(journal)s is not one.",
                        company=company.name,
                        journal=journal.display_name,
                    )
                )

    def write(self, vals):
        # a KSeF session belongs to one environment, address, NIP and login method
        changes_session = {
            "l10n_pl_ksef_environment",
            "l10n_pl_ksef_custom_url",
            "l10n_pl_ksef_nip",
            "l10n_pl_ksef_auth_method",
            "vat",
        }.intersection(vals)
        before = {company: company._l10n_pl_ksef_session_key() for company in self} if changes_session else {}
        # receiving restarts from scratch in another KSeF (environment, address, NIP), not for another login
        endpoints = {company: company._l10n_pl_ksef_receive_endpoint() for company in before}
        result = super().write(vals)
        # invoices on their way to the KSeF left would go nowhere (or to the other one): refused, with their list
        for company, endpoint in endpoints.items():
            if self.env.context.get("l10n_pl_ksef_same_ksef"):
                company._l10n_pl_ksef_endpoint_moved(endpoint)  # the same KSeF at a new address (the demo's)
            else:
                company._l10n_pl_ksef_check_endpoint_change(endpoint)
        for company, key in before.items():
            if company._l10n_pl_ksef_session_key() != key:
                company._l10n_pl_ksef_reset_session()
            if company._l10n_pl_ksef_receive_endpoint() != endpoints[company]:
                company._l10n_pl_ksef_receive_reset()
                company._l10n_pl_ksef_endpoint_switched()
        if "l10n_pl_ksef_receive_interval" in vals:
            self._l10n_pl_ksef_receive_reschedule()
        return result

    def _l10n_pl_ksef_session_key(self):
        return (
            self.l10n_pl_ksef_environment,
            self.l10n_pl_ksef_custom_url,
            self.l10n_pl_ksef_nip,
            self.l10n_pl_ksef_auth_method,
        )

    def _compute_l10n_pl_ksef_certificates(self):
        certificates = self.env["l10n_pl_ksef.certificate"].sudo().search([("company_id", "in", self.ids)])
        for company in self:
            mine = certificates.filtered(lambda c, company=company: c.company_id == company)
            company.l10n_pl_ksef_certificate_id = mine.filtered(lambda c: c.purpose == "authentication")[:1]
            company.l10n_pl_ksef_offline_certificate_id = mine.filtered(lambda c: c.purpose == "offline")[:1]

    @api.depends("l10n_pl_ksef_token_encrypted")
    def _compute_l10n_pl_ksef_token_set(self):
        for company in self:
            company.l10n_pl_ksef_token_set = bool(company.l10n_pl_ksef_token_encrypted)

    def _l10n_pl_ksef_set_token(self, token):
        """Store (or with a falsy value, remove) the company's KSeF token, encrypted."""
        self.ensure_one()
        self.sudo().l10n_pl_ksef_token_encrypted = self._l10n_pl_ksef_encrypt(token)
        self._l10n_pl_ksef_reset_session(named_tokens=False)  # the old token's session must not be reused

    def _l10n_pl_ksef_check_token(self, token):
        """Check a token's shape and that its NIP is the company's; returns the token, stripped.

        :raises ValidationError: with a bilingual message naming the cause and the fix
        """
        self.ensure_one()
        try:
            check_ksef_token(token, context_nip=ksef_nip.normalize_nip(self.l10n_pl_ksef_nip) or None)
        except KsefError as exc:
            raise ValidationError(exc.bilingual()) from None
        return token.strip()

    def _l10n_pl_ksef_get_token(self):
        """The company's KSeF token in clear text, for server-side use only."""
        self.ensure_one()
        return self._l10n_pl_ksef_decrypt(self.sudo().l10n_pl_ksef_token_encrypted)

    def _l10n_pl_ksef_get_environment(self):
        """The ``ksef_core`` environment name and custom API URL of this company."""
        self.ensure_one()
        custom_url = self.l10n_pl_ksef_custom_url if self.l10n_pl_ksef_environment == "custom" else None
        return self.l10n_pl_ksef_environment.upper(), custom_url or None
