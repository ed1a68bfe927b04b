"""Build FA(3) XML from the neutral :class:`~.model.Invoice` model.

``build_fa3(invoice)`` returns deterministic UTF-8 bytes (XML declaration, no
BOM): the same model always gives the same bytes, because the invoice hash
and the QR code are computed from them.  Model problems (missing number, bad
NIP, totals that do not match the lines, too many decimals, ...) and schema
problems are reported together as :class:`~.errors.Fa3ValidationError`.
"""

from lxml import etree

from ..xmlsafe import parse_xml
from .buckets import BUCKETS
from .builder_lines import build_lines, build_order
from .builder_parties import build_buyer, build_seller, build_third_party
from .errors import Fa3ValidationError
from .fmt import Problems, fmt_amount, fmt_date, fmt_datetime, fmt_number
from .model import CORRECTION_KINDS, EXEMPTION_BASES, KINDS, MARGIN_SCHEMES
from .schema import FA3_NAMESPACE, schema_errors
from .totals import derived_annotations, resolve_totals
from .xmlutil import opt, q, sub

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
#: sections kept as raw XML (see ``Invoice.raw``)
RAW_SECTIONS = ("PodmiotUpowazniony", "Podmiot1K", "Podmiot2K", "Transport", "Zalacznik")


def _raw(parent, invoice, name):
    for blob in invoice.raw.get(name, ()):
        parent.append(parse_xml(blob, what_en="FA(3) section %s" % name, what_pl="sekcja FA(3) %s" % name))


def _header(root, invoice, problems):
    el = sub(root, "Naglowek")
    code = sub(el, "KodFormularza", "FA")
    code.set("kodSystemowy", "FA (3)")
    code.set("wersjaSchemy", "1-0E")
    sub(el, "WariantFormularza", "3")
    sub(
        el,
        "DataWytworzeniaFa",
        fmt_datetime(invoice.created_at, "DataWytworzeniaFa", "Faktura/Naglowek", problems),
    )
    opt(el, "SystemInfo", invoice.system_info)


def _amount(el, tag, value, problems, path="Faktura/Fa"):
    sub(el, tag, fmt_amount(value, tag, path + "/" + tag, problems) or "0.00")


