"""Nothing secret in the logs, with every logger at DEBUG, during a full send and a full import."""

import base64
import contextlib
import logging
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen
from odoo.addons.l10n_pl_ksef.ksef_core.client import SyncState, batch, online, receiving, sync
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_incoming

from .common import TEST_NIP, b64
from .send_common import L10nPlKsefSendCommon
from .test_access_actions import supplier_invoice


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.records = []

    def emit(self, record):
        self.records.append((record.levelno, record.name, self.format(record)))

    @property
    def text(self):
        return "\n".join(line for _level, _name, line in self.records)


@contextlib.contextmanager
def everything_at_debug():
    """Every logger at DEBUG (Odoo's SQL, urllib3, requests, werkzeug...), all of it captured, none printed."""
    manager = logging.root.manager
    loggers = [logging.root] + [logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    saved = [(logger, logger.level, logger.handlers[:], logger.disabled) for logger in loggers]
    saved_disable = manager.disable
    capture = _Capture()
    logging.disable(logging.NOTSET)
    for logger in loggers:
        logger.handlers = []
        logger.disabled = False
        logger.setLevel(logging.NOTSET)
    logging.root.setLevel(logging.DEBUG)
    logging.root.addHandler(capture)
    try:
        yield capture
    finally:
        for logger, level, handlers, disabled in saved:
            logger.handlers = handlers
            logger.disabled = disabled
            logger.setLevel(level)
        logging.disable(saved_disable)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefAccessLogs(L10nPlKsefSendCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.purchase_tax(cls.company, "23")
        cls.company.write(
            {
                "l10n_pl_ksef_receive": True,
                "l10n_pl_ksef_receive_journal_id": cls.company_data["default_journal_purchase"].id,
            }
        )

    def setUp(self):
        super().setUp()
        # every secret made during the run: the simulator's bearer tokens, the AES keys of the client
        self.bearers, self.aes_keys = [], []
        issue = self.sim.auth._issue

        def recording_issue(*args, **kwargs):
            token, until = issue(*args, **kwargs)
            self.bearers.append(token)
            return token, until

        self.enterContext(patch.object(self.sim.auth, "_issue", recording_issue))
        make_key = online.new_symmetric_key

        def recording_key():
            key, iv = make_key()
            self.aes_keys.append(key)
            return key, iv

        for module in (online, batch, sync, receiving):
            self.enterContext(patch.object(module, "new_symmetric_key", recording_key))

    def full_send_and_import(self, **credentials):
        """Save credentials, send an invoice until KSeF accepts it and its UPOs are kept, import a bill."""
        self.setup_wizard(**credentials).action_save_credentials()
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted", move.l10n_pl_ksef_document_id.reason)
        session = move.l10n_pl_ksef_document_id.session_id
        self.close_idle_sessions()
        self.assertTrue(move.l10n_pl_ksef_document_id.upo_attachment_id and session.upo_attachment_id)
        state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self.company)
        state.write({"sync_state": SyncState("Subject2", self.sim.clock.now().isoformat()).to_dict()})
        number = seed_incoming(self.sim, supplier_invoice(TEST_NIP, "FV/LOG/%s" % move.id))
        self.company.action_l10n_pl_ksef_receive_now()
        self.assertTrue(self.env["account.move"].search([("l10n_pl_ksef_number", "=", number)]), state.last_result)
        self.env.flush_all()

    def assertNoSecretLogged(self, capture, secrets, stored):
        text = capture.text
        # the capture worked: the whole run is there, SQL and HTTP included
        self.assertGreater(len(capture.records), 200)
        for expected in (
            "DEBUG odoo.sql_db: ",  # every query with its parameters
            "DEBUG urllib3.connectionpool: ",  # every HTTP request, with its full address
            "/v2/auth/challenge",
            "POST /v2/sessions/online/",  # the invoice sent
            "/_storage/upo/",  # its UPO downloaded
            "POST /v2/invoices/exports",  # the import
            "/_storage/export/",
        ):
            self.assertIn(expected, text)
        # ... and what was stored was logged: the ciphertext of the credentials, as written to the database
        self.assertTrue(stored)
        self.assertIn(stored, text)
        self.assertTrue(self.bearers and self.aes_keys, "no token or key was made: nothing was checked")
        secrets = set(secrets)
        secrets.update(self.bearers)
        for key in self.aes_keys:
            secrets.update({base64.b64encode(key).decode(), key.hex()})
        secrets.update(self.env["l10n_pl_ksef.secret.mixin"]._l10n_pl_ksef_encryption_key())
        for secret in secrets:
            self.assertTrue(secret and len(secret) >= 8)
            leaks = [name for _level, name, line in capture.records if secret in line]
            self.assertFalse(
                leaks, "a KSeF secret (...%s...) is in the log of %s" % (secret[:6], ", ".join(set(leaks)))
            )
        self.assertNotIn("Bearer ", text)
        # the pre-signed download / upload addresses: urllib3 logs their path, never their signature
        requests_lines = [line for _level, name, line in capture.records if name.startswith("urllib3")]
        self.assertFalse([line for line in requests_lines if "sig=" in line])
        self.assertTrue([line for line in requests_lines if "/_storage/" in line and "(signature removed)" in line])
        self.assertFalse(
            [line for level, _name, line in capture.records if level >= logging.ERROR], "the run logged errors"
        )

    def test_no_secret_logged_with_token(self):
        token = self.sim.mint_token(TEST_NIP, ("InvoiceWrite", "InvoiceRead"))
        with everything_at_debug() as capture:
            self.full_send_and_import(auth_method="token", token=token)
        stored = self.company._l10n_pl_ksef_load_session_state()
        secrets = [token, token.split("|")[2], stored.access_token, stored.refresh_token]
        self.assertNoSecretLogged(capture, secrets, self.company.sudo().l10n_pl_ksef_token_encrypted)

    def test_no_secret_logged_with_certificate(self):
        credential = certgen.make_test_certificate(nip=TEST_NIP, key_type="rsa")
        password = "pem key pass phrase 7"
        key_pem = credential.private_key_pem(password).decode()
        plain_key = credential.private_key_pem().decode()
        with everything_at_debug() as capture:
            self.full_send_and_import(
                auth_method="certificate",
                certificate_file=b64(credential.certificate_pem()),
                key_file=b64(key_pem.encode()),
                password=password,
            )
        self.assertEqual(self.company.l10n_pl_ksef_auth_method, "certificate")
        key_lines = [line for pem in (key_pem, plain_key) for line in pem.splitlines() if len(line) > 40]
        stored = self.company._l10n_pl_ksef_load_session_state()
        secrets = [password, b64(key_pem.encode())[:64], *key_lines, stored.access_token, stored.refresh_token]
        self.assertNoSecretLogged(capture, secrets, self.company.l10n_pl_ksef_certificate_id.sudo().data_encrypted)
