"""The import saves a batch's journal items in one INSERT: they must be those ``create`` would make.

``account.move.line.create`` is bypassed for speed (see models/account_move_line_ksef_insert.py).
Each test imports an invoice through the batch and makes a second bill of the very same values with
``create``, then compares every stored field of the two bills and of their journal items: amounts,
taxes and tags, debit and credit (with storno accounting too), what is left to pay, units, the
fields related to the bill, the defaults of every module installed.
"""

from decimal import Decimal as D
from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.l10n_pl_ksef.ksef_core.fa3 import parse_fa3
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.bill import bill_from_invoice
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import BucketTotal, CorrectedInvoice, Correction, Line
from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number
from odoo.addons.l10n_pl_ksef.models.account_move_ksef_import_build import BillCache

from .common import OTHER_NIP, L10nPlKsefPlnTestCommon
from .test_receive_amounts import ISSUED, SUPPLIER, invoice_xml, item

#: fields that differ between two bills by nature: identity, sequence, when and by whom, our number (and the
#: payment reference a bill from KSeF takes from it)
_NOT_COMPARED = {
    "id",
    "move_id",
    "create_date",
    "create_uid",
    "write_date",
    "write_uid",
    "name",
    "move_name",
    "sequence_number",
    "sequence_prefix",
    "l10n_pl_ksef_number",
    "l10n_pl_ksef_invoice_hash",
    "payment_reference",
    "message_main_attachment_id",
}


