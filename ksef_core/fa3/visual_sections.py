"""Sections of the FA(3) visualization: parties, details, lines, order, VAT summary.

Each ``render_*`` function reads the parsed (namespaced) FA(3) tree and appends
its section to the HTML fragment; a section whose data is absent adds nothing.
Helpers read the tree leniently: the document was parsed safely but is not
necessarily schema-valid, so every element may be missing.
"""

from .buckets import BUCKETS
from .rates import get as get_rate
from .visual_html import KeyValues, columns, element, grid, pl_amount, pl_number, section, to_decimal
from .visual_labels import (
    AFTER,
    AUTHORISED_ROLES,
    BEFORE,
    INTERMEDIARY,
    KIND_COLLECTIVE_CORRECTION,
    KIND_TITLES,
    LINE_COLUMNS,
    LINE_DETAILS,
    MARGIN,
    NO,
    ORDER_COLUMNS,
    ORDER_DETAILS,
    OWN_BANK_ACCOUNT,
    PARTIAL_PAYMENT,
    PAYMENT_FORMS,
    SECTIONS,
    TAXPAYER_STATUS,
    THIRD_PARTY_ROLES,
    TOTAL_DEFAULT,
    TOTAL_LABELS,
    YES,
)
from .xmlutil import q

# --------------------------------------------------------------------------- reading the tree


def node(el, path):
    """The element at ``path`` ("A/B") under ``el``, or ``None``."""
    for part in path.split("/"):
        if el is None:
            return None
        el = el.find(q(part))
    return el


def nodes(el, tag):
    return [] if el is None else el.findall(q(tag))


def txt(el, path=None):
    """Stripped text of ``el`` (or of ``path`` under it); ``None`` when absent or empty."""
    target = el if path is None else node(el, path)
    if target is None or target.text is None:
        return None
    return target.text.strip() or None


def is_one(el, path):
    return txt(el, path) == "1"


def fmt(value, kind):
    """Format a text of kind ``amount`` / ``number`` / ``flag`` / ``text`` for display."""
    if value is None:
        return None
    if kind == "amount":
        return pl_amount(value)
    if kind == "number":
        return pl_number(value)
    if kind == "flag":
        return YES if value == "1" else None
    return value


def with_currency(amount, currency):
    text = pl_amount(amount)
    return "%s %s" % (text, currency) if text and currency else text


def kind_title(fa):
    kind = txt(fa, "RodzajFaktury")
    if kind == "KOR" and txt(fa, "OkresFaKorygowanej"):
        return KIND_COLLECTIVE_CORRECTION
    return KIND_TITLES.get(kind, kind)


# --------------------------------------------------------------------------- parties


def _address(el):
    if el is None:
        return None
    country = txt(el, "KodKraju")
    gln = txt(el, "GLN")
    return [
        txt(el, "AdresL1"),
        txt(el, "AdresL2"),
        "Kraj: %s" % country if country else None,
        "GLN: %s" % gln if gln else None,
    ]


def _join(*parts, sep=""):
    parts = [p for p in parts if p]
    return sep.join(parts) if parts else None


def _yes_no(value):
    return {"1": YES, "2": NO}.get(value, value)


