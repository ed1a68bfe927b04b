"""Who posts interactively, over HTTP: the web client's buttons by a user at the screen are told what to fix;
the external API (JSON-RPC, JSON-2) is a program, whose post must not break: the invoice is held instead."""

import datetime

from odoo.tests import HttpCase, mute_logger, tagged

from .send_common import L10nPlKsefSendCommon

PASSWORD = "ksef_accountant!Pass1"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefHoldRpc(L10nPlKsefSendCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant.password = PASSWORD

    def setUp(self):
        super().setUp()
        # a Tax ID typed where Odoo's own VAT check is not installed: the FA(3) would be refused
        self.env.cr.execute("UPDATE res_partner SET vat = 'PL1234567890' WHERE id = %s", [self.buyer_pl.id])
        self.buyer_pl.invalidate_recordset(["vat"])
        self.move = self.invoice(post=False)

    def assertHeld(self, answer):
        self.env.invalidate_all()
        self.assertEqual(self.move.state, "posted", "the program's post does not fail: %s" % answer)
        self.assertIn("'PL1234567890'", self.move.l10n_pl_ksef_hold)
        self.assertFalse(self.move.l10n_pl_ksef_document_id)

    def test_a_post_over_jsonrpc_holds_the_invoice(self):
        args = [self.env.cr.dbname, self.accountant.id, PASSWORD, "account.move", "action_post", [self.move.ids], {}]
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": "object", "method": "execute_kw", "args": args},
        }
        with mute_logger("odoo.addons.rpc.controllers.jsonrpc", "odoo.http"):  # "deprecated in Odoo 19"
            answer = self.url_open("/jsonrpc", json=payload).json()
        self.assertNotIn("error", answer, answer)
        self.assertHeld(answer)

    def test_a_post_over_json2_holds_the_invoice(self):
        key = (
            self.env["res.users.apikeys"]
            .with_user(self.accountant)
            ._generate("rpc", "KSeF hold test", datetime.datetime.now() + datetime.timedelta(days=1))
        )
        with mute_logger("odoo.http"):
            response = self.url_open(
                "/json/2/account.move/action_post",
                json={"ids": self.move.ids},
                headers={"Authorization": "bearer %s" % key},
            )
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertHeld(response.text)

    def test_confirm_in_the_web_client_is_refused_with_the_problems(self):
        self.authenticate(self.accountant.login, PASSWORD)
        with mute_logger("odoo.http"):
            answer = self.url_open(
                "/web/dataset/call_button/account.move/action_post",
                json={
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {"model": "account.move", "method": "action_post", "args": [self.move.ids], "kwargs": {}},
                },
            ).json()
        error = answer.get("error", {}).get("data", {})
        self.assertEqual(error.get("name"), "odoo.exceptions.UserError", answer)
        self.assertIn("'PL1234567890'", error.get("message", ""))
        self.env.invalidate_all()
        self.assertEqual(self.move.state, "draft")
        self.assertFalse(self.move.l10n_pl_ksef_hold)
