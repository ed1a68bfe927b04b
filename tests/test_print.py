"""What customers see of KSeF: the invoice PDF (KSeF number, KOD I, offline codes), the e-mail, the
portal, the payment reference. Rendered through Odoo's report engine, QR codes decoded back."""

import io
from urllib.parse import urlsplit

from lxml import html as lxml_html

from odoo.tests import HttpCase, tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.l10n_pl_ksef.ksef_core import certgen, qr
from odoo.addons.l10n_pl_ksef.ksef_core.hashing import sha256_b64url

from .common import TEST_NIP, b64
from .print_common import matrix_of, qr_codes_in, reports_without_server
from .send_common import L10nPlKsefSendCommon

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def wkhtmltopdf_ok(env):
    return env["ir.actions.report"].get_wkhtmltopdf_state() == "ok"


def kod1_of(test, move):
    """KOD I of ``move`` computed here from the simulator's address and the frozen XML."""
    parts = urlsplit(test.simulator.base_url)
    xml = move.l10n_pl_ksef_document_id.sudo().xml.encode("utf-8")
    return qr.kod1_url("%s://%s" % (parts.scheme, parts.netloc), TEST_NIP, move.invoice_date, xml)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefPrint(L10nPlKsefSendCommon):
    def render_html(self, move):
        html, _type = self.env["ir.actions.report"]._render_qweb_html("account.account_invoices", move.ids)
        return html.decode() if isinstance(html, bytes) else html

    def expected_kod1(self, move):
        return kod1_of(self, move)

    def test_accepted_invoice_prints_its_ksef_number_and_kod1(self):
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        number = move.l10n_pl_ksef_number
        self.assertTrue(number)
        page = self.render_html(move)
        tree = lxml_html.fromstring(page)
        self.assertEqual(
            " ".join(tree.xpath("//*[@name='l10n_pl_ksef_number']//text()")).split(),
            ["KSeF", "number", number],
        )
        codes = qr_codes_in(page, "l10n_pl_ksef_qr")
        self.assertEqual(len(codes), 1, "an online invoice carries KOD I only")
        matrix, label = codes[0]
        self.assertEqual(matrix, matrix_of(self.expected_kod1(move)), "the QR opens this invoice's KOD I link")
        self.assertEqual(label, number, "the KSeF number is printed under KOD I")

    def test_the_pdf_made_by_wkhtmltopdf_carries_the_number(self):
        if not wkhtmltopdf_ok(self.env):
            self.skipTest("wkhtmltopdf is not installed: the HTML of the print is tested instead")
        reports_without_server(self.env)
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        pdf, _type = report._render_qweb_pdf("account.account_invoices", move.ids)
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = "".join(page.extract_text() for page in PdfFileReader(io.BytesIO(pdf)).pages)
        self.assertIn(move.l10n_pl_ksef_number, text.replace("\n", ""))

    def test_invoice_not_in_ksef_prints_exactly_as_before(self):
        waiting = self.invoice()  # posted, never sent: no number, no code
        ours = self.env.ref("l10n_pl_ksef.report_invoice_document")
        with_addon = self.render_html(waiting)
        self.assertNotIn("l10n_pl_ksef", with_addon)
        self.assertNotIn("KSeF number", with_addon)
        ours.active = False
        self.env.registry.clear_cache("templates")
        self.assertEqual(with_addon, self.render_html(waiting), "the print is byte for byte Odoo's own")

    def test_hostile_text_is_escaped_in_the_print(self):
        self.buyer_pl.name = "Buyer %s" % HOSTILE
        move = self.invoice()
        move.invoice_line_ids.name = "Line %s" % HOSTILE
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted", move.l10n_pl_ksef_document_id.reason)
        tree = lxml_html.fromstring(self.render_html(move))
        self.assertFalse(tree.xpath("//script[contains(., 'alert')]"))
        self.assertFalse(tree.xpath("//img[@onerror]"))
        self.assertTrue(qr_codes_in(self.render_html(move), "l10n_pl_ksef_qr"))

    def test_offline_invoice_prints_kod1_offline_and_kod2_certyfikat(self):
        offline = certgen.make_test_certificate(nip=TEST_NIP, seal=True, usage="Offline")
        self.setup_wizard(
            auth_method="token",
            token=self.token,
            offline_certificate_file=b64(offline.to_pkcs12("pw")),
            offline_password="pw",
        ).action_save_credentials()
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        move.l10n_pl_ksef_document_id.sudo().write({"invoicing_mode": "offline24"})
        page = self.render_html(move)
        codes = qr_codes_in(page, "l10n_pl_ksef_qr")
        self.assertEqual([label for _matrix, label in codes], ["OFFLINE", "CERTYFIKAT"])
        self.assertEqual(codes[0][0], matrix_of(self.expected_kod1(move)))
        # KOD II is signed anew at each print (RSA-PSS is randomised): the link the image was drawn from
        kod2 = lxml_html.fromstring(page).xpath("//*[@id='l10n_pl_ksef_qr']//img/@data-ksef-url")[1]
        self.assertEqual(codes[1][0], matrix_of(kod2))
        self.assertTrue(qr.verify_kod2_url(kod2, offline), "KOD II is signed with the Offline certificate")
        parts = qr.parse_kod2_url(kod2)
        self.assertEqual(parts["seller_nip"], TEST_NIP)
        self.assertIn(sha256_b64url(move.l10n_pl_ksef_document_id.sudo().xml.encode()), kod2)

    def test_payment_reference_takes_the_ksef_number_when_the_company_wants_it(self):
        self.assertTrue(self.company.l10n_pl_ksef_payment_reference, "on by default")
        self.company.l10n_pl_ksef_payment_reference = False
        plain = self.invoice()
        plain.action_l10n_pl_ksef_send()
        self.assertNotEqual(plain.payment_reference, plain.l10n_pl_ksef_number)
        self.assertNotIn("l10n_pl_ksef_payment_quote", self.render_html(plain))
        plain_mail = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=plain.ids)
            .create({})
        )
        self.assertIn(plain.l10n_pl_ksef_number, str(plain_mail.body))
        self.assertNotIn("Please quote the KSeF number", str(plain_mail.body), "the option is off")
        self.company.l10n_pl_ksef_payment_reference = True
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.payment_reference, move.l10n_pl_ksef_number)
        self.assertIn(move.l10n_pl_ksef_number, self.render_html(move))
        # the PDF and the e-mail tell the customer to quote it in the transfer title (art. 108g)
        tree = lxml_html.fromstring(self.render_html(move))
        quote = " ".join(" ".join(tree.xpath("//*[@name='l10n_pl_ksef_payment_quote']//text()")).split())
        number = move.l10n_pl_ksef_number
        self.assertEqual(quote, "Please quote the KSeF number %s in the title of your transfer." % number)
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        body = " ".join(lxml_html.fromstring(str(wizard.body)).text_content().split())
        self.assertIn("Please quote the KSeF number %s in the title of your transfer." % number, body)
        self.assertIn("communication for your payment: %s" % number, body)

    def test_payment_reference_is_on_after_an_upgrade_unless_turned_off(self):
        """A company that had the addon before the option was on by default (its value never set) has it on after
        the upgrade, so its invoices tell customers which KSeF number to quote (art. 108g); one that turned it
        off keeps it off."""
        older = self.env["res.company"].create({"name": "Turned off"})
        older.l10n_pl_ksef_payment_reference = False
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_company SET l10n_pl_ksef_payment_reference = NULL WHERE id = %s", [self.company.id]
        )
        self.env.invalidate_all()
        self.assertFalse(self.company.l10n_pl_ksef_payment_reference)
        self.env["res.company"]._l10n_pl_ksef_payment_reference_on()  # run by the module's upgrade (_auto_init)
        self.env.invalidate_all()
        # the database's first company existed before the addon was installed
        self.assertTrue(self.env.ref("base.main_company").l10n_pl_ksef_payment_reference)
        self.assertTrue(self.company.l10n_pl_ksef_payment_reference)
        self.assertFalse(older.l10n_pl_ksef_payment_reference)
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.payment_reference, move.l10n_pl_ksef_number)

    def test_offline_invoice_not_numbered_yet_says_what_to_quote(self):
        """An invoice issued offline has no KSeF number until KSeF takes it: the print says so."""
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        move.l10n_pl_ksef_document_id.sudo().write({"invoicing_mode": "offline24"})
        tree = lxml_html.fromstring(self.render_html(move))
        quote = " ".join(" ".join(tree.xpath("//*[@name='l10n_pl_ksef_payment_quote']//text()")).split())
        self.assertEqual(
            quote,
            "KSeF has not numbered this invoice yet (issued offline): quote %s in the title of your transfer."
            % move.payment_reference,
        )
        self.assertTrue(move.payment_reference)

    def test_invoice_email_names_the_ksef_number(self):
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        self.assertIn(move.l10n_pl_ksef_number, str(wizard.body))

    def test_send_and_print_mails_the_number_and_stores_the_pdf_with_it(self):
        move = self.invoice()
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        self.assertNotIn("KSeF", str(wizard.body), "no number yet when the wizard opens")
        wizard.action_send_and_print()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        message = move.message_ids.filtered(
            lambda m: m.message_type == "comment" and move.l10n_pl_ksef_number in (m.body or "")
        )
        self.assertTrue(message, "the e-mail sent to the customer names the KSeF number")
        pdf = move.invoice_pdf_report_id
        self.assertTrue(pdf, "Send & Print keeps the invoice PDF")
        self.assertIn(pdf.raw, message.attachment_ids.mapped("raw"), "the customer gets that very PDF")
        # (in tests Odoo's report engine stores the HTML it would have printed)
        self.assertIn(move.l10n_pl_ksef_number.encode(), pdf.raw, "the stored invoice print carries the number")

    def test_send_and_print_mail_asks_for_the_ksef_number_only(self):
        """Art. 108g of the VAT Act: from 2027 the customer quotes the KSeF number in the transfer title. The
        e-mail of Send & Print is written when the wizard opens, before KSeF numbers the invoice: the e-mail that
        goes out asks for the KSeF number, not for the reference the invoice had before (the company option
        "KSeF number as payment reference", on by default)."""
        self.assertTrue(self.env["res.company"].create({"name": "Another"}).l10n_pl_ksef_payment_reference)
        move = self.invoice()
        before = move.payment_reference
        self.assertTrue(before)
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        self.assertIn(before, str(wizard.body), "Odoo's e-mail names the payment reference")
        wizard.action_send_and_print()
        number = move.l10n_pl_ksef_number
        self.assertEqual(move.payment_reference, number)
        message = move.message_ids.filtered(lambda m: m.message_type == "comment" and number in (m.body or ""))
        self.assertEqual(len(message), 1)
        text = " ".join(lxml_html.fromstring(str(message.body)).text_content().split())
        self.assertIn("Please quote the KSeF number %s in the title of your transfer." % number, text)
        self.assertIn("Please use the following communication for your payment: %s" % number, text)
        self.assertNotIn("communication for your payment: %s" % before, text)

    def test_a_pdf_made_before_the_number_is_made_again(self):
        if not wkhtmltopdf_ok(self.env):
            self.skipTest("wkhtmltopdf is not installed: no PDF to make again")
        reports_without_server(self.env)
        move = self.invoice()
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        wizard.extra_edis = []  # Send & Print without KSeF
        wizard.with_context(force_report_rendering=True).action_send_and_print()
        before = move.invoice_pdf_report_id.raw
        self.assertTrue(before)
        move.with_context(force_report_rendering=True).action_l10n_pl_ksef_send()
        self.assertNotEqual(move.invoice_pdf_report_id.raw, before, "the stored PDF now carries the number")
        self.assertTrue(move.message_ids.filtered(lambda m: "made again" in (m.body or "")))


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefPortal(L10nPlKsefSendCommon, HttpCase):
    def test_portal_shows_the_ksef_number_and_kod1(self):
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        move.invalidate_recordset()
        self.env.flush_all()
        response = self.url_open(move.get_portal_url())
        self.assertEqual(response.status_code, 200)
        codes = qr_codes_in(response.text, "l10n_pl_ksef_portal")
        tree = lxml_html.fromstring(response.text)
        self.assertIn(move.l10n_pl_ksef_number, " ".join(tree.xpath("//*[@id='l10n_pl_ksef_portal']//text()")))
        url = kod1_of(self, move)
        self.assertEqual(codes[0][0], matrix_of(url))
        link = tree.xpath("//*[@id='l10n_pl_ksef_portal']//a/@href")
        self.assertEqual(link, [url])
