"""Shared set-up of the access tests: company A sends to the simulator, company B is another KSeF company.

Users: ``accountant`` (accounting manager of A, from the common set-up), ``clerk`` (plain invoicing user of A),
``portal`` (the portal user of A's customer) and ``outsider`` (accounting manager and invoicing user of B only).
"""

import json

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import new_test_user

from odoo.addons.l10n_pl_ksef.ksef_core import certgen
from odoo.addons.l10n_pl_ksef.ksef_core.client import TokenState

from .common import OTHER_NIP, TEST_NIP
from .fa3_common import ISSUED
from .send_common import L10nPlKsefSendCommon

#: (model, field) of every value kept secret: only the server reads it (Settings administrators see ciphertext)
SECRET_FIELDS = [
    ("res.company", "l10n_pl_ksef_token_encrypted"),
    ("res.company", "l10n_pl_ksef_session_state"),
    ("l10n_pl_ksef.token.state", "state"),
    ("l10n_pl_ksef.session", "secret"),
    ("l10n_pl_ksef.certificate", "data_encrypted"),
    ("l10n_pl_ksef.user.token", "token_encrypted"),
    ("l10n_pl_ksef.user.token", "session_state"),
    ("l10n_pl_ksef.document", "upo_url"),
]
PASSWORDS = {
    "clerk": "ksef_clerk!Pass1",
    "portal": "ksef_portal!Pass1",
    "outsider": "ksef_outsider!Pass1",
    "accountant": "ksef_accountant!Pass1",
}


def readable_fields(env, model):
    """The fields of ``model`` whose records ``env``'s user may read: all but those of other apps' models he has
    no right to (with Point of Sale installed, Odoo itself refuses an invoicing user a ``read()`` of every field
    of an invoice, for its ``pos_order_ids``); the addon's own fields are all in."""
    names = []
    for name in env[model].fields_get(attributes=()):  # what read() reads by default
        field = env[model]._fields[name]
        if field.comodel_name and not env[field.comodel_name].has_access("read"):
            if name.startswith("l10n_pl_ksef"):
                raise AssertionError("%s.%s cannot be read by %s" % (model, name, env.user.login))
            continue
        names.append(name)
    return names


