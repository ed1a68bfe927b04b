"""The one table of VAT rate codes: FA(3) ``P_12`` codes and the special treatments (OSS, margin schemes).

Every other place (bucket sums, the buyer's bill, the tax property in Odoo, the
defaults proposed for a tax) reads this table; nothing else lists the codes.

A *treatment code* is either an FA(3) ``P_12`` value (``"23"``, ``"0 WDT"``,
``"zw"``, ...), ``"oss"`` (OSS procedure: the line carries ``P_12_XII``) or a
``"margin_*"`` code (margin scheme: the line belongs to ``P_13_11`` and has no
``P_12``).  :func:`propose_code` suggests the code of a tax from what any
accounting system knows about it (its rate, its use, the Polish tax-report tags).
"""

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0")

#: Who accounts for the VAT of a supply (:attr:`RateCode.buyer_accounts`): the buyer always ("odwrotne
#: obciążenie", art. 106e ust. 1 pkt 18: domestic reverse charge, art. 28b services to an EU taxpayer), never
#: (the seller, or nobody), or it depends on the supply and the accountant says so per tax (a supply outside
#: Poland: e.g. art. 28b services to a non-EU business liable under its law, but not a supply on which the
#: seller pays the foreign VAT).
ALWAYS = "always"
NEVER = "never"
PER_TAX = "per_tax"


@dataclass(frozen=True)
class RateCode:
    code: str  # P_12 value, or "oss" / "margin_*"
    bucket: str  # key of buckets.BUCKETS (P_13_x)
    kind: str  # percent, zero, exempt, reverse_charge, not_subject, oss, margin
    percent: Decimal  # the VAT percentage (0 where no VAT is charged; None: the line's own rate, OSS)
    name_pl: str
    name_en: str
    margin_scheme: str = None  # key of model.MARGIN_SCHEMES for margin codes
    buyer_accounts: str = NEVER  # ALWAYS / PER_TAX / NEVER: the buyer accounts for the VAT (Adnotacje/P_18)
    seller_eu_prefix: bool = False  # the seller uses its PL-prefixed VAT-UE number (art. 97 ust. 10 pkt 2 and 3)

    @property
    def p_12(self):
        """The ``P_12`` value written on the line (``None`` for OSS and margin lines)."""
        return self.code if self.kind not in ("oss", "margin") else None


#: All treatment codes, in FA(3) bucket order.
RATES = OrderedDict(
    (r.code, r)
    for r in (
        RateCode("23", "1", "percent", Decimal("23"), "23%", "23%"),
        RateCode("22", "1", "percent", Decimal("22"), "22%", "22%"),
        RateCode("8", "2", "percent", Decimal("8"), "8%", "8%"),
        RateCode("7", "2", "percent", Decimal("7"), "7%", "7%"),
        RateCode("5", "3", "percent", Decimal("5"), "5%", "5%"),
        RateCode("4", "4", "percent", Decimal("4"), "4% (ryczałt taksówkowy)", "4% (taxi flat rate)"),
        RateCode("3", "4", "percent", Decimal("3"), "3% (ryczałt taksówkowy)", "3% (taxi flat rate)"),
        RateCode(
            "oss", "5", "oss", None, "procedura OSS (stawka kraju konsumpcji)", "OSS (rate of the consumer's country)"
        ),
        RateCode("0 KR", "6_1", "zero", ZERO, "0% krajowa", "0% domestic"),
        RateCode(
            "0 WDT",
            "6_2",
            "zero",
            ZERO,
            "0% WDT (dostawa wewnątrzwspólnotowa)",
            "0% intra-EU supply (WDT)",
            seller_eu_prefix=True,
        ),
        RateCode("0 EX", "6_3", "zero", ZERO, "0% eksport towarów", "0% export of goods"),
        RateCode("zw", "7", "exempt", ZERO, "zwolnione (zw)", "exempt (zw)"),
        RateCode(
            "np I", "8", "not_subject", ZERO, "poza krajem (np I)", "outside Poland (np I)", buyer_accounts=PER_TAX
        ),
        RateCode(
            "np II",
            "9",
            "not_subject",
            ZERO,
            "usługi art. 100 ust. 1 pkt 4 (np II)",
            "services of art. 100(1)(4) (np II)",
            buyer_accounts=ALWAYS,
            seller_eu_prefix=True,
        ),
        RateCode(
            "oo",
            "10",
            "reverse_charge",
            ZERO,
            "odwrotne obciążenie (oo)",
            "reverse charge (oo)",
            buyer_accounts=ALWAYS,
        ),
        RateCode(
            "margin_travel",
            "11",
            "margin",
            ZERO,
            "marża: biura podróży",
            "margin scheme: travel agencies",
            margin_scheme="travel",
        ),
        RateCode(
            "margin_used_goods",
            "11",
            "margin",
            ZERO,
            "marża: towary używane",
            "margin scheme: second-hand goods",
            margin_scheme="used_goods",
        ),
        RateCode(
            "margin_works_of_art",
            "11",
            "margin",
            ZERO,
            "marża: dzieła sztuki",
            "margin scheme: works of art",
            margin_scheme="works_of_art",
        ),
        RateCode(
            "margin_antiques",
            "11",
            "margin",
            ZERO,
            "marża: przedmioty kolekcjonerskie i antyki",
            "margin scheme: collectors' items and antiques",
            margin_scheme="antiques",
        ),
    )
)

