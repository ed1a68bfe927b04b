"""Titles of bank transfers paying structured invoices (art. 108g and art. 108a ust. 3 of the VAT Act).

From 1 January 2027 a VAT payer paying another VAT payer by transfer for a structured invoice (one issued
in KSeF) quotes the invoice's KSeF number in the transfer title, or a collective identifier KSeF issues for
several invoices of one seller paid together (art. 108g). A split payment (MPP) carries the number in the
INV field of its VAT transfer message ("komunikat przelewu VAT", art. 108a ust. 3 pkt 3).

Transfer titles go to the bank as they are: ASCII letters, digits and a few signs (the Elixir character
set; several banks drop or refuse Polish letters), 4 lines of 35 characters at most.
"""

import datetime
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

#: the first payment date under art. 108g (the only place this date is written)
TITLE_RULE_FROM = datetime.date(2027, 1, 1)
#: 4 lines of 35 characters (Elixir): the longest transfer title a Polish bank takes
MAX_TITLE = 140
# The VAT transfer message of a split payment, as Polish banks take it (the Elixir "komunikat VAT"):
#   /VAT/10n,2n/IDC/14x/INV/35x/TXT/33x
# the VAT amount (up to 10 digits, a comma, 2 decimals), the seller's tax identifier (NIP, at most 14
# characters), one invoice (at most 35 characters), free text (at most 33 characters). Sources:
# https://docs.it.integro.pl/en-us/electronic-banking/electronic-banking-extension-pl/eb-extension-pl-split-payment.html
# (the format line) and
# https://www.bs-wloszczowa.com.pl/aktualnosci/mechanizm-podzielonej-platnosci-przelew-papierowy (a bank's form:
# "/VAT/ 23,00" max. 13 characters, "/IDC/" max. 14 characters, "/INV/ PM1253/2018" max. 35 characters).
#: the most digits before the comma of the VAT amount (VAT) of an MPP message
MPP_MAX_VAT_DIGITS = 10
#: the longest invoice identifier (INV) and free text (TXT) of an MPP message
MPP_MAX_INV = 35
MPP_MAX_TXT = 33
#: the longest seller identifier (IDC) of an MPP message
MPP_MAX_IDC = 14
#: a KSeF 1.0 number (36 characters: a "-" splits its 12-character technical part in two, API-NOTES section 7);
#: KSeF 2.0 numbers (NIP-YYYYMMDD-XXXXXXXXXXXX-CC) have 35 characters and fill the INV field exactly
_MPP_RE = re.compile(r"/VAT/([0-9]{1,10},[0-9]{2})/IDC/([0-9]{1,14})/INV/(.{1,35}?)(?:/TXT/(.{0,33}))?")
_KSEF_1_0 = re.compile(r"^(\d{10}-\d{8}-[0-9A-F]{6})-([0-9A-F]{6}-[0-9A-F]{2})$")

#: why a bill of a Polish VAT payer is paid without a KSeF number (the law's exceptions), as the transfer
#: title says it: fixed Polish texts in ASCII, whatever the user's language (the title is read by the
#: supplier, its bank and the tax office)
EXCEPTION_TEXTS = {
    # art. 113: a seller exempt from VAT by its turnover issues no structured invoice to be quoted
    "exempt": "bez nr KSeF - sprzedawca zwolniony z VAT",
    # an invoice issued during a KSeF failure (emergency or offline mode) that KSeF has not numbered yet
    "outage": "bez nr KSeF - faktura z awarii KSeF",
}

_POLISH = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
_NOT_SAFE = re.compile(r"[^A-Za-z0-9 ,.:;/()+\-_?'&]")


def ascii_title(text):
    """``text`` with Polish letters (and other accented ones) made plain, other signs replaced by a space."""
    plain = unicodedata.normalize("NFKD", str(text or "").translate(_POLISH))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", _NOT_SAFE.sub(" ", plain)).strip()


def exception_title(reason, invoice_number):
    """The title of a transfer paying ``invoice_number`` without a KSeF number, saying why (a key of
    :data:`EXCEPTION_TEXTS`)."""
    text = EXCEPTION_TEXTS[reason]
    number = ascii_title(invoice_number)[: MAX_TITLE - len(text) - 1]
    return ("%s %s" % (number, text)).strip()


def mpp_amount(value):
    """The VAT amount of an MPP message: two decimals, a comma, no thousands separator ("1234,50")."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ValueError("the VAT amount of a split payment cannot be negative")
    text = "%s" % amount
    if len(text) > MPP_MAX_VAT_DIGITS + 3:
        raise ValueError("the VAT amount of a split payment has at most %d digits" % MPP_MAX_VAT_DIGITS)
    return text.replace(".", ",")


def mpp_invoice(invoice_id):
    """The INV field of an MPP message naming ``invoice_id``: a KSeF number whole (a KSeF 1.0 number, 36
    characters, without the "-" inside its technical part, which the KSeF API treats as optional), another
    invoice number cut to the 35 characters the field takes."""
    invoice = ascii_title(invoice_id)
    old = _KSEF_1_0.match(invoice)
    if old:
        return "".join(old.groups())
    return invoice[:MPP_MAX_INV]


def mpp_message(vat_amount, seller_nip, invoice_id, text=""):
    """The VAT transfer message of a split payment: ``/VAT/10,00/IDC/<NIP>/INV/<invoice>/TXT/<text>``.

    ``invoice_id`` is the KSeF number of a structured invoice (from 1 January 2027), otherwise the
    invoice's own number. The free text is optional, shortened to what the message takes.
    """
    nip = re.sub(r"\D", "", seller_nip or "")
    if not nip or len(nip) > MPP_MAX_IDC:
        raise ValueError("a split payment names the seller's NIP")
    invoice = mpp_invoice(invoice_id)
    if not invoice:
        raise ValueError("a split payment names the invoice it pays")
    message = "/VAT/%s/IDC/%s/INV/%s" % (mpp_amount(vat_amount), nip, invoice)
    free = ascii_title(text).replace("/", "-")[: min(MPP_MAX_TXT, MAX_TITLE - len(message) - 5)].strip()
    return "%s/TXT/%s" % (message, free) if free else message


def parse_mpp_message(message):
    """``{"VAT": ..., "IDC": ..., "INV": ..., "TXT": ...}`` of an MPP message (``None`` if it is not one)."""
    found = _MPP_RE.fullmatch(message or "")
    if not found:
        return None
    return dict(zip(("VAT", "IDC", "INV", "TXT"), found.groups(), strict=True))


def title_rule_applies(day):
    """True when a payment made on ``day`` must quote the KSeF number (art. 108g)."""
    return bool(day) and day >= TITLE_RULE_FROM
