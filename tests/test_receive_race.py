"""The same invoice uploaded while the cron imports it never becomes two bills.

A true race needs two transactions committing in turn. Odoo's test cursor never commits and
``registry.cursor()`` in a test returns a cursor of the same transaction; a separate connection
would not see the test's (uncommitted) company, and would wait on the unique index until the test
transaction ends, which never happens in one thread. So the race is played in one transaction, as
the loser sees it: the winner's bill exists (in the unique indexes) but the loser's reads miss it,
as in the loser's snapshot taken before the winner committed (Odoo runs REPEATABLE READ):

* the upload loses: the cron saves its bill right after the upload's own check found nothing (the
  upload opens no savepoint that would undo it); from then on searches of account.move miss it;
* the cron loses: the uploaded bill is there before the run (the cron rolls its savepoints back on
  an error, which would undo a winner saved in the middle; a committed one stays), and is hidden
  from the cron's reads: every search of account.move, and its SQL look-up of bills typed in by hand
  (which only takes draft and posted bills: the winner is made 'cancel' in the database for the run).

Either way the loser's insert meets the winner's row in the unique index, as it would in the database.
"""

import contextlib
import datetime
from unittest.mock import patch

import psycopg2

from odoo.fields import Domain
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.l10n_pl_ksef.ksef_core.hashing import sha256_b64

from .test_receive import ReceiveCommon, fa3, line