#: The FA(3) ``P_12`` values, in schema order.
P12_CODES = tuple(r.code for r in RATES.values() if r.p_12)

#: Polish chart (``l10n_pl``) tax-report tags of a *sales* tax -> treatment code, most specific first.
#: A tax carrying one of these tags on its base repartition line gets that code by default.
PL_SALE_TAGS = (
    (("K_11", "K_12"), "np II"),
    (("K_21",), "0 WDT"),
    (("K_22",), "0 EX"),
    (("K_31",), "oo"),
    (("K_11",), "np I"),
    (("K_10",), "zw"),
    (("K_13",), "0 KR"),
    (("K_14",), "0 KR"),
    (("K_19",), "23"),
    (("K_17",), "8"),
    (("K_15",), "5"),
)
#: Polish chart tags of a *purchase* tax that mean the buyer self-assesses VAT on a foreign purchase
#: (intra-EU acquisition, import): such taxes never meet a Polish supplier's invoice in KSeF.
PL_SELF_ASSESSED_PURCHASE_TAGS = ("K_11rc", "K_23", "K_25", "K_27", "K_29")
#: Polish chart tag of a purchase under domestic reverse charge (the supplier's invoice says "oo").
PL_REVERSE_CHARGE_PURCHASE_TAG = "K_31rc"

_EXEMPT_WORDS = ("zw", "exempt", "zwoln")
_REVERSE_WORDS = ("odwrotne", "reverse", " oo")


def get(code):
    """The :class:`RateCode` of ``code`` (``None`` when unknown or empty)."""
    return RATES.get(code) if code else None


def rate_kind(code):
    """Kind of a treatment code (``percent``, ``zero``, ``exempt``, ...); ``None`` when unknown."""
    rate = get(code)
    return rate.kind if rate else None


def rate_percent(code):
    """VAT percentage of a treatment code (``Decimal``); ``None`` when unknown or variable (OSS)."""
    rate = get(code)
    return rate.percent if rate else None


def buyer_accounts(code, per_tax=False):
    """True when the buyer accounts for the VAT of a supply under ``code`` (FA(3) ``Adnotacje/P_18=1``).

    ``per_tax`` is what the accountant set on the tax; it counts only for a code whose answer depends on
    the supply (:data:`PER_TAX`, "np I"); for the others the code decides.
    """
    rate = get(code)
    if rate is None:
        return False
    if rate.buyer_accounts == PER_TAX:
        return bool(per_tax)
    return rate.buyer_accounts == ALWAYS


