"""Access through the external API (JSON-2 with an API key, JSON-RPC with a password, the web client's
call_kw): no secret, no session token, nothing of another company, no sending nor import for it."""

import datetime

from odoo.tests import HttpCase, mute_logger, tagged

from .access_common import PASSWORDS, L10nPlKsefAccessCommon, readable_fields

ACCESS_ERROR = "odoo.exceptions.AccessError"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefAccessRpc(L10nPlKsefAccessCommon, HttpCase):
    def setUp(self):
        super().setUp()
        self.keys = {}
        for user in (self.clerk, self.outsider, self.accountant, self.portal):
            self.keys[user] = (
                self.env["res.users.apikeys"]
                .with_user(user)
                ._generate("rpc", "KSeF access test", datetime.datetime.now() + datetime.timedelta(days=1))
            )
        self.texts = self.secret_texts()

    # ------------------------------------------------------------------ the two transports

    def json2(self, user, model, method, ids=None, **kwargs):
        """``(error name or None, result, answer text)`` of POST /json/2/<model>/<method> with ``user``'s API
        key."""
        body = dict(kwargs, ids=ids) if ids is not None else kwargs
        response = self.url_open(
            "/json/2/%s/%s" % (model, method),
            json=body,
            headers={"Authorization": "bearer %s" % self.keys[user]},
        )
        if response.status_code == 200:
            return None, response.json(), response.text
        return response.json().get("name"), None, response.text

    def jsonrpc(self, user, model, method, ids=None, **kwargs):
        """``(error name or None, result, answer text)`` of /jsonrpc execute_kw with ``user``'s login and
        password."""
        login = user.login.removeprefix("ksef_")
        args = [self.env.cr.dbname, user.id, PASSWORDS[login], model, method, [ids] if ids is not None else [], kwargs]
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": "object", "method": "execute_kw", "args": args},
        }
        with mute_logger("odoo.addons.rpc.controllers.jsonrpc"):  # "deprecated in Odoo 19"
            answer = self.url_open("/jsonrpc", json=payload).json()
        if "error" in answer:
            return answer["error"]["data"]["name"], None, str(answer)
        return None, answer["result"], str(answer)

    def assertRefused(self, call, user, model, method, ids=None, **kwargs):
        with mute_logger("odoo.http"):  # the access error, logged as a warning
            error, _result, text = call(user, model, method, ids, **kwargs)
        self.assertEqual(error, ACCESS_ERROR, "%s.%s was allowed to %s: %s" % (model, method, user.login, text[:300]))
        self.assertNoSecretIn(text, self.texts)

    def assertAnswered(self, call, user, model, method, ids=None, **kwargs):
        error, result, text = call(user, model, method, ids, **kwargs)
        self.assertIsNone(error, text[:500])
        self.assertNoSecretIn(text, self.texts)
        return result

    # ------------------------------------------------------------------ the tests

    def test_no_secret_over_json2_or_jsonrpc(self):
        for call in (self.json2, self.jsonrpc):
            for user in (self.clerk, self.outsider, self.accountant, self.portal):
                for record, field in self.secret_records():
                    with self.subTest(call=call.__name__, user=user.login, model=record._name, field=field):
                        self.assertRefused(call, user, record._name, "read", record.ids, fields=[field])
                        self.assertRefused(
                            call, user, record._name, "search_read", domain=[("id", "=", record.id)], fields=[field]
                        )
                        self.assertRefused(call, user, record._name, "web_read", record.ids, specification={field: {}})
        # what may be read is read without a secret in it: the accountant's view of his company's KSeF data
        for call in (self.json2, self.jsonrpc):
            sessions = self.assertAnswered(call, self.accountant, "l10n_pl_ksef.session", "search_read", domain=[])
            self.assertIn(self.ksef_session.reference, [session["reference"] for session in sessions])
            self.assertNotIn("secret", sessions[0])
            company = self.assertAnswered(call, self.accountant, "res.company", "read", self.company.ids)
            self.assertTrue(company[0]["l10n_pl_ksef_token_set"])
            self.assertNotIn("l10n_pl_ksef_token_encrypted", company[0])
            document = self.assertAnswered(call, self.clerk, "l10n_pl_ksef.document", "read", self.document.ids)
            self.assertEqual(document[0]["ksef_number"], self.sent.l10n_pl_ksef_number)
            self.assertNotIn("upo_url", document[0])
            self.assertAnswered(
                call,
                self.clerk,
                "account.move",
                "read",
                self.sent.ids,
                # the invoice's KSeF fields (once Point of Sale is installed, a read of every field of an invoice over
                # JSON-2 fails on a field of another app, a value keyed by frozendict; the ORM test reads them all)
                fields=["name", "state"]
                + [name for name in readable_fields(self.env(user=self.clerk), "account.move") if "ksef" in name],
            )

    def test_other_companys_ksef_documents_are_not_found(self):
        documents = self.sent.l10n_pl_ksef_document_ids
        for call in (self.json2, self.jsonrpc):
            with self.subTest(call=call.__name__):
                for model, records in (
                    ("l10n_pl_ksef.document", documents),
                    ("l10n_pl_ksef.session", self.ksef_session),
                    ("account.move", self.sent),
                    ("ir.attachment", self.document.upo_attachment_id | self.closed_session.upo_attachment_id),
                ):
                    found = self.assertAnswered(
                        call, self.outsider, model, "search", domain=[("id", "in", records.ids)]
                    )
                    self.assertEqual(found, [])
                    self.assertRefused(call, self.outsider, model, "read", records.ids, fields=["display_name"])
                count = self.assertAnswered(
                    call, self.outsider, "l10n_pl_ksef.document", "search_count", domain=[("ksef_number", "!=", False)]
                )
                self.assertEqual(count, 0)
                # the same search finds them for the company's accountant
                found = self.assertAnswered(
                    call, self.accountant, "l10n_pl_ksef.document", "search", domain=[("id", "in", documents.ids)]
                )
                self.assertEqual(found, documents.ids)
                # a forged company in the context is refused, not obeyed
                self.assertRefused(
                    call,
                    self.outsider,
                    "l10n_pl_ksef.document",
                    "search_read",
                    domain=[],
                    fields=["ksef_number"],
                    context={"allowed_company_ids": [self.company.id]},
                )

    def test_sending_and_import_for_another_company_are_refused(self):
        move = self.invoice()
        self.set_receive_due()
        before = self.sim.request_count
        for call in (self.json2, self.jsonrpc):
            for context in ({}, {"allowed_company_ids": [self.company.id]}):
                with self.subTest(call=call.__name__, context=context):
                    for method in ("action_l10n_pl_ksef_send", "action_l10n_pl_ksef_check_status"):
                        self.assertRefused(call, self.outsider, "account.move", method, move.ids, context=context)
                    self.assertRefused(
                        call, self.outsider, "res.company", "action_l10n_pl_ksef_receive_now", self.company.ids
                    )
                    self.assertRefused(
                        call, self.clerk, "res.company", "action_l10n_pl_ksef_receive_now", self.company.ids
                    )
        self.env.invalidate_all()
        self.assertEqual(self.sim.request_count, before, "KSeF was called")
        self.assertFalse(move.l10n_pl_ksef_document_ids, "the invoice was queued")
        self.assertEqual(self.stored_numbers_of(move.name), [])
        # the same call by the company's own accountant sends it: the refusals were about the company
        self.assertAnswered(self.json2, self.accountant, "account.move", "action_l10n_pl_ksef_send", move.ids)
        self.env.invalidate_all()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertEqual(len(self.stored_numbers_of(move.name)), 1)

    def set_receive_due(self):
        state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self.company)
        state.next_attempt = False

    def test_web_client_call_kw_refuses_another_companys_invoice(self):
        move = self.invoice()
        before = self.sim.request_count
        self.authenticate(self.outsider.login, PASSWORDS["outsider"])
        forged = {"context": {"allowed_company_ids": [self.company.id]}}
        for model, method, args, kwargs in (
            ("account.move", "action_l10n_pl_ksef_send", [move.ids], {}),
            ("account.move", "action_l10n_pl_ksef_send", [move.ids], forged),
            ("l10n_pl_ksef.document", "web_read", [self.document.ids, {"ksef_number": {}}], {}),
            ("l10n_pl_ksef.session", "read", [self.ksef_session.ids, ["secret"]], {}),
        ):
            with self.subTest(method=method, kwargs=kwargs):
                with mute_logger("odoo.http"):
                    answer = self.url_open(
                        "/web/dataset/call_kw",
                        json={
                            "jsonrpc": "2.0",
                            "method": "call",
                            "params": {"model": model, "method": method, "args": args, "kwargs": kwargs},
                        },
                    ).json()
                self.assertEqual(answer.get("error", {}).get("data", {}).get("name"), ACCESS_ERROR, answer)
                self.assertNoSecretIn(answer, self.texts)
        self.env.invalidate_all()
        self.assertEqual(self.sim.request_count, before)
        self.assertFalse(move.l10n_pl_ksef_document_ids)
