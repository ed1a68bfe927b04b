from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen

SECRET = "20251010-EC-1DCE3E3000-12ECB5B36E-45|nip-5265877635|" + "cd" * 32


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSecretOverRpc(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.l10n_pl_ksef_nip = "5265877635"
        cls.company._l10n_pl_ksef_set_token(SECRET)
        cls.accountant = new_test_user(
            cls.env,
            login="ksef_rpc_accountant",
            password="ksef_rpc_accountant!1",
            groups="account.group_account_manager",
        )
        credential = certgen.make_test_certificate(nip="5265877635", seal=True)
        cls.certificate = cls.env["l10n_pl_ksef.certificate"]._l10n_pl_ksef_create_from_credential(
            cls.company, credential, credential.info(), "authentication"
        )
        cls.named = cls.env["l10n_pl_ksef.user.token"]._l10n_pl_ksef_set(cls.accountant, cls.company, SECRET)

    def _call(self, model, method, args, kwargs=None):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [
                    self.env.cr.dbname,
                    self.accountant.id,
                    "ksef_rpc_accountant!1",
                    model,
                    method,
                    args,
                    kwargs or {},
                ],
            },
        }
        return self.url_open("/jsonrpc", json=payload).json()

    def test_accountant_reading_the_secret_over_rpc_gets_access_error(self):
        answer = self._call("res.company", "read", [[self.company.id], ["l10n_pl_ksef_token_encrypted"]])
        self.assertIn("error", answer)
        self.assertIn("AccessError", answer["error"]["data"]["name"])
        self.assertNotIn(SECRET, str(answer))

    def test_accountant_reading_all_company_fields_over_rpc_gets_no_secret(self):
        answer = self._call("res.company", "read", [[self.company.id]])
        self.assertNotIn("error", answer, answer.get("error"))
        record = answer["result"][0]
        self.assertNotIn("l10n_pl_ksef_token_encrypted", record)
        self.assertTrue(record["l10n_pl_ksef_token_set"])
        self.assertNotIn(SECRET.split("|")[2], str(answer))

    def test_accountant_reading_certificate_and_named_token_secrets_over_rpc_gets_access_error(self):
        for model, record_id, field in [
            ("l10n_pl_ksef.certificate", self.certificate.id, "data_encrypted"),
            ("l10n_pl_ksef.user.token", self.named.id, "token_encrypted"),
            ("l10n_pl_ksef.user.token", self.named.id, "session_state"),
            ("res.company", self.company.id, "l10n_pl_ksef_session_state"),
        ]:
            with self.subTest(model=model, field=field):
                answer = self._call(model, "read", [[record_id], [field]])
                self.assertIn("error", answer)
                self.assertIn("AccessError", answer["error"]["data"]["name"])
        # his own token record is visible (that it exists, its reference), never its value
        answer = self._call("l10n_pl_ksef.user.token", "search_read", [[]])
        self.assertNotIn("error", answer, answer.get("error"))
        self.assertEqual([r["id"] for r in answer["result"]], [self.named.id])
        self.assertNotIn(SECRET.split("|")[2], str(answer))
        self.assertNotIn("token_encrypted", answer["result"][0])
        answer = self._call("l10n_pl_ksef.certificate", "search_read", [[]])
        self.assertNotIn("error", answer, answer.get("error"))
        self.assertNotIn("data_encrypted", answer["result"][0])