def _annotations(fa, invoice, total, problems):
    ann = invoice.annotations
    derived = derived_annotations(invoice, total)
    el = sub(fa, "Adnotacje")
    sub(el, "P_16", "1" if ann.cash_method else "2")
    sub(el, "P_17", "1" if ann.self_billing else "2")
    sub(el, "P_18", "1" if derived["reverse_charge"] else "2")
    sub(el, "P_18A", "1" if derived["split_payment"] else "2")
    zw = sub(el, "Zwolnienie")
    exempt_used = any(line.rate == "zw" for line in invoice.lines) or "7" in invoice.totals
    if ann.exemption_kind or ann.exemption_text:
        if ann.exemption_kind not in EXEMPTION_BASES or not ann.exemption_text:
            problems.add(
                "P_19A",
                "Faktura/Fa/Adnotacje/Zwolnienie",
                "an exemption needs its legal basis: kind 'law', 'directive' or 'other' and the text "
                "(e.g. 'art. 43 ust. 1 pkt 37 ustawy VAT').",
                "zwolnienie wymaga podstawy prawnej: rodzaj 'law', 'directive' lub 'other' oraz treść "
                "(np. 'art. 43 ust. 1 pkt 37 ustawy VAT').",
            )
        sub(zw, "P_19", "1")
        sub(zw, EXEMPTION_BASES.get(ann.exemption_kind, "P_19A"), ann.exemption_text or "")
    else:
        if exempt_used:
            problems.add(
                "P_19A",
                "Faktura/Fa/Adnotacje/Zwolnienie",
                "the invoice has VAT-exempt ('zw') sales but no exemption basis; give the legal "
                "provision (Polish law, EU directive or other).",
                "faktura zawiera sprzedaż zwolnioną ('zw'), ale bez podstawy zwolnienia; podaj przepis "
                "(ustawy, dyrektywy lub inny).",
            )
        sub(zw, "P_19N", "1")
    nst = sub(el, "NoweSrodkiTransportu")
    if ann.new_vehicles:
        sub(nst, "P_22", "1")
        sub(nst, "P_42_5", "1" if ann.art42_5 else "2")
        for i, vehicle in enumerate(ann.new_vehicles, 1):
            path = "Faktura/Fa/Adnotacje/NoweSrodkiTransportu/NowySrodekTransportu[%d]" % i
            v = sub(nst, "NowySrodekTransportu")
            sub(v, "P_22A", fmt_date(vehicle.approval_date, "P_22A", path, problems))
            sub(v, "P_NrWierszaNST", str(vehicle.line_number))
            for tag, value in vehicle.fields:
                sub(v, tag, str(value))
    else:
        sub(nst, "P_22N", "1")
    sub(el, "P_23", "1" if ann.simplified_triangular else "2")
    pm = sub(el, "PMarzy")
    margin_used = any(line.margin for line in invoice.lines) or "11" in invoice.totals
    if ann.margin_scheme:
        if ann.margin_scheme not in MARGIN_SCHEMES:
            problems.add(
                "PMarzy",
                "Faktura/Fa/Adnotacje/PMarzy",
                "unknown margin scheme '%s'; use one of %s." % (ann.margin_scheme, ", ".join(MARGIN_SCHEMES)),
                "nieznana procedura marży '%s'; użyj jednej z %s."
                % (ann.margin_scheme, ", ".join(MARGIN_SCHEMES)),
            )
        sub(pm, "P_PMarzy", "1")
        sub(pm, MARGIN_SCHEMES.get(ann.margin_scheme, "P_PMarzy_2"), "1")
    else:
        if margin_used:
            problems.add(
                "PMarzy",
                "Faktura/Fa/Adnotacje/PMarzy",
                "the invoice has margin-scheme sales but no margin scheme is chosen (travel, used goods, "
                "works of art, antiques).",
                "faktura zawiera sprzedaż w procedurze marży, ale nie wybrano procedury (turystyka, "
                "towary używane, dzieła sztuki, antyki).",
            )
        sub(pm, "P_PMarzyN", "1")


def _correction(fa, invoice, problems):
    cor = invoice.correction
    path = "Faktura/Fa"
    if cor is None or not cor.invoices:
        problems.add(
            "DaneFaKorygowanej",
            path + "/DaneFaKorygowanej",
            "a correction invoice must name the invoice it corrects (date, number and KSeF number, "
            "or a note that the original was issued outside KSeF).",
            "faktura korygująca musi wskazać fakturę korygowaną (data, numer i numer KSeF albo "
            "informacja, że oryginał wystawiono poza KSeF).",
        )
        return
    opt(fa, "PrzyczynaKorekty", cor.reason)
    opt(fa, "TypKorekty", cor.type)
    for i, orig in enumerate(cor.invoices, 1):
        p = "%s/DaneFaKorygowanej[%d]" % (path, i)
        el = sub(fa, "DaneFaKorygowanej")
        sub(el, "DataWystFaKorygowanej", fmt_date(orig.issue_date, "DataWystFaKorygowanej", p, problems))
        sub(el, "NrFaKorygowanej", orig.number or "")
        if orig.ksef_number:
            sub(el, "NrKSeF", "1")
            sub(el, "NrKSeFFaKorygowanej", orig.ksef_number)
        else:
            sub(el, "NrKSeFN", "1")
    opt(fa, "OkresFaKorygowanej", cor.period)
    opt(fa, "NrFaKorygowany", cor.corrected_number)
    _raw(fa, invoice, "Podmiot1K")
    _raw(fa, invoice, "Podmiot2K")
    if cor.total_before is not None:
        _amount(fa, "P_15ZK", cor.total_before, problems)
        if cor.rate_before is not None:
            sub(fa, "KursWalutyZK", fmt_number(cor.rate_before, 6, "KursWalutyZK", path, problems))


