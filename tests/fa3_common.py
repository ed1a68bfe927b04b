"""Shared set-up of the FA(3) tests: a Polish company in PLN, taxes with KSeF codes, customers of every kind."""

import datetime
import os
import re
from pathlib import Path

from lxml import etree

from odoo.fields import Command

from odoo.addons.l10n_pl_ksef.ksef_core.fa3 import FA3_NAMESPACE

from .common import OTHER_NIP, L10nPlKsefPlnTestCommon

GOLDEN = Path(__file__).resolve().parent / "golden_fa3"
ISSUED = datetime.date(2026, 11, 20)
CREATED_AT = datetime.datetime(2026, 11, 20, 10, 0, 0, tzinfo=datetime.timezone.utc)
NS = {"f": FA3_NAMESPACE}


class L10nPlKsefFa3Common(L10nPlKsefPlnTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pln = cls.env.ref("base.PLN")
        cls.company.write(
            {
                "name": "Przykładowa Spółka z o.o.",
                "street": "ul. Kwiatowa 1",
                "street2": "lok. 2",
                "zip": "00-001",
                "city": "Warszawa",
                "email": "faktury@przyklad.pl",
                "phone": "+48 22 123 45 67",
                "tax_calculation_rounding_method": "round_per_line",
                "l10n_pl_ksef_krs": "0000123456",
                "l10n_pl_ksef_regon": "123456785",
            }
        )
        group = cls.env["account.tax.group"].create({"name": "VAT (KSeF tests)", "company_id": cls.company.id})
        cls.taxes = {}
        for code, amount, name in (
            ("23", 23, "VAT 23%"),
            ("8", 8, "VAT 8%"),
            ("5", 5, "VAT 5%"),
            ("0 KR", 0, "VAT 0% kraj"),
            ("0 WDT", 0, "VAT 0% WDT"),
            ("0 EX", 0, "VAT 0% eksport"),
            ("zw", 0, "VAT zw"),
            ("np I", 0, "np I"),
            ("np II", 0, "np II"),
            ("oo", 0, "odwrotne obciążenie"),
        ):
            cls.taxes[code] = cls.env["account.tax"].create(
                {
                    "name": "%s (test)" % name,
                    "amount": amount,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "company_id": cls.company.id,
                    "tax_group_id": group.id,
                    "l10n_pl_ksef_rate_code": code,
                }
            )
        cls.taxes["zw"].write(
            {"l10n_pl_ksef_exemption_kind": "law", "l10n_pl_ksef_exemption_text": "art. 43 ust. 1 pkt 37 ustawy o VAT"}
        )
        pl, de, us = cls.env.ref("base.pl"), cls.env.ref("base.de"), cls.env.ref("base.us")
        Partner = cls.env["res.partner"]
        cls.buyer_pl = Partner.create(
            {
                "name": "Odbiorca Hurtowy S.A.",
                "is_company": True,
                "vat": "PL%s" % OTHER_NIP,
                "street": "ul. Długa 5",
                "zip": "30-001",
                "city": "Kraków",
                "country_id": pl.id,
                "email": "ksiegowosc@odbiorca.pl",
            }
        )
        cls.buyer_de = Partner.create(
            {
                "name": "Kunde GmbH",
                "is_company": True,
                "vat": "DE136695976",
                "street": "Hauptstraße 1",
                "zip": "10115",
                "city": "Berlin",
                "country_id": de.id,
            }
        )
        cls.buyer_us = Partner.create(
            {
                "name": "Customer Inc.",
                "is_company": True,
                "vat": "12-3456789",
                "street": "1 Main Street",
                "zip": "10001",
                "city": "New York",
                "country_id": us.id,
            }
        )
        cls.consumer = Partner.create(
            {"name": "Jan Kowalski", "street": "ul. Polna 3", "zip": "00-950", "city": "Warszawa", "country_id": pl.id}
        )
        Product = cls.env["product.product"]
        cls.product_a = Product.create(
            {"name": "Papier A4", "default_code": "PAP-A4", "barcode": "5901234123457", "l10n_pl_ksef_gtu": "GTU_06"}
        )
        cls.product_b = Product.create({"name": "Usługa wdrożeniowa", "type": "service", "default_code": "USL-1"})
        cls.product_steel = Product.create({"name": "Pręt stalowy", "l10n_pl_ksef_annex15": True})
        cls.bank = cls.env["res.partner.bank"].create(
            {
                "acc_number": "PL61109010140000071219812874",
                "partner_id": cls.company.partner_id.id,
                "allow_out_payment": True,
            }
        )

    # ------------------------------------------------------------------ helpers

    def line(self, product=None, quantity=1.0, price=100.0, tax="23", **values):
        vals = {
            "product_id": (product or self.product_a).id,
            "quantity": quantity,
            "price_unit": price,
            "tax_ids": [Command.set(self.taxes[tax].ids if tax else [])],
        }
        if product is None and "name" not in values:
            vals["name"] = "Papier A4"
        vals.update(values)
        return Command.create(vals)

    def make(self, lines, partner=None, move_type="out_invoice", post=True, **values):
        """An invoice (all lines in one create), posted unless ``post=False``."""
        vals = {
            "move_type": move_type,
            "partner_id": (partner or self.buyer_pl).id,
            "invoice_date": ISSUED,
            "invoice_line_ids": lines,
            "invoice_date_due": ISSUED + datetime.timedelta(days=14),
        }
        vals.update(values)
        move = self.env["account.move"].create(vals)
        if post:
            move.action_post()
        return move

    def document(self, move):
        return move.with_context(l10n_pl_ksef_created_at=CREATED_AT)._l10n_pl_ksef_fa3_document()

    def xml(self, move):
        document = self.document(move)
        self.assertFalse(document.problems, document.text())
        return document.xml

    def tree(self, move):
        return etree.fromstring(self.xml(move))

    def value(self, root, path):
        found = root.xpath(path, namespaces=NS)
        return found[0].text if found else None

    def values(self, root, path):
        return [el.text for el in root.xpath(path, namespaces=NS)]

    def problems(self, move):
        return "\n".join(p.message_en + " || " + p.message_pl for p in self.document(move).problems)

    def assertGolden(self, move, name):
        """The FA(3) of ``move`` equals ``golden_fa3/<name>.xml`` (invoice numbers normalized).

        ``KSEF_REGEN_GOLDEN=1`` rewrites the file instead (review the diff by hand).
        """
        xml = self.xml(move).decode("utf-8")
        xml = re.sub(r"<P_2>[^<]*</P_2>", "<P_2>NUMBER</P_2>", xml)
        xml = re.sub(r"<NrFaKorygowanej>[^<]*</NrFaKorygowanej>", "<NrFaKorygowanej>NUMBER</NrFaKorygowanej>", xml)
        xml = re.sub(r"<NrFaZaliczkowej>[^<]*</NrFaZaliczkowej>", "<NrFaZaliczkowej>NUMBER</NrFaZaliczkowej>", xml)
        path = GOLDEN / ("%s.xml" % name)
        if os.environ.get("KSEF_REGEN_GOLDEN"):
            GOLDEN.mkdir(exist_ok=True)
            path.write_text(xml, encoding="utf-8")
        self.assertEqual(xml, path.read_text(encoding="utf-8"), "FA(3) of %s differs from %s" % (move.name, path))
