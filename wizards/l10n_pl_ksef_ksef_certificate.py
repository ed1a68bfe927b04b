"""Settings > KSeF > Certificates in KSeF: the company's KSeF certificates as KSeF lists them
(``/certificates/query``), which one Odoo uses, and Revoke."""

import datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..ksef_core.certflow import explain_refusal
from ..ksef_core.client.errors import KsefApiError
from ..ksef_core.errors import KsefError

STATUSES = [("Active", "Active"), ("Blocked", "Blocked"), ("Revoked", "Revoked"), ("Expired", "Expired")]


class L10nPlKsefKsefCertificate(models.TransientModel):
    _name = "l10n_pl_ksef.ksef.certificate"
    _description = "KSeF certificate as KSeF lists it"
    _order = "valid_to desc, id"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    name = fields.Char(readonly=True)
    serial = fields.Char(string="Serial number", readonly=True)
    certificate_type = fields.Selection(
        [("Authentication", "Authentication"), ("Offline", "Offline (KOD II)")], string="Type", readonly=True
    )
    status = fields.Selection(STATUSES, readonly=True)
    valid_from = fields.Datetime(readonly=True)
    valid_to = fields.Datetime(readonly=True)
    used_by_odoo = fields.Boolean(string="Used by Odoo", readonly=True)

    @api.model
    def _l10n_pl_ksef_load(self, company):
        """Fresh rows of ``company``'s certificates in KSeF (the identity Odoo logs in with)."""
        self.env["l10n_pl_ksef.cert.wizard"]._l10n_pl_ksef_check_admin(company)
        try:
            with company._l10n_pl_ksef_client(ksef_user=self.env["res.users"]) as client:
                items = client.certificates.query_all()
        except KsefApiError as exc:
            raise UserError(explain_refusal(exc).bilingual()) from None
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None
        used = set(
            self.env["l10n_pl_ksef.certificate"]
            .sudo()
            .search([("company_id", "=", company.id), ("active", "=", True)])
            .mapped("serial_number")
        )
        self.sudo().search([("company_id", "=", company.id)]).unlink()
        return self.create(
            [
                {
                    "company_id": company.id,
                    "name": item["name"],
                    "serial": item["serial"],
                    "certificate_type": item["type"],
                    "status": item["status"],
                    "valid_from": _naive(item["valid_from"]),
                    "valid_to": _naive(item["valid_to"]),
                    "used_by_odoo": (item["serial"] or "").upper() in used,
                }
                for item in items
            ]
        )

    def action_revoke(self):
        """Revoke in KSeF (never to be used again); Odoo stops using it."""
        self.ensure_one()
        self.env["l10n_pl_ksef.cert.wizard"]._l10n_pl_ksef_check_admin(self.company_id)
        if self.status != "Active":
            raise UserError(_("Only an active certificate can be revoked."))
        try:
            with self.company_id._l10n_pl_ksef_client(ksef_user=self.env["res.users"]) as client:
                try:
                    client.certificates.revoke(self.serial, "Unspecified")
                except KsefApiError as exc:
                    # "already revoked": maybe by this very request, whose first answer was lost before a retry
                    if 25009 not in (exc.exception_codes or ()) or _status_in_ksef(client, self.serial) != "Revoked":
                        raise
        except KsefApiError as exc:
            raise UserError(explain_refusal(exc).bilingual()) from None
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None
        mine = (
            self.env["l10n_pl_ksef.certificate"]
            .sudo()
            .search([("company_id", "=", self.company_id.id), ("serial_number", "=", self.serial)])
        )
        mine.active = False
        self.write({"status": "Revoked", "used_by_odoo": False})
        return True


def _status_in_ksef(client, serial):
    found = [
        item for item in client.certificates.query(serial=serial) if (item["serial"] or "").upper() == serial.upper()
    ]
    return found[0]["status"] if found else None


def _naive(value):
    return value.astimezone(datetime.timezone.utc).replace(tzinfo=None) if value else False
