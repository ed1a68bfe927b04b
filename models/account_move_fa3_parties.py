"""Parties (seller, buyer, third parties) and payment of a customer invoice's FA(3) document."""

import re

from odoo import models
from odoo.tools.translate import LazyTranslate

from ..ksef_core import nip as ksef_nip
from ..ksef_core.fa3 import rates as ksef_rates
from ..ksef_core.fa3.model import (
    PAYMENT_TRANSFER,
    Address,
    BankAccount,
    Contact,
    PartialPayment,
    Party,
    Payment,
    PaymentTerm,
)
from .account_move_fa3_lines import dec
from .fa3_problems import problem

_lt = LazyTranslate(__name__)

#: country code -> EU VAT prefix where they differ (FA(3) KodUE)
EU_PREFIX = {"GR": "EL"}
_VAT_CLEAN = re.compile(r"[\s\-./]")


def _address(partner):
    """``Adres`` of a partner: street lines, then ZIP and city; ``None`` without street and city."""
    street = ", ".join(part.strip() for part in (partner.street, partner.street2) if part and part.strip())
    town = " ".join(part.strip() for part in (partner.zip, partner.city) if part and part.strip())
    if not street and not town:
        return None
    return Address(
        line1=(street or town)[:512], line2=(town if street else None), country=partner.country_id.code or "PL"
    )


def _contacts(partner):
    email = (partner.email or "").strip()
    phone = re.sub(r"[^\d+]", "", partner.phone or "")[:16]
    if not email and not phone:
        return []
    return [Contact(email=email[:255] or None, phone=phone or None)]