def _payment_form(el, form, other):
    if form is not None:
        sub(el, "FormaPlatnosci", str(form))
    elif other:
        sub(el, "PlatnoscInna", "1")
        sub(el, "OpisPlatnosci", other)


def _account(parent, tag, acc):
    el = sub(parent, tag)
    sub(el, "NrRB", acc.number.replace(" ", ""))
    opt(el, "SWIFT", acc.swift)
    opt(el, "RachunekWlasnyBanku", acc.own_bank_account)
    opt(el, "NazwaBanku", acc.bank_name)
    opt(el, "OpisRachunku", acc.description)


def _payment(fa, pay, problems):
    path = "Faktura/Fa/Platnosc"
    el = sub(fa, "Platnosc")
    if pay.paid:
        sub(el, "Zaplacono", "1")
        if pay.paid_date is None:
            problems.add(
                "DataZaplaty",
                path,
                "the invoice is marked paid but has no payment date.",
                "faktura oznaczona jako zapłacona nie ma daty zapłaty.",
            )
        sub(el, "DataZaplaty", fmt_date(pay.paid_date, "DataZaplaty", path, problems) or "")
    elif pay.partial_payments:
        sub(el, "ZnacznikZaplatyCzesciowej", "2" if pay.partial is False else "1")
        for i, part in enumerate(pay.partial_payments, 1):
            p = "%s/ZaplataCzesciowa[%d]" % (path, i)
            z = sub(el, "ZaplataCzesciowa")
            _amount(z, "KwotaZaplatyCzesciowej", part.amount, problems, p)
            sub(z, "DataZaplatyCzesciowej", fmt_date(part.date, "DataZaplatyCzesciowej", p, problems))
            _payment_form(z, part.form, part.form_other)
    for i, term in enumerate(pay.terms, 1):
        t = sub(el, "TerminPlatnosci")
        if term.due_date is not None:
            sub(
                t, "Termin", fmt_date(term.due_date, "Termin", "%s/TerminPlatnosci[%d]" % (path, i), problems)
            )
        if term.count is not None or term.unit or term.start_event:
            d = sub(t, "TerminOpis")
            sub(d, "Ilosc", str(term.count if term.count is not None else ""))
            sub(d, "Jednostka", term.unit or "")
            sub(d, "ZdarzeniePoczatkowe", term.start_event or "")
    _payment_form(el, pay.form, pay.form_other)
    for acc in pay.accounts:
        _account(el, "RachunekBankowy", acc)
    for acc in pay.factor_accounts:
        _account(el, "RachunekBankowyFaktora", acc)
    if pay.discount_terms or pay.discount_amount:
        s = sub(el, "Skonto")
        sub(s, "WarunkiSkonta", pay.discount_terms or "")
        sub(s, "WysokoscSkonta", pay.discount_amount or "")
    opt(el, "LinkDoPlatnosci", pay.link)
    opt(el, "IPKSeF", pay.ipksef)


def _settlement(fa, st, problems):
    path = "Faktura/Fa/Rozliczenie"
    el = sub(fa, "Rozliczenie")
    for amount, reason in st.charges:
        o = sub(el, "Obciazenia")
        _amount(o, "Kwota", amount, problems, path)
        sub(o, "Powod", reason)
    if st.charges_total is not None:
        _amount(el, "SumaObciazen", st.charges_total, problems, path)
    for amount, reason in st.deductions:
        o = sub(el, "Odliczenia")
        _amount(o, "Kwota", amount, problems, path)
        sub(o, "Powod", reason)
    if st.deductions_total is not None:
        _amount(el, "SumaOdliczen", st.deductions_total, problems, path)
    if st.to_pay is not None:
        _amount(el, "DoZaplaty", st.to_pay, problems, path)
    elif st.to_settle is not None:
        _amount(el, "DoRozliczenia", st.to_settle, problems, path)


