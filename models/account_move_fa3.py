"""The FA(3) document of a customer invoice or credit note: the one place that maps an Odoo move to
the neutral :mod:`ksef_core.fa3` model.  The builder stays the only XML writer.

``moves._l10n_pl_ksef_fa3_documents()`` builds and validates the documents of many invoices at
once (Odoo's prefetching reads them in batches) and returns, per invoice, the XML or the list of
problems, each a line in Polish and English naming the Odoo field to fix.
"""

import datetime
from dataclasses import dataclass, field

from odoo import fields, models
from odoo.tools import html2plaintext
from odoo.tools.translate import LazyTranslate

from ..ksef_core.errors import KsefError
from ..ksef_core.fa3 import build_fa3
from ..ksef_core.fa3 import rates as ksef_rates
from ..ksef_core.fa3.errors import Fa3ValidationError
from ..ksef_core.fa3.model import (
    AdvanceInvoice,
    Annotations,
    CorrectedInvoice,
    Correction,
    Invoice,
    Registry,
)
from .account_move_fa3_fields import UPR_LIMITS
from .account_move_fa3_lines import ZERO
from .account_move_fa3_parties import EU_PREFIX
from .fa3_problems import from_issue, problem, problem_from_error
from .l10n_pl_ksef_nbp_rate import NOT_FETCHED

_lt = LazyTranslate(__name__)

SYSTEM_INFO = "Odoo 19 l10n_pl_ksef"


@dataclass
class Fa3Document:
    """The FA(3) document of one invoice: ``xml`` (bytes) when valid, else ``problems``."""

    xml: bytes = None
    problems: list = field(default_factory=list)
    invoice: Invoice = None
    rate_note: str = None

    def text(self, lang=None):
        return "\n".join("• " + p.line(lang) for p in self.problems)


