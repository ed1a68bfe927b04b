import datetime

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen

from .common import OTHER_NIP, TEST_NIP, L10nPlKsefTestCommon, b64

SECRET = "ab" * 32


def token_for(nip, reference="20251010-EC-1DCE3E3000-12ECB5B36E-45"):
    return "%s|nip-%s|%s" % (reference, nip, SECRET)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefCredentialChecks(L10nPlKsefTestCommon):
    """Every bad credential is refused with its explanation, and nothing is stored."""

    def assertNothingStored(self):
        self.assertFalse(self.company.l10n_pl_ksef_token_set)
        self.assertFalse(self.env["l10n_pl_ksef.certificate"].search([("company_id", "=", self.company.id)]))

    def test_malformed_token(self):
        wizard = self.setup_wizard(auth_method="token", token="not-a-token")
        with self.assertRaisesRegex(ValidationError, "<reference>\\|nip-<NIP>\\|<secret>") as info:
            wizard.action_save_credentials()
        self.assertIn("Token KSeF nie ma postaci", str(info.exception))
        self.assertNothingStored()

    def test_token_of_another_nip(self):
        wizard = self.setup_wizard(auth_method="token", token=token_for(OTHER_NIP))
        with self.assertRaises(ValidationError) as info:
            wizard.action_save_credentials()
        message = str(info.exception)
        self.assertIn(OTHER_NIP, message)
        self.assertIn(TEST_NIP, message)
        self.assertIn("wygeneruj token w kontekście firmy", message)
        self.assertNothingStored()

    def test_wrong_pkcs12_password(self):
        credential = certgen.make_test_certificate(nip=TEST_NIP, seal=True)
        wizard = self.setup_wizard(
            auth_method="certificate",
            certificate_file=b64(credential.to_pkcs12("right password")),
            password="wrong password",
        )
        with self.assertRaisesRegex(UserError, "(?i)password") as info:
            wizard.action_save_credentials()
        self.assertIn("hasło", str(info.exception).lower())
        self.assertNothingStored()

    def test_expired_certificate(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        credential = certgen.make_test_certificate(
            nip=TEST_NIP,
            seal=True,
            not_before=now - datetime.timedelta(days=400),
            not_after=now - datetime.timedelta(days=1),
        )
        wizard = self.setup_wizard(
            auth_method="certificate",
            certificate_file=b64(credential.certificate_pem()),
            key_file=b64(credential.private_key_pem()),
        )
        with self.assertRaisesRegex(UserError, "(?i)expired") as info:
            wizard.action_save_credentials()
        self.assertIn("wygasł", str(info.exception))
        self.assertNothingStored()

    def test_key_of_another_certificate(self):
        first = certgen.make_test_certificate(nip=TEST_NIP, seal=True, key_slot=0)
        second = certgen.make_test_certificate(nip=TEST_NIP, seal=True, key_slot=1)
        wizard = self.setup_wizard(
            auth_method="certificate",
            certificate_file=b64(first.certificate_pem()),
            key_file=b64(second.private_key_pem()),
        )
        with self.assertRaisesRegex(UserError, "(?i)does not belong|does not match") as info:
            wizard.action_save_credentials()
        self.assertIn("nie pasuje", str(info.exception))
        self.assertNothingStored()

    def test_garbage_file(self):
        wizard = self.setup_wizard(auth_method="certificate", certificate_file=b64(b"\x00garbage" * 50))
        with self.assertRaisesRegex(UserError, "(?i)\\.p12|pkcs|pem") as info:
            wizard.action_save_credentials()
        self.assertTrue(str(info.exception).strip())
        self.assertNothingStored()

    def test_offline_certificate_refused_for_login(self):
        offline = certgen.make_test_certificate(nip=TEST_NIP, seal=True, usage="Offline")
        wizard = self.setup_wizard(
            auth_method="certificate", certificate_file=b64(offline.to_pkcs12("pw")), password="pw"
        )
        with self.assertRaisesRegex(UserError, "Offline"):
            wizard.action_save_credentials()
        self.assertNothingStored()

    def test_a_bad_offline_certificate_keeps_the_good_token_out_too(self):
        auth = certgen.make_test_certificate(nip=TEST_NIP, seal=True)
        wizard = self.setup_wizard(
            auth_method="token",
            token=token_for(TEST_NIP),
            offline_certificate_file=b64(auth.to_pkcs12("pw")),
            offline_password="pw",
        )
        with self.assertRaisesRegex(UserError, "KOD II"):
            wizard.action_save_credentials()
        self.assertNothingStored()

    def test_accountant_cannot_use_the_wizard(self):
        wizard = self.setup_wizard(auth_method="token", token=token_for(TEST_NIP))
        with self.assertRaises(UserError):  # AccessError is a UserError
            wizard.with_user(self.accountant).action_save_credentials()
        self.assertNothingStored()


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSessionStoredApart(L10nPlKsefTestCommon):
    """The KSeF session tokens are written on a cursor of their own (found by bench/odoo/load.py: a
    sending and an importing worker of one company signing in at once failed each other's run)."""

    def test_session_tokens_are_written_apart_and_read_back(self):
        holder = self.env["l10n_pl_ksef.token.state"]._l10n_pl_ksef_for(self.company)
        holder.flush_recordset()
        encrypted = self.company._l10n_pl_ksef_encrypt('{"x": 1}')
        # a row the other cursor cannot see (not committed: this test's transaction): the run writes it
        with self.real_connections():
            self.assertFalse(self.company._l10n_pl_ksef_store_apart(holder, "state", encrypted))
        # the other cursor shares the test's transaction (registry test mode): it writes the row
        self.assertTrue(self.company._l10n_pl_ksef_store_apart(holder, "state", encrypted))
        holder.invalidate_recordset(["state"])
        self.assertEqual(holder.state, encrypted)
