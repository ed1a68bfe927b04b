"""VAT buckets: FA(3) rate codes (``P_12``) <-> summary fields (``P_13_x`` / ``P_14_x`` / ``P_14_xW``),
and the sums of the lines per bucket with the issuer's rounding method.

Rounding is ``ROUND_HALF_UP`` to 0.01 (Polish practice, art. 106e ust. 11).
``per_line``: VAT computed and rounded on every line, then summed;
``global``: lines summed per rate, VAT computed and rounded once.
For gross-price invoices (``P_9B`` / ``P_11A``) VAT is extracted from the gross
amount (gross x rate / (100 + rate)) and net = gross - VAT.
"""

from collections import OrderedDict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..errors import InputError
from .rates import P12_CODES, codes_of_bucket

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Bucket:
    key: str
    net_field: str
    vat_field: str  # None when the bucket has no VAT amount
    pln_field: str  # None when the bucket has no VAT-in-PLN field
    name_pl: str
    name_en: str
    vat_required: bool = True

    @property
    def rates(self):
        """The ``P_12`` codes booked here (from the one table, :mod:`.rates`)."""
        return codes_of_bucket(self.key)


#: Buckets in FA(3) schema order.
BUCKETS = OrderedDict(
    (b.key, b)
    for b in (
        Bucket(
            "1",
            "P_13_1",
            "P_14_1",
            "P_14_1W",
            "stawka podstawowa 23%/22%",
            "basic rate 23%/22%",
        ),
        Bucket("2", "P_13_2", "P_14_2", "P_14_2W", "stawka obniżona 8%/7%", "reduced rate 8%/7%"),
        Bucket("3", "P_13_3", "P_14_3", "P_14_3W", "stawka obniżona 5%", "reduced rate 5%"),
        Bucket("4", "P_13_4", "P_14_4", "P_14_4W", "ryczałt taksówkowy", "taxi flat rate"),
        Bucket("5", "P_13_5", "P_14_5", None, "procedura OSS", "OSS procedure", vat_required=False),
        Bucket("6_1", "P_13_6_1", None, None, "0% krajowa", "0% domestic"),
        Bucket("6_2", "P_13_6_2", None, None, "0% WDT", "0% intra-EU supply"),
        Bucket("6_3", "P_13_6_3", None, None, "0% eksport", "0% export"),
        Bucket("7", "P_13_7", None, None, "zwolnione", "exempt"),
        Bucket("8", "P_13_8", None, None, "poza krajem (np I)", "outside Poland (np I)"),
        Bucket(
            "9", "P_13_9", None, None, "art. 100 ust. 1 pkt 4 (np II)", "art. 100(1)(4) (np II)"
        ),
        Bucket("10", "P_13_10", None, None, "odwrotne obciążenie", "reverse charge"),
        Bucket("11", "P_13_11", None, None, "procedura marży", "margin scheme"),
    )
)

RATE_CODES = P12_CODES
RATE_TO_BUCKET = {code: b.key for b in BUCKETS.values() for code in b.rates}
#: P_13_x / P_14_x / P_14_xW element name -> (bucket key, "net" | "vat" | "vat_pln")
FIELD_TO_BUCKET = {}
for _b in BUCKETS.values():
    FIELD_TO_BUCKET[_b.net_field] = (_b.key, "net")
    if _b.vat_field:
        FIELD_TO_BUCKET[_b.vat_field] = (_b.key, "vat")
    if _b.pln_field:
        FIELD_TO_BUCKET[_b.pln_field] = (_b.key, "vat_pln")


