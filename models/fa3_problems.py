"""Problems of an invoice's FA(3) document, as one line in Polish and English naming the Odoo field to fix."""

import re
from dataclasses import dataclass

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)


@dataclass(frozen=True)
class Problem:
    message_en: str
    message_pl: str
    code: str = "odoo"

    def line(self, lang=None):
        """One line, Polish and English; the user's language first."""
        if (lang or "").startswith("pl") or self.message_pl == self.message_en:
            first, second = self.message_pl, self.message_en
        else:
            first, second = self.message_en, self.message_pl
        return first if first == second else "%s / %s" % (first, second)


def problem_from_error(error):
    """A :class:`Problem` from a bilingual :class:`~ksef_core.errors.KsefError`."""
    return Problem(error.message_en, error.message_pl or error.message_en, error.code or "ksef")


def problem(text, code="odoo"):
    """A :class:`Problem` from a lazily translated text (``_lt("...", **params)``)."""
    return Problem(text._translate("en_US"), text._translate("pl_PL"), code)


#: where an FA(3) party lives in Odoo
_PARTIES = {"Podmiot1": _lt("Company"), "Podmiot2": _lt("Customer"), "Podmiot3": _lt("Third party")}
#: FA(3) element -> the Odoo field that fills it
_FIELDS = {
    "NIP": _lt("Tax ID"),
    "NrVatUE": _lt("Tax ID"),
    "NrID": _lt("Tax ID"),
    "KodUE": _lt("Country"),
    "KodKraju": _lt("Country"),
    "Nazwa": _lt("Name"),
    "AdresL1": _lt("Street"),
    "AdresL2": _lt("ZIP and city"),
    "Email": _lt("E-mail"),
    "Telefon": _lt("Phone"),
    "P_1": _lt("Invoice Date"),
    "P_1M": _lt("Place of issue (Settings ▸ KSeF)"),
    "P_2": _lt("Invoice number"),
    "P_6": _lt("Taxable supply date"),
    "P_6A": _lt("Delivery date (KSeF) of the line"),
    "P_7": _lt("Label of the line"),
    "P_8A": _lt("Unit of measure of the line"),
    "P_8B": _lt("Quantity of the line"),
    "P_9A": _lt("Unit price of the line"),
    "P_10": _lt("Discount of the line"),
    "P_11": _lt("Amount of the line"),
    "P_12": _lt("Taxes of the line (KSeF rate code of the tax)"),
    "GTIN": _lt("Barcode of the product"),
    "Indeks": _lt("Internal reference of the product"),
    "GTU": _lt("GTU group of the product"),
    "KodWaluty": _lt("Currency"),
    "NrRB": _lt("Recipient bank account"),
    "SWIFT": _lt("BIC of the bank"),
    "Termin": _lt("Due date"),
    "PrzyczynaKorekty": _lt("Reason for the correction"),
    "NrKSeFFaKorygowanej": _lt("KSeF number of the corrected invoice"),
    "NrFaKorygowanej": _lt("Corrected invoices"),
    "KRS": _lt("KRS number (Settings ▸ KSeF)"),
    "REGON": _lt("REGON (Settings ▸ KSeF)"),
    "BDO": _lt("BDO number (Settings ▸ KSeF)"),
    "StopkaFaktury": _lt("Terms and conditions"),
}
_LINE = re.compile(r"FaWiersz\[(\d+)\]")


def from_issue(issue):
    """A :class:`Problem` from an FA(3) :class:`~ksef_core.fa3.messages.ValidationIssue`.

    The FA(3) text (field name in Polish/English, value, rule) is prefixed with where to fix it in Odoo.
    """
    where_en, where_pl = [], []
    path = issue.path or ""
    for tag, label in _PARTIES.items():
        if "/%s" % tag in path or path.startswith(tag):
            where_en.append(label._translate("en_US"))
            where_pl.append(label._translate("pl_PL"))
            break
    match = _LINE.search(path)
    if match:
        line = _lt("Invoice line %(number)s", number=match.group(1))
        where_en.append(line._translate("en_US"))
        where_pl.append(line._translate("pl_PL"))
    field = _FIELDS.get(issue.element)
    if field is not None:
        where_en.append(field._translate("en_US"))
        where_pl.append(field._translate("pl_PL"))
    if not where_en:
        label = _lt("FA(3) field %(field)s", field=issue.element)
        where_en.append(label._translate("en_US"))
        where_pl.append(label._translate("pl_PL"))
    return Problem(
        "%s: %s" % (" ▸ ".join(where_en), issue.message_en),
        "%s: %s" % (" ▸ ".join(where_pl), issue.message_pl),
        issue.code or "fa3",
    )