class L10nPlKsefAccessCommon(L10nPlKsefSendCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        data = cls.setup_other_company(name="Obca Spółka S.A.")
        cls.other = data["company"]
        cls.other_data = data
        cls.other.write(
            {
                "country_id": cls.env.ref("base.pl").id,
                "account_fiscal_country_id": cls.env.ref("base.pl").id,
                "vat": "PL%s" % OTHER_NIP,
                "l10n_pl_ksef_active": True,
                "l10n_pl_ksef_send_mode": "manual",
                "l10n_pl_ksef_receive": True,
                "l10n_pl_ksef_receive_journal_id": data["default_journal_purchase"].id,
            }
        )
        cls.company.write(
            {
                "l10n_pl_ksef_receive": True,
                "l10n_pl_ksef_receive_journal_id": cls.company_data["default_journal_purchase"].id,
            }
        )
        cls.accountant.password = PASSWORDS["accountant"]
        cls.clerk = new_test_user(
            cls.env,
            login="ksef_clerk",
            password=PASSWORDS["clerk"],
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        # A's customer has a portal account: the invoices of his company are his to see, nothing of KSeF's
        contact = cls.env["res.partner"].create({"name": "Portal contact", "parent_id": cls.buyer_pl.id})
        cls.portal = new_test_user(
            cls.env,
            login="ksef_portal",
            password=PASSWORDS["portal"],
            groups="base.group_portal",
            partner_id=contact.id,
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.outsider = new_test_user(
            cls.env,
            login="ksef_outsider",
            password=PASSWORDS["outsider"],
            groups="account.group_account_manager",
            company_id=cls.other.id,
            company_ids=[cls.other.id],
        )
        cls.outsider.write({"group_ids": [Command.link(cls.env.ref("account.group_account_invoice").id)]})
        # they may export what they see (the export is the widest read there is)
        export = cls.env.ref("base.group_allow_export")
        (cls.clerk | cls.outsider | cls.accountant).write({"group_ids": [Command.link(export.id)]})
        cls.env.user.company_ids |= cls.other

    def setUp(self):
        super().setUp()  # A's KSeF token, saved through the set-up wizard
        self.other_token = self.sim.mint_token(OTHER_NIP, ("InvoiceWrite", "InvoiceRead"))
        self.setup_wizard(company=self.other, auth_method="token", token=self.other_token).action_save_credentials()
        # A's other credentials: a certificate and the accountant's named token
        credential = certgen.make_test_certificate(nip=TEST_NIP, seal=True)
        self.key_pem = credential.private_key_pem().decode()
        self.certificate = self.env["l10n_pl_ksef.certificate"]._l10n_pl_ksef_create_from_credential(
            self.company, credential, credential.info(), "authentication"
        )
        self.named_token = self.sim.mint_token(TEST_NIP, ("InvoiceWrite",))
        self.named = self.env["l10n_pl_ksef.user.token"]._l10n_pl_ksef_set(
            self.accountant, self.company, self.named_token
        )
        self.named._l10n_pl_ksef_store_session_state(TokenState("named-access-jwt", None, "named-refresh-jwt", None))
        # A's invoices accepted by KSeF with their UPO: one in a closed session (with the session's UPO), one in
        # the session still open (its AES key kept, encrypted)
        first = self.invoice()
        first.action_l10n_pl_ksef_send()
        self.closed_session = first.l10n_pl_ksef_document_id.session_id
        self.close_idle_sessions()
        self.assertTrue(self.closed_session.upo_attachment_id, "the session's UPO is kept")
        self.sent = self.invoice()
        self.sent.action_l10n_pl_ksef_send()
        self.assertEqual(self.sent.l10n_pl_ksef_state, "accepted", self.sent.l10n_pl_ksef_document_id.reason)
        self.document = self.sent.l10n_pl_ksef_document_id
        self.ksef_session = self.document.session_id
        self.assertNotEqual(self.ksef_session, self.closed_session)
        self.assertTrue(self.document.upo_attachment_id and self.document.sudo().upo_url)
        self.token_state = self.env["l10n_pl_ksef.token.state"]._l10n_pl_ksef_for(self.company)
        self.env.flush_all()

    # ------------------------------------------------------------------ helpers

    def other_invoice(self):
        """A posted customer invoice of company B."""
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "company_id": self.other.id,
                "journal_id": self.other_data["default_journal_sale"].id,
                "partner_id": self.buyer_pl.id,
                "invoice_date": ISSUED,
                "invoice_line_ids": [Command.create({"name": "Usługa", "price_unit": 100.0, "tax_ids": []})],
            }
        )
        move.with_context(l10n_pl_ksef_skip_fa3_check=True).action_post()  # it is never sent: refused before
        return move

    def secret_records(self):
        """``[(record (sudo), field)]`` of company A's secrets stored by the set-up."""
        holders = {
            "res.company": self.company,
            "l10n_pl_ksef.token.state": self.token_state,
            "l10n_pl_ksef.session": self.ksef_session,
            "l10n_pl_ksef.certificate": self.certificate,
            "l10n_pl_ksef.user.token": self.named,
            "l10n_pl_ksef.document": self.document,
        }
        self.env.invalidate_all()
        pairs = [(holders[model].sudo(), field) for model, field in SECRET_FIELDS]
        for record, field in pairs:
            self.assertTrue(record[field], "nothing in %s.%s: the check would prove nothing" % (record._name, field))
        return pairs

    def secret_texts(self):
        """Every secret of company A in clear and as stored (a user must never get any of them)."""
        state = self.company._l10n_pl_ksef_load_session_state()
        online = self.ksef_session._l10n_pl_ksef_client_session()
        texts = {
            self.token,
            self.token.split("|")[2],
            self.named_token.split("|")[2],
            state.access_token,
            state.refresh_token,
            json.loads(json.dumps(online.to_dict()))["key"],
            self.key_pem.splitlines()[1],
            self.document.sudo().upo_url,
        }
        texts |= {record[field] for record, field in self.secret_records()}
        self.assertTrue(all(texts), "a secret is missing: the check would prove nothing")
        return texts

    def assertNoSecretIn(self, value, texts=None):
        shown = str(value)
        for text in texts or self.secret_texts():
            self.assertFalse(text in shown, "a KSeF secret was given to a user: ...%s..." % text[:6])

    def assertSecretsRefused(self, user):
        """``user`` gets an access error for every secret field of company A, by every ORM way of reading it,
        and does not even see that the field exists."""
        for record, field in self.secret_records():
            Model = self.env[record._name].with_user(user)
            mine = record.with_user(user)
            with self.subTest(user=user.login, model=record._name, field=field):
                self.assertFalse(field in Model.fields_get(), "the field is shown to the user")
                with self.assertRaises(AccessError, msg="read"):
                    mine.read([field])
                with self.assertRaises(AccessError, msg="search_read"):
                    Model.search_read([("id", "=", record.id)], [field])
                with self.assertRaises(AccessError, msg="web_read"):
                    mine.web_read({field: {}})
                exporter = user.has_group("base.group_allow_export")
                with self.assertRaises(AccessError if exporter else UserError, msg="export_data"):
                    mine.export_data([field])
                with self.assertRaises(AccessError, msg="search on the secret (an oracle)"):
                    Model.search([(field, "=like", record[field][:8] + "%")])
                with self.assertRaises(AccessError, msg="group by the secret"):
                    Model.formatted_read_group([], [field], ["__count"])
                mine.invalidate_recordset()
                with self.assertRaises(AccessError, msg="attribute"):
                    self.assertFalse(mine[field], "a secret read")