class AccountMove(models.Model):
    _inherit = "account.move"

    # ------------------------------------------------------------------ entry points

    def _l10n_pl_ksef_fa3_documents(self):
        """``{move id: Fa3Document}`` for these customer invoices / credit notes, built and validated."""
        results = {}
        shared = self._l10n_pl_ksef_fa3_shared()
        for move in self:
            problems = []
            try:
                invoice, rate_note = move._l10n_pl_ksef_fa3_invoice(problems, shared)
            except KsefError as error:
                problems.append(problem_from_error(error))
                invoice, rate_note = None, None
            document = Fa3Document(problems=problems, invoice=invoice, rate_note=rate_note)
            if not problems:
                try:
                    document.xml = build_fa3(invoice, validate=True, check_totals=False)
                except Fa3ValidationError as error:
                    document.problems = [from_issue(issue) for issue in error.issues]
            results[move.id] = document
        if any(p.code == NOT_FETCHED for document in results.values() for p in document.problems):
            # one trigger for all the invoices missing a rate (it opens a cursor of its own)
            self.env["l10n_pl_ksef.nbp.rate"]._l10n_pl_ksef_trigger_fetch()
        return results

    def _l10n_pl_ksef_fa3_shared(self):
        """What the documents of these invoices share, read once for all of them."""
        rows = self._l10n_pl_ksef_fa3_rows()
        products = [row for move_rows in rows.values() for row in move_rows["products"]]
        taxes = self.env["account.tax"].browse(
            {tax_id for row in products for tax_id in row["tax_ids"]}
            | {row["tax_line_id"] for move_rows in rows.values() for row in move_rows["taxes"]}
        )
        taxes |= taxes.children_tax_ids
        tags = self.env["account.account.tag"].browse({tag for row in products for tag in row["tag_ids"]})
        records = self.env["product.product"].browse({row["product_id"] for row in products if row["product_id"]})
        native_gtu = "l10n_pl_vat_gtu" in self.env["product.template"]._fields
        eu = self.env.ref("base.europe", raise_if_not_found=False)
        eu_codes = eu.country_ids.mapped("code") if eu else []
        return {
            "rows": rows,
            "eu": {EU_PREFIX.get(code, code) for code in eu_codes if code != "PL"},
            "units": self._l10n_pl_ksef_unit_names(
                self.env["uom.uom"].browse({row["product_uom_id"] for row in products if row["product_uom_id"]})
            ),
            "tags": {tag.id: (tag.name or "").lstrip("+-") for tag in tags.with_context(lang="en_US")},
            "taxes": {
                tax.id: {
                    "code": ksef_rates.get(tax.l10n_pl_ksef_rate_code),
                    "name": tax.name,
                    "price_include": tax.price_include,
                    "amount": tax.amount,
                    "children": tax.children_tax_ids.ids if tax.amount_type == "group" else [],
                }
                for tax in taxes
            },
            "products": {
                product.id: {
                    "name": product.display_name,
                    "barcode": (product.barcode or "").strip(),
                    "code": (product.default_code or "").strip()[:50] or None,
                    "gtu": (native_gtu and product.l10n_pl_vat_gtu) or product.l10n_pl_ksef_gtu or None,
                    "annex15": product.l10n_pl_ksef_annex15,
                }
                for product in records
            },
        }

    def _l10n_pl_ksef_fa3_document(self):
        """The :class:`Fa3Document` of one invoice."""
        self.ensure_one()
        return self._l10n_pl_ksef_fa3_documents()[self.id]

    # ------------------------------------------------------------------ the model

    def _l10n_pl_ksef_fa3_invoice(self, problems, shared):
        """``(Invoice, rate note)``: the neutral FA(3) model of this move; problems are appended."""
        self.ensure_one()
        company = self.company_id
        kind = self.l10n_pl_ksef_kind or ("KOR" if self.move_type == "out_refund" else "VAT")
        currency = self.currency_id.name
        rate, rate_note = self._l10n_pl_ksef_vat_rate(problems)
        lines, totals, total, details = self._l10n_pl_ksef_fa3_lines(problems, rate, shared)
        created_at = self.env.context.get("l10n_pl_ksef_created_at") or fields.Datetime.now()
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=datetime.timezone.utc)
        number = self.name if self.name and self.name != "/" else None
        if not number:
            number = self.env._("DRAFT") if self.state == "draft" else None
        invoice = Invoice(
            number=number,
            issue_date=self.invoice_date or fields.Date.context_today(self),
            created_at=created_at,
            seller=self._l10n_pl_ksef_fa3_seller(problems, details),
            buyer=self._l10n_pl_ksef_fa3_buyer(problems, details, shared["eu"], kind),
            kind=kind,
            currency=currency,
            lines=[] if kind in ("ZAL", "KOR_ZAL") else lines,
            totals=totals,
            total=total,
            rounding="global" if company.tax_calculation_rounding_method == "round_globally" else "per_line",
            third_parties=[
                self._l10n_pl_ksef_fa3_third(third, shared["eu"]) for third in self.l10n_pl_ksef_third_party_ids
            ],
            place_of_issue=(company.l10n_pl_ksef_place_of_issue or company.city or "").strip() or None,
            annotations=self._l10n_pl_ksef_fa3_annotations(problems, details),
            system_info=SYSTEM_INFO,
            exchange_rate=rate,
            fp=self.l10n_pl_ksef_receipt_invoice,
        )
        supply = self.taxable_supply_date or self.delivery_date
        if supply and supply != invoice.issue_date and not any(line.sale_date for line in invoice.lines):
            invoice.sale_date = supply
        if kind in ("KOR", "KOR_ZAL", "KOR_ROZ"):
            invoice.correction = self._l10n_pl_ksef_fa3_correction(problems)
        if kind == "ZAL":
            invoice.order = self._l10n_pl_ksef_fa3_order(problems)
        if kind == "ROZ":
            invoice.advance_invoices = self._l10n_pl_ksef_fa3_advances(problems)
            if not invoice.advance_invoices:
                problems.append(
                    problem(
                        _lt(
                            "This final invoice deducts down payments, but no advance invoice is named: choose them "
                            "in the KSeF tab ▸ Advance invoices settled."
                        )
                    )
                )
        if kind == "UPR":
            self._l10n_pl_ksef_check_simplified(problems, invoice)
        if self.move_type == "out_invoice" and kind != "UPR":
            invoice.payment = self._l10n_pl_ksef_fa3_payment()
        self._l10n_pl_ksef_fa3_terms(invoice)
        self._l10n_pl_ksef_check_sums(problems, invoice)
        return invoice, rate_note

    def _l10n_pl_ksef_fa3_advances(self, problems):
        """``FakturaZaliczkowa`` of a final invoice (art. 106f ust. 3): the advance invoices it settles.

        An advance issued in KSeF is named by its KSeF number (required then); only one issued outside KSeF
        (before the company's KSeF start, or elsewhere) is named by its own number.
        """
        advances = []
        for adv in self.l10n_pl_ksef_advance_ids:
            if not adv.l10n_pl_ksef_number and adv._l10n_pl_ksef_needs_fa3():
                problems.append(
                    problem(
                        _lt(
                            "The advance invoice %(invoice)s was issued in KSeF but has no KSeF number yet, and this "
                            "final invoice must name it by that number: send %(invoice)s to KSeF and wait for its "
                            "number, then confirm this final invoice.",
                            invoice=adv.name,
                        )
                    )
                )
            advances.append(AdvanceInvoice(ksef_number=adv.l10n_pl_ksef_number or None, number=adv.name))
        return advances

    def _l10n_pl_ksef_fa3_terms(self, invoice):
        """Order reference, incoterm, source document, terms and conditions, registers."""
        company = self.company_id
        if self.ref and self.move_type == "out_invoice":
            invoice.orders = [(None, self.ref.strip()[:256])]
        if self.invoice_incoterm_id:
            invoice.delivery_terms = self.invoice_incoterm_id.code
        if self.invoice_origin:
            invoice.additional_info.append((None, "Dokument źródłowy", self.invoice_origin[:256]))
        if self.payment_reference and self.payment_reference != self.name:
            invoice.additional_info.append((None, "Tytuł płatności", self.payment_reference[:256]))
        notes = html2plaintext(self.narration or "").strip()
        if notes:
            invoice.footer = [notes[:3500]]
        if company.l10n_pl_ksef_krs or company.l10n_pl_ksef_regon or company.l10n_pl_ksef_bdo:
            invoice.registries = [
                Registry(
                    full_name=(company.partner_id.name or "")[:256] or None,
                    krs=company.l10n_pl_ksef_krs or None,
                    regon=company.l10n_pl_ksef_regon or None,
                    bdo=company.l10n_pl_ksef_bdo or None,
                )
            ]

    def _l10n_pl_ksef_fa3_annotations(self, problems, details):
        company = self.company_id
        annotations = Annotations(
            cash_method=bool(company.l10n_pl_ksef_cash_accounting),
            self_billing=bool(self.l10n_pl_ksef_self_billing),
            # art. 108a ust. 1a: a tick counts only for a taxpayer (Polish NIP) and a total over 15 000 PLN
            split_payment=bool(self.l10n_pl_ksef_split_payment) and self._l10n_pl_ksef_split_payment_possible(),
            simplified_triangular="Triangular Sale" in details["tags"],
        )
        exempt = details["taxes"].get("zw")
        if exempt:
            bases = [
                (tax.l10n_pl_ksef_exemption_kind, (tax.l10n_pl_ksef_exemption_text or "").strip()) for tax in exempt
            ]
            missing = exempt.filtered(
                lambda tax: not tax.l10n_pl_ksef_exemption_kind or not tax.l10n_pl_ksef_exemption_text
            )
            for tax in missing:
                problems.append(
                    problem(
                        _lt(
                            "The exempt tax '%(tax)s' has no legal basis: a KSeF invoice with exempt sales must name "
                            "the provision (e.g. art. 43 ust. 1 pkt 37 ustawy o VAT). Set it in Accounting ▸ "
                            "Configuration ▸ Taxes ▸ %(tax)s ▸ Exemption basis and Exemption provision.",
                            tax=tax.name,
                        )
                    )
                )
            if not missing:
                annotations.exemption_kind = bases[0][0]
                annotations.exemption_text = "; ".join(dict.fromkeys(text for _kind, text in bases))[:256]
        # art. 106e ust. 1 pkt 18: "odwrotne obciążenie" when the buyer accounts for the VAT of a line
        annotations.reverse_charge = any(
            tax._l10n_pl_ksef_buyer_accounts() for taxes in details["taxes"].values() for tax in taxes
        )
        annotations.new_vehicles = self._l10n_pl_ksef_fa3_vehicles(details, problems)
        margins = [code for code in details["taxes"] if code.startswith("margin_")]
        if margins:
            annotations.margin_scheme = ksef_rates.get(margins[0]).margin_scheme
        return annotations

    def _l10n_pl_ksef_fa3_correction(self, problems):
        corrected = self.l10n_pl_ksef_corrected_ids._l10n_pl_ksef_values()
        origin = self._l10n_pl_ksef_correction_origin()
        if not corrected and origin:
            corrected = [(origin.name, origin.invoice_date, origin.l10n_pl_ksef_number or None)]
        invoices = []
        for number, when, ksef_number in corrected:
            if not number or not when:
                problems.append(
                    problem(
                        _lt(
                            "Each corrected invoice needs its number and issue date: complete them in the KSeF tab ▸ "
                            "Corrected invoices."
                        )
                    )
                )
                continue
            invoices.append(CorrectedInvoice(issue_date=when, number=number, ksef_number=ksef_number))
        if not corrected:
            problems.append(
                problem(
                    _lt(
                        "This credit note does not say which invoice it corrects: create it with Credit Note from the "
                        "invoice, or list the corrected invoices in the KSeF tab ▸ Corrected invoices."
                    )
                )
            )
        reason = (self.l10n_pl_ksef_correction_reason or "").strip()
        period = (self.l10n_pl_ksef_correction_period or "").strip()
        return Correction(
            invoices=invoices,
            reason=reason[:256] or None,
            type=int(self.l10n_pl_ksef_correction_type) if self.l10n_pl_ksef_correction_type else None,
            period=period[:256] or None,
        )

    def _l10n_pl_ksef_check_simplified(self, problems, invoice):
        limit = UPR_LIMITS.get(self.currency_id.name)
        if limit is None or self.amount_total > limit:
            problems.append(
                problem(
                    _lt(
                        "A simplified invoice (UPR) is allowed up to 450 PLN or 100 EUR gross; this one is "
                        "%(total)s %(currency)s. Untick 'Simplified invoice (UPR)' in the KSeF tab.",
                        total="%.2f" % self.amount_total,
                        currency=self.currency_id.name,
                    )
                )
            )
        if not invoice.buyer.nip:
            problems.append(
                problem(
                    _lt(
                        "A simplified invoice (UPR) names the buyer by his Polish NIP: set the Tax ID of the customer "
                        "'%(partner)s', or untick 'Simplified invoice (UPR)'.",
                        partner=self.commercial_partner_id.display_name,
                    )
                )
            )

    def _l10n_pl_ksef_check_sums(self, problems, invoice):
        """P_15 equals the buckets' net + VAT (Odoo's totals are consistent; a tax outside the buckets is not)."""
        if problems or invoice.kind not in ("VAT", "KOR", "UPR"):
            return
        summed = sum((t.net + (t.vat or ZERO) for t in invoice.totals.values()), ZERO)
        if summed != invoice.total:
            problems.append(
                problem(
                    _lt(
                        "The invoice total %(total)s is not the sum of its VAT buckets %(sum)s: a tax on this invoice "
                        "is not a VAT tax with a KSeF rate code (e.g. a withholding or excise tax). Remove it, or set "
                        "its KSeF rate code.",
                        total=str(invoice.total),
                        sum=str(summed),
                    )
                )
            )
