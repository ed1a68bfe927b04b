"""Accounting offices: the KSeF overview of many companies, and the KSeF columns and filters of the bills list."""

import datetime

from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tools.misc import format_date
from odoo.tools.safe_eval import safe_eval

from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number
from odoo.addons.l10n_pl_ksef.models.l10n_pl_ksef_overview import TOKEN_LAST_DAY

from .common import OTHER_NIP
from .fa3_common import L10nPlKsefFa3Common
from .send_common import L10nPlKsefSendCommon


def valid_nip(index):
    """A valid NIP of its own for each ``index`` (the checksum of art. 3 of the NIP regulation)."""
    index = 100 * index
    while True:
        digits = [int(c) for c in "%09d" % (123450000 + index)]
        check = sum(w * d for w, d in zip((6, 5, 7, 2, 3, 4, 5, 6, 7), digits, strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)
        index += 1


#: the fields the overview's list reads (its columns), as the web client asks for them
LIST_SPEC = {
    "company_id": {"fields": {"display_name": {}}},
    "ksef_active": {},
    "receive_enabled": {},
    "has_problem": {},
    "environment": {},
    "auth_method": {},
    "credential_missing": {},
    "credential_valid_to": {},
    "credential": {},
    "token_ending": {},
    "to_send_count": {},
    "processing_count": {},
    "rejected_count": {},
    "offline_count": {},
    "offline_overdue_count": {},
    "last_import": {},
    "import_outcome": {},
    "waiting_count": {},
    "last_error": {},
    "last_error_date": {},
}


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefOverview(L10nPlKsefSendCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        cls.company_b = Company.create(
            {"name": "Biuro Klient B sp. z o.o.", "l10n_pl_ksef_auth_method": "certificate", "vat": valid_nip(1)}
        )
        cls.company_c = Company.create({"name": "Klient C (not the accountant's)", "vat": valid_nip(2)})
        cls.office = new_test_user(
            cls.env,
            login="ksef_office",
            groups="account.group_account_manager,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id, cls.company_b.id],
        )
        cls.Overview = cls.env["l10n_pl_ksef.overview"]

    def office_env(self, companies=None):
        companies = companies or (self.company | self.company_b)
        return self.Overview.with_user(self.office).with_context(allowed_company_ids=companies.ids)

    def row(self, company):
        self.Overview.invalidate_model()  # read afresh, as the list does at each load
        return self.Overview.search([("company_id", "=", company.id)])

    def queued(self, count=1):
        moves = self.invoices(count)
        documents, problems = moves._l10n_pl_ksef_queue()
        self.assertFalse(problems)
        return documents.sorted("id")

    # ------------------------------------------------------------------ what a row says

    def test_row_counts_the_companys_documents_as_the_accountant_sees_them(self):
        waiting, processing, rejected, overdue, offline, fixed = self.queued(6)
        processing.sudo().write({"state": "processing"})
        rejected.sudo().write(
            {"state": "rejected", "reason_en": "Wrong NIP of the buyer", "reason_pl": "Błędny NIP nabywcy"}
        )
        overdue.sudo().write({"invoicing_mode": "offline24", "offline_deadline": datetime.date(2000, 1, 3)})
        offline.sudo().write({"invoicing_mode": "offline", "offline_deadline": datetime.date(2999, 12, 31)})
        # rejected once, then sent again and accepted: nothing left to do
        fixed.sudo().write({"state": "rejected", "reason_en": "Old rejection"})
        self.env.flush_all()
        self.Document.sudo().create({"move_id": fixed.move_id.id, "company_id": self.company.id, "state": "accepted"})
        self.assertEqual(waiting.state, "to_send")
        row = self.row(self.company)
        self.assertEqual(row.to_send_count, 3, "the queued one and the two issued offline")
        self.assertEqual(row.processing_count, 1)
        self.assertEqual(row.rejected_count, 1, "an invoice rejected and then accepted is not counted")
        self.assertEqual(row.offline_count, 2)
        self.assertEqual(row.offline_overdue_count, 1, "only the one past its deadline")
        self.assertTrue(row.has_problem)
        self.assertEqual(row.last_error, "Wrong NIP of the buyer")
        self.env["res.lang"]._activate_lang("pl_PL")
        self.assertEqual(row.with_context(lang="pl_PL").last_error, "Błędny NIP nabywcy")
        # the token the company logs in with works until the end of 2026
        self.assertEqual(row.auth_method, "token")
        self.assertFalse(row.credential_missing)
        self.assertEqual(row.credential_valid_to, TOKEN_LAST_DAY)
        self.assertTrue(row.token_ending)
        self.assertEqual(row.credential, "KSeF token, until %s" % format_date(self.env, TOKEN_LAST_DAY))
        # the filters of the list find it
        self.assertIn(row, self.Overview.search([("rejected_count", ">", 0)]))
        self.assertIn(row, self.Overview.search([("has_problem", "=", True)]))
        self.assertIn(row, self.Overview.search([("token_ending", "=", True)]))

    def test_row_tells_the_import_and_its_invoices_waiting(self):
        state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self.company)
        now = datetime.datetime.now().replace(microsecond=0)
        state.sudo().write(
            {"last_run": now, "outcome": "error", "last_result": "KSeF refused the token: generate a new one."}
        )
        Failure = self.env["l10n_pl_ksef.receive.failure"].sudo()
        here = self.company._l10n_pl_ksef_endpoint()
        Failure.create({"company_id": self.company.id, "ksef_number": "N-1", "endpoint": here, "reason": "x"})
        Failure.create({"company_id": self.company.id, "ksef_number": "N-2", "endpoint": False, "reason": "x"})
        # invoices waiting in another KSeF (kept for a switch back) and a dropped one are not counted
        Failure.create({"company_id": self.company.id, "ksef_number": "N-3", "endpoint": "TEST||1111111111"})
        Failure.create({"company_id": self.company.id, "ksef_number": "N-4", "endpoint": here, "active": False})
        row = self.row(self.company)
        self.assertEqual(row.waiting_count, 2)
        self.assertEqual(row.last_import, now)
        self.assertEqual(row.import_outcome, "error")
        self.assertEqual(row.last_error, "Import: KSeF refused the token: generate a new one.")
        self.assertTrue(row.has_problem)
        # a rejection after the failed import is the last error
        (document,) = self.queued()
        document.sudo().write({"state": "rejected", "reason_en": "Duplicate invoice number"})
        state.sudo().write({"last_run": now - datetime.timedelta(days=1)})
        self.assertEqual(self.row(self.company).last_error, "Duplicate invoice number")

    def test_waiting_invoices_are_those_of_the_ksef_the_company_uses_now(self):
        """The view finds the company's current KSeF as ``_l10n_pl_ksef_endpoint`` makes it, whatever the
        NIP's spelling."""
        Failure = self.env["l10n_pl_ksef.receive.failure"].sudo()
        company = self.company_b.sudo()
        for index, values in enumerate(
            [
                {"l10n_pl_ksef_environment": "test", "l10n_pl_ksef_nip": "526-587-76-35"},
                {
                    "l10n_pl_ksef_environment": "custom",
                    "l10n_pl_ksef_custom_url": "http://x/v2",
                    "l10n_pl_ksef_nip": "pl 526.587.76.35",
                },
                {
                    "l10n_pl_ksef_environment": "prod",
                    "l10n_pl_ksef_custom_url": "http://ignored/v2",
                    "l10n_pl_ksef_nip": "PL5265877635",
                },
            ]
        ):
            company.write(values)
            Failure.create(
                {"company_id": company.id, "ksef_number": "W-%s" % index, "endpoint": company._l10n_pl_ksef_endpoint()}
            )
            self.assertEqual(self.row(company).waiting_count, 1, values)
            Failure.search([("company_id", "=", company.id)]).write({"active": False})

    def test_certificate_company_shows_its_validity_and_a_missing_credential(self):
        self.company_b.l10n_pl_ksef_active = False
        row = self.row(self.company_b)
        self.assertFalse(row.credential_missing, "KSeF is off: nothing is missing")
        self.assertFalse(row.has_problem)
        self.company_b.sudo().l10n_pl_ksef_active = True
        row = self.row(self.company_b)
        self.assertTrue(row.credential_missing, "no authentication certificate")
        self.assertEqual(row.credential, "Certificate: missing")
        self.assertFalse(row.credential_valid_to)
        self.assertTrue(row.has_problem)
        self.assertFalse(row.token_ending)
        valid_to = datetime.datetime(2028, 3, 1, 12, 0)
        self.env["l10n_pl_ksef.certificate"].sudo().create(
            {"company_id": self.company_b.id, "purpose": "authentication", "valid_to": valid_to}
        )
        self.env["l10n_pl_ksef.certificate"].sudo().create(
            {"company_id": self.company_b.id, "purpose": "offline", "valid_to": datetime.datetime(2030, 1, 1)}
        )
        row = self.row(self.company_b)
        self.assertFalse(row.credential_missing)
        self.assertEqual(row.credential_valid_to, valid_to.date())
        self.assertEqual(row.credential, "Certificate, until %s" % format_date(self.env, valid_to.date()))
        self.assertFalse(row.token_ending)

    def test_no_secret_in_a_row(self):
        values = self.row(self.company).read()[0]
        self.assertNotIn(self.token, repr(values))
        self.assertFalse([name for name in self.Overview._fields if "encrypted" in name or "secret" in name])

    # ------------------------------------------------------------------ who sees what

    def test_accountant_sees_and_acts_on_his_companies_only(self):
        self.company_c.l10n_pl_ksef_active = True
        Overview = self.office_env()
        self.assertEqual(Overview.search([]).company_id, self.company | self.company_b)
        # working in one company only (the company switcher): that one's row
        self.assertEqual(self.office_env(self.company_b).search([]).company_id, self.company_b)
        foreign = Overview.browse(self.company_c.id)
        with self.assertRaises(AccessError):
            foreign.read(["to_send_count"])
        for action in ("action_send_queued", "action_import_now", "action_open_documents", "action_open_waiting"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(foreign, action)()
        # his own company's row: Import now is the Settings button's (import is off here: it says so)
        with self.assertRaisesRegex(UserError, "Importing supplier invoices is off"):
            Overview.browse(self.company.id).action_import_now()
        action = Overview.browse(self.company.id).action_open_documents()
        self.assertEqual(action["res_model"], "l10n_pl_ksef.document")
        self.assertIn(("company_id", "=", self.company.id), action["domain"])

    def test_read_only_user_cannot_send(self):
        viewer = new_test_user(
            self.env,
            login="ksef_viewer",
            groups="account.group_account_readonly",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self.queued()
        row = self.Overview.with_user(viewer).browse(self.company.id)
        self.assertEqual(row.to_send_count, 1, "he sees the row")
        with self.assertRaises(AccessError):
            row.action_send_queued()

    # ------------------------------------------------------------------ buttons

    def test_send_sends_the_queue_within_the_click(self):
        documents = self.queued(2)
        action = self.office_env().browse(self.company.id).action_send_queued()
        self.assertEqual(set(documents.mapped("state")) - {"accepted", "processing"}, set(), documents.mapped("reason"))
        self.assertIn("0 rejected", action["params"]["message"])
        self.assertIn("0 will be sent in the background", action["params"]["message"])
        self.assertEqual(self.row(self.company).to_send_count, 0)

    def test_send_leaves_a_batch_to_the_cron(self):
        self.env["ir.config_parameter"].sudo().set_param("l10n_pl_ksef.batch_threshold", "3")
        documents = self.queued(4)
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
        triggers = self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)])
        action = self.office_env().browse(self.company.id).action_send_queued()
        self.assertEqual(set(documents.mapped("state")), {"to_send"}, "a batch is not sent within a click")
        self.assertEqual([number for move in documents.move_id for number in self.stored_numbers_of(move.name)], [])
        self.assertIn("4 invoices will be sent in the background", action["params"]["message"])
        self.assertGreater(self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)]), triggers)

    def test_send_with_nothing_due_says_so(self):
        action = self.office_env().browse(self.company.id).action_send_queued()
        self.assertIn("Nothing", action["params"]["message"])

    # ------------------------------------------------------------------ efficiency

    def _list_queries(self, Overview):
        Overview.web_search_read([("ksef_active", "=", True)], LIST_SPEC)  # caches warmed (rules, translations)
        Overview.env.invalidate_all()
        before = self.env.cr.sql_log_count
        result = Overview.web_search_read([("ksef_active", "=", True)], LIST_SPEC)
        return self.env.cr.sql_log_count - before, result["length"]

    def test_overview_reads_all_companies_in_a_fixed_number_of_queries(self):
        """The list of 3 companies and of 13 costs the same queries: never one query per company (or field)."""
        companies = self.company | self.company_b | self.company_c
        companies.sudo().write({"l10n_pl_ksef_active": True})
        self.office.sudo().company_ids = [Command.set(companies.ids)]
        few, length = self._list_queries(self.office_env(companies))
        self.assertEqual(length, 3)
        more = self.env["res.company"].create(
            [
                {"name": "Klient %s" % index, "l10n_pl_ksef_auth_method": "certificate", "vat": valid_nip(10 + index)}
                for index in range(10)
            ]
        )
        (more | companies).sudo().write({"l10n_pl_ksef_active": True})
        for company in more:  # each with documents and invoices waiting of its own
            self.env["l10n_pl_ksef.receive.failure"].sudo().create(
                {"company_id": company.id, "ksef_number": "X-%s" % company.id}
            )
        self.office.sudo().company_ids = [Command.set((companies | more).ids)]
        many, length = self._list_queries(self.office_env(companies | more))
        self.assertEqual(length, 13)
        self.assertEqual(many, few, "the overview's queries do not grow with the number of companies")
        self.assertLessEqual(many, 6)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefBillsList(L10nPlKsefFa3Common):
    """The vendor bills list shows the KSeF number and filters by it, as the customer invoices list does."""

    def arch(self, xmlid, view_type):
        view = self.env.ref(xmlid)
        return etree.fromstring(self.env["account.move"].get_view(view.id, view_type)["arch"])

    def filter_domain(self, arch, name):
        (node,) = arch.xpath("//filter[@name='%s']" % name)
        return safe_eval(node.get("domain"), {"context_today": datetime.date.today})

    def bill(self, number=None, **values):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.buyer_pl.id,
                "invoice_date": datetime.date(2026, 11, 20),
                "invoice_line_ids": [Command.create({"name": "Usługa", "quantity": 1, "price_unit": 100.0})],
                **values,
            }
        )
        if number:
            bill.l10n_pl_ksef_number = number  # as the import writes it
        return bill

    def test_bills_list_has_the_ksef_number_column(self):
        for xmlid in ("account.view_in_invoice_bill_tree", "account.view_in_invoice_refund_tree"):
            with self.subTest(view=xmlid):
                (column,) = self.arch(xmlid, "list").xpath("//field[@name='l10n_pl_ksef_number']")
                self.assertEqual(column.get("optional"), "show")

    def test_bills_filters_find_bills_by_ksef_number(self):
        arch = self.arch("account.view_account_bill_filter", "search")
        day = datetime.date(2026, 11, 20)
        from_ksef = self.bill(make_ksef_number(OTHER_NIP, day, "0100001AF629"), l10n_pl_ksef_invoice_hash="aGFzaA==")
        typed = self.bill(make_ksef_number(OTHER_NIP, day, "0100001AF630"))
        paper = self.bill()
        bills = from_ksef | typed | paper
        Move = self.env["account.move"]

        def found(name):
            return Move.search([("id", "in", bills.ids), *self.filter_domain(arch, name)])

        self.assertEqual(found("l10n_pl_ksef_has_number"), from_ksef | typed)
        self.assertEqual(found("l10n_pl_ksef_not_from_ksef"), paper)
        self.assertEqual(found("l10n_pl_ksef_imported"), from_ksef)
        self.assertEqual(found("l10n_pl_ksef_typed"), typed)
        # the sending filters of customer invoices are not offered on bills, and stay on invoices
        self.assertFalse(arch.xpath("//filter[@name='l10n_pl_ksef_to_send']"))
        invoices = self.arch("account.view_account_invoice_filter", "search")
        self.assertTrue(invoices.xpath("//filter[@name='l10n_pl_ksef_to_send']"))
        self.assertFalse(invoices.xpath("//filter[@name='l10n_pl_ksef_not_from_ksef']"))
