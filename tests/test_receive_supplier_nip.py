"""Suppliers of received invoices are found by their normalised, indexed NIP; the receive batch logs where
an error was raised, never the database's text of it (it quotes the invoice's data)."""

from unittest.mock import patch

from odoo.tests import tagged

from .common import OTHER_NIP
from .test_receive import SUPPLIER, ReceiveCommon, fa3, line

#: (Tax ID, country xmlid, normalised NIP) as people write Tax IDs in Odoo
TAX_IDS = [
    ("PL 768-000-24-66", "base.pl", OTHER_NIP),
    ("pl7680002466", None, OTHER_NIP),
    ("768.000.24.66", "base.pl", OTHER_NIP),
    ("768/000/24/66", None, OTHER_NIP),
    ("PL\u00a0768\u00a0000\u00a024\u00a066", "base.pl", OTHER_NIP),  # no-break spaces, pasted from a PDF
    ("7680002466", "base.de", False),  # a German partner's number, not a Polish NIP
    ("DE136695976", "base.de", False),
    ("PL76800024", "base.pl", False),  # too short
    (False, "base.pl", False),
]


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveSupplierNip(ReceiveCommon):
    def partners(self):
        # as stored by imports or before Odoo checked Tax IDs (base_vat would refuse some of these spellings)
        return (
            self.env["res.partner"]
            .with_context(no_vat_validation=True)
            .create(
                [
                    {"name": "Kontrahent %d" % i, "vat": vat, "country_id": country and self.env.ref(country).id}
                    for i, (vat, country, _nip) in enumerate(TAX_IDS)
                ]
            )
        )

    def test_normalised_nip_of_each_way_a_tax_id_is_written(self):
        partners = self.partners()
        for partner, (vat, country, nip) in zip(partners, TAX_IDS, strict=True):
            with self.subTest(vat=vat, country=country):
                self.assertEqual(partner.l10n_pl_ksef_nip_normalized, nip)
        german = partners[5]
        german = german.with_context(no_vat_validation=True)
        german.country_id = self.env.ref("base.pl")
        self.assertEqual(german.l10n_pl_ksef_nip_normalized, OTHER_NIP, "a Polish partner's number is his NIP")
        german.vat = "PL 526 587 76 35"
        self.assertEqual(german.l10n_pl_ksef_nip_normalized, "5265877635")

    def test_install_fills_in_sql_what_the_field_computes(self):
        """Installed on a database with many partners, the column is filled by one UPDATE (and the Tax IDs
        with other characters in Python): the same values as the field's computation."""
        partners = self.partners()
        expected = {partner.id: partner.l10n_pl_ksef_nip_normalized for partner in partners}
        self.env.flush_all()
        self.env.cr.execute("UPDATE res_partner SET l10n_pl_ksef_nip_normalized = NULL WHERE id IN %s", [partners._ids])
        self.env.invalidate_all()
        self.env["res.partner"]._l10n_pl_ksef_fill_nip()
        self.env.invalidate_all()
        self.assertEqual({partner.id: partner.l10n_pl_ksef_nip_normalized for partner in partners}, expected)

    def test_bill_goes_to_the_supplier_whatever_way_his_nip_is_written(self):
        pl = self.env.ref("base.pl")
        Partner = self.env["res.partner"].with_context(no_vat_validation=True)
        supplier = Partner.create(
            {"name": "Papiernik", "is_company": True, "vat": "PL 768-000-24-66", "country_id": pl.id}
        )
        # the same digits for a German partner are not a Polish NIP: not him
        Partner.create(
            {"name": "Papier GmbH", "is_company": True, "vat": "7680002466", "country_id": self.env.ref("base.de").id}
        )
        number = self.seed(fa3([line("Papier A4", "10", "18.50", "23")]))
        self.run_cron()
        bill = self.bills(number)
        self.assertEqual(bill.partner_id, supplier)
        self.assertEqual(self.env["res.partner"].search_count([("name", "=", SUPPLIER)]), 0, "no second supplier")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveErrorLog(ReceiveCommon):
    def test_a_database_error_is_logged_by_where_not_by_its_text(self):
        """The server log says where a bill could not be saved, never the database's message: it quotes the
        invoice's data (here the supplier's name, as PostgreSQL does in a refused value or a duplicate key)."""
        Move = self.env["account.move"]

        def refused_by_the_database(self, cache, pending, outcome):
            self.env.cr.execute("SELECT %s::int", [pending[0].invoice.seller.name], log_exceptions=False)

        number = self.seed(fa3([line("Toner", "1", "300", "23")]))
        with (
            patch.object(type(Move), "_l10n_pl_ksef_create_bills", refused_by_the_database),
            self.assertLogs("odoo.addons.l10n_pl_ksef", "INFO") as logs,
        ):
            self.run_cron()
        self.assertFalse(self.bills(number))
        waiting = self.waiting()
        self.assertEqual(waiting.ksef_number, number, "the invoice waits with its reason")
        self.assertIn("see the server log", waiting.reason)
        text = "\n".join(logs.output)
        self.assertIn("could not be saved", text)
        self.assertIn("InvalidTextRepresentation", text, "the log says what kind of error and where")
        self.assertNotIn(SUPPLIER, text)
        self.assertNotIn("invalid input syntax", text)
