"""The PESEL of a personal KSeF certificate is personal data: administrators (Settings) read it, no invoicing
user or accountant does, whichever way he asks, and the certificate's views still open for them."""

from lxml import etree

from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen

from .common import L10nPlKsefTestCommon

PESEL = "44051401458"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefAccessPesel(L10nPlKsefTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="ksef_pesel_clerk",
            groups="account.group_account_invoice,base.group_allow_export",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.accountant.write({"group_ids": [Command.link(cls.env.ref("base.group_allow_export").id)]})
        cls.admin = new_test_user(
            cls.env,
            login="ksef_pesel_admin",
            groups="base.group_system,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        credential = certgen.make_test_certificate(pesel=PESEL, given_name="Anna", surname="Nowak")
        cls.certificate = cls.env["l10n_pl_ksef.certificate"]._l10n_pl_ksef_create_from_credential(
            cls.company, credential, credential.info(), "authentication"
        )

    def test_administrator_reads_the_pesel(self):
        certificate = self.certificate.with_user(self.admin)
        self.assertEqual(certificate.pesel, PESEL)
        arch = certificate.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertTrue(etree.fromstring(arch).xpath("//field[@name='pesel']"), "his form shows the PESEL")

    def test_invoicing_users_never_read_the_pesel(self):
        for user in (self.clerk, self.accountant):
            Model = self.env["l10n_pl_ksef.certificate"].with_user(user)
            mine = self.certificate.with_user(user)
            with self.subTest(user=user.login):
                self.assertNotIn("pesel", Model.fields_get(), "the field is shown to the user")
                with self.assertRaises(AccessError, msg="read"):
                    mine.read(["pesel"])
                with self.assertRaises(AccessError, msg="search_read"):
                    Model.search_read([("id", "=", mine.id)], ["pesel"])
                with self.assertRaises(AccessError, msg="web_read"):
                    mine.web_read({"pesel": {}})
                with self.assertRaises(AccessError, msg="export_data"):
                    mine.export_data(["pesel"])
                with self.assertRaises(AccessError, msg="search on the PESEL (an oracle)"):
                    Model.search([("pesel", "=like", PESEL[:6] + "%")])
                with self.assertRaises(AccessError, msg="group by the PESEL"):
                    Model.formatted_read_group([], ["pesel"], ["__count"])
                # what he may read of the certificate does not hold it either
                shown = str(Model.search_read([("id", "=", mine.id)])) + str(mine.export_data(["name", "subject"]))
                self.assertIn("Anna Nowak", shown, "the certificate is still described to him")
                self.assertNotIn(PESEL, shown)
                # and his list and form open (the PESEL left out of them)
                for view_type in ("list", "form"):
                    views = Model.get_views([(False, view_type)])
                    arch = views["views"][view_type]["arch"]
                    self.assertFalse(etree.fromstring(arch).xpath("//field[@name='pesel']"))
                    fields = [name for name in views["models"]["l10n_pl_ksef.certificate"]["fields"] if name != "id"]
                    self.assertNotIn(PESEL, str(mine.web_read({name: {} for name in fields})))

    def test_subject_of_a_personal_certificate_has_the_pesel_masked(self):
        self.assertIn("PNOPL-***********", self.certificate.subject)
        self.assertNotIn(PESEL, self.certificate.subject + self.certificate.name + self.certificate.issuer)
        # certificates stored before: the upgrade masks them
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE l10n_pl_ksef_certificate SET subject = %s, issuer = %s, name = %s WHERE id = %s",
            [
                "2.5.4.5=PNOPL-%s,CN=Anna Nowak" % PESEL,
                "serialNumber=PNOPL-%s,CN=Anna Nowak" % PESEL,
                "Authentication — PNOPL-%s" % PESEL,
                self.certificate.id,
            ],
        )
        self.env["l10n_pl_ksef.certificate"].init()
        self.certificate.invalidate_recordset()
        self.assertEqual(self.certificate.subject, "2.5.4.5=PNOPL-***********,CN=Anna Nowak")
        self.assertEqual(self.certificate.issuer, "serialNumber=PNOPL-***********,CN=Anna Nowak")
        self.assertNotIn(PESEL, self.certificate.name)
