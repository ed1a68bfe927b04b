import datetime

from odoo import fields
from odoo.tests import new_test_user, tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen

from .common import OTHER_NIP, TEST_NIP, L10nPlKsefTestCommon

ACTIVITY_TYPE = "l10n_pl_ksef.mail_activity_type_certificate_expiry"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefCertificateExpiry(L10nPlKsefTestCommon):
    """A certificate expiring within 30 days gives every administrator of the company a to-do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env,
            login="ksef_admin",
            groups="base.group_system,account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.other_company = cls.setup_other_company(name="Druga Sp. z o.o.")["company"]
        cls.other_company.vat = "PL%s" % OTHER_NIP
        cls.other_admin = new_test_user(
            cls.env,
            login="ksef_other_admin",
            groups="base.group_system",
            company_id=cls.other_company.id,
            company_ids=[cls.other_company.id],
        )

    def _store(self, days_left, purpose="authentication", company=None, nip=TEST_NIP):
        now = datetime.datetime.now(datetime.timezone.utc)
        credential = certgen.make_test_certificate(
            nip=nip,
            usage=certgen.USAGE_OFFLINE if purpose == "offline" else certgen.USAGE_AUTHENTICATION,
            not_before=now - datetime.timedelta(days=300),
            not_after=now + datetime.timedelta(days=days_left),
        )
        certificates = self.env["l10n_pl_ksef.certificate"]
        info = credential.info()
        return certificates._l10n_pl_ksef_create_from_credential(company or self.company, credential, info, purpose)

    def _activities(self, certificate):
        return certificate.activity_ids.filtered(lambda a: a.activity_type_id == self.env.ref(ACTIVITY_TYPE))

    def test_expiring_certificate_gives_each_admin_one_todo(self):
        certificate = self._store(days_left=20)
        self.env["l10n_pl_ksef.certificate"]._cron_l10n_pl_ksef_certificate_expiry()
        activities = self._activities(certificate)
        self.assertIn(self.admin, activities.user_id)
        self.assertNotIn(self.accountant, activities.user_id, "accountants cannot renew certificates")
        self.assertNotIn(self.other_admin, activities.user_id, "the other company's admin has nothing to do here")
        todo = activities.filtered(lambda a: a.user_id == self.admin)
        self.assertIn(fields.Date.to_string(certificate.valid_to.date()), todo.summary)
        self.assertIn("Set up credentials", str(todo.note))
        self.assertIn("Get a KSeF certificate", str(todo.note), "Odoo can get the new one itself")
        self.assertIn(certificate.serial_number, str(todo.note))
        # the daily run does not pile up duplicates
        self.env["l10n_pl_ksef.certificate"]._cron_l10n_pl_ksef_certificate_expiry()
        self.assertEqual(len(self._activities(certificate)), len(activities))

    def test_certificate_valid_for_long_gives_no_todo(self):
        certificate = self._store(days_left=90)
        self.env["l10n_pl_ksef.certificate"]._cron_l10n_pl_ksef_certificate_expiry()
        self.assertFalse(self._activities(certificate))

    def test_offline_certificate_todo_names_the_consequence(self):
        certificate = self._store(days_left=5, purpose="offline")
        self.env["l10n_pl_ksef.certificate"]._cron_l10n_pl_ksef_certificate_expiry()
        todo = self._activities(certificate).filtered(lambda a: a.user_id == self.admin)
        self.assertIn("KOD II", str(todo.note))

    def test_replacing_the_certificate_closes_the_todo(self):
        old = self._store(days_left=10)
        self.env["l10n_pl_ksef.certificate"]._cron_l10n_pl_ksef_certificate_expiry()
        self.assertTrue(self._activities(old))
        new = self._store(days_left=700)
        self.assertFalse(old.active)
        self.assertFalse(self._activities(old), "the renewed certificate leaves nothing to do")
        self.env["l10n_pl_ksef.certificate"]._cron_l10n_pl_ksef_certificate_expiry()
        self.assertFalse(self._activities(new))

    def test_the_other_companys_admin_is_told_about_his_certificate(self):
        certificate = self._store(days_left=3, company=self.other_company, nip=OTHER_NIP)
        self.env["l10n_pl_ksef.certificate"]._cron_l10n_pl_ksef_certificate_expiry()
        self.assertIn(self.other_admin, self._activities(certificate).user_id)
        self.assertNotIn(self.admin, self._activities(certificate).user_id)
