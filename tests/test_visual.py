"""Readable prints of KSeF files through Odoo's report engine: the FA(3) visualization of received bills
(attached for the side-by-side preview) and of sent invoices, and the readable UPO."""

from lxml import html as lxml_html

from odoo.exceptions import UserError
from odoo.tests import tagged

from .print_common import matrix_of, reports_without_server
from .send_common import L10nPlKsefSendCommon
from .test_print import HOSTILE, kod1_of, wkhtmltopdf_ok
from .test_receive import ReceiveCommon, fa3, line

VISUAL = "l10n_pl_ksef.action_report_ksef_visualization"


def render(env, report, ids):
    html, _type = env["ir.actions.report"]._render_qweb_html(report, ids)
    return html.decode() if isinstance(html, bytes) else html


def texts(page):
    return " ".join(lxml_html.fromstring(page).xpath("//text()")).split()


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefVisualReceived(ReceiveCommon):
    def test_imported_bill_gets_its_visualization_as_main_attachment(self):
        if not wkhtmltopdf_ok(self.env):
            self.skipTest("wkhtmltopdf is not installed: the PDF of the visualization cannot be made")
        reports_without_server(self.env)
        number = self.seed(fa3([line("Papier ksero A4", "5", "21.50", "23"), line("Segregator", "2", "9", "8")]))
        self.run_cron()
        bill = self.bills(number)
        self.assertEqual(len(bill), 1)
        xml = bill.attachment_ids.filtered(lambda a: a.name == "%s.xml" % number)
        self.assertTrue(xml, "the FA(3) file is attached")
        self.env["account.move"].with_context(l10n_pl_ksef_no_commit=True)._cron_l10n_pl_ksef_visualize()
        visual = bill.l10n_pl_ksef_visual_id
        self.assertTrue(visual.raw.startswith(b"%PDF"), "a real PDF, made by wkhtmltopdf")
        self.assertEqual(bill.message_main_attachment_id, visual, "Odoo's preview shows the visualization")
        self.assertIn(xml, bill.attachment_ids, "the XML stays attached")
        self.env["account.move"].with_context(l10n_pl_ksef_no_commit=True)._cron_l10n_pl_ksef_visualize()
        self.assertEqual(
            self.env["ir.attachment"].search_count(
                [("res_model", "=", "account.move"), ("res_id", "=", bill.id), ("mimetype", "=", "application/pdf")]
            ),
            1,
            "made once",
        )

    def test_visualization_of_a_received_invoice_shows_what_the_supplier_issued(self):
        number = self.seed(fa3([line("Papier ksero A4", "1000", "21.50", "23"), line(HOSTILE, "1", "10", "8")]))
        self.run_cron()
        bill = self.bills(number)
        page = render(self.env, VISUAL, bill.ids)
        words = texts(page)
        self.assertIn(number, words, "the KSeF number")
        for expected in ("Sprzedawca", "Nabywca", "Papier", "21", "500,00"):
            self.assertIn(expected, " ".join(words))
        tree = lxml_html.fromstring(page)
        self.assertFalse(tree.xpath("//script[contains(., 'alert')]"), "markup in the file is shown as text")
        self.assertFalse(tree.xpath("//img[@onerror]"))
        self.assertIn('<script>alert("x")</script>', tree.text_content())

    def test_a_bill_without_fa3_file_says_so(self):
        bill = self.env["account.move"].create({"move_type": "in_invoice", "partner_id": self.partner_a.id})
        with self.assertRaisesRegex(UserError, "no FA\\(3\\) file"):
            render(self.env, VISUAL, bill.ids)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefVisualSent(L10nPlKsefSendCommon):
    def test_sent_invoice_visualization_and_readable_upo(self):
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        number = move.l10n_pl_ksef_number
        page = render(self.env, VISUAL, move.ids)
        self.assertIn(move.name, texts(page))
        kod1 = lxml_html.fromstring(page).xpath("//@data-kod1-url")
        self.assertEqual(kod1, [kod1_of(self, move)], "KOD I of the file sent")
        self.assertTrue(matrix_of(kod1[0]))
        document = move.l10n_pl_ksef_document_id
        upo_page = render(self.env, "l10n_pl_ksef.action_report_ksef_upo", document.ids)
        upo_words = " ".join(texts(upo_page))
        self.assertIn("Urzędowe Poświadczenie Odbioru", upo_words)
        self.assertIn(number, upo_words)
        self.assertIn(document.session_id.reference, upo_words)