def party(cell, el, heading, index=None):
    """One party block (Podmiot1/2/3, PodmiotUpowazniony, Podmiot1K/2K) into ``cell``."""
    element(cell, "h3", heading)
    ident = node(el, "DaneIdentyfikacyjne")
    kv = KeyValues(cell)
    kv.add("Prefiks VAT", txt(el, "PrefiksPodatnika"))
    kv.add("NIP", txt(ident, "NIP"))
    kv.add("Identyfikator wewnętrzny", txt(ident, "IDWew"))
    kv.add("Numer VAT-UE", _join(txt(ident, "KodUE"), txt(ident, "NrVatUE")))
    kv.add("Identyfikator podatkowy inny", _join(txt(ident, "KodKraju"), txt(ident, "NrID"), sep=" "))
    if is_one(ident, "BrakID"):
        kv.add("Identyfikator podatkowy", "Brak identyfikatora")
    kv.add("Nazwa", txt(ident, "Nazwa"))
    kv.add("Numer EORI", txt(el, "NrEORI"))
    kv.add("Adres", _address(node(el, "Adres")))
    kv.add("Adres do korespondencji", _address(node(el, "AdresKoresp")))
    for contact in nodes(el, "DaneKontaktowe"):
        kv.add("E-mail", txt(contact, "Email") or txt(contact, "EmailPU"))
        kv.add("Tel.", txt(contact, "Telefon") or txt(contact, "TelefonPU"))
    kv.add("Numer klienta", txt(el, "NrKlienta"))
    kv.add("Identyfikator nabywcy", txt(el, "IDNabywcy"))
    status = txt(el, "StatusInfoPodatnika")
    kv.add("Status podatnika", TAXPAYER_STATUS.get(status, status))
    kv.add("Faktura dotyczy jednostki podrzędnej JST", _yes_no(txt(el, "JST")))
    kv.add("Faktura dotyczy członka grupy VAT", _yes_no(txt(el, "GV")))
    role = txt(el, "Rola")
    kv.add("Rola", THIRD_PARTY_ROLES.get(role, role))
    kv.add("Rola inna", txt(el, "OpisRoli"))
    share = txt(el, "Udzial")
    kv.add("Udział", "%s%%" % pl_number(share) if share else None)
    pu_role = txt(el, "RolaPU")
    kv.add("Rola", AUTHORISED_ROLES.get(pu_role, pu_role))


def render_parties(out, root):
    box = section(out, "podmioty", SECTIONS["podmioty"])
    left, right = columns(box)
    party(left, node(root, "Podmiot1"), "Sprzedawca")
    party(right, node(root, "Podmiot2"), "Nabywca")
    others = nodes(root, "Podmiot3")
    upow = node(root, "PodmiotUpowazniony")
    blocks = [(p, "Podmiot inny %d" % (i + 1)) for i, p in enumerate(others)]
    if upow is not None:
        blocks.append((upow, "Podmiot upoważniony"))
    for start in range(0, len(blocks), 2):
        cells = columns(box)
        for cell, (el, heading) in zip(cells, blocks[start : start + 2], strict=False):
            cell.set("data-party", "podmiot3" if el.tag == q("Podmiot3") else "upowazniony")
            party(cell, el, heading)


# --------------------------------------------------------------------------- details


def _common_line_rate(fa):
    rates = {txt(line, "KursWaluty") for line in nodes(fa, "FaWiersz")} - {None}
    return rates.pop() if len(rates) == 1 else None


def render_details(out, fa):
    if fa is None:
        return
    box = section(out, "szczegoly", SECTIONS["szczegoly"])
    left, right = columns(box)
    kinds_paid = ("ZAL", "KOR_ZAL")
    kv_left, kv_right = KeyValues(left), KeyValues(right)
    kv_left.add("Data wystawienia, z zastrzeżeniem art. 106na ust. 1 ustawy", txt(fa, "P_1"))
    kv_left.add("Miejsce wystawienia", txt(fa, "P_1M"))
    p6_label = (
        "Data otrzymania zapłaty"
        if txt(fa, "RodzajFaktury") in kinds_paid
        else "Data dokonania lub zakończenia dostawy towarów lub wykonania usługi"
    )
    kv_left.add(p6_label, txt(fa, "P_6"))
    period = node(fa, "OkresFa")
    if period is not None:
        kv_left.add(
            "Okres dostawy towarów lub wykonania usługi",
            _join(
                "od %s" % txt(period, "P_6_Od") if txt(period, "P_6_Od") else None,
                "do %s" % txt(period, "P_6_Do") if txt(period, "P_6_Do") else None,
                sep=" ",
            ),
        )
    kv_left.add("Okres, którego dotyczy rabat", txt(fa, "OkresFaKorygowanej"))
    currency = txt(fa, "KodWaluty")
    kv_right.add("Kod waluty", currency)
    if txt(fa, "KursWalutyZ"):
        kv_right.add("Kurs waluty", pl_number(txt(fa, "KursWalutyZ")))
    elif currency and currency != "PLN" and _common_line_rate(fa):
        kv_right.add("Kurs waluty wspólny dla wszystkich wierszy faktury", pl_number(_common_line_rate(fa)))
    lines = nodes(fa, "FaWiersz") + nodes(node(fa, "Zamowienie"), "ZamowienieWiersz")
    if any(txt(x, "P_12_XII") or txt(x, "P_12Z_XII") for x in lines):
        kv_right.add("Procedura One Stop Shop", YES)
    partial = nodes(fa, "ZaliczkaCzesciowa")
    if partial:
        element(box, "h3", "Zaliczki częściowe")
        grid(
            box,
            ("Data otrzymania płatności", "Kwota płatności", "Kurs waluty"),
            [[txt(z, "P_6Z"), pl_amount(txt(z, "P_15Z")), pl_number(txt(z, "KursWalutyZW"))] for z in partial],
            numeric=(1, 2),
        )
    advances = nodes(fa, "FakturaZaliczkowa")
    if advances:
        element(box, "h3", "Numery wcześniejszych faktur zaliczkowych")
        rows = []
        for adv in advances:
            ksef = txt(adv, "NrKSeFFaZaliczkowej")
            rows.append([ksef or txt(adv, "NrFaZaliczkowej"), "KSeF" if ksef else "poza KSeF"])
        grid(box, ("Numer faktury zaliczkowej", "Wystawiona"), rows)


