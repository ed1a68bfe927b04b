"""Get a KSeF certificate (Settings > KSeF): the request signed outside Odoo, the login with it, the
certificate KSeF issues installed; what the administrator is told when something is refused."""

import base64
import datetime

from odoo.exceptions import AccessError, RedirectWarning, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen, secretbox, xades
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.token_end import TOKENS_END

from .common import OTHER_NIP, TEST_NIP, L10nPlKsefTestCommon
from .test_clocks import ksef_clock

UTC = datetime.timezone.utc
#: a Monday morning of December 2026, while KSeF still accepts tokens
MONDAY = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


class CertWizardCommon(L10nPlKsefTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulator()
        cls.admin = new_test_user(
            cls.env,
            login="ksef_cert_admin",
            groups="base.group_system,account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def setUp(self):
        super().setUp()
        self.connect_to_simulator()  # the company logs in with a token, as most do in December 2026
        self.addCleanup(setattr, self.sim.auth, "tokens_end", None)

    def open_wizard(self, **values):
        wizard = self.env["l10n_pl_ksef.cert.wizard"].create(dict(values, company_id=self.company.id))
        wizard.action_prepare()
        return wizard

    @staticmethod
    def signer(nip=TEST_NIP):
        """The company's "qualified seal": a self-made certificate, which the simulator trusts as TEST does."""
        return certgen.make_test_certificate(nip=nip, seal=True, organization="Firma Testowa Sp. z o.o.")

    def sign(self, wizard, signer=None):
        """What the administrator does outside Odoo: sign the downloaded request with XAdES."""
        request = base64.b64decode(wizard.request_file)
        return xades.sign_enveloped(request, signer or self.signer())

    def upload(self, wizard, signed):
        wizard.signed_file = base64.b64encode(signed)
        return wizard.action_submit()


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefCertWizard(CertWizardCommon):
    def test_request_to_sign_names_the_company_and_its_deadline(self):
        with ksef_clock(MONDAY):
            wizard = self.open_wizard()
        self.assertEqual(wizard.step, "sign")
        request = base64.b64decode(wizard.request_file)
        self.assertIn(("<Nip>%s</Nip>" % TEST_NIP).encode(), request)
        self.assertIn(wizard.challenge.encode(), request)
        self.assertTrue(wizard.request_filename.endswith(".xml"))
        # KSeF accepts a challenge for 10 minutes: the wizard says until when
        self.assertEqual(wizard.challenge_expires_at - wizard.challenge_issued_at, datetime.timedelta(minutes=10))
        self.assertLessEqual(abs(wizard.challenge_issued_at - MONDAY.replace(tzinfo=None)), datetime.timedelta(1 / 24))

    def test_expired_challenge_starts_again_cleanly(self):
        with ksef_clock(MONDAY):
            wizard = self.open_wizard()
            first = wizard.challenge
        with ksef_clock(MONDAY + datetime.timedelta(minutes=11)):
            signed = self.sign(wizard)
            self.upload(wizard, signed)
        self.assertEqual(wizard.step, "sign", "the administrator signs again, nothing else to do")
        self.assertNotEqual(wizard.challenge, first, "a new challenge of KSeF")
        self.assertIn("expired", wizard.notice)
        self.assertIn("wygasło", wizard.notice)
        self.assertFalse(wizard.signed_file, "the late file is gone")
        self.assertGreater(wizard.challenge_expires_at, (MONDAY + datetime.timedelta(minutes=11)).replace(tzinfo=None))
        self.assertFalse(self.env["l10n_pl_ksef.cert.enrollment"].search([("company_id", "=", self.company.id)]))

    def test_a_file_without_xades_is_refused_with_what_to_do(self):
        wizard = self.open_wizard()
        with self.assertRaisesRegex(UserError, "XAdES"):
            self.upload(wizard, base64.b64decode(wizard.request_file))  # uploaded as downloaded: not signed
        with self.assertRaisesRegex(UserError, "XAdES"):
            self.upload(wizard, b"%PDF-1.7 a PAdES-signed PDF")

    def test_a_signature_over_another_document_is_refused(self):
        older = self.open_wizard()
        signed_older = self.sign(older)
        wizard = self.open_wizard()
        with self.assertRaisesRegex(UserError, "not the request Odoo prepared last"):
            self.upload(wizard, signed_older)
        tampered = self.sign(wizard).replace(wizard.challenge.encode(), older.challenge.encode())
        with self.assertRaisesRegex(UserError, "not the request Odoo prepared last"):
            self.upload(wizard, tampered)

    def test_signer_without_permissions_in_the_company(self):
        wizard = self.open_wizard()
        with self.assertRaisesRegex(UserError, "no permissions in this company's context") as caught:
            self.upload(wizard, self.sign(wizard, self.signer(OTHER_NIP)))
        self.assertIn("nie ma uprawnień", str(caught.exception))

    def test_only_administrators(self):
        with self.assertRaises(AccessError):
            self.env["l10n_pl_ksef.cert.wizard"].with_user(self.accountant).create({"company_id": self.company.id})
        with self.assertRaises(AccessError):
            self.env["l10n_pl_ksef.cert.enrollment"].with_user(self.accountant).search([])
        request = (
            self.env["l10n_pl_ksef.cert.enrollment"]
            .sudo()
            .create({"company_id": self.company.id, "purpose": "authentication"})
        )
        request._l10n_pl_ksef_set_key(certgen.new_private_key("ec"))
        with self.assertRaises(AccessError):
            request.with_user(self.accountant).read(["key_encrypted"])
        self.assertTrue(request.with_user(self.admin).key_encrypted.startswith(secretbox.PREFIX))
        self.assertNotIn("PRIVATE KEY", request.with_user(self.admin).key_encrypted, "encrypted at rest")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefTokensEnded(CertWizardCommon):
    def test_token_refused_after_2026_says_so_and_opens_the_wizard(self):
        self.sim.auth.tokens_end = TOKENS_END
        with ksef_clock(datetime.datetime(2027, 1, 4, 9, 0, tzinfo=UTC)):
            settings = self.env["res.config.settings"].with_user(self.admin).create({})
            self.assertTrue(settings.l10n_pl_ksef_tokens_ended, "the banner shows the end of tokens")
            with self.assertRaises(RedirectWarning) as caught:
                settings.action_l10n_pl_ksef_test_connection()
        message, action_id, button = caught.exception.args[:3]
        self.assertIn("no longer accepts KSeF tokens", message)
        self.assertIn("nie przyjmuje już tokenów", message)
        self.assertEqual(action_id, self.env.ref("l10n_pl_ksef.l10n_pl_ksef_cert_wizard_action").id)
        self.assertEqual(button, "Get a KSeF certificate")

    def test_before_the_end_the_token_still_works(self):
        self.sim.auth.tokens_end = TOKENS_END
        with ksef_clock(datetime.datetime(2026, 12, 31, 22, 30, tzinfo=UTC)):  # 23:30 in Warsaw
            settings = self.env["res.config.settings"].with_user(self.admin).create({})
            self.assertFalse(settings.l10n_pl_ksef_tokens_ended)
            settings.action_l10n_pl_ksef_test_connection()
        self.assertIn("Connected", self.company.l10n_pl_ksef_last_check)
