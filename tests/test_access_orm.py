"""Access through the ORM: no secret, session token or other company's KSeF data for users who are no
Settings administrators of the company."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .access_common import L10nPlKsefAccessCommon, readable_fields

KSEF_MODELS = (
    "l10n_pl_ksef.document",
    "l10n_pl_ksef.session",
    "l10n_pl_ksef.certificate",
    "l10n_pl_ksef.user.token",
    "l10n_pl_ksef.token.state",
    "l10n_pl_ksef.receive.state",
    "l10n_pl_ksef.receive.failure",
    "l10n_pl_ksef.overview",
)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefAccessOrm(L10nPlKsefAccessCommon):
    def setUp(self):
        super().setUp()
        self.failure = (
            self.env["l10n_pl_ksef.receive.failure"]
            .sudo()
            .create({"company_id": self.company.id, "ksef_number": "%s-20261120-0123456789AB-7C" % "5265877635"})
        )
        self.receive_state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self.company)
        self.a_records = {
            "l10n_pl_ksef.document": self.sent.l10n_pl_ksef_document_ids | self.closed_session.document_ids,
            "l10n_pl_ksef.session": self.ksef_session | self.closed_session,
            "l10n_pl_ksef.certificate": self.certificate,
            "l10n_pl_ksef.user.token": self.named,
            "l10n_pl_ksef.token.state": self.token_state,
            "l10n_pl_ksef.receive.state": self.receive_state,
            "l10n_pl_ksef.receive.failure": self.failure,
            # the KSeF overview's row of company A (one row per company, its id the company's)
            "l10n_pl_ksef.overview": self.env["l10n_pl_ksef.overview"].browse(self.company.id),
        }
        self.upo_attachments = self.document.upo_attachment_id | self.closed_session.upo_attachment_id

    def assertSeesNothingOfA(self, user, ksef_only=False):
        """Nothing of company A is found or read by ``user``, whichever way he asks (``ksef_only``: its KSeF
        records)."""
        env = self.env(user=user)
        for model, records in self.a_records.items():
            with self.subTest(user=user.login, model=model):
                Model = env[model]
                try:
                    found = Model.search([("id", "in", records.ids)])
                except AccessError:
                    continue  # not even the model
                self.assertFalse(found)
                self.assertEqual(Model.search_count([("company_id", "=", self.company.id)]), 0)
                groups = Model.formatted_read_group([("id", "in", records.ids)], ["company_id"], ["__count"])
                self.assertFalse(groups, "grouping shows another company's records")
                if Model._rec_name or Model._rec_names_search:  # else nothing to search a name in
                    found = Model.name_search(records[:1].display_name or "", limit=100)
                    self.assertFalse({record_id for record_id, _name in found} & set(records.ids))
                with self.assertRaises(AccessError):
                    Model.browse(records.ids).read(["company_id"])
        if ksef_only:
            return
        moves = env["account.move"]
        self.assertFalse(moves.search([("l10n_pl_ksef_number", "=", self.sent.l10n_pl_ksef_number)]))
        self.assertFalse(
            moves.search([("l10n_pl_ksef_document_id", "in", self.a_records["l10n_pl_ksef.document"].ids)])
        )
        attachments = env["ir.attachment"]
        self.assertFalse(attachments.search([("id", "in", self.upo_attachments.ids)]))
        self.assertFalse(attachments.search([("res_model", "=", "l10n_pl_ksef.session")]))
        for attachment in self.upo_attachments:
            with self.assertRaises(AccessError):
                attachments.browse(attachment.id).read(["raw", "name"])
        messages = env["mail.message"].search([("model", "=", "account.move"), ("res_id", "=", self.sent.id)])
        self.assertFalse(messages, "another company's invoice messages are shown")
        with self.assertRaises(AccessError):
            env["res.company"].browse(self.company.id).read(["l10n_pl_ksef_token_set", "l10n_pl_ksef_nip"])

    # ------------------------------------------------------------------ the tests

    def test_invoicing_user_sees_his_invoices_state_but_no_secret(self):
        self.assertSecretsRefused(self.clerk)
        as_clerk = self.env(user=self.clerk)
        # what he needs: the invoice's KSeF number and state, the KSeF documents, that credentials exist
        document = as_clerk["l10n_pl_ksef.document"].browse(self.document.id)
        self.assertEqual(document.ksef_number, self.sent.l10n_pl_ksef_number)
        self.assertNoSecretIn(document.read())
        invoice = as_clerk["account.move"].browse(self.sent.id)
        self.assertNoSecretIn(invoice.read(readable_fields(as_clerk, "account.move")))
        company = as_clerk["res.company"].browse(self.company.id).read()
        self.assertTrue(company[0]["l10n_pl_ksef_token_set"])
        self.assertNoSecretIn(company)
        self.assertNoSecretIn(as_clerk["l10n_pl_ksef.certificate"].search_read([]))
        # not the sessions, the import state, the waiting list, nor the accountant's named token
        for model in ("l10n_pl_ksef.session", "l10n_pl_ksef.token.state", "l10n_pl_ksef.receive.state"):
            with self.assertRaises(AccessError):
                as_clerk[model].search([])
        self.assertFalse(as_clerk["l10n_pl_ksef.user.token"].search([]), "a colleague's named token is shown")
        with self.assertRaises(AccessError):
            as_clerk["ir.attachment"].browse(self.closed_session.upo_attachment_id.id).read(["raw"])

    def test_portal_user_gets_nothing_of_ksef(self):
        self.sent.message_subscribe(self.portal.partner_id.ids)
        self.assertSecretsRefused(self.portal)
        as_portal = self.env(user=self.portal)
        for model in KSEF_MODELS:
            with self.subTest(model=model), self.assertRaises(AccessError):
                as_portal[model].search([])
        # his own invoice he sees, with its KSeF number (printed on it anyway), nothing more
        invoice = as_portal["account.move"].browse(self.sent.id)
        self.assertEqual(invoice.l10n_pl_ksef_number, self.sent.l10n_pl_ksef_number)
        self.assertNoSecretIn(invoice.read(["name", "l10n_pl_ksef_number", "l10n_pl_ksef_state"]))
        with self.assertRaises(AccessError):
            invoice.l10n_pl_ksef_document_id.read(["xml"])
        with self.assertRaises(AccessError):
            as_portal["ir.attachment"].browse(self.closed_session.upo_attachment_id.id).read(["raw"])
        with self.assertRaises(AccessError):
            as_portal["res.company"].browse(self.company.id).read(["l10n_pl_ksef_token_encrypted"])

    def test_accountant_of_another_company_finds_nothing(self):
        self.assertSecretsRefused(self.outsider)
        self.assertSeesNothingOfA(self.outsider)
        # the same searches find his own company's records: only company A's are hidden from him
        own_state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self.other)
        self.assertEqual(self.env(user=self.outsider)["l10n_pl_ksef.receive.state"].search([]), own_state)
        own_document = (
            self.env["l10n_pl_ksef.document"]
            .sudo()
            .create({"move_id": self.other_invoice().id, "company_id": self.other.id, "state": "accepted"})
        )
        self.assertEqual(self.env(user=self.outsider)["l10n_pl_ksef.document"].search([]), own_document)
        # naming company A in the context is refused, not obeyed
        for context in (
            {"allowed_company_ids": [self.company.id]},
            {"allowed_company_ids": [self.other.id, self.company.id]},
        ):
            with self.subTest(context=context), self.assertRaises(AccessError):
                self.env(user=self.outsider, context=context)["l10n_pl_ksef.document"].search([])

    def test_accountant_of_the_company_sees_its_documents_and_sessions_but_no_secret(self):
        self.assertSecretsRefused(self.accountant)
        as_accountant = self.env(user=self.accountant)
        documents = as_accountant["l10n_pl_ksef.document"].search([("company_id", "=", self.company.id)])
        self.assertEqual(documents, self.a_records["l10n_pl_ksef.document"])
        sessions = as_accountant["l10n_pl_ksef.session"].search([])
        self.assertEqual(sessions, self.ksef_session | self.closed_session)
        self.assertNotIn("secret", sessions.read()[0])
        self.assertNoSecretIn(sessions.read())
        self.assertNoSecretIn(documents.read())
        exported = sessions.export_data(["reference", "state", "document_ids/ksef_number"])
        self.assertIn(self.ksef_session.reference, str(exported))
        self.assertNoSecretIn(exported)
        self.assertEqual(
            as_accountant["ir.attachment"].browse(self.closed_session.upo_attachment_id.id).raw[:5], b"<?xml"
        )
        # his own named token: that it exists and its reference, never its value
        named = as_accountant["l10n_pl_ksef.user.token"].search([])
        self.assertEqual(named, self.named)
        found = as_accountant["l10n_pl_ksef.user.token"].name_search(self.named.reference)
        self.assertEqual([record_id for record_id, _name in found], self.named.ids)
        self.assertEqual(named.search([("name", "ilike", self.accountant.name)]), self.named, "the list's search box")
        self.assertNoSecretIn(named.read())
        # another company's KSeF data stays hidden from him too
        b_document = (
            self.env["l10n_pl_ksef.document"]
            .sudo()
            .create({"move_id": self.other_invoice().id, "company_id": self.other.id, "state": "accepted"})
        )
        self.assertFalse(as_accountant["l10n_pl_ksef.document"].search([("id", "=", b_document.id)]))
        with self.assertRaises(AccessError):
            as_accountant["l10n_pl_ksef.document"].browse(b_document.id).read(["ksef_number"])

    def test_administrator_of_another_company_sees_no_ksef_record_of_it(self):
        """A Settings administrator of company B only: company A's KSeF records stay out of his lists (the
        values are encrypted anyway; the key never leaves the server)."""
        admin_b = self.outsider.copy({"login": "ksef_admin_b", "company_id": self.other.id})
        admin_b.write(
            {"company_ids": [(6, 0, self.other.ids)], "group_ids": [(4, self.env.ref("base.group_system").id)]}
        )
        self.assertSeesNothingOfA(admin_b, ksef_only=True)
        # his own company's records he does see
        own = self.env["l10n_pl_ksef.token.state"]._l10n_pl_ksef_for(self.other)
        self.assertEqual(self.env(user=admin_b)["l10n_pl_ksef.token.state"].search([]), own)
