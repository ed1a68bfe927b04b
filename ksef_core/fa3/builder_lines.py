"""FA(3) invoice lines (``FaWiersz``) and advance-invoice order lines (``Zamowienie``)."""

from .buckets import line_gross, line_net
from .fmt import fmt_amount, fmt_date, fmt_number
from .xmlutil import opt, sub


def _num(el, tag, value, places, path, problems):
    if value is None:
        return
    opt(el, tag, fmt_number(value, places, tag, path + "/" + tag, problems))


def _amt(el, tag, value, path, problems):
    if value is None:
        return
    opt(el, tag, fmt_amount(value, tag, path + "/" + tag, problems))


def build_lines(fa, lines, problems, prices_gross=False):
    """Append one ``FaWiersz`` per line (numbered 1..n unless the line has ``number``).

    A missing ``P_11`` (or ``P_11A`` on gross-price invoices) is computed from
    quantity x unit price - discount.
    """
    for pos, line in enumerate(lines, 1):
        path = "Faktura/Fa/FaWiersz[%d]" % pos
        el = sub(fa, "FaWiersz")
        sub(el, "NrWierszaFa", str(line.number if line.number is not None else pos))
        opt(el, "UU_ID", line.uuid)
        if line.sale_date is not None:
            opt(el, "P_6A", fmt_date(line.sale_date, "P_6A", path, problems))
        opt(el, "P_7", line.name)
        opt(el, "Indeks", line.index)
        opt(el, "GTIN", line.gtin)
        opt(el, "PKWiU", line.pkwiu)
        opt(el, "CN", line.cn)
        opt(el, "PKOB", line.pkob)
        opt(el, "P_8A", line.unit)
        _num(el, "P_8B", line.quantity, 6, path, problems)
        _num(el, "P_9A", line.unit_price, 8, path, problems)
        _num(el, "P_9B", line.unit_price_gross, 8, path, problems)
        _num(el, "P_10", line.discount, 8, path, problems)
        net = line.net
        gross = line.gross
        if prices_gross and gross is None:
            gross = line_gross(line)
        elif not prices_gross and net is None:
            net = line_net(line)
        _amt(el, "P_11", net, path, problems)
        _amt(el, "P_11A", gross, path, problems)
        _amt(el, "P_11Vat", line.vat, path, problems)
        opt(el, "P_12", line.rate)
        _num(el, "P_12_XII", line.oss_rate, 6, path, problems)
        if line.annex15:
            sub(el, "P_12_Zal_15", "1")
        _amt(el, "KwotaAkcyzy", line.excise, path, problems)
        opt(el, "GTU", line.gtu)
        opt(el, "Procedura", line.procedure)
        _num(el, "KursWaluty", line.exchange_rate, 6, path, problems)
        if line.before:
            sub(el, "StanPrzed", "1")


def build_order(fa, order, problems):
    """Append ``Zamowienie`` (advance invoices: the ordered goods/services and the order value)."""
    path = "Faktura/Fa/Zamowienie"
    el = sub(fa, "Zamowienie")
    _amt(el, "WartoscZamowienia", order.value, path, problems)
    if not order.lines:
        problems.add(
            "ZamowienieWiersz",
            path,
            "an order needs at least one ordered item.",
            "zamówienie wymaga co najmniej jednej pozycji.",
        )
    for pos, line in enumerate(order.lines, 1):
        lpath = "%s/ZamowienieWiersz[%d]" % (path, pos)
        row = sub(el, "ZamowienieWiersz")
        sub(row, "NrWierszaZam", str(line.number if line.number is not None else pos))
        opt(row, "UU_IDZ", line.uuid)
        opt(row, "P_7Z", line.name)
        opt(row, "IndeksZ", line.index)
        opt(row, "GTINZ", line.gtin)
        opt(row, "PKWiUZ", line.pkwiu)
        opt(row, "CNZ", line.cn)
        opt(row, "PKOBZ", line.pkob)
        opt(row, "P_8AZ", line.unit)
        _num(row, "P_8BZ", line.quantity, 6, lpath, problems)
        _num(row, "P_9AZ", line.unit_price, 8, lpath, problems)
        _amt(row, "P_11NettoZ", line.net, lpath, problems)
        _amt(row, "P_11VatZ", line.vat, lpath, problems)
        opt(row, "P_12Z", line.rate)
        _num(row, "P_12Z_XII", line.oss_rate, 6, lpath, problems)
        if line.annex15:
            sub(row, "P_12Z_Zal_15", "1")
        opt(row, "GTUZ", line.gtu)
        opt(row, "ProceduraZ", line.procedure)
        _amt(row, "KwotaAkcyzyZ", line.excise, lpath, problems)
        if line.before:
            sub(row, "StanPrzedZ", "1")