def stored_values(records):
    """Every stored field of ``records`` but ``_NOT_COMPARED``, record by record, as the database holds
    it (NULL is not 0), and the many2many ones."""
    columns = [
        name
        for name, field in records._fields.items()
        if field.store and field.column_type and name not in _NOT_COMPARED
    ]
    records.env.flush_all()
    records.env.cr.execute(
        SQL(
            "SELECT id, %s FROM %s WHERE id = ANY(%s)",
            SQL(", ").join(SQL.identifier(name) for name in columns),
            SQL.identifier(records._table),
            list(records.ids),
        )
    )
    rows = {row[0]: dict(zip(columns, row[1:], strict=True)) for row in records.env.cr.fetchall()}
    many = [name for name, field in records._fields.items() if field.store and field.type == "many2many"]
    result = []
    for record in records:
        values = rows[record.id]
        values.update({name: sorted(record[name].ids) for name in many})
        result.append(values)
    return result


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveInsert(L10nPlKsefPlnTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.company_data["default_journal_purchase"]
        cls.company.write({"l10n_pl_ksef_receive": True, "l10n_pl_ksef_receive_journal_id": cls.journal.id})
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])
        cls.taxes = {code: cls.purchase_tax(cls.company, code) for code in ("23", "8", "5")}
        poland = cls.env.ref("base.pl")
        cls.supplier = cls.env["res.partner"].create(
            {"name": SUPPLIER, "is_company": True, "vat": "PL" + OTHER_NIP, "country_id": poland.id}
        )
        cls.position = cls.env["account.fiscal.position"].create(
            {"name": "Dostawcy krajowi", "auto_apply": True, "country_id": poland.id, "sequence": 1}
        )
        cls.box = cls.env["uom.uom"].create(
            {"name": "Karton 10", "relative_factor": 10.0, "relative_uom_id": cls.env.ref("uom.product_uom_unit").id}
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Segregator",
                "seller_ids": [
                    Command.create(
                        {"partner_id": cls.supplier.id, "product_code": "SEG-75", "product_uom_id": cls.box.id}
                    )
                ],
            }
        )
        cls._serial = 0

    def both_ways(self, xml):
        """``(imported, created)``: the bill the batch import makes of ``xml``, and a bill of the same
        values made with ``create`` (its journal items through ``account.move.line.create``)."""
        Move = self.env["account.move"]
        type(self)._serial += 1
        number = make_ksef_number(OTHER_NIP, ISSUED, "%012X" % (0xC0FFEE000000 + self._serial))
        outcome = Move._l10n_pl_ksef_import_batch(self.company, [(number, xml)], isolate=False)
        imported, status = outcome[number]
        self.assertEqual(status, "created")
        cache = BillCache(self.env, self.company)
        invoice = parse_fa3(xml)
        draft = bill_from_invoice(invoice, price_digits=cache.digits)
        cache.prefetch_products({imported.partner_id: [draft]})
        values, draft, _notes = Move._l10n_pl_ksef_bill_values(
            cache, invoice, imported.partner_id, self.journal, draft=draft
        )
        extra, _extra_notes = Move._l10n_pl_ksef_extra_values(
            cache, invoice, draft, imported.partner_id, values["move_type"]
        )
        values.update(extra, journal_id=self.journal.id, company_id=self.company.id)
        created = Move._l10n_pl_ksef_batch_env(self.company).create(values)
        self.env.flush_all()
        self.env.invalidate_all()
        return imported, created

    def assertSameValues(self, got, expected, what):
        differences = {name: (value, expected.get(name)) for name, value in got.items() if value != expected.get(name)}
        self.assertEqual(differences, {}, "%s: {field: (imported, created)}" % what)

    def assertSameItems(self, imported, created):
        self.assertSameValues(stored_values(imported)[0], stored_values(created)[0], "the bill")

        def items(bill):
            return stored_values(bill.line_ids.sorted(lambda line: (line.display_type, line.sequence, line.balance)))

        got, expected = items(imported), items(created)
        self.assertEqual(len(got), len(expected))
        for got_item, expected_item in zip(got, expected, strict=True):
            self.assertSameValues(got_item, expected_item, "journal item %s" % expected_item["display_type"])
        return got

    def test_items_of_a_bill_in_pln_are_those_create_makes(self):
        xml = invoice_xml(
            [
                item("Papier A4", "3", "19.99", "23"),
                item("Segregator A4 75 mm", "4", "9.50", "23", index="SEG-75"),
                item("Koperty", "12", "0.37", "8"),
                item("Książka", "1", "49.90", "5"),
            ]
        )
        imported, created = self.both_ways(xml)
        items = self.assertSameItems(imported, created)
        product_item = imported.invoice_line_ids.filtered("product_id")
        self.assertEqual(product_item.product_id, self.product)
        self.assertEqual(product_item.product_uom_id, self.box, "the supplier's purchase unit")
        payable = imported.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertEqual(payable.amount_residual, payable.balance)
        self.assertLess(payable.balance, 0)
        self.assertEqual(payable.credit, -payable.balance)
        self.assertEqual(len(items), 4 + 3 + 1, "four lines, three VAT rates, one amount due")
        self.assertEqual(imported.amount_total, created.amount_total)
        # the fiscal position and delivery address given on creation are those the bill computes
        computed = self.env["account.move"].new(
            {"move_type": "in_invoice", "partner_id": imported.partner_id.id, "journal_id": self.journal.id}
        )
        self.assertEqual(imported.fiscal_position_id, self.position)
        self.assertEqual(imported.fiscal_position_id, computed.fiscal_position_id)
        self.assertEqual(imported.partner_shipping_id, computed.partner_shipping_id)
        imported.action_post()
        self.assertEqual(imported.state, "posted")

    def test_items_of_a_simplified_invoice_are_those_create_makes(self):
        xml = invoice_xml(
            [Line(name="Wiertarka Wiertex mk5"), Line(name="Wiertła 5 szt.")],
            kind="UPR",
            totals={"1": BucketTotal(net=D("365.85"), vat=D("84.15"))},
            total=D("450"),
        )
        imported, created = self.both_ways(xml)
        items = self.assertSameItems(imported, created)
        self.assertEqual([values["display_type"] for values in items].count("line_note"), 1, "the goods listed")
        self.assertEqual(imported.amount_total, 450.0)

    def test_items_of_a_bill_in_euros_are_those_create_makes(self):
        xml = invoice_xml(
            [
                item("Usługa", "1", "1000.00", "23", exchange_rate=D("4.3000")),
                item("Książki", "2", "12.34", "8", exchange_rate=D("4.3000")),
            ],
            currency="EUR",
        )
        imported, created = self.both_ways(xml)
        self.assertSameItems(imported, created)
        self.assertEqual(imported.currency_id, self.eur)

    def test_items_with_storno_accounting_are_those_create_makes(self):
        self.company.account_storno = True
        plain, plain_created = self.both_ways(invoice_xml([item("Biurko", "1", "500", "23")]))
        self.assertSameItems(plain, plain_created)
        correction = invoice_xml(
            [item("Biurko", "1", "500", "23", before=True), item("Biurko", "1", "400", "23")],
            kind="KOR",
            correction=Correction(invoices=[CorrectedInvoice(ISSUED, "FV/77/2026")], type=2),
        )
        refund, refund_created = self.both_ways(correction)
        self.assertEqual(refund.move_type, "in_refund")
        self.assertSameItems(refund, refund_created)
        self.assertTrue(all(refund.line_ids.mapped("is_storno")), "a refund's items are storno")
        payable = refund.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertGreater(payable.balance, 0)
        self.assertEqual(payable.credit, -payable.balance, "storno: the amount stays on its side, negative")
        refund.action_post()
        self.assertEqual(refund.state, "posted")
        raising = invoice_xml(
            [item("Krzesło", "2", "300", "23", before=True), item("Krzesło", "2", "350", "23")],
            kind="KOR",
            correction=Correction(invoices=[CorrectedInvoice(ISSUED, "FV/78/2026")], type=2),
        )
        debit_note, debit_note_created = self.both_ways(raising)
        self.assertEqual(debit_note.move_type, "in_invoice", "a correction raising the amount")
        self.assertSameItems(debit_note, debit_note_created)

    def test_bill_in_a_locked_tax_period_is_dated_as_create_dates_it(self):
        self.company.tax_lock_date = ISSUED
        imported, created = self.both_ways(invoice_xml([item("Toner", "1", "333.33", "23")]))
        self.assertSameItems(imported, created)
        self.assertGreater(imported.date, ISSUED, "after the locked VAT period")
        self.assertEqual(set(imported.line_ids.mapped("date")), {imported.date})

    def test_a_module_extending_item_creation_gets_the_usual_create(self):
        Line = type(self.env["account.move.line"])
        stock = self.env["ir.module.module"].search_count(
            [("name", "in", ("stock_account", "point_of_sale")), ("state", "=", "installed")]
        )
        if not stock:  # with Point of Sale, its stock valuation extends journal items: create is used anyway
            self.assertTrue(self.env["account.move.line"]._l10n_pl_ksef_insert_safe(), "Odoo's modules only")
        xml = invoice_xml([item("Papier A4", "3", "19.99", "23"), item("Koperty", "12", "0.37", "8")])
        with (
            patch.object(Line, "_l10n_pl_ksef_insert_safe", lambda self: False),
            patch.object(Line, "_l10n_pl_ksef_insert", side_effect=AssertionError("INSERT used")),
        ):
            imported, created = self.both_ways(xml)
        self.assertSameItems(imported, created)
        self.assertEqual(imported.amount_total, round(3 * 19.99 * 1.23, 2) + round(12 * 0.37 * 1.08, 2))