class AccountMove(models.Model):
    _inherit = "account.move"

    def _l10n_pl_ksef_fa3_seller(self, problems, details):
        company = self.company_id
        nip = ksef_nip.normalize_nip(company.l10n_pl_ksef_nip or company.vat)
        if not ksef_nip.nip_checksum_ok(nip):
            problems.append(
                problem(
                    _lt(
                        "The company's NIP '%(nip)s' is missing or not valid: set it in Settings ▸ Invoicing ▸ KSeF ▸ "
                        "NIP for KSeF (or the company's Tax ID).",
                        nip=nip or "-",
                    )
                )
            )
        partner = company.partner_id
        address = _address(partner)
        if not (partner.street and partner.city):
            problems.append(
                problem(_lt("The company's address is incomplete: set its street and city in Settings ▸ Companies."))
            )
        return Party(
            name=(partner.name or "").strip()[:512],
            nip=nip,
            address=address,
            contacts=_contacts(partner),
            # art. 97 ust. 10 pkt 2 and 3 (intra-EU supply, art. 28b services to an EU taxpayer), art. 136 (triangular)
            eu_vat_prefix=ksef_rates.seller_eu_prefix(details["taxes"]) or "Triangular Sale" in details["tags"],
        )

    def _l10n_pl_ksef_buyer_nip(self):
        """The customer's Polish NIP (``None`` when he has none: a consumer, or a foreign buyer)."""
        self.ensure_one()
        party = Party()
        self._l10n_pl_ksef_fa3_identify(party, self.commercial_partner_id, set())
        return party.nip

    def _l10n_pl_ksef_fa3_identify(self, party, partner, eu_prefixes, problems=None, who=None):
        """Fill ``party``'s identifier from the partner's Tax ID and country (NIP, EU VAT, foreign ID or none).

        ``eu_prefixes`` are the VAT prefixes of the other EU countries (EL for Greece).
        """
        country = partner.country_id.code or ""
        vat = _VAT_CLEAN.sub("", partner.vat or "").upper()
        prefix = vat[:2] if vat[:2].isalpha() else ""
        if not vat:
            party.no_id = True
            return
        nip = ksef_nip.polish_nip_in(partner.vat, country)
        if nip is not None:  # read as the import finds suppliers (their indexed NIP)
            if ksef_nip.nip_checksum_ok(nip):
                party.nip = nip
                return
            if problems is not None:
                problems.append(
                    problem(
                        _lt(
                            "The Tax ID '%(vat)s' of %(who)s '%(partner)s' is not a valid Polish NIP (10 digits with a "
                            "correct check digit): correct it on the contact.",
                            vat=partner.vat,
                            who=who,
                            partner=partner.display_name,
                        )
                    )
                )
            party.no_id = True
            return
        eu_prefix = prefix or EU_PREFIX.get(country, country)
        if eu_prefix in eu_prefixes:
            party.eu_country = eu_prefix
            party.eu_vat = vat[len(prefix) :] if prefix else vat
            return
        party.tax_country = country or None
        party.tax_id = re.sub(r"\s", "", partner.vat or "")[:50]  # a foreign ID as the customer writes it

    def _l10n_pl_ksef_fa3_buyer(self, problems, details, eu_prefixes, kind):
        partner = self.commercial_partner_id
        buyer = Party(name=(partner.name or "").strip()[:512] or None, address=_address(partner))
        self._l10n_pl_ksef_fa3_identify(buyer, partner, eu_prefixes, problems, self.env._("the customer"))
        buyer.contacts = _contacts(self.partner_id)
        buyer.jst = bool(partner.l10n_pl_ksef_jst)
        buyer.gv = bool(partner.l10n_pl_ksef_gv)
        roles = set(self.l10n_pl_ksef_third_party_ids.mapped("role"))
        if buyer.jst and "8" not in roles:
            problems.append(
                problem(
                    _lt(
                        "The customer '%(partner)s' is a local government unit (JST): add the subordinate unit the "
                        "invoice concerns in the KSeF tab ▸ Third parties, with the role 'Local government unit – "
                        "recipient'.",
                        partner=partner.display_name,
                    )
                )
            )
        if buyer.gv and "10" not in roles:
            problems.append(
                problem(
                    _lt(
                        "The customer '%(partner)s' is a VAT group (GV): add the group member the invoice concerns in "
                        "the KSeF tab ▸ Third parties, with the role 'VAT group member – recipient'.",
                        partner=partner.display_name,
                    )
                )
            )
        if "0 WDT" in details["taxes"] and not buyer.eu_vat:
            problems.append(
                problem(
                    _lt(
                        "An intra-EU supply at 0%% (0 WDT) needs the buyer's EU VAT number: set the Tax ID (with its "
                        "country prefix, e.g. DE123456789) of the customer '%(partner)s'.",
                        partner=partner.display_name,
                    )
                )
            )
        if kind == "UPR":
            buyer.name = None
            buyer.address = None
            buyer.contacts = []
        return buyer

    def _l10n_pl_ksef_fa3_third(self, third, eu_prefixes):
        partner = third.partner_id
        party = Party(
            name=(partner.commercial_company_name or partner.name or "").strip()[:512] or None,
            address=_address(partner),
            role=int(third.role),
            share=dec(third.share, 6) if third.share else None,
        )
        self._l10n_pl_ksef_fa3_identify(party, partner, eu_prefixes)
        if partner.ref:
            party.customer_number = partner.ref[:256]
        party.contacts = _contacts(partner)
        return party

    def _l10n_pl_ksef_fa3_payment(self):
        """``Platnosc``: due dates (instalments), form, bank account, paid / partly paid, early-payment discount."""
        payment = Payment()
        receivable = self.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        for line in receivable.sorted(lambda line: (line.date_maturity or line.date, line.id)):
            if line.date_maturity:
                payment.terms.append(PaymentTerm(due_date=line.date_maturity))
        form = self.l10n_pl_ksef_payment_form
        payment.form = int(form) if form else (PAYMENT_TRANSFER if self.partner_bank_id else None)
        bank = self.partner_bank_id
        if bank and bank.acc_number:
            number = re.sub(r"\s", "", bank.sanitized_acc_number or bank.acc_number)
            if number.startswith("PL") and len(number) == 28:
                number = number[2:]  # a Polish IBAN is written as its 26 digits (NRB)
            payment.accounts.append(
                BankAccount(
                    number=number,
                    swift=(bank.bank_bic or "").replace(" ", "") or None,
                    bank_name=(bank.bank_name or "")[:256] or None,
                )
            )
        if self.payment_state in ("paid", "in_payment"):
            dates = [part["date"] for part in self._l10n_pl_ksef_payments()]
            if dates:
                payment.paid = True
                payment.paid_date = max(dates)
        elif self.payment_state == "partial":
            payment.partial = True
            payment.partial_payments = [
                PartialPayment(amount=dec(part["amount"]), date=part["date"]) for part in self._l10n_pl_ksef_payments()
            ]
        term = self.invoice_payment_term_id
        if term and term.early_discount and term.discount_percentage:
            payment.discount_terms = "zapłata w ciągu %d dni od daty wystawienia" % term.discount_days
            payment.discount_amount = "%s%%" % ("%g" % term.discount_percentage)
        if not (payment.terms or payment.form or payment.accounts or payment.paid or payment.partial_payments):
            return None
        return payment

    def _l10n_pl_ksef_payments(self):
        """``[{"amount", "date"}]`` of the payments reconciled with this invoice (in its currency)."""
        result = []
        for partial, amount, counterpart in self._get_reconciled_invoices_partials()[0]:
            if counterpart.move_id.move_type == "entry" or counterpart.payment_id:
                result.append({"amount": amount, "date": counterpart.date, "partial": partial.id})
        return result