# --------------------------------------------------------------------------- lines


def _rate_text(line, margin, suffix=""):
    code = txt(line, "P_12" + suffix)
    oss = txt(line, ("P_12Z_XII" if suffix else "P_12_XII"))
    if code:
        rate = get_rate(code)
        return "%s%%" % code if rate is not None and rate.kind == "percent" else code
    if oss:
        return "%s%% (OSS)" % pl_number(oss)
    return MARGIN if margin else None


def _line_rows(lines, cols, details, margin, suffix):
    rows = []
    for line in lines:
        row = []
        for tag, _heading, kind in cols:
            if tag in ("P_12", "P_12Z"):
                row.append(_rate_text(line, margin, suffix))
            elif tag in ("P_7", "P_7Z"):
                extra = []
                for dtag, label, dkind in details:
                    value = fmt(txt(line, dtag), dkind)
                    if value:
                        extra.append("%s: %s" % (label, value))
                row.append([txt(line, tag) or "", *extra])
            else:
                row.append(fmt(txt(line, tag), kind))
        rows.append(row)
    return rows


def _line_table(box, lines, cols, details, margin, suffix, which):
    """A line table showing only the columns some line fills (Lp., name and rate always)."""
    rows = _line_rows(lines, cols, details, margin, suffix)
    keep = [
        i
        for i, (tag, _h, _k) in enumerate(cols)
        if tag in ("NrWierszaFa", "NrWierszaZam", "P_7", "P_7Z") or any(r[i] for r in rows)
    ]
    numeric = {n for n, i in enumerate(keep) if cols[i][2] in ("amount", "number")}
    headers, body = [cols[i][1] for i in keep], [[r[i] for i in keep] for r in rows]
    table = grid(box, headers, body, numeric=numeric, keep_empty=True)
    table.set("data-lines", which)
    return table


def _lines_block(box, lines, cols, details, margin, suffix, before_tag):
    before = [x for x in lines if is_one(x, before_tag)]
    if not before:
        _line_table(box, lines, cols, details, margin, suffix, "all")
        return
    after = [x for x in lines if not is_one(x, before_tag)]
    element(box, "h3", BEFORE)
    _line_table(box, before, cols, details, margin, suffix, "before")
    if after:
        element(box, "h3", AFTER)
        _line_table(box, after, cols, details, margin, suffix, "after")


def _margin(fa):
    return is_one(fa, "Adnotacje/PMarzy/P_PMarzy")


def render_lines(out, fa):
    lines = nodes(fa, "FaWiersz")
    if not lines:
        return
    box = section(out, "pozycje", SECTIONS["pozycje"])
    currency = txt(fa, "KodWaluty")
    if currency:
        element(box, "p", "Faktura wystawiona w walucie %s" % currency)
    _lines_block(box, lines, LINE_COLUMNS, LINE_DETAILS, _margin(fa), "", "StanPrzed")


def render_order(out, fa):
    order = node(fa, "Zamowienie")
    if order is None:
        return
    box = section(out, "zamowienie", SECTIONS["zamowienie"])
    kv = KeyValues(box)
    kv.add(
        "Wartość zamówienia lub umowy z uwzględnieniem kwoty podatku",
        with_currency(txt(order, "WartoscZamowienia"), txt(fa, "KodWaluty")),
        cls="o_ksef_num",
    )
    lines = nodes(order, "ZamowienieWiersz")
    if lines:
        _lines_block(box, lines, ORDER_COLUMNS, ORDER_DETAILS, _margin(fa), "Z", "StanPrzedZ")


