"""Next to Odoo's own l10n_pl_edi (installed with l10n_pl): for a company using this addon its bill download
imports nothing and calls no KSeF, and a bill it downloaded earlier is not imported a second time."""

import datetime
from unittest.mock import patch

from odoo.fields import Command
from odoo.tests import tagged

from .common import OTHER_NIP
from .test_receive import SUPPLIER, ReceiveCommon, fa3, line


class _FakeKsefApiService:
    """Stands for l10n_pl_edi's KSeF client: records every call, offers ``invoices`` for download."""

    calls = []
    invoices = {}

    def __init__(self, company):
        self.calls.append(("connect", company.id))
        self.company = company

    def query_invoice_metadata(self, query, page_size, page_offset):
        self.calls.append(("query", self.company.id))
        return {"invoices": [{"ksefNumber": number} for number in self.invoices], "hasMore": False}

    def get_invoice_by_ksef_number(self, number):
        self.calls.append(("download", self.company.id))
        return {"xml_content": self.invoices[number]}


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefNextToL10nPlEdi(ReceiveCommon):
    def setUp(self):
        super().setUp()
        if self.env["ir.module.module"]._get("l10n_pl_edi").state != "installed":
            self.skipTest("l10n_pl_edi is not installed in this database")
        from odoo.addons.l10n_pl_edi.models import account_move as edi_account_move

        self.edi_account_move = edi_account_move
        _FakeKsefApiService.calls = []
        _FakeKsefApiService.invoices = {}

    def test_its_bill_download_imports_nothing_for_a_company_of_this_addon(self):
        # the company also has an l10n_pl_edi token (e.g. set up before this addon): its cron picks it
        self.company.sudo().l10n_pl_edi_access_token = "edi-token"
        # another company of the database keeps l10n_pl_edi as it is
        other = self.setup_other_company(name="Bez KSeF addonu Sp. z o.o.")["company"]
        other.sudo().write({"l10n_pl_ksef_active": False, "l10n_pl_edi_access_token": "edi-token-2"})
        self.assertFalse(other.l10n_pl_ksef_active)
        Move = self.env["account.move"].sudo().with_context(active_test=False)
        moves = Move.search_count([])
        with self._fake_service():
            self.env["account.move"]._cron_l10n_pl_edi_download_bills()
            self.env["account.move"].with_company(self.company)._l10n_pl_edi_download_bills_from_ksef()
        self.assertNotIn(("connect", self.company.id), _FakeKsefApiService.calls, "no KSeF call for our company")
        self.assertIn(("query", other.id), _FakeKsefApiService.calls, "the other company's download still runs")
        self.assertEqual(Move.search_count([]), moves, "nothing imported")
        self.assertFalse(Move.search([("l10n_pl_edi_number", "!=", False)]))

    def test_its_download_with_an_invoice_waiting_makes_no_bill_for_us(self):
        xml = fa3([line("Papier A4", "5", "20", "23")])
        number = self.seed(xml)
        _FakeKsefApiService.invoices = {number: xml}
        self.company.sudo().l10n_pl_edi_access_token = "edi-token"
        with self._fake_service():
            self.env["account.move"]._cron_l10n_pl_edi_download_bills()
        self.assertFalse([call for call in _FakeKsefApiService.calls if call[1] == self.company.id])
        self.assertFalse(self.env["account.move"].search([("l10n_pl_edi_number", "=", number)]))
        self.run_cron()
        self.assertEqual(len(self.bills(number)), 1, "this addon imports it, once")

    def test_a_bill_l10n_pl_edi_downloaded_earlier_is_not_imported_again(self):
        issued = datetime.date.today() - datetime.timedelta(days=2)
        xml = fa3([line("Toner", "1", "300", "23")], number="FV/EDI/1", issue=issued)
        number = self.seed(xml)
        # as l10n_pl_edi's download made it before the company switched to this addon
        supplier = self.env["res.partner"].create(
            {"name": SUPPLIER, "vat": OTHER_NIP, "country_id": self.env.ref("base.pl").id}
        )
        earlier = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": supplier.id,
                "invoice_date": issued,
                "ref": "FV/EDI/1",
                "l10n_pl_edi_number": number,
                "invoice_line_ids": [
                    Command.create({"name": "Toner", "quantity": 1, "price_unit": 300, "tax_ids": self.tax_23.ids})
                ],
            }
        )
        earlier.action_post()
        result = self.run_cron()[self.company.id]
        self.assertFalse(result["created"], result["text"])
        bills = self.env["account.move"].search(
            ["|", ("l10n_pl_edi_number", "=", number), ("l10n_pl_ksef_number", "=", number)]
        )
        self.assertEqual(bills, earlier, "one bill of the invoice")
        self.assertEqual(earlier.amount_total, 369.0, "a posted bill keeps its amounts")

    # ------------------------------------------------------------------ helpers

    def _fake_service(self):
        return patch.object(self.edi_account_move, "KsefApiService", _FakeKsefApiService)
