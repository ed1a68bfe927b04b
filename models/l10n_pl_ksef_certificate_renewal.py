"""KSeF certificates renew themselves: 30 days before one expires, Odoo logs in with it (an Offline
certificate cannot log in: with the company's Authentication certificate), asks KSeF for a successor of
the same type with a new key and installs it once issued. The old certificate is not revoked: it stays
valid in KSeF until it expires, so the KOD II of invoices printed before stays verifiable.

Only a certificate KSeF issued can be renewed this way (one Odoo got, or one whose issuer is KSeF's CA);
the others keep the expiry to-do of ``l10n_pl_ksef_certificate_expiry.py``. A renewal that fails leaves
the administrators one to-do saying why.
"""

import datetime
import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..ksef_core.client.errors import KsefUnknownOutcome
from ..ksef_core.errors import KsefError
from .l10n_pl_ksef_budget import cron_budget, deadline_in, seconds_to

_logger = logging.getLogger(__name__)

RENEWAL_DAYS = 30
#: how long the daily job waits for KSeF to issue one certificate (then the next day's run asks again)
CRON_WAIT_SECONDS = 10.0
FAILED_ACTIVITY = "l10n_pl_ksef.mail_activity_type_certificate_renewal_failed"


class L10nPlKsefCertificate(models.Model):
    _inherit = "l10n_pl_ksef.certificate"

    enrolled_by_odoo = fields.Boolean(
        string="Obtained through Odoo", readonly=True, help="Odoo asked KSeF for this certificate and made its key."
    )

    def _l10n_pl_ksef_renewable(self):
        """Whether Odoo can ask KSeF for this certificate's successor."""
        self.ensure_one()
        return self.enrolled_by_odoo or "CCK KSeF" in (self.issuer or "")

    @api.model
    def _cron_l10n_pl_ksef_certificate_renewal(self):
        """Renew the KSeF certificates expiring within 30 days; returns ``[{certificate, outcome, error}]``
        (errors are data, never raised)."""
        # the requests Odoo stopped sending before keeping KSeF's answer (a certificate installed is archived)
        self.env["l10n_pl_ksef.cert.enrollment"].sudo().search([("state", "=", "sending")])._l10n_pl_ksef_recover()
        now = fields.Datetime.now()
        certificates = self.sudo().search(
            [("valid_to", ">", now), ("valid_to", "<=", now + datetime.timedelta(days=RENEWAL_DAYS))]
        )
        deadline = deadline_in(cron_budget(self.env))

        def wait():
            return min(CRON_WAIT_SECONDS, seconds_to(deadline))

        Request = self.env["l10n_pl_ksef.cert.enrollment"].sudo()
        # the first certificates KSeF had not issued within the wizard's click
        Request.search([("state", "=", "pending"), ("renewed_id", "=", False)])._l10n_pl_ksef_follow(timeout=wait())
        results = []
        for certificate in certificates.filtered(lambda c: c._l10n_pl_ksef_renewable()):
            request = Request.search(
                [("renewed_id", "=", certificate.id), ("state", "in", ("sending", "pending"))], limit=1
            )
            if request.state == "sending":
                # KSeF may still be issuing it: found again by its name at a next run
                results.append({"certificate": certificate.id, "outcome": "pending", "error": None})
                continue
            if request and not request.reference:
                # never sent (left by a run that stopped before KSeF took it): started again
                request._l10n_pl_ksef_fail(UserError(_("The request was never sent to KSeF.")))
                request = Request
            try:
                if not request:
                    request = certificate._l10n_pl_ksef_start_renewal()
                    # KSeF holds the request now: its reference and key must outlive whatever follows
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                request._l10n_pl_ksef_follow(timeout=wait())
            except (KsefError, UserError) as exc:
                if request:
                    request._l10n_pl_ksef_fail(exc)
                error = exc.bilingual() if isinstance(exc, KsefError) else exc.args[0]
            else:
                error = request.error if request.state == "failed" else None
            outcome = "failed" if error else request.state
            if error:
                certificate._l10n_pl_ksef_renewal_failed(error)
            results.append({"certificate": certificate.id, "outcome": outcome, "error": error})
            # one certificate done: kept whatever happens to the next one
            self.env.cr.commit()  # pylint: disable=invalid-commit
        if results:
            _logger.info("KSeF: %d certificate renewal(s) handled.", len(results))
        # the companies still on a token: the way to a certificate
        self.env["res.company"]._l10n_pl_ksef_token_end_todos()
        return results

    def _l10n_pl_ksef_start_renewal(self):
        """A new request for this certificate's successor, sent in a session of the certificate itself."""
        self.ensure_one()
        request = (
            self.env["l10n_pl_ksef.cert.enrollment"]
            .sudo()
            .create(
                {
                    "company_id": self.company_id.id,
                    "purpose": self.purpose,
                    "key_kind": "rsa" if (self.key_description or "").startswith("RSA") else "ec",
                    "renewed_id": self.id,
                }
            )
        )
        try:
            with request._l10n_pl_ksef_client() as client:
                request._l10n_pl_ksef_start(client)
        except (KsefError, UserError) as exc:
            if not (isinstance(exc, KsefUnknownOutcome) and request.state == "sending"):
                # not sent: failed, so that the next run starts a new one (KSeF may have taken one whose answer
                # was lost: found again by its name at the next run)
                request._l10n_pl_ksef_fail(exc)
            raise
        return request

    def _l10n_pl_ksef_renewal_failed(self, error):
        """One to-do per administrator (never a second one) saying why the renewal failed."""
        self.ensure_one()
        activity_type = self.env.ref(FAILED_ACTIVITY)
        already = self.activity_ids.filtered(lambda a: a.activity_type_id == activity_type).user_id
        note = Markup("<p>%s</p><p>%s</p><p>%s</p>") % (
            _(
                "Odoo could not renew the KSeF certificate of %(company)s (%(subject)s, serial number %(serial)s, "
                "valid until %(date)s).",
                company=self.company_id.name,
                subject=self.subject,
                serial=self.serial_number,
                date=fields.Date.to_string(self.valid_to.date()),
            ),
            error,
            _(
                "Get a new certificate in Settings > KSeF > Get a KSeF certificate (it needs a qualified signature "
                "or Profil Zaufany once), or upload one in Set up credentials."
            ),
        )
        for admin in self._l10n_pl_ksef_admins() - already:
            self.activity_schedule(
                FAILED_ACTIVITY,
                date_deadline=fields.Date.context_today(self),
                summary=_("KSeF certificate not renewed"),
                note=note,
                user_id=admin.id,
            )