# --------------------------------------------------------------------------- VAT summary


def render_summary(out, fa):
    """Podsumowanie stawek podatku: one row per VAT bucket present (P_13_x / P_14_x / P_14_xW), then P_15."""
    present = []
    for bucket in BUCKETS.values():
        fields = [bucket.net_field, bucket.vat_field, bucket.pln_field]
        values = [txt(fa, f) if f else None for f in fields]
        if any(values):
            present.append((bucket, values))
    total = txt(fa, "P_15")
    if not present and not total:
        return
    box = section(out, "podsumowanie", SECTIONS["podsumowanie"])
    if present:
        with_pln = any(values[2] for _b, values in present)
        headers = ["Lp.", "Stawka podatku", "Kwota netto", "Kwota podatku", "Kwota brutto"]
        if with_pln:
            headers.append("Kwota podatku PLN")
        rows, attrs = [], []
        for number, (bucket, (net, vat, pln)) in enumerate(present, 1):
            net_d, vat_d = to_decimal(net), to_decimal(vat)
            gross = None
            if net_d is not None or vat_d is not None:
                gross = str((net_d or 0) + (vat_d or 0))
            row = [str(number), bucket.name_pl, pl_amount(net), pl_amount(vat), pl_amount(gross)]
            if with_pln:
                row.append(pl_amount(pln))
            rows.append(row)
            attrs.append({"data_bucket": bucket.key})
        grid(box, headers, rows, numeric=(2, 3, 4, 5), row_attrs=attrs, keep_empty=True)
    kind = txt(fa, "RodzajFaktury")
    currency = txt(fa, "KodWaluty")
    if total:
        p = element(box, "p", "%s: " % TOTAL_LABELS.get(kind, TOTAL_DEFAULT), cls="o_ksef_total")
        element(p, "span", with_currency(total, currency), data_field="P_15")
    kv = KeyValues(box)
    kv.add("Kwota należności ogółem przed korektą", with_currency(txt(fa, "P_15ZK"), currency))
    kv.add("Kurs waluty przed korektą", pl_number(txt(fa, "KursWalutyZK")))


# --------------------------------------------------------------------------- settlement, payment, terms


def render_settlement(out, fa):
    rozl = node(fa, "Rozliczenie")
    if rozl is None:
        return
    box = section(out, "rozliczenie", SECTIONS["rozliczenie"])
    currency = txt(fa, "KodWaluty")
    for tag, title, reason, total_tag, total_label in (
        ("Obciazenia", "Obciążenia", "Powód obciążenia", "SumaObciazen", "Suma kwot obciążenia"),
        ("Odliczenia", "Odliczenia", "Powód odliczenia", "SumaOdliczen", "Suma kwot odliczenia"),
    ):
        items = nodes(rozl, tag)
        if items:
            element(box, "h3", title)
            rows = [[str(i), txt(o, "Powod"), pl_amount(txt(o, "Kwota"))] for i, o in enumerate(items, 1)]
            grid(box, ("Lp.", reason, "Kwota"), rows, numeric=(2,))
        KeyValues(box).add(total_label, with_currency(txt(rozl, total_tag), currency), cls="o_ksef_num")
    kv = KeyValues(box)
    kv.add("Do zapłaty", with_currency(txt(rozl, "DoZaplaty"), currency), cls="o_ksef_num")
    kv.add("Do rozliczenia", with_currency(txt(rozl, "DoRozliczenia"), currency), cls="o_ksef_num")


def _form(el):
    if is_one(el, "PlatnoscInna"):
        return _join("Płatność inna", txt(el, "OpisPlatnosci"), sep=": ")
    code = txt(el, "FormaPlatnosci")
    return PAYMENT_FORMS.get(code, code)


def _accounts(box, accounts, heading):
    if not accounts:
        return
    element(box, "h3", heading)
    rows = []
    for acc in accounts:
        own = txt(acc, "RachunekWlasnyBanku")
        rows.append(
            [
                [txt(acc, "NrRB"), OWN_BANK_ACCOUNT.get(own, own)],
                txt(acc, "SWIFT"),
                txt(acc, "NazwaBanku"),
                txt(acc, "OpisRachunku"),
            ]
        )
    grid(box, ("Pełny numer rachunku", "Kod SWIFT", "Nazwa banku", "Opis rachunku"), rows)


