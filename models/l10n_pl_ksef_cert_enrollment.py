"""A KSeF certificate Odoo asked KSeF for: its private key (made here, encrypted, never leaves Odoo), the
enrollment's reference, the signed session it was sent in, and the certificate once installed.

A click follows the enrollment for a click's time at most; the daily job (and "Check again") goes on
from the reference kept here. The logic is ``ksef_core.certissue``'s; this model keeps its state.
"""

import datetime
import json
import logging
import secrets

from cryptography.hazmat.primitives import serialization

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..ksef_core import credentials as ksef_credentials
from ..ksef_core.client import KsefClient
from ..ksef_core.errors import KsefError
from .l10n_pl_ksef_budget import click_budget, deadline_in, seconds_to

_logger = logging.getLogger(__name__)


#: how long a request "being sent" may still be in KSeF's processing before it is given up
SENDING_GRACE = datetime.timedelta(hours=1)


class L10nPlKsefCertEnrollment(models.Model):
    _name = "l10n_pl_ksef.cert.enrollment"
    _inherit = ["l10n_pl_ksef.secret.mixin"]
    _description = "KSeF certificate request"
    _order = "id desc"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    purpose = fields.Selection(
        [("authentication", "Authentication"), ("offline", "Offline (KOD II)")], required=True, readonly=True
    )
    key_kind = fields.Selection(
        [("ec", "EC P-256 (recommended)"), ("rsa", "RSA 2048")], required=True, default="ec", readonly=True
    )
    state = fields.Selection(
        [
            ("sending", "Being sent to KSeF"),
            ("pending", "Waiting for KSeF"),
            ("done", "Installed"),
            ("failed", "Failed"),
        ],
        default="pending",
        required=True,
        readonly=True,
    )
    reference = fields.Char(string="Enrollment reference", readonly=True, copy=False)
    certificate_name = fields.Char(
        readonly=True,
        copy=False,
        help="The certificate's name in KSeF, unique: how a request sent without its answer being kept is found again.",
    )
    enrollment_data = fields.Text(readonly=True, copy=False, groups="base.group_system")
    key_encrypted = fields.Char(string="Private key (encrypted)", groups="base.group_system", copy=False)
    session_state = fields.Char(string="KSeF session (encrypted)", groups="base.group_system", copy=False)
    certificate_id = fields.Many2one("l10n_pl_ksef.certificate", readonly=True, check_company=True)
    renewed_id = fields.Many2one(
        "l10n_pl_ksef.certificate", string="Renews", readonly=True, check_company=True, ondelete="set null"
    )
    error = fields.Text(readonly=True)

    _l10n_pl_ksef_session_field = "session_state"

    # ------------------------------------------------------------------ client

    @api.model
    def _l10n_pl_ksef_bare_client(self, company, **options):
        """A client of ``company``'s KSeF that logs in with nothing of its own (a signed request, or
        ``certificate=`` in ``options``)."""
        environment, custom_url = company._l10n_pl_ksef_get_environment()
        params = self.env["ir.config_parameter"].sudo()
        kwargs = {
            "timeout": float(params.get_param("l10n_pl_ksef.http_timeout", 30)),
            "environment": environment,
            "custom_api_url": custom_url,
            "nip": company.l10n_pl_ksef_nip,
            # no wait of the login or the enrollment outlasts a click (a cron job's run asks again tomorrow)
            "deadline_seconds": click_budget(),
        }
        kwargs.update(options)
        try:
            return KsefClient(**kwargs)
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None

    def _l10n_pl_ksef_client(self, **options):
        """A client in this request's session (the signed one, or the renewed certificate's)."""
        self.ensure_one()
        options.setdefault("token_state", self._l10n_pl_ksef_load_session_state())
        options.setdefault("on_token_change", self._l10n_pl_ksef_store_session_state)
        if self.renewed_id:
            options.setdefault("certificate", self._l10n_pl_ksef_renewal_credential())
        return self._l10n_pl_ksef_bare_client(self.company_id, **options)

    def _l10n_pl_ksef_renewal_credential(self):
        """What a renewal logs in with: the renewed Authentication certificate itself, or for an Offline
        one (which cannot log in) the company's Authentication certificate."""
        self.ensure_one()
        login = self.renewed_id if self.renewed_id.purpose == "authentication" else None
        login = login or self.company_id.sudo().l10n_pl_ksef_certificate_id
        if not login:
            raise UserError(
                _(
                    "%(company)s has no Authentication certificate to log in with: get one in Settings > KSeF > "
                    "Get a KSeF certificate.",
                    company=self.company_id.name,
                )
            )
        return login._l10n_pl_ksef_credential()

    # ------------------------------------------------------------------ claims

    def _l10n_pl_ksef_claim(self, states, wait=False):
        """The requests of ``self`` still in one of ``states``, locked for this transaction (the daily job and an
        administrator's Check again may act on the same request: the other one skips it, or with ``wait`` waits
        and re-reads it)."""
        if not self:
            return self
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM l10n_pl_ksef_cert_enrollment WHERE id IN %s AND state IN %s FOR UPDATE %s",
                tuple(self.ids),
                tuple(states),
                SQL("") if wait else SQL("SKIP LOCKED"),
            )
        )
        claimed = self.browse([row[0] for row in self.env.cr.fetchall()])
        self.invalidate_recordset()
        return claimed

    # ------------------------------------------------------------------ key

    def _l10n_pl_ksef_key(self):
        self.ensure_one()
        pem = self._l10n_pl_ksef_decrypt(self.sudo().key_encrypted)
        return ksef_credentials.load_private_key(pem.encode("ascii"))

    def _l10n_pl_ksef_set_key(self, key):
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        self.sudo().key_encrypted = self._l10n_pl_ksef_encrypt(pem)

    # ------------------------------------------------------------------ steps

    def _l10n_pl_ksef_start(self, client):
        """Make the key pair and send the enrollment in ``client``'s session; raises KsefError."""
        from ..ksef_core import certissue

        for request in self:
            key = certissue.generate_key(request.key_kind)
            request._l10n_pl_ksef_set_key(key)
            name = certissue.certificate_name(
                request.company_id.name, request.purpose, fields.Date.context_today(request)
            )
            name = "%s %s" % (name[:91], secrets.token_hex(4))  # unique: found again by it after a crash
            request.sudo().write({"state": "sending", "certificate_name": name})
            # the key must outlive the enrollment KSeF may take (found again by its name if its answer is lost)
            request.env.cr.commit()  # pylint: disable=invalid-commit
            reference, data = certissue.start_enrollment(client, key, request.purpose, name)
            # recovery may have looked at it meanwhile: KSeF's answer is kept only while it is still being sent
            if request._l10n_pl_ksef_claim(("sending",), wait=True):
                request.sudo().write({"reference": reference, "enrollment_data": json.dumps(data), "state": "pending"})

    def _l10n_pl_ksef_follow(self, timeout=None):
        """Ask KSeF about the pending requests (for ``timeout`` seconds at most, default a click's time),
        install what it issued; returns ``{"done": n, "pending": n, "failed": n}``; errors as data on the
        records (``error``)."""
        from ..ksef_core import certissue

        summary = {"done": 0, "pending": 0, "failed": 0}
        deadline = deadline_in(click_budget() if timeout is None else timeout)
        for request in self.filtered(lambda r: r.state == "pending" and r.reference):
            if not request._l10n_pl_ksef_claim(("pending",)) or not request.reference:
                summary["pending"] += 1  # being followed by another worker right now
                continue
            try:
                with request._l10n_pl_ksef_client() as client:
                    credential = certissue.follow_enrollment(
                        client,
                        request.reference,
                        request._l10n_pl_ksef_key(),
                        request.purpose,
                        _from_json(request.sudo().enrollment_data),
                        timeout=seconds_to(deadline),
                    )
            except (KsefError, UserError) as exc:
                if isinstance(exc, KsefError) and not certissue.is_final(exc):
                    # KSeF goes on with it: still pending, its session kept, asked again later
                    request.sudo().error = exc.bilingual()
                    summary["pending"] += 1
                    continue
                request._l10n_pl_ksef_fail(exc)
                summary["failed"] += 1
                continue
            if credential is None:
                if request.error:
                    request.sudo().error = False  # KSeF answered again: only still issuing it
                summary["pending"] += 1
                continue
            request._l10n_pl_ksef_install(credential)
            summary["done"] += 1
        return summary

    def _l10n_pl_ksef_recover(self, now=None):
        """Requests left "being sent" (Odoo stopped between sending them and keeping KSeF's answer): install the
        certificate KSeF issued under the request's name for its key; fail those for which KSeF has none after
        ``SENDING_GRACE`` (started again then). Errors as data on the records."""
        from ..ksef_core import certissue

        now = now or fields.Datetime.now()
        for request in self.filtered(lambda r: r.state == "sending"):
            if not request._l10n_pl_ksef_claim(("sending",)):
                continue  # its enrollment is being sent, or another worker recovers it
            late = request.create_date <= now - SENDING_GRACE
            try:
                with request._l10n_pl_ksef_client() as client:
                    credential = certissue.find_issued(
                        client, request.certificate_name, request._l10n_pl_ksef_key(), request.purpose
                    )
            except (KsefError, UserError) as exc:
                if late:
                    request._l10n_pl_ksef_fail(exc)
                else:
                    request.sudo().error = exc.bilingual() if isinstance(exc, KsefError) else exc.args[0]
                continue
            if credential is not None:
                request._l10n_pl_ksef_install(credential)
            elif late:
                request._l10n_pl_ksef_fail(
                    UserError(_("KSeF has no certificate of this request: it was not sent, or was refused."))
                )

    def _l10n_pl_ksef_fail(self, exc):
        self.ensure_one()
        message = exc.bilingual() if isinstance(exc, KsefError) else exc.args[0]
        # the key certifies nothing now: not kept
        self.sudo().write({"state": "failed", "error": message, "session_state": False, "key_encrypted": False})

    def _l10n_pl_ksef_install(self, credential):
        """Install the issued certificate as the company's certificate of this purpose."""
        self.ensure_one()
        Certificate = self.env["l10n_pl_ksef.certificate"]
        info = ksef_credentials.certificate_info(credential.certificate)
        certificate = Certificate._l10n_pl_ksef_create_from_credential(self.company_id, credential, info, self.purpose)
        certificate.sudo().enrolled_by_odoo = True
        if self.purpose == "authentication" and self.company_id.l10n_pl_ksef_auth_method != "certificate":
            self.company_id.sudo().l10n_pl_ksef_auth_method = "certificate"
            self.company_id._l10n_pl_ksef_token_end_done()
        # the key lives on in the installed certificate only
        self.sudo().write(
            {
                "state": "done",
                "certificate_id": certificate.id,
                "error": False,
                "session_state": False,
                "key_encrypted": False,
            }
        )
        return certificate


def _from_json(text):
    return json.loads(text) if text else None
