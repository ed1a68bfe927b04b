"""Supplier invoices of the product demo: what two Polish suppliers issued to the demo company.

``supplier_invoices(buyer)`` returns FA(3) documents (bytes) that the demo stores in the simulator
(``SimulatorAdmin.store_invoice``), so that the demo company's first *Import now* makes vendor bills
of them: goods at 23 % with a GTIN and the supplier's own code, a service, a book at 5 %, a
payment term and the supplier's bank account.
"""

import datetime as dt
from decimal import Decimal as D

from ..fa3 import build_fa3
from ..fa3.model import Address, BankAccount, Contact, Invoice, Line, Party, Payment, PaymentTerm

SUPPLIERS = (
    Party(
        name="Biuro-Serwis Kraków sp. z o.o.",
        nip="6761234565",
        address=Address("ul. Zabłocie 23", "30-701 Kraków"),
        contacts=[Contact(email="faktury@biuro-serwis.example.pl", phone="+48 12 345 67 89")],
    ),
    Party(
        name="Drukarnia Wisła S.A.",
        nip="6761313750",
        address=Address("ul. Wiślana 8", "80-001 Gdańsk"),
        contacts=[Contact(email="ksiegowosc@drukarnia-wisla.example.pl")],
    ),
)
#: how long after making an invoice its supplier sent it to KSeF
SENT_AFTER = dt.timedelta(minutes=7)
ACCOUNTS = (
    BankAccount(number="PL27114020040000300201355387", bank_name="mBank S.A."),
    BankAccount(number="PL83101010230000261395100000", bank_name="NBP"),
)


def _invoice(number, supplier, account, buyer, issued, lines, due_days):
    return Invoice(
        number=number,
        issue_date=issued,
        sale_date=issued,
        created_at=dt.datetime.combine(issued, dt.time(9, 0), tzinfo=dt.timezone.utc),
        seller=supplier,
        buyer=buyer,
        lines=lines,
        payment=Payment(terms=[PaymentTerm(due_date=issued + dt.timedelta(days=due_days))], form=6, accounts=[account]),
    )


def supplier_invoices(buyer, today=None):
    """FA(3) XML (bytes) of the demo's supplier invoices issued to ``buyer`` (a ``Party`` with NIP and address),
    dated in the days before ``today`` (default: today)."""
    return [xml for xml, _sent in supplier_invoices_sent(buyer, today)]


def supplier_invoices_sent(buyer, today=None):
    """``[(FA(3) XML, when its supplier sent it to KSeF)]``: each was sent a few minutes after it was made, on
    its issue day (ISO text in UTC, for ``SimulatorAdmin.store_invoice``'s acquisition time). Stored so, the
    invoices are in KSeF's permanent storage at once, as the days-old invoices of a real supplier are."""
    today = today or dt.date.today()
    office, printer = SUPPLIERS
    invoices = [
        _invoice(
            "FV/%d/%02d/0412" % (today.year, today.month),
            office,
            ACCOUNTS[0],
            buyer,
            today - dt.timedelta(days=2),
            [
                Line(
                    name="Papier ksero A4 80 g, karton 5 ryz",
                    quantity=D(4),
                    unit="karton",
                    unit_price=D("89.90"),
                    rate="23",
                    gtin="5901234123457",
                    index="PAP-A4-K5",
                ),
                Line(name="Toner HP 59A czarny", quantity=D(2), unit="szt.", unit_price=D("412.00"), rate="23"),
                Line(name="Dostawa", quantity=D(1), unit="usł.", unit_price=D("25.00"), rate="23"),
            ],
            14,
        ),
        _invoice(
            "FV/%d/%02d/0413" % (today.year, today.month),
            office,
            ACCOUNTS[0],
            buyer,
            today - dt.timedelta(days=1),
            [
                Line(
                    name="Krzesło biurowe ergonomiczne", quantity=D(3), unit="szt.", unit_price=D("649.00"), rate="23"
                ),
                Line(
                    name="Kodeks cywilny 2026 (książka)", quantity=D(1), unit="szt.", unit_price=D("119.00"), rate="5"
                ),
            ],
            14,
        ),
        _invoice(
            "%d/%02d/DW/117" % (today.year, today.month),
            printer,
            ACCOUNTS[1],
            buyer,
            today - dt.timedelta(days=1),
            [
                Line(name="Druk ulotek A5, 2000 szt.", quantity=D(1), unit="usł.", unit_price=D("780.00"), rate="8"),
                Line(name="Projekt graficzny", quantity=D(1), unit="usł.", unit_price=D("450.00"), rate="23"),
            ],
            30,
        ),
    ]
    return [
        (build_fa3(invoice), (invoice.created_at + SENT_AFTER).isoformat().replace("+00:00", "Z"))
        for invoice in invoices
    ]
