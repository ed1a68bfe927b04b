"""One transfer paying several bills of one supplier: the collective identifier (art. 108g of the VAT Act).

From :data:`~..ksef_core.payment_title.TITLE_RULE_FROM` a transfer paying several invoices issued in KSeF
quotes the collective identifier ("identyfikator zbiorczy") KSeF issues for their KSeF numbers, one seller's
invoices only, 500 at most. The payment wizard asks KSeF for it when it makes the payment
(``wizards/account_payment_register.py``): with ``reuse_existing`` so a payment made again after a failure
quotes the identifier KSeF already issued, not a second one. When KSeF cannot give it (unreachable, refusing,
busy) the payment is not made: it never goes out with an unlawful title.

The identifier is kept on the payment and on each bill it paid.
"""

import logging

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr

from ..ksef_core import payment_title
from ..ksef_core.client.collective import MAX_INVOICES, MIN_INVOICES
from ..ksef_core.errors import KsefError
from ..ksef_core.ksef_number import ksef_number_nip

_logger = logging.getLogger(__name__)

#: seconds a payment waits for KSeF's collective identifier at most (the user waits in the wizard)
COLLECTIVE_DEADLINE = 30

_HELP = (
    "The collective identifier KSeF issued for the KSeF numbers of the bills this transfer pays together "
    "(art. 108g of the VAT Act): the transfer's title quotes it instead of each KSeF number."
)


class AccountPayment(models.Model):
    _inherit = "account.payment"

    l10n_pl_ksef_collective_id = fields.Char(string="KSeF collective identifier", readonly=True, copy=False, help=_HELP)


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_collective_id = fields.Char(
        string="KSeF collective identifier",
        readonly=True,
        copy=False,
        help="The collective identifier KSeF issued for the last transfer that paid this bill together with "
        "other bills of the supplier (art. 108g of the VAT Act): that transfer's title quotes it.",
    )

    def _l10n_pl_ksef_collective_problem(self, numbered):
        """Why these bills (one transfer) cannot be paid under one collective identifier, or ``None``.

        ``numbered``: the supplier bills among them with a KSeF number."""
        names = ", ".join(numbered.mapped(lambda m: m.ref or m.name))
        unnumbered = self.filtered(
            lambda m: m.move_type == "in_invoice" and m._l10n_pl_ksef_polish_bill() and not m.l10n_pl_ksef_number
        )
        if unnumbered:
            return _(
                "Bills %(without)s have no KSeF number, bills %(bills)s have one: from %(day)s one transfer paying "
                "several invoices issued in KSeF quotes the collective identifier KSeF issues for their KSeF "
                "numbers (art. 108g of the VAT Act), and it covers only invoices with a KSeF number. Pay the bills "
                "without a KSeF number by a separate transfer (select fewer bills, or untick Group Payments).",
                without=", ".join(unnumbered.mapped(lambda m: m.ref or m.name)),
                bills=names,
                day=fields.Date.to_string(payment_title.TITLE_RULE_FROM),
            )
        sellers = sorted({ksef_number_nip(number) for number in numbered.mapped("l10n_pl_ksef_number")})
        if len(sellers) > 1:
            return _(
                "Bills %(bills)s are invoices of several sellers (NIP %(nips)s): KSeF issues a collective "
                "identifier for the invoices of one seller only (art. 108g of the VAT Act). Pay each seller by its "
                "own transfer.",
                bills=names,
                nips=", ".join(sellers),
            )
        if len(numbered) < MIN_INVOICES:
            return _(
                "From %(day)s a transfer paying bill %(bills)s quotes its KSeF number (art. 108g of the VAT Act), "
                "and the other documents of this payment have none: pay the bills one by one (untick Group "
                "Payments).",
                day=fields.Date.to_string(payment_title.TITLE_RULE_FROM),
                bills=names,
            )
        if len(numbered) > MAX_INVOICES:
            return _(
                "One collective identifier of KSeF covers at most %(max)s invoices, and this payment pays "
                "%(count)s: split it into several payments.",
                max=MAX_INVOICES,
                count=len(numbered),
            )
        return None

    def _l10n_pl_ksef_collective_bills(self, day):
        """The bills whose KSeF numbers a transfer made on ``day`` paying these moves together quotes by a
        collective identifier (empty: none is needed). Call once :meth:`_l10n_pl_ksef_title_problem` found
        no problem."""
        if len(self) < 2 or not payment_title.title_rule_applies(day):
            return self.browse()
        return self.filtered(
            lambda m: m.move_type == "in_invoice"
            and m.l10n_pl_ksef_number
            and not m.l10n_pl_ksef_split_payment
            and m._l10n_pl_ksef_polish_bill()
        )

    def _l10n_pl_ksef_collective_entries(self, lines, amount, currency):
        """The invoices of the identifier: KSeF numbers, with the amount paid for each bill and its currency
        when the payment pays the whole of ``lines`` in their currency (else they are not known per bill)."""
        whole = (
            len(lines.currency_id) == 1
            and lines.currency_id == currency
            and all(move.move_type == "in_invoice" for move in lines.move_id)
            and not currency.compare_amounts(abs(amount), abs(sum(lines.mapped("amount_residual_currency"))))
        )
        entries = []
        for bill in self:
            entry = {"ksef_number": bill.l10n_pl_ksef_number}
            if whole:
                own = lines.filtered(lambda line, bill=bill: line.move_id == bill)
                paid = abs(sum(own.mapped("amount_residual_currency")))
                entry.update(amount=float_repr(currency.round(paid), currency.decimal_places), currency=currency.name)
            entries.append(entry)
        return entries

    def _l10n_pl_ksef_collective_identifier(self, lines, amount, currency):
        """The collective identifier KSeF issues for these bills (``lines``: the journal items the payment of
        ``amount`` in ``currency`` settles): the one already issued for the same invoices and amounts when
        there is one. Raises :class:`UserError` when KSeF does not give it (nothing is paid then)."""
        company = self.company_id
        company.ensure_one()
        entries = self._l10n_pl_ksef_collective_entries(lines, amount, currency)
        try:
            with company.sudo()._l10n_pl_ksef_client(
                ksef_user=self.env["res.users"], max_wait_seconds=5, deadline_seconds=COLLECTIVE_DEADLINE
            ) as client:
                number = client.collective.generate(entries, reuse_existing=True)
        except KsefError as exc:
            _logger.info("KSeF: no collective identifier for company %s (%s)", company.id, exc.code)
            refused = exc.details.get("ksef_numbers") or []
            raise UserError(
                _(
                    "KSeF did not give the collective identifier the transfer paying bills %(bills)s must quote "
                    "(art. 108g of the VAT Act), so nothing was paid.\n%(reason)s%(refused)s\nTry again later, or "
                    "pay the bills one by one (untick Group Payments): each transfer then quotes its bill's KSeF "
                    "number.",
                    bills=", ".join(self.mapped(lambda m: m.ref or m.name)),
                    reason=exc.bilingual(),
                    refused=(
                        "\n" + _("KSeF numbers concerned: %(numbers)s", numbers=", ".join(refused)) if refused else ""
                    ),
                )
            ) from None
        _logger.info("KSeF: collective identifier %s for %s bills of company %s", number, len(self), company.id)
        return number
