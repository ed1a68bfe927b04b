"""Every official FA(3) sample becomes a bill equal to its XML, received by the cron or uploaded in Vendor Bills.

The expected figures are read from the XML here with lxml (the sums ``P_13_x`` / ``P_14_x`` and ``P_15``),
never through the addon's parser: a mistake of the parser cannot hide itself.
"""

import base64
import datetime
import hashlib
import html
import re
from decimal import Decimal
from pathlib import Path

from lxml import etree

from odoo.tests import tagged
from odoo.tools.misc import formatLang

from odoo.addons.l10n_pl_ksef.ksef_core.client import SyncState
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_incoming

from .common import OTHER_NIP, L10nPlKsefPlnTestCommon

SAMPLES = Path(__file__).resolve().parent / "spec" / "samples" / "fa3"
#: the buyer (Podmiot2) of every official sample but the export one (22)
BUYER_NIP = "1111111111"
#: the official samples in the order a correction comes after what it corrects (2 corrects 1)
OFFICIAL = ("1", "2", "10", "15", "9", "22")
#: VAT buckets of FA(3) (P_13_x / P_14_x) by the rate of their bill lines; zero-rated, exempt and out of scope
#: buckets all give lines without VAT
BUCKET_GROUPS = {"1": "23/22", "2": "8/7", "3": "5", "4": "4/3"}
ZERO_BUCKETS = ("6_1", "6_2", "6_3", "7", "8", "9", "10")
CENT = Decimal("0.01")


def sample(number):
    return (SAMPLES / "official-mf" / ("FA_3_Przyklad_%s.xml" % number)).read_bytes()


def template():
    """The FA(3) template of the KSeF C# client, its placeholders filled in (the seller: a valid NIP)."""
    xml = (SAMPLES / "ksef-client-templates" / "csharp_invoice-template-fa-3.xml").read_bytes()
    return xml.replace(b"#nip#", OTHER_NIP.encode()).replace(b"#invoice_number#", b"1")


def renumbered(xml, number):
    """``xml`` with its invoice number P_2 replaced: KSeF refuses a second invoice of the same seller, kind and
    number (samples 1, 9 and 22 share FV2026/02/150), so the cron path stores them under numbers of their own."""
    return re.sub(rb"<P_2>[^<]*</P_2>", b"<P_2>" + number.encode() + b"</P_2>", xml, count=1)


def rate_group(percent):
    for key, group in BUCKET_GROUPS.items():
        if percent in {Decimal(p) for p in group.split("/")}:
            return key
    return "0" if not percent else "rate %s" % percent


def expected(xml):
    """What the invoice says, read with lxml: a dict of Decimals and texts."""
    root = etree.fromstring(xml)
    ns = {"f": etree.QName(root).namespace}

    def text(path):
        found = root.xpath(path, namespaces=ns)
        return found[0].text.strip() if found else None

    groups = {}
    for element in root.xpath("f:Fa/*", namespaces=ns):
        tag = etree.QName(element).localname
        net = re.fullmatch(r"P_13_(\d+(?:_\d)?)", tag)
        vat = re.fullmatch(r"P_14_(\d)", tag)  # P_14_xW (VAT in PLN of a foreign invoice) is not the bill's
        match = net or vat
        if not match:
            continue
        bucket = match.group(1)
        if bucket not in BUCKET_GROUPS and bucket not in ZERO_BUCKETS:
            raise AssertionError("the sample uses bucket %s: extend BUCKET_GROUPS of this test" % bucket)
        group = bucket if bucket in BUCKET_GROUPS else "0"
        amounts = groups.setdefault(group, [Decimal(0), Decimal(0)])
        amounts[0 if net else 1] += Decimal(element.text)
    net = sum((amounts[0] for amounts in groups.values()), Decimal(0))
    vat = sum((amounts[1] for amounts in groups.values()), Decimal(0))
    kind = text("f:Fa/f:RodzajFaktury")
    # a correction lowering the amount is a credit note (a refund); its amounts are then shown positive
    refund = kind.startswith("KOR") and net + vat < 0
    sign = -1 if refund else 1
    return {
        "kind": kind,
        "refund": refund,
        "currency": text("f:Fa/f:KodWaluty"),
        "number": text("f:Fa/f:P_2"),
        "issue_date": text("f:Fa/f:P_1"),
        "net": sign * net,
        "vat": sign * vat,
        "total": sign * (net + vat),
        "p15": sign * Decimal(text("f:Fa/f:P_15")),
        "groups": {group: (sign * amounts[0], sign * amounts[1]) for group, amounts in groups.items()},
    }


