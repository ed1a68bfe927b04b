"""What Send to KSeF tells the user of a selection: each invoice counted once; the KSeF number is not typed in."""

import datetime

from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number

from .common import OTHER_NIP
from .send_common import L10nPlKsefSendCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSendNotification(L10nPlKsefSendCommon):
    def message(self, action):
        return action["params"]["message"]

    def test_accepted_invoices_in_the_selection_are_counted_once(self):
        accepted = self.invoice()
        accepted.action_l10n_pl_ksef_send()
        self.assertEqual(accepted.l10n_pl_ksef_state, "accepted")
        new = self.invoice()
        action = (accepted | new).action_l10n_pl_ksef_send()
        self.assertEqual(new.l10n_pl_ksef_state, "accepted", new.l10n_pl_ksef_document_id.reason)
        message = self.message(action)
        self.assertTrue(message.startswith("2 accepted, 0 being processed, 0 rejected"), message)
        self.assertNotIn("not sent", message, "an invoice KSeF has already is no failure")
        self.assertEqual(action["params"]["type"], "success")

    def test_refused_invoices_are_not_sent_and_the_others_go(self):
        draft = self.invoice(post=False)
        new = self.invoice()
        action = (draft | new).action_l10n_pl_ksef_send()
        message = self.message(action)
        self.assertEqual(message, "1 accepted, 0 being processed, 0 rejected, 1 not sent")
        self.assertEqual(action["params"]["type"], "danger")

    def test_ksef_number_is_given_by_ksef_never_typed_in(self):
        Move = self.env["account.move"]
        description = Move.fields_get(["l10n_pl_ksef_number"])["l10n_pl_ksef_number"]
        self.assertTrue(description["readonly"], "the number KSeF gave cannot be edited on the invoice or the bill")
        self.assertEqual(description["string"], "KSeF number")
        # an invoice's number comes from its accepted document, a bill's from the import (written in code)
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_number, move.l10n_pl_ksef_document_id.ksef_number)
        # a bill not imported from KSeF takes the number typed in from the supplier's PDF (checked: see
        # tests/test_payment_memo.py); the view lets it be typed on such a bill only
        first = make_ksef_number(OTHER_NIP, datetime.date(2026, 3, 2), "0100000000A1")
        bill = Move.create({"move_type": "in_invoice", "partner_id": self.buyer_pl.id, "l10n_pl_ksef_number": first})
        self.assertEqual(bill.l10n_pl_ksef_number, first)
        second = make_ksef_number(OTHER_NIP, datetime.date(2026, 3, 2), "0100000000A2")
        bill.l10n_pl_ksef_number = second
        self.assertEqual(bill.l10n_pl_ksef_number, second)