def money(value):
    """Round to 0.01, half up."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_bucket(line):
    """Bucket key of a :class:`~.model.Line` (``None`` when the line has no rate)."""
    if line.margin:
        return "11"
    if line.rate is not None:
        if line.rate not in RATE_TO_BUCKET:
            raise InputError(
                "VAT rate '%s' on invoice line %s is not an FA(3) rate code: use one of %s."
                % (line.rate, line.number or "", ", ".join(RATE_CODES)),
                "Stawka VAT '%s' w pozycji %s nie jest kodem stawki FA(3): użyj jednej z %s."
                % (line.rate, line.number or "", ", ".join(RATE_CODES)),
                code="fa3_rate_unknown",
            )
        return RATE_TO_BUCKET[line.rate]
    if line.oss_rate is not None:
        return "5"
    return None


def line_rate_percent(line):
    """Numeric VAT rate in percent (0 for buckets without VAT)."""
    if line.rate is not None and line.rate.isdigit():
        return Decimal(line.rate)
    if line.rate is None and line.oss_rate is not None and not line.margin:
        return Decimal(line.oss_rate)
    return ZERO


def line_net(line):
    """``P_11`` of a line: given, or quantity x unit price - discount, rounded."""
    if line.net is not None:
        return Decimal(line.net)
    if line.quantity is not None and line.unit_price is not None:
        return money(Decimal(line.quantity) * Decimal(line.unit_price) - Decimal(line.discount or 0))
    return None


def line_gross(line):
    """``P_11A`` of a gross-price line: given, or quantity x gross unit price - discount, rounded."""
    if line.gross is not None:
        return Decimal(line.gross)
    if line.quantity is not None and line.unit_price_gross is not None:
        return money(Decimal(line.quantity) * Decimal(line.unit_price_gross) - Decimal(line.discount or 0))
    return None


def _vat_from_net(net, rate):
    return money(net * rate / HUNDRED)


def _vat_from_gross(gross, rate):
    return money(gross * rate / (HUNDRED + rate))


def _plain_amount(line):
    amount = line_net(line)
    if amount is None:
        amount = line_gross(line)
    return amount if amount is not None else ZERO


@dataclass
class Sums:
    net: Decimal = ZERO
    vat: Decimal = ZERO
    vat_pln: Decimal = ZERO
    lines: int = 0


def compute_sums(lines, rounding="per_line", prices_gross=False, default_rate=None):
    """Per-bucket sums of ``lines``: ``{bucket key: Sums}``.

    Lines marked ``before`` (correction "state before") count negatively, so a
    correction's sums are the differences.  ``default_rate`` is the exchange
    rate for lines without ``exchange_rate`` (``None`` = no PLN conversion).
    """
    if rounding not in ("per_line", "global"):
        raise InputError(
            "Unknown rounding method '%s': use 'per_line' or 'global'." % rounding,
            "Nieznana metoda zaokrąglania '%s': użyj 'per_line' albo 'global'." % rounding,
            code="fa3_rounding",
        )
    result = OrderedDict()
    groups = OrderedDict()  # (bucket, rate, fx) -> [net or gross sum]
    for line in lines:
        key = line_bucket(line)
        if key is None:
            continue
        sign = -1 if line.before else 1
        rate = line_rate_percent(line)
        fx = line.exchange_rate if line.exchange_rate is not None else default_rate
        bucket = BUCKETS[key]
        sums = result.setdefault(key, Sums())
        sums.lines += 1
        use_gross = prices_gross and bucket.vat_field is not None and line_gross(line) is not None
        if key == "11":
            sums.net += sign * _plain_amount(line)
            continue
        if use_gross:
            gross = line_gross(line) or ZERO
            if rounding == "per_line":
                vat = line.vat if line.vat is not None else _vat_from_gross(gross, rate)
                sums.net += sign * (gross - vat)
                sums.vat += sign * vat
                if fx is not None:
                    sums.vat_pln += sign * money(vat * Decimal(fx))
            else:
                groups.setdefault((key, rate, fx, "gross"), []).append(sign * gross)
        else:
            net = _plain_amount(line)
            if rounding == "per_line" or bucket.vat_field is None:
                sums.net += sign * net
            if bucket.vat_field is None:
                continue
            if rounding == "per_line":
                vat = line.vat if line.vat is not None else _vat_from_net(net, rate)
                sums.vat += sign * vat
                if fx is not None:
                    sums.vat_pln += sign * money(vat * Decimal(fx))
            else:
                groups.setdefault((key, rate, fx, "net"), []).append(sign * net)
    for (key, rate, fx, mode), amounts in groups.items():
        total = sum(amounts, ZERO)
        sums = result[key]
        if mode == "gross":
            vat = _vat_from_gross(total, rate)
            sums.net += total - vat
        else:
            vat = _vat_from_net(total, rate)
            sums.net += total
        sums.vat += vat
        if fx is not None:
            sums.vat_pln += money(vat * Decimal(fx))
    return result
