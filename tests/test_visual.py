"""Readable prints of KSeF files through Odoo's report engine: the FA(3) visualization of received bills
(attached for the side-by-side preview) and of sent invoices, and the readable UPO."""

from unittest.mock import patch

from lxml import html as lxml_html

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.models import account_move_ksef_visual as visual_module

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

    def test_a_bill_whose_visualization_fails_is_marked_with_why_and_the_others_go_on(self):
        if not wkhtmltopdf_ok(self.env):
            self.skipTest("wkhtmltopdf is not installed: the PDF of the visualization cannot be made")
        reports_without_server(self.env)
        broken_number = "FV/ZEPSUTA/%s" % self.id()[-12:]
        broken = self.seed(fa3([line("Papier ksero A4", "1", "21.50", "23")], number=broken_number))
        good = self.seed(fa3([line("Segregator", "2", "9", "8")]))
        self.run_cron()
        broken_bill, good_bill = self.bills(broken), self.bills(good)
        self.assertLess(broken_bill.id, good_bill.id, "the broken bill comes first in the cron's order")
        render = visual_module.render_invoice_html
        calls = []

        def renderer(xml, **kwargs):
            calls.append(xml)
            if broken_number.encode() in xml:
                # an error no one foresaw, whose text quotes the supplier's invoice
                raise RecursionError("cannot render %s of Papier ksero" % broken_number)
            return render(xml, **kwargs)

        Move = self.env["account.move"].with_context(l10n_pl_ksef_no_commit=True)
        with (
            patch.object(visual_module, "render_invoice_html", renderer),
            self.assertLogs("odoo.addons.l10n_pl_ksef.models.account_move_ksef_visual", "WARNING") as logs,
        ):
            Move._cron_l10n_pl_ksef_visualize()
        self.assertTrue(broken_bill.l10n_pl_ksef_visual_failed)
        self.assertIn("RecursionError", broken_bill.l10n_pl_ksef_visual_error)
        self.assertNotIn("Papier", broken_bill.l10n_pl_ksef_visual_error, "the bill says why, not the file's text")
        self.assertFalse(broken_bill.l10n_pl_ksef_visual_id)
        self.assertTrue(good_bill.l10n_pl_ksef_visual_id, "the others go on")
        log = "\n".join(logs.output)
        self.assertIn(str(broken_bill.id), log, "the log says where")
        self.assertNotIn("Papier", log, "never the invoice's data")
        calls.clear()
        with patch.object(visual_module, "render_invoice_html", renderer):
            Move._cron_l10n_pl_ksef_visualize()
        self.assertEqual(calls, [], "not tried again by the cron")

    def test_the_visualizations_wait_while_companies_are_due_for_an_import(self):
        """Hundreds of companies' imports (and invoices to send) come before the PDFs of the bills: the cron of
        the visualizations renders nothing while KSeF work is due, and comes back later."""
        if not wkhtmltopdf_ok(self.env):
            self.skipTest("wkhtmltopdf is not installed: the PDF of the visualization cannot be made")
        reports_without_server(self.env)
        number = self.seed(fa3([line("Papier ksero A4", "5", "21.50", "23")]))
        self.run_cron()
        bill = self.bills(number)
        # the company is due for its next check (a backlog, or its interval has passed)
        self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self.company).next_attempt = False
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_visualize")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        self.env["account.move"].with_context(l10n_pl_ksef_no_commit=True)._cron_l10n_pl_ksef_visualize()
        self.assertFalse(bill.l10n_pl_ksef_visual_id, "nothing rendered while an import is due")
        later = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).mapped("call_at")
        self.assertTrue(later and min(later) > fields.Datetime.now(), "it looks again in a while")
        self.run_cron()
        self.env["account.move"].with_context(l10n_pl_ksef_no_commit=True)._cron_l10n_pl_ksef_visualize()
        self.assertTrue(bill.l10n_pl_ksef_visual_id, "once the import is done, the PDF is made")

    def test_the_visualization_cron_works_within_its_budget(self):
        if not wkhtmltopdf_ok(self.env):
            self.skipTest("wkhtmltopdf is not installed: the PDF of the visualization cannot be made")
        number = self.seed(fa3([line("Segregator", "2", "9", "8")]))
        self.run_cron()
        bill = self.bills(number)
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_visualize")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        with patch.object(visual_module, "cron_budget", return_value=0.0):
            self.env["account.move"].with_context(l10n_pl_ksef_no_commit=True)._cron_l10n_pl_ksef_visualize()
        self.assertFalse(bill.l10n_pl_ksef_visual_id, "no time: nothing rendered")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]), "it comes back for the rest")

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