#: the upload's step after its "already a bill?" check
UPLOAD_CHECKED = "_l10n_pl_ksef_fill"
RAW_DATABASE_WORDS = ("duplicate key", "violates", "unique constraint", "psycopg2", "Traceback")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveRace(ReceiveCommon):
    # ------------------------------------------------------------------ helpers

    @contextlib.contextmanager
    def hidden(self, moves=None):
        """Reads of account.move miss ``moves`` (and the ids added to the yielded list) inside the block."""
        Move = type(self.env["account.move"])
        original_search = Move._search
        ids = list(moves.ids if moves else [])

        def _search(model, domain, *args, **kwargs):
            if ids:
                domain = Domain.AND([Domain(domain), Domain("id", "not in", ids)])
            return original_search(model, domain, *args, **kwargs)

        if moves:
            # the SQL look-up of typed-in bills takes draft and posted ones only
            self.env.flush_all()
            self.env.cr.execute("UPDATE account_move SET state = 'cancel' WHERE id IN %s", (tuple(ids),))
        try:
            with patch.object(Move, "_search", _search):
                yield ids
        finally:
            if moves:
                self.env.cr.execute("UPDATE account_move SET state = 'draft' WHERE id IN %s", (tuple(moves.ids),))
                self.env.invalidate_all()

    @contextlib.contextmanager
    def cron_wins_after_upload_checked(self, number):
        """The cron saves the bill of ``number`` when the upload has checked it is not a bill yet."""
        Move = type(self.env["account.move"])
        original = getattr(Move, UPLOAD_CHECKED)
        won = []

        def fill(move, *args, **kwargs):
            if not won:
                self.run_cron()
                won.extend(self.bills(number).ids)
                hidden.extend(won)
            return original(move, *args, **kwargs)

        with self.hidden() as hidden, patch.object(Move, UPLOAD_CHECKED, fill):
            yield won
        self.assertTrue(won, "the race took place: the cron made its bill during the upload")

    def upload(self, xml, name="faktura.xml"):
        attachment = self.env["ir.attachment"].create({"name": name, "raw": xml, "mimetype": "application/xml"})
        return self.journal.with_context(default_move_type="in_invoice")._create_document_from_attachment(
            attachment.ids
        )

    def upload_in_race(self, xml):
        """Upload ``xml``; a database error escaping the upload fails the test with what the user would see."""
        try:
            with self.env.cr.savepoint():
                bill = self.upload(xml)
                self.env.flush_all()
        except psycopg2.Error as exc:
            self.fail("the upload losing the race ends with a database error instead of a message: %s" % exc)
        return bill

    def notes(self, move):
        return " ".join(str(body) for body in move.message_ids.mapped("body"))

    def with_hash(self, xml):
        return self.env["account.move"].search([("l10n_pl_ksef_invoice_hash", "=", sha256_b64(xml))])

    def invoice(self, number):
        return fa3([line("Toner HP 305A", "2", "189.90", "23")], number=number)

    # ------------------------------------------------------------------ the index itself

    def test_database_refuses_a_second_bill_of_the_same_file_or_ksef_number(self):
        xml = self.invoice("FV/R/1")
        number = self.seed(xml)
        self.run_cron()
        (bill,) = self.bills(number)
        Move = self.env["account.move"]
        values = {"move_type": "in_invoice", "partner_id": bill.partner_id.id, "journal_id": self.journal.id}
        for field, value in (("l10n_pl_ksef_invoice_hash", sha256_b64(xml)), ("l10n_pl_ksef_number", number)):
            refused = self.assertRaises(psycopg2.IntegrityError)
            with self.subTest(field=field), mute_logger("odoo.sql_db"), refused, self.env.cr.savepoint():
                Move.create(dict(values, **{field: value}))
                self.env.flush_all()
        # other companies, and the sales side, are not concerned: the buyer and a third party each book it
        other = self.setup_other_company(name="Płatnik Sp. z o.o.")
        self.env.user.company_ids |= other["company"]
        elsewhere = Move.create(
            dict(
                values,
                company_id=other["company"].id,
                journal_id=other["default_journal_purchase"].id,
                l10n_pl_ksef_invoice_hash=sha256_b64(xml),
                l10n_pl_ksef_number=number,
            )
        )
        self.env.flush_all()
        self.assertEqual(
            self.env["account.move"].sudo().search([("l10n_pl_ksef_number", "=", number)]), bill | elsewhere
        )

    # ------------------------------------------------------------------ the race, either way

    def test_upload_losing_to_the_cron_gets_a_message_not_a_second_bill(self):
        xml = self.invoice("FV/R/2")
        number = self.seed(xml)
        # the upload found no bill of this file, then the cron saved its bill before the upload's
        with self.cron_wins_after_upload_checked(number) as winner:
            loser = self.upload_in_race(xml)
        imported = self.bills(number)
        self.assertEqual(imported.ids, winner)
        self.assertEqual(self.with_hash(xml), imported, "one bill")
        self.assertFalse(loser.invoice_line_ids, "the upload filled nothing")
        notes = self.notes(loser)
        self.assertIn("already", notes, "the user is told the invoice is already a bill")
        for word in RAW_DATABASE_WORDS:
            self.assertNotIn(word, notes)

    def test_cron_losing_to_an_upload_keeps_the_invoice_waiting_then_links_it(self):
        xml = self.invoice("FV/R/3")
        number = self.seed(xml)
        uploaded = self.upload(xml)
        self.assertTrue(uploaded.invoice_line_ids)
        # the cron does not see the uploaded bill (committed after the cron's transaction started)
        with self.hidden(uploaded):
            result = self.run_cron()[self.company.id]
        self.assertFalse(result["error"], result["text"])
        self.assertEqual(self.with_hash(xml), uploaded, "one bill")
        self.assertFalse(result["created"])
        handled = result["duplicates"] or result["linked"] or number in self.waiting().mapped("ksef_number")
        self.assertTrue(handled, "the invoice is counted as imported or kept on the waiting list: %s" % result["text"])
        for word in RAW_DATABASE_WORDS:
            self.assertNotIn(word, result["text"])
        # the next run (the waiting invoice is due again) gives the uploaded bill its KSeF number
        self.time_passes(datetime.timedelta(days=1))
        self.run_cron()
        self.assertEqual(self.bills(number), uploaded)
        self.assertFalse(self.waiting())
        self.assertEqual(self.with_hash(xml), uploaded)

    def test_cron_losing_to_a_bill_named_after_its_ksef_number(self):
        # a file saved from KSeF is named after its KSeF number: the uploaded bill has the number too
        xml = self.invoice("FV/R/4")
        number = self.seed(xml)
        uploaded = self.upload(xml, name="%s.xml" % number)
        self.assertEqual(uploaded.l10n_pl_ksef_number, number)
        with self.hidden(uploaded):
            result = self.run_cron()[self.company.id]
        self.assertFalse(result["error"], result["text"])
        self.assertFalse(result["created"])
        self.assertEqual(self.bills(number), uploaded, "one bill")
        self.time_passes(datetime.timedelta(days=1))
        result = self.run_cron()[self.company.id]
        self.assertFalse(self.waiting(), result["text"])
        self.assertEqual(self.bills(number), uploaded)
