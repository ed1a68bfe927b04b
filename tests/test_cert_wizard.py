"""Get a KSeF certificate (Settings > KSeF): the request signed outside Odoo, the login with it, the
certificate KSeF issues installed; what the administrator is told when something is refused."""

import base64
import datetime
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, RedirectWarning, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen, certissue, qr, secretbox
from odoo.addons.l10n_pl_ksef.ksef_core.errors import KsefError
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.token_end import TOKENS_END
from odoo.addons.l10n_pl_ksef.models import l10n_pl_ksef_cert_enrollment as cert_enrollment

from .common import OTHER_NIP, TEST_NIP, L10nPlKsefTestCommon
from .pure import independent_xades
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

    def sign(self, wizard, signer=None, form="enveloped"):
        """What the administrator does outside Odoo: sign the downloaded request with XAdES, in his signing
        application (a signer sharing no code with the addon, ``tests/pure/independent_xades.py``)."""
        request = base64.b64decode(wizard.request_file)
        signer = signer or self.signer()
        return independent_xades.sign(request, signer.private_key, signer.certificate, form)

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
        with self.assertRaisesRegex(UserError, "Only administrators"):
            self.company.with_user(self.accountant).action_l10n_pl_ksef_get_certificate()
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


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefCertIssue(CertWizardCommon):
    def get_certificate(self, **values):
        wizard = self.open_wizard(**values)
        self.upload(wizard, self.sign(wizard))
        return wizard

    def test_end_to_end_the_installed_certificate_logs_in(self):
        wizard = self.get_certificate(include_offline=True)
        self.assertEqual(wizard.step, "done", wizard.result)
        authentication = self.company.l10n_pl_ksef_certificate_id
        offline = self.company.l10n_pl_ksef_offline_certificate_id
        self.assertEqual(authentication.certificate_type, "Authentication")
        self.assertEqual(offline.certificate_type, "Offline")
        for certificate in authentication | offline:
            self.assertTrue(certificate.enrolled_by_odoo)
            self.assertIn("CCK KSeF", certificate.issuer, "issued by KSeF, not self-made")
            self.assertEqual(certificate.nip, TEST_NIP)
            self.assertTrue(certificate.key_description.startswith("EC"), "EC P-256 by default")
        self.assertEqual(self.company.l10n_pl_ksef_auth_method, "certificate", "the token is left behind")
        # the Offline certificate KSeF issued signs KOD II, the second QR code of an offline invoice
        signer = offline.sudo()._l10n_pl_ksef_credential()
        when = offline.valid_from.replace(tzinfo=UTC) + datetime.timedelta(days=1)
        kod2 = qr.kod2_url("https://qr-test.ksef.mf.gov.pl", "Nip", TEST_NIP, TEST_NIP, signer, b"<Faktura/>", now=when)
        self.assertTrue(qr.verify_kod2_url(kod2, signer.certificate))
        self.assertEqual(int(qr.parse_kod2_url(kod2)["certificate_serial"], 16), signer.certificate.serial_number)
        # the private key never left Odoo: the request downloaded and the data sent hold only public parts
        self.assertNotIn(b"PRIVATE", base64.b64decode(wizard.request_file))
        report = self.company._l10n_pl_ksef_check_connection()
        self.assertTrue(report["ok"], report.get("error"))
        self.assertEqual(report["method"], "certificate")

    def test_enveloping_signatures_as_signing_applications_offer_them(self):
        """Some signing applications wrap the request in the signature (enveloping), as is or base64-encoded:
        KSeF accepts both, and so does the wizard."""
        for form in ("enveloping", "enveloping-base64"):
            wizard = self.open_wizard()
            self.upload(wizard, self.sign(wizard, form=form))
            self.assertEqual(wizard.step, "done", "%s: %s" % (form, wizard.result))
            self.assertTrue(self.company.l10n_pl_ksef_certificate_id.enrolled_by_odoo)

    def test_rsa_on_request(self):
        self.get_certificate(key_kind="rsa")
        self.assertTrue(self.company.l10n_pl_ksef_certificate_id.key_description.startswith("RSA 2048"))

    def test_not_issued_within_the_click_then_check_again(self):
        self.sim.certificates.pending_polls = 10**6  # KSeF takes its time
        self.sim.certificates.processing_seconds = 10**6
        self.addCleanup(setattr, self.sim.certificates, "pending_polls", 1)
        self.addCleanup(setattr, self.sim.certificates, "processing_seconds", 5)
        # a click's time is up before KSeF answers
        with patch.object(cert_enrollment, "click_budget", return_value=0.0):
            wizard = self.get_certificate()
        self.assertEqual(wizard.step, "wait")
        request = wizard.request_ids
        self.assertEqual(request.state, "pending")
        self.assertTrue(request.reference, "the reference is kept for Check again and the daily job")
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_certificate_renewal")
        soon = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).mapped("call_at")
        self.assertTrue(
            any(at <= fields.Datetime.now() + datetime.timedelta(minutes=10) for at in soon),
            "the scheduled action asks KSeF again within minutes, not the next day",
        )
        self.assertFalse(self.company.l10n_pl_ksef_certificate_id)
        self.sim.certificates.pending_polls = 0
        self.sim.certificates.processing_seconds = 0
        wizard.action_check_again()
        self.assertEqual(wizard.step, "done", wizard.result)
        self.company.invalidate_recordset()
        self.assertEqual(self.company.l10n_pl_ksef_certificate_id, request.certificate_id)

    def test_ksef_unavailable_while_following_keeps_the_request(self):
        before = len(self.sim.certificates.certs)
        # KSeF answers 503 to every question about the enrollment (after the client's retries: unavailable)
        # (the first GET is the enrollment data, before the enrollment is sent)
        self.sim.faults.error("/certificates/enrollments/*", method="GET", status=503, count=None, skip=1)
        wizard = self.get_certificate()
        request = wizard.request_ids
        self.assertEqual(request.state, "pending", request.error)
        self.assertEqual(wizard.step, "wait")
        self.assertIn("503", request.error, "the last error is kept")
        self.assertIn(request.error, wizard.result, "and shown")
        self.assertTrue(request.sudo().session_state, "the session is kept to ask again")
        self.sim.faults.clear()
        wizard.action_check_again()
        self.assertEqual(wizard.step, "done", wizard.result)
        self.assertEqual(request.state, "done")
        self.company.invalidate_recordset()
        self.assertEqual(self.company.l10n_pl_ksef_certificate_id, request.certificate_id)
        self.assertEqual(len(self.sim.certificates.certs), before + 1, "KSeF issued one certificate, not two")

    def test_offline_refused_keeps_the_authentication_certificate(self):
        # KSeF takes the Authentication enrollment and refuses the Offline one
        self.sim.faults.error("/certificates/enrollments", method="POST", status=400, skip=1)
        wizard = self.get_certificate(include_offline=True)
        authentication = wizard.request_ids.filtered(lambda r: r.purpose == "authentication")
        offline = wizard.request_ids - authentication
        self.assertEqual(authentication.state, "done", authentication.error)
        self.assertTrue(authentication.reference)
        self.assertEqual(offline.state, "failed")
        self.assertEqual(wizard.step, "done", "the installed certificate is not asked for again")
        self.assertIn("Installed", wizard.result)
        self.assertIn(offline.error, wizard.result, "the refusal is shown too")
        self.company.invalidate_recordset()
        self.assertEqual(self.company.l10n_pl_ksef_certificate_id, authentication.certificate_id)
        self.assertFalse(self.company.l10n_pl_ksef_offline_certificate_id)
        # the keys are not kept in the requests: in the installed certificate only, the refused one's gone
        self.assertFalse(authentication.sudo().key_encrypted)
        self.assertFalse(offline.sudo().key_encrypted)

    def test_token_session_is_refused_with_what_to_do(self):
        request = (
            self.env["l10n_pl_ksef.cert.enrollment"]
            .sudo()
            .create({"company_id": self.company.id, "purpose": "authentication"})
        )
        with self.assertRaises(KsefError) as caught, self.company._l10n_pl_ksef_client() as client:
            request._l10n_pl_ksef_start(client)  # the company's token session
        self.assertEqual(caught.exception.code, "cert_token_session")
        self.assertIn("not with a KSeF token", caught.exception.message_en)
        self.assertIn("Get a KSeF certificate", caught.exception.message_en)
        self.assertIn("nie tokenem KSeF", caught.exception.message_pl)

    def test_list_and_revoke(self):
        self.get_certificate(include_offline=True)
        used = self.company.l10n_pl_ksef_certificate_id
        action = self.env["res.config.settings"].create({}).action_l10n_pl_ksef_ksef_certificates()
        rows = self.env["l10n_pl_ksef.ksef.certificate"].search(action["domain"])
        used_serials = {used.serial_number, self.company.l10n_pl_ksef_offline_certificate_id.serial_number}
        # KSeF lists every certificate of the identity (the company's NIP), also those of other tests
        self.assertEqual(set(rows.filtered("used_by_odoo").mapped("serial")), used_serials)
        mine = rows.filtered(lambda r: r.serial in used_serials)
        self.assertEqual(sorted(mine.mapped("certificate_type")), ["Authentication", "Offline"])
        self.assertEqual(set(mine.mapped("status")), {"Active"})
        row = mine.filtered(lambda r: r.certificate_type == "Authentication")
        self.assertTrue(row.valid_to > row.valid_from)
        row.action_revoke()
        self.assertEqual(row.status, "Revoked")
        self.company.invalidate_recordset()
        self.assertFalse(self.company.l10n_pl_ksef_certificate_id, "Odoo no longer uses a revoked certificate")
        self.assertEqual(self.sim.certificates.certs[row.serial]["status"], "Revoked")

    def test_revoke_already_revoked_by_a_lost_answer(self):
        """A retry of the revocation (its first answer lost) hears "already revoked" (25009): it is done."""
        self.get_certificate(include_offline=True)
        used = self.company.l10n_pl_ksef_certificate_id
        offline = self.company.l10n_pl_ksef_offline_certificate_id
        action = self.env["res.config.settings"].create({}).action_l10n_pl_ksef_ksef_certificates()
        rows = self.env["l10n_pl_ksef.ksef.certificate"].search(action["domain"])
        row = rows.filtered(lambda r: r.serial == used.serial_number)
        offline_row = rows.filtered(lambda r: r.serial == offline.serial_number)
        self.sim.certificates.revoke(used.serial_number)  # the first request, whose answer was lost
        row.action_revoke()
        self.assertEqual(row.status, "Revoked")
        self.assertFalse(used.active, "Odoo no longer uses a revoked certificate")
        # a certificate KSeF holds as expired (not revoked) is not said to be revoked: the refusal is shown
        self.sim.certificates.expire(offline.serial_number)
        with self.assertRaisesRegex(UserError, "already revoked, blocked or expired"):
            offline_row.action_revoke()
        self.assertTrue(offline.active)

    def test_limit_reached_says_what_to_do(self):
        limits = dict(self.sim.certificates.limits)
        self.addCleanup(setattr, self.sim.certificates, "limits", limits)
        self.sim.certificates.limits = dict(limits, Nip=(300, 0))  # no active certificate more
        wizard = self.open_wizard()
        with self.assertRaisesRegex(UserError, "limit of certificates") as caught:
            self.upload(wizard, self.sign(wizard))
        self.assertIn("Unieważnij nieużywane certyfikaty", str(caught.exception))
        self.assertFalse(self.company.l10n_pl_ksef_certificate_id)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefCertRenewal(CertWizardCommon):
    """30 days before a KSeF certificate expires, the daily job gets its successor by itself."""

    def setUp(self):
        super().setUp()
        with ksef_clock(MONDAY):
            wizard = self.open_wizard(include_offline=True)
            self.upload(wizard, self.sign(wizard))
        self.assertEqual(wizard.step, "done", wizard.result)
        self.old_auth = self.company.l10n_pl_ksef_certificate_id
        self.old_offline = self.company.l10n_pl_ksef_offline_certificate_id
        # the day the renewal is due: 29 days before the certificates expire
        self.due = self.old_auth.valid_to.replace(tzinfo=UTC) - datetime.timedelta(days=29)

    def renewal_todos(self, certificate):
        activity_type = self.env.ref("l10n_pl_ksef.mail_activity_type_certificate_renewal_failed")
        return certificate.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)

    def run_cron(self):
        self.env.invalidate_all()
        return self.env["l10n_pl_ksef.certificate"]._cron_l10n_pl_ksef_certificate_renewal()

    def test_not_renewed_before_30_days(self):
        with ksef_clock(self.due - datetime.timedelta(days=2)):
            self.assertEqual(self.run_cron(), [])
        self.company.invalidate_recordset()
        self.assertEqual(self.company.l10n_pl_ksef_certificate_id, self.old_auth)

    def test_renewed_30_days_before_expiry(self):
        with ksef_clock(self.due):
            # Odoo renews it: no expiry warning (which the certificates it cannot renew still get)
            self.env["l10n_pl_ksef.certificate"]._cron_l10n_pl_ksef_certificate_expiry()
            self.assertFalse(self.old_auth.activity_ids)
            results = self.run_cron()
            self.company.invalidate_recordset()
            new_auth = self.company.l10n_pl_ksef_certificate_id
            new_offline = self.company.l10n_pl_ksef_offline_certificate_id
            self.assertEqual({r["outcome"] for r in results}, {"done"}, results)
            self.assertNotEqual(new_auth, self.old_auth)
            self.assertNotEqual(new_offline, self.old_offline)
            self.assertEqual(new_auth.certificate_type, "Authentication")
            self.assertEqual(new_offline.certificate_type, "Offline")
            self.assertGreater(new_auth.valid_to, self.old_auth.valid_to)
            # the old ones are not revoked: the KOD II printed with the old Offline certificate stays verifiable
            for old in self.old_auth | self.old_offline:
                self.assertEqual(self.sim.certificates.certs[old.serial_number]["status"], "Active")
            self.assertTrue(self.old_offline.exists())
            # the successor logs in
            report = self.company._l10n_pl_ksef_check_connection()
            self.assertTrue(report["ok"], report.get("error"))
            self.assertFalse(self.old_auth.activity_ids, "nothing for the administrators to do")
            self.assertEqual(self.run_cron(), [], "renewed once")

    def test_failed_renewal_leaves_one_todo(self):
        self.sim.certificates.revoke(self.old_auth.serial_number)  # e.g. revoked in the KSeF application
        with ksef_clock(self.due):
            results = self.run_cron()
            failed = [r for r in results if r["certificate"] == self.old_auth.id]
            self.assertEqual(failed[0]["outcome"], "failed")
            self.assertIn("certificate", failed[0]["error"])
            todos = self.renewal_todos(self.old_auth)
            self.assertIn(self.admin, todos.user_id)
            self.assertEqual(len(todos), len(todos.user_id), "one to-do per administrator")
            self.assertIn("Get a KSeF certificate", todos[0].note)
            self.run_cron()  # the next day's run: no second to-do
            self.assertEqual(self.renewal_todos(self.old_auth), todos)

    def test_renewal_failed_before_sending_is_tried_again_next_day(self):
        self.sim.faults.error("/auth/*", status=503, count=None)  # KSeF unavailable on the due day
        with ksef_clock(self.due):
            results = self.run_cron()
            self.assertEqual({r["outcome"] for r in results}, {"failed"}, results)
            todos = self.renewal_todos(self.old_auth)
            self.assertEqual(len(todos), len(todos.user_id), "one to-do per administrator")
            self.assertIn(self.admin, todos.user_id)
        self.sim.faults.clear()
        with ksef_clock(self.due + datetime.timedelta(days=1)):
            results = self.run_cron()
            self.assertEqual({r["outcome"] for r in results}, {"done"}, results)
            self.company.invalidate_recordset()
            self.assertNotEqual(self.company.l10n_pl_ksef_certificate_id, self.old_auth)
            self.assertNotEqual(self.company.l10n_pl_ksef_offline_certificate_id, self.old_offline)
            self.assertFalse(self.renewal_todos(self.old_auth), "renewed: the failure's to-do is gone")
            self.assertFalse(self.renewal_todos(self.old_offline))

    def sending_request(self):
        """What a crash between sending the enrollment and keeping KSeF's answer leaves: a request being sent,
        with its key and its name."""
        request = (
            self.env["l10n_pl_ksef.cert.enrollment"]
            .sudo()
            .create(
                {
                    "company_id": self.company.id,
                    "purpose": "authentication",
                    "renewed_id": self.old_auth.id,
                    "state": "sending",
                    "certificate_name": "Odoo Authentication crash %s" % self.old_auth.id,
                }
            )
        )
        key = certissue.generate_key("ec")
        request._l10n_pl_ksef_set_key(key)
        return request, key

    def test_request_sent_before_a_crash_is_installed(self):
        self.addCleanup(setattr, self.sim.certificates, "processing_seconds", 5)
        self.sim.certificates.processing_seconds = 0
        request, key = self.sending_request()
        with request._l10n_pl_ksef_client() as client:  # KSeF took it; Odoo stopped before keeping the answer
            certissue.start_enrollment(client, key, "authentication", request.certificate_name)
        self.run_cron()
        self.assertEqual(request.state, "done", request.error)
        self.company.invalidate_recordset()
        self.assertEqual(self.company.l10n_pl_ksef_certificate_id, request.certificate_id)
        named = [c for c in self.sim.certificates.certs.values() if c["name"] == request.certificate_name]
        self.assertEqual(len(named), 1, "installed, not asked for again")
        self.assertEqual(named[0]["serial"], request.certificate_id.serial_number)

    def test_request_never_sent_fails_after_a_while(self):
        request, _key = self.sending_request()
        request._l10n_pl_ksef_recover()
        self.assertEqual(request.state, "sending", "KSeF may still be issuing it")
        request._l10n_pl_ksef_recover(now=fields.Datetime.now() + datetime.timedelta(hours=2))
        self.assertEqual(request.state, "failed", "so that a renewal starts again")
        self.assertIn("no certificate", request.error)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefTokenEndTodo(CertWizardCommon):
    def test_companies_on_a_token_get_a_todo_until_they_have_a_certificate(self):
        Certificate = self.env["l10n_pl_ksef.certificate"]
        activity_type = self.env.ref("l10n_pl_ksef.mail_activity_type_tokens_end")

        def todos():
            return self.company.partner_id.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)

        with ksef_clock(datetime.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)):  # more than 30 days before
            Certificate._cron_l10n_pl_ksef_certificate_renewal()
            self.assertFalse(todos())
        with ksef_clock(MONDAY):
            Certificate._cron_l10n_pl_ksef_certificate_renewal()
            Certificate._cron_l10n_pl_ksef_certificate_renewal()
            self.assertIn(self.admin, todos().user_id)
            self.assertEqual(len(todos()), len(todos().user_id), "one to-do per administrator, never two")
            self.assertNotIn(self.accountant, todos().user_id)
            self.assertIn("Get a KSeF certificate", todos()[0].note)
            wizard = self.open_wizard()
            self.upload(wizard, self.sign(wizard))
            self.assertFalse(todos(), "the company left its token: nothing more to do")
            # a company that uploads a certificate in Set up credentials instead: done at the next run
            self.connect_to_simulator()
            Certificate._cron_l10n_pl_ksef_certificate_renewal()
            self.assertTrue(todos())
            seal = self.signer()
            self.setup_wizard(
                auth_method="certificate", certificate_file=base64.b64encode(seal.to_pkcs12("pw")), password="pw"
            ).action_save_credentials()
            Certificate._cron_l10n_pl_ksef_certificate_renewal()
            self.assertFalse(todos())