def render_payment(out, fa):
    pay = node(fa, "Platnosc")
    if pay is None:
        return
    box = section(out, "platnosc", SECTIONS["platnosc"])
    currency = txt(fa, "KodWaluty")
    kv = KeyValues(box)
    marker = txt(pay, "ZnacznikZaplatyCzesciowej")
    if is_one(pay, "Zaplacono"):
        status = "Zapłacono"
    elif marker or nodes(pay, "ZaplataCzesciowa"):
        status = PARTIAL_PAYMENT.get(marker, "Zapłata częściowa")
    else:
        status = "Brak zapłaty"
    kv.add("Informacja o płatności", status, data_field="payment_status")
    kv.add("Data zapłaty", txt(pay, "DataZaplaty"))
    kv.add("Forma płatności", _form(pay))
    partial = nodes(pay, "ZaplataCzesciowa")
    if partial:
        element(box, "h3", "Zapłata częściowa")
        rows = [
            [txt(z, "DataZaplatyCzesciowej"), with_currency(txt(z, "KwotaZaplatyCzesciowej"), currency), _form(z)]
            for z in partial
        ]
        grid(box, ("Data zapłaty częściowej", "Kwota zapłaty częściowej", "Forma płatności"), rows, numeric=(1,))
    terms = nodes(pay, "TerminPlatnosci")
    if terms:
        element(box, "h3", "Termin płatności")
        rows = []
        for term in terms:
            opis = node(term, "TerminOpis")
            rows.append(
                [
                    txt(term, "Termin"),
                    _join(txt(opis, "Ilosc"), txt(opis, "Jednostka"), txt(opis, "ZdarzeniePoczatkowe"), sep=" "),
                ]
            )
        grid(box, ("Termin płatności", "Opis terminu płatności"), rows)
    _accounts(box, nodes(pay, "RachunekBankowy"), "Numer rachunku bankowego")
    _accounts(box, nodes(pay, "RachunekBankowyFaktora"), "Numer rachunku bankowego faktora")
    skonto = node(pay, "Skonto")
    if skonto is not None:
        element(box, "h3", "Skonto")
        kv_s = KeyValues(box)
        kv_s.add("Warunki skonta", txt(skonto, "WarunkiSkonta"))
        kv_s.add("Wysokość skonta", txt(skonto, "WysokoscSkonta"))
    kv_l = KeyValues(box)
    kv_l.add("Link do płatności bezgotówkowej", txt(pay, "LinkDoPlatnosci"), cls="o_ksef_wrap")
    kv_l.add("Identyfikator płatności Krajowego Systemu e-Faktur", txt(pay, "IPKSeF"))


def render_terms(out, fa, generic):
    """Warunki transakcji; ``generic(box, el)`` prints sections without a dedicated layout (Transport)."""
    terms = node(fa, "WarunkiTransakcji")
    if terms is None:
        return
    box = section(out, "warunki", SECTIONS["warunki"])
    for tag, title, date_tag, date_label, nr_tag, nr_label in (
        ("Umowy", "Umowa", "DataUmowy", "Data umowy", "NrUmowy", "Numer umowy"),
        ("Zamowienia", "Zamówienie", "DataZamowienia", "Data zamówienia", "NrZamowienia", "Numer zamówienia"),
    ):
        items = nodes(terms, tag)
        if items:
            element(box, "h3", title)
            grid(box, (date_label, nr_label), [[txt(i, date_tag), txt(i, nr_tag)] for i in items])
    batches = [txt(b) for b in nodes(terms, "NrPartiiTowaru")]
    kv = KeyValues(box)
    kv.add("Numer partii towaru", [b for b in batches if b])
    kv.add("Warunki dostawy towarów", txt(terms, "WarunkiDostawy"))
    kv.add("Waluta umowna", txt(terms, "WalutaUmowna"))
    kv.add("Kurs umowny", pl_number(txt(terms, "KursUmowny")))
    for index, transport in enumerate(nodes(terms, "Transport"), 1):
        element(box, "h3", "Transport %d" % index)
        generic(box, transport)
    if is_one(terms, "PodmiotPosredniczacy"):
        element(box, "p", INTERMEDIARY)