def _date_number(parent, tag, date_tag, number_tag, items, problems):
    for when, number in items:
        el = sub(parent, tag)
        if when is not None:
            sub(el, date_tag, fmt_date(when, date_tag, "Faktura/Fa/WarunkiTransakcji", problems))
        opt(el, number_tag, number)


def _transaction_terms(fa, invoice, problems):
    inv = invoice
    if not (
        inv.contracts
        or inv.orders
        or inv.batch_numbers
        or inv.delivery_terms
        or inv.contract_rate
        or inv.raw.get("Transport")
        or inv.intermediary
    ):
        return
    el = sub(fa, "WarunkiTransakcji")
    _date_number(el, "Umowy", "DataUmowy", "NrUmowy", inv.contracts, problems)
    _date_number(el, "Zamowienia", "DataZamowienia", "NrZamowienia", inv.orders, problems)
    for batch in inv.batch_numbers:
        sub(el, "NrPartiiTowaru", batch)
    opt(el, "WarunkiDostawy", inv.delivery_terms)
    if inv.contract_rate is not None:
        sub(el, "KursUmowny", fmt_number(inv.contract_rate, 6, "KursUmowny", "Faktura/Fa", problems))
        sub(el, "WalutaUmowna", inv.contract_currency or "")
    _raw(el, inv, "Transport")
    if inv.intermediary:
        sub(el, "PodmiotPosredniczacy", "1")


def _footer(root, invoice):
    if not (invoice.footer or invoice.registries):
        return
    el = sub(root, "Stopka")
    for text in invoice.footer[:3]:
        sub(sub(el, "Informacje"), "StopkaFaktury", text)
    for reg in invoice.registries:
        r = sub(el, "Rejestry")
        opt(r, "PelnaNazwa", reg.full_name)
        opt(r, "KRS", reg.krs)
        opt(r, "REGON", reg.regon)
        opt(r, "BDO", reg.bdo)


