import base64
import re

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..ksef_core import credentials as ksef_credentials
from ..ksef_core.errors import KsefError

PURPOSES = [
    ("authentication", "Authentication (log in to KSeF)"),
    ("offline", "Offline (KOD II QR code of offline invoices)"),
]


#: what stands for the PESEL in a certificate's subject ("serialNumber=PNOPL-***********")
PESEL_MASK = "*" * 11
_PESEL_IN_SUBJECT = re.compile(r"((?:PNOPL|PESEL)[^0-9,+]*)[0-9]{11}")
_PESEL_IN_SUBJECT_SQL = "((PNOPL|PESEL)[^0-9,+]*)[0-9]{11}"


def masked_subject(subject):
    """The certificate's subject (or issuer) with the PESEL of a personal certificate masked."""
    return _PESEL_IN_SUBJECT.sub(lambda match: match.group(1) + PESEL_MASK, subject or "")


def _subject_holder(subject):
    """Who a certificate was issued to, as a person reads it: the common name (else the organisation) of its
    subject (an RFC 4514 string); the whole subject when it has neither."""
    for attribute in ("CN", "O"):
        found = re.search(r"(?:^|[,+])%s=((?:\\.|[^,+])*)" % attribute, subject or "")
        if found and found.group(1).strip():
            return found.group(1).replace("\\", "").strip()
    return subject or ""


class L10nPlKsefCertificate(models.Model):
    """A certificate (with its private key) used by one company for KSeF.

    The certificate and key are stored together as an encrypted PEM bundle; only the
    descriptive fields (subject, serial number, validity...) are readable by accountants. The
    PESEL of a personal certificate is personal data: only administrators read it, and the
    subject shown to everyone has it masked.
    """

    _name = "l10n_pl_ksef.certificate"
    _inherit = ["l10n_pl_ksef.secret.mixin"]
    _description = "KSeF certificate"
    _order = "valid_to desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, ondelete="cascade"
    )
    purpose = fields.Selection(PURPOSES, required=True, default="authentication")
    active = fields.Boolean(default=True)
    data_encrypted = fields.Char(string="Certificate and key (encrypted)", groups="base.group_system")
    subject = fields.Char(readonly=True)
    issuer = fields.Char(readonly=True)
    serial_number = fields.Char(readonly=True)
    fingerprint = fields.Char(string="SHA-256 fingerprint", readonly=True)
    valid_from = fields.Datetime(readonly=True)
    valid_to = fields.Datetime(readonly=True)
    certificate_type = fields.Char(
        readonly=True, help="Authentication or Offline, as read from the certificate's key usage."
    )
    key_description = fields.Char(string="Key", readonly=True)
    nip = fields.Char(string="NIP in the certificate", readonly=True)
    pesel = fields.Char(string="PESEL in the certificate", readonly=True, groups="base.group_system")

    def init(self):
        # certificates stored before the PESEL was masked in their subject (and the name made of it)
        for column in ("subject", "issuer", "name"):
            self.env.cr.execute(
                SQL(
                    "UPDATE l10n_pl_ksef_certificate SET %s = regexp_replace(%s, %s, %s, 'g') WHERE %s ~ %s",
                    SQL.identifier(column),
                    SQL.identifier(column),
                    _PESEL_IN_SUBJECT_SQL,
                    "\\1" + PESEL_MASK,
                    SQL.identifier(column),
                    _PESEL_IN_SUBJECT_SQL,
                )
            )

    @api.depends("subject", "serial_number", "purpose")
    def _compute_name(self):
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        for cert in self:
            cert.name = "%s — %s (%s)" % (
                purposes.get(cert.purpose, ""),
                _subject_holder(cert.subject),
                cert.serial_number or "",
            )

    @api.model
    def _l10n_pl_ksef_load(self, file_content, password=None, key_content=None, purpose="authentication", now=None):
        """Read an uploaded certificate and check it for ``purpose``.

        :returns: ``(credential, info)`` from ``ksef_core.credentials``
        :raises UserError: with a bilingual message saying what is wrong and how to fix it
        """
        try:
            credential = ksef_credentials.load_credential(file_content, password=password or None, key_data=key_content)
            if purpose == "offline":
                info = ksef_credentials.check_for_offline_signing(credential, now=now)
            else:
                info = ksef_credentials.check_for_authentication(credential, now=now)
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None
        return credential, info

    @api.model
    def _l10n_pl_ksef_create_from_credential(self, company, credential, info, purpose):
        """Store a checked credential for ``company``; older ones of the same purpose are archived."""
        bundle = credential.certificate_pem() + credential.chain_pem() + credential.private_key_pem()
        existing = self.sudo().search([("company_id", "=", company.id), ("purpose", "=", purpose)])
        existing.active = False
        # replaced: nothing to do (neither the expiry warning nor a failed renewal's to-do)
        existing.activity_unlink(
            [
                "l10n_pl_ksef.mail_activity_type_certificate_expiry",
                "l10n_pl_ksef.mail_activity_type_certificate_renewal_failed",
            ]
        )
        if purpose == "authentication":
            company._l10n_pl_ksef_reset_session(named_tokens=False)  # the old certificate's session must go
        return self.sudo().create(
            {
                "company_id": company.id,
                "purpose": purpose,
                "data_encrypted": self._l10n_pl_ksef_encrypt(base64.b64encode(bundle).decode("ascii")),
                "subject": masked_subject(info.subject),
                "issuer": masked_subject(info.issuer),  # a self-signed certificate's issuer is its subject
                "serial_number": info.serial_hex,
                "fingerprint": info.fingerprint_sha256,
                "valid_from": fields.Datetime.to_datetime(info.not_before.replace(tzinfo=None)),
                "valid_to": fields.Datetime.to_datetime(info.not_after.replace(tzinfo=None)),
                "certificate_type": info.usage,
                "key_description": "%s %s" % (info.key_type, info.curve or info.key_size),
                "nip": info.nip,
                "pesel": info.pesel,
            }
        )

    def _l10n_pl_ksef_credential(self):
        """The stored certificate and key as a ``ksef_core.credentials.Credential`` (server side only)."""
        self.ensure_one()
        bundle = base64.b64decode(self._l10n_pl_ksef_decrypt(self.sudo().data_encrypted))
        try:
            return ksef_credentials.load_certificate_and_key(bundle, bundle)
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None