def buyer_accounts_is_fixed(code):
    """True when ``code`` alone decides whether the buyer accounts for the VAT (no per-tax choice)."""
    rate = get(code)
    return rate is None or rate.buyer_accounts != PER_TAX


def buyer_accounts_in_bucket(key):
    """True when every code booked in bucket ``key`` means the buyer accounts for the VAT (``P_13_9``, ``P_13_10``)."""
    codes = [r for r in RATES.values() if r.bucket == key]
    return bool(codes) and all(r.buyer_accounts == ALWAYS for r in codes)


def seller_eu_prefix(codes):
    """True when a supply under one of ``codes`` makes the seller show its ``PL`` VAT-UE prefix (art. 97 ust. 10)."""
    return any(rate.seller_eu_prefix for rate in map(get, codes) if rate)


def propose_buyer_accounts(code, tags=(), scope=None, name=""):
    """Suggest whether the buyer accounts for the VAT of a tax with treatment ``code``.

    Decided by the code where it can be; for a supply outside Poland ("np I") proposed True for the Polish
    chart's services taxed outside the country (tag ``K_11`` without ``K_12``, tax scope ``service``: art. 28b
    services to a business outside the EU, whose buyer settles the tax of its country) and for a tax whose
    label says reverse charge; otherwise False.
    """
    rate = get(code)
    if rate is None:
        return False
    if rate.buyer_accounts != PER_TAX:
        return rate.buyer_accounts == ALWAYS
    tags = {str(tag).lstrip("+-") for tag in tags or ()}
    if scope == "service" and "K_11" in tags and "K_12" not in tags:
        return True
    lowered = " %s" % (name or "").lower()
    return any(word in lowered for word in _REVERSE_WORDS)


def codes_of_bucket(key):
    """The ``P_12`` codes booked in bucket ``key`` (``("23", "22")`` for ``"1"``)."""
    return tuple(r.code for r in RATES.values() if r.bucket == key and r.p_12)


def selection(lang="en"):
    """``[(code, label)]`` for a selection field: ``"23 – 23%"`` style labels."""
    result = []
    for rate in RATES.values():
        name = rate.name_pl if lang == "pl" else rate.name_en
        label = name if name.startswith(rate.code) else "%s – %s" % (rate.code, name) if rate.p_12 else name
        result.append((rate.code, label))
    return result


def propose_code(use, amount_type, amount, tags=(), name="", self_assessed=False):
    """Suggest the treatment code of a tax (``None`` when nothing sensible can be said).

    ``use`` is ``"sale"`` or ``"purchase"``; ``amount_type`` ``"percent"`` (others get ``None``);
    ``amount`` its rate; ``tags`` the names of its base tax-report tags (``"K_19"``, without sign);
    ``name`` its label (only to tell "exempt" and "reverse charge" apart from a plain 0 %);
    ``self_assessed`` True when the tax cancels itself (a -100 % repartition line): the buyer
    accounts for the VAT.
    """
    tags = {str(tag).lstrip("+-") for tag in tags or ()}
    lowered = " %s" % (name or "").lower()
    if use == "sale":
        for needed, code in PL_SALE_TAGS:
            if all(tag in tags for tag in needed):
                return code
    elif use == "purchase":
        if PL_REVERSE_CHARGE_PURCHASE_TAG in tags:
            return "oo"
        if any(tag in tags for tag in PL_SELF_ASSESSED_PURCHASE_TAGS):
            return None
        if self_assessed:
            return None
    else:
        return None
    if amount_type != "percent":
        return None
    amount = Decimal(str(amount or 0)).normalize()
    if amount == ZERO:
        if any(word in lowered for word in _EXEMPT_WORDS):
            return "zw"
        if any(word in lowered for word in _REVERSE_WORDS):
            return "oo"
        return "0 KR"
    code = format(amount, "f")
    rate = get(code)
    return code if rate and rate.kind == "percent" else None
