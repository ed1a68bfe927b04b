"""Settings > KSeF > Get a KSeF certificate: the company's first KSeF certificate without leaving Odoo.

KSeF issues certificates only in a session opened with a signature. Odoo prepares the login request
(``AuthTokenRequest``) on a fresh challenge of KSeF, the user signs it outside (qualified signature or
seal, or Profil Zaufany on gov.pl, in the XAdES format) and uploads it; Odoo then logs in with it, makes
the key pair (it never leaves Odoo), asks KSeF for the certificate(s) and installs them once issued.
"""

import base64
import datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..ksef_core import certflow
from ..ksef_core.client.errors import KsefApiError, KsefUnknownOutcome
from ..ksef_core.errors import KsefError
from .reopen import reopen_wizard

#: minutes after which the scheduled action asks KSeF again for a certificate not issued within the click
RETRY_MINUTES = 5


class L10nPlKsefCertWizard(models.TransientModel):
    _name = "l10n_pl_ksef.cert.wizard"
    _description = "Get a KSeF certificate"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    step = fields.Selection(
        [("start", "Start"), ("sign", "Sign"), ("wait", "KSeF issues"), ("done", "Installed")],
        default="start",
        required=True,
    )
    key_kind = fields.Selection(
        [("ec", "EC P-256 (recommended)"), ("rsa", "RSA 2048")],
        string="Key",
        default="ec",
        required=True,
        help="The key pair Odoo makes for the certificate. Its private key is kept encrypted in Odoo and never "
        "leaves it. KSeF recommends EC.",
    )
    include_offline = fields.Boolean(
        string="Also an Offline certificate (KOD II)",
        help="Also ask for the Offline certificate that signs the second QR code (KOD II) of invoices issued "
        "while KSeF is unavailable, with the same signed login.",
    )
    challenge = fields.Char(readonly=True)
    challenge_issued_at = fields.Datetime(readonly=True)
    challenge_expires_at = fields.Datetime(string="Sign and upload before", readonly=True)
    request_file = fields.Binary(string="Request to sign", readonly=True, attachment=False)
    request_filename = fields.Char()
    signed_file = fields.Binary(string="Signed request", attachment=False)
    signed_filename = fields.Char()
    notice = fields.Text(readonly=True)
    request_ids = fields.Many2many("l10n_pl_ksef.cert.enrollment", string="Requests", readonly=True)
    result = fields.Text(readonly=True)

    @api.model
    def default_get(self, fields_list):
        self._l10n_pl_ksef_check_admin()
        return super().default_get(fields_list)

    def _reopen(self):
        return reopen_wizard(self, _("Get a KSeF certificate"))

    @api.model
    def _l10n_pl_ksef_check_admin(self, company=None):
        if not self.env.user.has_group("base.group_system"):
            raise UserError(_("Only administrators (Settings) can get KSeF certificates."))
        if company and company not in self.env.user.company_ids:
            raise UserError(
                _(
                    "You do not work in %(company)s: only its own administrators can get its KSeF certificates.",
                    company=company.name,
                )
            )

    def _l10n_pl_ksef_client(self, **options):
        return self.env["l10n_pl_ksef.cert.enrollment"]._l10n_pl_ksef_bare_client(self.company_id, **options)

    # ------------------------------------------------------------------ 1. the request to sign

    def action_prepare(self, notice=False):
        """A fresh challenge of KSeF and the request to sign (also: Start again)."""
        self.ensure_one()
        self._l10n_pl_ksef_check_admin(self.company_id)
        if not self.company_id.l10n_pl_ksef_nip:
            raise UserError(_("Enter the company's NIP for KSeF in Settings > KSeF first."))
        try:
            with self._l10n_pl_ksef_client() as client:
                request = certflow.new_signing_request(client)
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None
        self.write(
            {
                "step": "sign",
                "challenge": request.challenge,
                "challenge_issued_at": _naive(request.issued_at),
                "challenge_expires_at": _naive(request.expires_at),
                "request_file": base64.b64encode(request.xml),
                "request_filename": request.filename,
                "signed_file": False,
                "signed_filename": False,
                "notice": notice,
            }
        )
        return self._reopen()

    def action_restart(self):
        return self.action_prepare()

    def _l10n_pl_ksef_request(self):
        return certflow.SigningRequest(
            challenge=self.challenge,
            issued_at=self.challenge_issued_at.replace(tzinfo=datetime.timezone.utc),
            xml=base64.b64decode(self.request_file or b""),
        )

    # ------------------------------------------------------------------ 2. the signed request

    def action_submit(self):
        """Check the signed request, log in with it, ask KSeF for the certificate(s), follow them for a
        click's time."""
        self.ensure_one()
        self._l10n_pl_ksef_check_admin(self.company_id)
        if not self.signed_file:
            raise UserError(_("Upload the request signed with XAdES (the .xml file your signing tool saved)."))
        signed = base64.b64decode(self.signed_file)
        request = self._l10n_pl_ksef_request()
        now = datetime.datetime.now(datetime.timezone.utc)
        try:
            certflow.check_signed_request(signed, request, self.company_id.l10n_pl_ksef_nip, now)
        except certflow.SignedRequestError as exc:
            if exc.code == "signed_challenge_expired":
                return self.action_prepare(notice=exc.bilingual())  # starts again, on a new challenge
            raise UserError(exc.bilingual()) from None
        purposes = ["authentication"] + (["offline"] if self.include_offline else [])
        Request = self.env["l10n_pl_ksef.cert.enrollment"].sudo()
        requests = Request.create(
            [{"company_id": self.company_id.id, "purpose": p, "key_kind": self.key_kind} for p in purposes]
        )
        self.request_ids = requests
        refused = []
        try:
            with requests[0]._l10n_pl_ksef_client() as client:
                state = certflow.login_with_signed_request(client, signed, request)
                for other in requests[1:]:
                    other._l10n_pl_ksef_store_session_state(state)
                for one in requests:
                    try:
                        one._l10n_pl_ksef_start(client)
                    except KsefError as exc:
                        refused.append((one, _explained(exc)))
                        continue
                    # KSeF holds this request now: its reference and key must outlive whatever follows
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        except KsefError as exc:
            error = _explained(exc)
            if error.code == "signed_challenge_expired" and not requests.filtered("reference"):
                requests.unlink()
                return self.action_prepare(notice=error.bilingual())
            raise UserError(error.bilingual()) from None
        # a refused one fails alone (one whose answer was lost stays "being sent": found again by its name)
        for one, error in refused:
            if not (isinstance(error, KsefUnknownOutcome) and one.state == "sending"):
                one._l10n_pl_ksef_fail(error)
        self.env.cr.commit()  # pylint: disable=invalid-commit
        if len(refused) == len(requests):
            raise UserError("\n\n".join(error.bilingual() for _request, error in refused))
        return self.action_check_again()

    # ------------------------------------------------------------------ 3. waiting for KSeF

    def action_check_again(self):
        self.ensure_one()
        self._l10n_pl_ksef_check_admin(self.company_id)
        requests = self.request_ids.sudo()
        requests._l10n_pl_ksef_recover()
        requests._l10n_pl_ksef_follow()
        done = requests.filtered(lambda r: r.state == "done")
        failed = requests.filtered(lambda r: r.state == "failed")
        lines = [
            self.env._(
                "Installed: %(certificate)s, valid until %(date)s",
                certificate=r.certificate_id.name,
                date=format_date(self.env, r.certificate_id.valid_to.date()),
            )
            for r in done
        ] + failed.mapped("error")
        # a temporary error of KSeF while asking (asked again later)
        lines += requests.filtered(lambda r: r.state in ("sending", "pending") and r.error).mapped("error")
        if any(r.state in ("sending", "pending") for r in requests):
            self.step = "wait"
            self.result = "\n\n".join(
                [
                    *lines,
                    _(
                        "KSeF has not issued the certificate yet. Odoo asks again in a few minutes and installs it; "
                        "click Check again to ask now. You can close this window."
                    ),
                ]
            )
            # the scheduled action follows the pending requests (daily, and now soon)
            self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_certificate_renewal").sudo()._trigger(
                at=fields.Datetime.now() + datetime.timedelta(minutes=RETRY_MINUTES)
            )
        elif done:
            self.step = "done"  # what was installed stays; a refused one is said (get it again later)
            self.result = "\n\n".join(lines)
        else:
            self.step = "start"  # all refused: start again, the reasons are shown
            self.result = "\n\n".join(lines)
        return self._reopen()


def _explained(exc):
    return certflow.explain_refusal(exc) if isinstance(exc, KsefApiError) else exc


def _naive(value):
    return value.astimezone(datetime.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