def file_hash(xml):
    return base64.b64encode(hashlib.sha256(xml).digest()).decode("ascii")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveSamples(L10nPlKsefPlnTestCommon):
    """The official samples of the Ministry of Finance, through the cron and through Upload."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulator()
        cls.simulator.sim.invoice_store.configure(permanent_storage_delay=0)
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])
        cls.journal = cls.company_data["default_journal_purchase"]
        # the buyer of the samples: the company's NIP is theirs
        cls.company.write(
            {
                "vat": "PL%s" % BUYER_NIP,
                "l10n_pl_ksef_nip": BUYER_NIP,
                "l10n_pl_ksef_receive": True,
                "l10n_pl_ksef_receive_journal_id": cls.journal.id,
            }
        )
        for code in ("23", "8", "5"):
            cls.purchase_tax(cls.company, code)

    def setUp(self):
        super().setUp()
        self.sim = self.simulator.sim
        token = self.sim.mint_token(BUYER_NIP, ("InvoiceRead",))
        self.setup_wizard(auth_method="token", token=token).action_save_credentials()
        # the next import reads KSeF from an hour ago: invoices seeded by the other tests are older
        self.start = self.sim.clock.now() - datetime.timedelta(minutes=50)
        state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self.company)
        state.sync_state = SyncState("Subject2", (self.start - datetime.timedelta(minutes=10)).isoformat()).to_dict()
        state.next_attempt = False

    # ------------------------------------------------------------------ helpers

    def notes(self, bill):
        return " ".join(html.unescape(str(body)) for body in bill.message_ids.mapped("body"))

    def money(self, amount, currency):
        return formatLang(self.env, float(amount), currency_obj=currency)

    def assertBillIsTheInvoice(self, bill, xml, name):
        """The bill's type, currency, amounts (and per VAT rate) equal the invoice's, to the grosz."""
        want = expected(xml)
        self.assertEqual(len(bill), 1, "%s: one bill" % name)
        self.assertEqual(bill.move_type, "in_refund" if want["refund"] else "in_invoice", name)
        self.assertEqual(bill.currency_id.name, want["currency"], name)
        self.assertEqual((bill.ref, str(bill.invoice_date)), (want["number"], want["issue_date"]), name)
        amounts = [Decimal(str(a)).quantize(CENT) for a in (bill.amount_untaxed, bill.amount_tax, bill.amount_total)]
        self.assertEqual(amounts, [want["net"], want["vat"], want["total"]], "%s: untaxed, VAT, total" % name)
        # per VAT rate: the bill's lines at that rate and its tax lines of that rate (in the bill's currency)
        groups = {}
        for line in bill.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            percent = Decimal(str(line.tax_ids[:1].amount)) if line.tax_ids else Decimal(0)
            self.assertLessEqual(len(line.tax_ids), 1, name)
            group = groups.setdefault(rate_group(percent), [Decimal(0), Decimal(0)])
            group[0] += Decimal(str(line.price_subtotal))
        for line in bill.line_ids.filtered("tax_line_id"):
            group = groups.setdefault(rate_group(Decimal(str(line.tax_line_id.amount))), [Decimal(0), Decimal(0)])
            group[1] += Decimal(str(bill.direction_sign * line.amount_currency))
        got = {key: (net.quantize(CENT), vat.quantize(CENT)) for key, (net, vat) in groups.items()}
        self.assertEqual(got, want["groups"], "%s: net and VAT per rate (P_13_x, P_14_x)" % name)
        notes = self.notes(bill)
        if want["p15"] == want["total"]:
            self.assertNotIn("differs from the amount due", notes, name)
        else:
            # the invoice's own amount due (P_15) is not its net + VAT: the bill keeps net + VAT, and says so
            self.assertIn(self.money(want["p15"], bill.currency_id), notes, "%s: a note gives P_15" % name)
            self.assertIn(self.money(want["total"], bill.currency_id), notes, name)
        return want

    def upload(self, xml, journal=None):
        journal = journal or self.journal
        attachment = self.env["ir.attachment"].create(
            {"name": "faktura.xml", "raw": xml, "mimetype": "application/xml"}
        )
        return (
            journal.with_company(journal.company_id)
            .with_context(default_move_type="in_invoice")
            ._create_document_from_attachment(attachment.ids)
        )

    def efg_company(self):
        """The buyer of sample 22 (EFG GmbH, German VAT number, no Polish NIP) in the same database."""
        efg = self.setup_other_company(name="EFG GmbH")
        company = efg["company"]
        company.write({"country_id": self.env.ref("base.de").id, "l10n_pl_ksef_nip": False})
        # as the sample writes it (a VAT number that stdnum would refuse)
        self.env.cr.execute("UPDATE res_partner SET vat = 'DE999999999' WHERE id = %s", (company.partner_id.id,))
        self.env.invalidate_all()
        self.env.user.company_ids |= company
        return efg["default_journal_purchase"]

    # ------------------------------------------------------------------ tests

    def test_the_samples_are_what_this_test_expects(self):
        """Guards the test data: 6 official samples plus the template, sample 1 with P_15 off by a grosz."""
        self.assertEqual(
            sorted(p.name for p in (SAMPLES / "official-mf").glob("*.xml")),
            sorted("FA_3_Przyklad_%s.xml" % n for n in OFFICIAL),
        )
        one = expected(sample("1"))
        self.assertEqual((one["total"], one["p15"]), (Decimal("2050.99"), Decimal("2051")))
        self.assertTrue(expected(sample("2"))["refund"])
        self.assertEqual(expected(sample("22"))["currency"], "EUR")

    def test_cron_imports_every_sample_as_its_xml_says(self):
        files = {
            "1": sample("1"),
            "2": sample("2"),
            "10": sample("10"),
            "15": sample("15"),
            "9": renumbered(sample("9"), "FV2026/02/159"),
            "22": renumbered(sample("22"), "FV2026/02/222"),
            "template": template(),
        }
        numbers = {}
        for index, (name, xml) in enumerate(files.items()):
            moment = self.start + datetime.timedelta(seconds=index)
            numbers[name] = seed_incoming(self.sim, xml, acquisition_time=moment)
        self.assertEqual(len(set(numbers.values())), len(files), "each sample stored in KSeF once")
        result = self.env["res.company"]._cron_l10n_pl_ksef_receive()[self.company.id]
        self.assertFalse(result["error"], result["text"])
        self.assertFalse(result["failed"], result["text"])
        Move = self.env["account.move"]
        bills = {}
        for name, xml in files.items():
            with self.subTest(sample=name):
                bill = Move.search([("l10n_pl_ksef_number", "=", numbers[name])])
                if name == "22":
                    # an export to a German buyer (no Polish NIP): KSeF gives it to no Polish buyer
                    self.assertFalse(bill)
                    self.assertFalse(Move.search([("l10n_pl_ksef_invoice_hash", "=", file_hash(xml))]))
                    continue
                self.assertBillIsTheInvoice(bill, xml, name)
                self.assertEqual(bill.l10n_pl_ksef_invoice_hash, file_hash(xml))
                self.assertEqual(bill.state, "draft")
                bills[name] = bill
        self.assertEqual(sorted(result["created"]), sorted(bill.id for bill in bills.values()))
        # the credit note (sample 2 corrects FV2026/02/150 of sample 1) is the reversal of the original bill
        self.assertEqual(bills["2"].reversed_entry_id, bills["1"])
        bills["1"].action_post()
        bills["2"].action_post()
        self.assertEqual(bills["1"].amount_residual, 1850.99, "the credit note lowers what is owed")
        self.assertIn("differs from the amount due", self.notes(bills["1"]))

    def test_upload_makes_every_sample_a_bill_as_its_xml_says(self):
        bills = {}
        for name in ("1", "2", "10", "15", "9"):
            with self.subTest(sample=name):
                xml = sample(name)
                bill = self.upload(xml)
                self.assertBillIsTheInvoice(bill, xml, name)
                self.assertEqual(bill.l10n_pl_ksef_invoice_hash, file_hash(xml))
                self.assertFalse(bill.l10n_pl_ksef_number, "a file named faktura.xml has no KSeF number")
                bills[name] = bill
        with self.subTest(sample="template"):
            bill = self.upload(template())
            self.assertBillIsTheInvoice(bill, template(), "template")
        self.assertEqual(bills["2"].reversed_entry_id, bills["1"])
        self.assertIn("differs from the amount due", self.notes(bills["1"]))
        # the same file again: no second bill, and the user is told which bill it already is
        again = self.upload(sample("1"))
        self.assertFalse(again.invoice_line_ids)
        self.assertIn(bills["1"].display_name, self.notes(again))
        same = self.env["account.move"].search([("l10n_pl_ksef_invoice_hash", "=", file_hash(sample("1")))])
        self.assertEqual(same, bills["1"])

    def test_upload_of_the_export_sample_in_euros(self):
        # sample 22 is a Polish company's export (0 WDT) to EFG GmbH: it is EFG's purchase, in EUR
        xml = sample("22")
        refused = self.upload(xml)
        self.assertFalse(refused.invoice_line_ids, "not addressed to the Polish test company")
        self.assertIn("is addressed to", self.notes(refused))
        journal = self.efg_company()
        bill = self.upload(xml, journal)
        self.assertEqual(bill.company_id, journal.company_id)
        # the buyer is identified by KodUE DE + NrVatUE 999999999: the company with VAT DE999999999 is it
        self.assertTrue(bill.invoice_line_ids, "EFG GmbH is the buyer of sample 22: %s" % self.notes(bill))
        want = self.assertBillIsTheInvoice(bill, xml, "22")
        self.assertEqual(bill.currency_id, self.eur)
        self.assertEqual(want["total"], Decimal("4000"))
