"""Point of Sale, without depending on it: every piece here acts only where ``point_of_sale`` is installed.

The addon does not depend on ``point_of_sale`` (and cannot ship a bridge module: the repository is the
addon), so nothing here names a POS model in a class: the invoice side looks at ``pos_order_ids`` only when
the field exists, and the one POS method it needs to tell apart is wrapped once the registry is complete
(``_register_hook``), as ``account_move_send.py`` does with ``l10n_pl_edi``.

**Sending.** Point of Sale posts the invoice of its orders itself (``pos.order._generate_pos_order_invoice``:
``sudo``, in the orders' company): that post is checked and, when the company sends automatically, queued
like any other (``account_move_fa3_actions._post``; a sudo post within the POS's request is an automated
one, so an invoice whose FA(3) would be refused is posted and held, never a broken checkout). Then Point
of Sale makes the PDF with Odoo's automated Send & Print (``account.move._generate_and_send``), whose
default options would include "Send to KSeF" and send the invoice at once, within the checkout's request,
whatever the company's setting: under it "Send to KSeF" is offered only for a held invoice (refused with
what to fix, and no PDF, as everywhere). The invoice thus follows the company's setting: queued when
posted (automatic), left to the accountant's Send to KSeF (manual).

**FP (art. 109 ust. 3d of the VAT act): an invoice for a sale already on a receipt.** The rule, from
what Odoo records: an invoice of Point of Sale orders is *issued at the checkout* when Point of Sale makes
it while it records the payment of the order (``pos.order._process_saved_order``: the cashier ticked
Invoice before the payment, in the POS, the back-office Payment wizard, self-order or online payment);
then the invoice is the sale's document and there is no receipt first. Every other invoice of POS orders
is made for orders already paid and closed without an invoice, whose receipt the customer was given:
invoiced afterwards from the order (its Invoice button, the POS Orders screen, the customer's request
on the portal with the receipt's code) or with the "Create invoices" action of the orders list. Such a
customer invoice is marked ``l10n_pl_ksef_receipt_invoice`` (FP) when it is created; the accountant may
change the mark until the invoice goes to KSeF (KSeF tab). Credit notes are not marked automatically.
"""

from odoo import api, models

from .account_move_send import _wrap_once

#: context key: Point of Sale is recording the payment of the order (an invoice made now is asked for at the
#: checkout, not for a receipt already given)
CHECKOUT_KEY = "l10n_pl_ksef_pos_checkout"
#: context key: Odoo's automated Send & Print (``_generate_and_send``), which never sends to KSeF itself
AUTOMATED_SEND_KEY = "l10n_pl_ksef_automated_send"


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model_create_multi
    def create(self, vals_list):
        if "pos_order_ids" in self._fields and not self.env.context.get(CHECKOUT_KEY):
            default_type = self.env.context.get("default_move_type")
            Company = self.env["res.company"]
            for vals in vals_list:
                if (
                    vals.get("pos_order_ids")
                    and (vals.get("move_type") or default_type) == "out_invoice"
                    and "l10n_pl_ksef_receipt_invoice" not in vals
                    and Company.browse(vals.get("company_id") or self.env.company.id).l10n_pl_ksef_active
                ):
                    vals["l10n_pl_ksef_receipt_invoice"] = True
        return super().create(vals_list)

    def _generate_and_send(self, *args, **kwargs):
        # Odoo's automated Send & Print (Point of Sale's invoice PDF): posting decided about KSeF already
        return super(AccountMove, self.with_context(**{AUTOMATED_SEND_KEY: True}))._generate_and_send(*args, **kwargs)

    def _register_hook(self):
        super()._register_hook()
        if "pos.order" not in self.env.registry:
            return

        def checkout(original):
            def method(self, *args, **kwargs):
                return original(self.with_context(**{CHECKOUT_KEY: True}), *args, **kwargs)

            return method

        _wrap_once(type(self.env["pos.order"]), "_process_saved_order", checkout)


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _l10n_pl_ksef_is_applicable(self, move):
        if self.env.context.get(AUTOMATED_SEND_KEY):
            # only to refuse a held invoice its PDF; a sendable one goes as the company's setting says
            return bool(move.l10n_pl_ksef_hold and move.state == "posted")
        return super()._l10n_pl_ksef_is_applicable(move)
