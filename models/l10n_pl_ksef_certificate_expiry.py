import datetime
import logging

from markupsafe import Markup

from odoo import _, api, fields, models

_logger = logging.getLogger(__name__)

#: Administrators are warned this many days before a certificate expires.
EXPIRY_WARNING_DAYS = 30
ACTIVITY_TYPE = "l10n_pl_ksef.mail_activity_type_certificate_expiry"


class L10nPlKsefCertificate(models.Model):
    """Expiry follow-up of KSeF certificates: an activity for each Settings administrator."""

    _name = "l10n_pl_ksef.certificate"
    _inherit = ["l10n_pl_ksef.certificate", "mail.thread", "mail.activity.mixin"]

    def _l10n_pl_ksef_admins(self):
        """Active internal Settings administrators who work in the certificate's company."""
        self.ensure_one()
        group = self.env.ref("base.group_system")
        return group.sudo().all_user_ids.filtered(
            lambda u: u.active and not u.share and self.company_id in u.company_ids and not u._is_superuser()
        )

    @api.model
    def _cron_l10n_pl_ksef_certificate_expiry(self):
        """Schedule a to-do for every administrator of a company whose certificate expires within 30 days.

        Runs daily; an administrator who already has the to-do for that certificate gets no second one.
        Returns the number of activities created (errors are never raised from the cron).
        """
        limit = fields.Datetime.now() + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
        certificates = self.sudo().search([("valid_to", "!=", False), ("valid_to", "<=", limit)])
        # those Odoo renews by itself need no warning (a failed renewal leaves its own to-do)
        now = fields.Datetime.now()
        certificates = certificates.filtered(lambda c: not c._l10n_pl_ksef_renewable() or c.valid_to <= now)
        activity_type = self.env.ref(ACTIVITY_TYPE)
        created = 0
        for certificate in certificates:
            already = certificate.activity_ids.filtered(lambda a: a.activity_type_id == activity_type).user_id
            for admin in certificate._l10n_pl_ksef_admins() - already:
                certificate.activity_schedule(
                    ACTIVITY_TYPE,
                    date_deadline=fields.Date.context_today(certificate),  # renewal takes days: start now
                    summary=certificate._l10n_pl_ksef_expiry_summary(),
                    note=certificate._l10n_pl_ksef_expiry_note(),
                    user_id=admin.id,
                )
                created += 1
        if created:
            _logger.info("KSeF: %d certificate expiry activities scheduled.", created)
        return created

    def _l10n_pl_ksef_expiry_summary(self):
        self.ensure_one()
        valid_to = fields.Date.to_string(self.valid_to.date())
        if self.valid_to <= fields.Datetime.now():
            return _("KSeF certificate expired on %(date)s", date=valid_to)
        return _("KSeF certificate expires on %(date)s", date=valid_to)

    def _l10n_pl_ksef_expiry_note(self):
        self.ensure_one()
        if self.purpose == "offline":
            consequence = _("Without it, offline invoices cannot get their second QR code (KOD II).")
        else:
            consequence = _("Without it, Odoo cannot log in to KSeF: invoices will not be sent or imported.")
        return Markup("<p>%s</p><p>%s</p><p>%s</p>") % (
            _(
                "The KSeF certificate of %(company)s (%(subject)s, serial number %(serial)s) is valid until %(date)s.",
                company=self.company_id.name,
                subject=self.subject,
                serial=self.serial_number,
                date=fields.Date.to_string(self.valid_to.date()),
            ),
            consequence,
            _(
                "Get a new certificate in Settings > KSeF > Get a KSeF certificate, or request one in the KSeF "
                "taxpayer application (Certyfikaty) and upload it in Settings > Accounting > KSeF > Set up "
                "credentials."
            ),
        )