def _fa(root, invoice, problems, check_totals):
    inv = invoice
    path = "Faktura/Fa"
    fa = sub(root, "Fa")
    sub(fa, "KodWaluty", (inv.currency or "").upper())
    sub(fa, "P_1", fmt_date(inv.issue_date, "P_1", path, problems) or "")
    opt(fa, "P_1M", inv.place_of_issue)
    if not (inv.number or "").strip():
        problems.add(
            "P_2",
            path + "/P_2",
            "the invoice number is empty; number the invoice before sending.",
            "numer faktury jest pusty; nadaj fakturze numer przed wysłaniem.",
        )
    sub(fa, "P_2", inv.number or "")
    for wz in inv.delivery_notes:
        sub(fa, "WZ", wz)
    if inv.period_from is not None or inv.period_to is not None:
        okres = sub(fa, "OkresFa")
        sub(okres, "P_6_Od", fmt_date(inv.period_from, "P_6_Od", path, problems))
        sub(okres, "P_6_Do", fmt_date(inv.period_to, "P_6_Do", path, problems))
    elif inv.sale_date is not None:
        sub(fa, "P_6", fmt_date(inv.sale_date, "P_6", path, problems))
    totals, total = resolve_totals(inv, problems, check_totals)
    for key, bt in totals.items():
        b = BUCKETS[key]
        _amount(fa, b.net_field, bt.net, problems)
        if b.vat_field and bt.vat is not None:
            _amount(fa, b.vat_field, bt.vat, problems)
        if b.pln_field and bt.vat_pln is not None:
            _amount(fa, b.pln_field, bt.vat_pln, problems)
    _amount(fa, "P_15", total, problems)
    if inv.advance_rate is not None:
        sub(fa, "KursWalutyZ", fmt_number(inv.advance_rate, 6, "KursWalutyZ", path, problems))
    _annotations(fa, inv, total, problems)
    if inv.kind not in KINDS:
        problems.add(
            "RodzajFaktury",
            path + "/RodzajFaktury",
            "unknown invoice kind '%s'; use one of %s." % (inv.kind, ", ".join(KINDS)),
            "nieznany rodzaj faktury '%s'; użyj jednego z %s." % (inv.kind, ", ".join(KINDS)),
        )
    sub(fa, "RodzajFaktury", inv.kind)
    if inv.kind in CORRECTION_KINDS:
        _correction(fa, inv, problems)
    for i, (when, amount, rate) in enumerate(inv.partial_advances, 1):
        p = "%s/ZaliczkaCzesciowa[%d]" % (path, i)
        z = sub(fa, "ZaliczkaCzesciowa")
        sub(z, "P_6Z", fmt_date(when, "P_6Z", p, problems))
        _amount(z, "P_15Z", amount, problems, p)
        if rate is not None:
            sub(z, "KursWalutyZW", fmt_number(rate, 6, "KursWalutyZW", p, problems))
    if inv.fp:
        sub(fa, "FP", "1")
    if inv.tp:
        sub(fa, "TP", "1")
    for line_no, key, value in inv.additional_info:
        d = sub(fa, "DodatkowyOpis")
        opt(d, "NrWiersza", line_no)
        sub(d, "Klucz", key)
        sub(d, "Wartosc", value)
    for adv in inv.advance_invoices:
        z = sub(fa, "FakturaZaliczkowa")
        if adv.ksef_number:
            sub(z, "NrKSeFFaZaliczkowej", adv.ksef_number)
        else:
            sub(z, "NrKSeFZN", "1")
            sub(z, "NrFaZaliczkowej", adv.number or "")
    if inv.excise_refund:
        sub(fa, "ZwrotAkcyzy", "1")
    build_lines(fa, inv.lines, problems, inv.prices_gross)
    if inv.settlement is not None:
        _settlement(fa, inv.settlement, problems)
    if inv.payment is not None:
        _payment(fa, inv.payment, problems)
    _transaction_terms(fa, inv, problems)
    if inv.order is not None:
        build_order(fa, inv.order, problems)


def build_fa3_tree(invoice, check_totals=True):
    """Build the FA(3) element tree; returns ``(root, problems)`` without validating."""
    problems = Problems()
    root = etree.Element(q("Faktura"), nsmap={None: FA3_NAMESPACE})
    _header(root, invoice, problems)
    build_seller(root, invoice.seller, problems)
    build_buyer(root, invoice.buyer, problems)
    for i, party in enumerate(invoice.third_parties[:100], 1):
        build_third_party(root, party, i, problems)
    _raw(root, invoice, "PodmiotUpowazniony")
    _fa(root, invoice, problems, check_totals)
    _footer(root, invoice)
    _raw(root, invoice, "Zalacznik")
    if any(invoice.raw.values()):
        etree.cleanup_namespaces(root)
    return root, problems


def serialize(root):
    """Deterministic bytes: UTF-8, no BOM, XML declaration, 2-space indentation."""
    etree.indent(root, space="  ")
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8") + b"\n"


def build_fa3(invoice, validate=True, check_totals=True):
    """Return the FA(3) XML bytes of ``invoice``.

    ``check_totals=False`` writes booked totals without comparing them with the
    lines (for re-building a received document).

    :raises Fa3ValidationError: the model is inconsistent or (``validate=True``)
        the document does not pass the official FA(3) XSD.
    """
    root, problems = build_fa3_tree(invoice, check_totals)
    if problems:
        raise Fa3ValidationError(problems)
    if validate:
        issues = schema_errors(root)
        if issues:
            raise Fa3ValidationError(issues)
    return serialize(root)
