"""Readable visualization of any FA(3) invoice as a safe, self-contained HTML fragment (in Polish).

:func:`render_invoice_html` lays the invoice out like the Ministry of Finance's
own visualization (Aplikacja Podatnika KSeF): header, corrected invoice,
parties, details, lines, order, VAT summary, annotations, additional
information, settlement, payment, transaction terms, footer and the KOD I
verification QR code.

* Input is parsed with :func:`~.parser.load_fa3_root` (no entities, no DTD, no
  network, size limit); anything that is not an FA(3) invoice raises
  :class:`~.errors.Fa3FormatError` (an :class:`~ksef_core.errors.InputError`)
  with a Polish and an English message.
* The HTML is built with lxml elements: every text of the invoice is escaped.
* Layout: tables and plain CSS scoped to ``.o_ksef_visual`` (wkhtmltopdf 0.12);
  the QR code is inline SVG.
"""

from lxml import etree

from ..qr import kod1_label, kod1_url, parse_kod1_url, qr_svg
from ..xmlsafe import parse_xml
from .errors import Fa3FormatError
from .messages import human_name
from .parser import load_fa3_root
from .visual_html import KeyValues, columns, element, grid, new_root, section, serialize
from .visual_labels import (
    ADDITIONAL_FLAGS,
    ANNOTATION_FLAGS,
    BRAND,
    CORRECTION_TYPES,
    EXEMPTION_BASES,
    EXEMPTION_TEXT,
    MARGIN_NAMES,
    NEW_VEHICLES,
    REGISTRY_COLUMNS,
    SECTIONS,
    VAT22,
    VEHICLE_FIELDS,
)
from .visual_sections import (
    is_one,
    kind_title,
    node,
    nodes,
    party,
    render_details,
    render_lines,
    render_order,
    render_parties,
    render_payment,
    render_settlement,
    render_summary,
    render_terms,
    txt,
)

_SVG_NS = "http://www.w3.org/2000/svg"


def render_invoice_html(xml_bytes, *, ksef_number=None, environment=None, title=None):
    """HTML fragment (``str``) showing the FA(3) invoice ``xml_bytes`` the way the Ministry does.

    :param xml_bytes: the exact invoice file (``bytes``); the KOD I hash is computed over it.
    :param ksef_number: the invoice's KSeF number, printed in the header and under KOD I.
    :param environment: KSeF environment (``Environment``, name such as ``"TEST"`` or a QR host URL);
        when given, the KOD I QR code is printed, labelled with ``ksef_number`` or ``OFFLINE``.
    :param title: optional extra heading printed under the KSeF logo text (e.g. ``"Duplikat"``).
    :raises Fa3FormatError: the data is not a (safe, well-formed) FA(3) invoice.
    :raises ~ksef_core.errors.InputError: KOD I cannot be made (seller NIP or P_1 unusable, unknown
        environment).
    """
    if not isinstance(xml_bytes, (bytes, bytearray)):
        raise Fa3FormatError(
            "Give the invoice file content (bytes) to visualize, not %s." % type(xml_bytes).__name__,
            "Do wizualizacji podaj zawartość pliku faktury (bajty), a nie %s." % type(xml_bytes).__name__,
            code="fa3_not_bytes",
        )
    xml_bytes = bytes(xml_bytes)
    root = load_fa3_root(xml_bytes, validate=False)
    fa = node(root, "Fa")
    out = new_root("o_ksef_invoice")
    _header(out, fa, ksef_number, title)
    _correction(out, fa)
    render_parties(out, root)
    render_details(out, fa)
    render_lines(out, fa)
    render_order(out, fa)
    render_summary(out, fa)
    _annotations(out, fa)
    _additional(out, fa)
    render_settlement(out, fa)
    render_payment(out, fa)
    render_terms(out, fa, _generic)
    _footer(out, root, fa)
    _attachment(out, node(root, "Zalacznik"))
    if environment:
        _kod1(out, root, xml_bytes, ksef_number, environment)
    return serialize(out)


# --------------------------------------------------------------------------- header and correction


def _header(out, fa, ksef_number, title):
    box = element(out, "div", cls="o_ksef_header", data_section="naglowek")
    left, right = columns(box)
    brand = element(left, "div", BRAND[0], cls="o_ksef_brand")
    element(brand, "span", BRAND[1], cls="o_ksef_brand_e").tail = BRAND[2]
    if title:
        element(left, "h1", title)
    right.set("class", "o_ksef_right")
    element(right, "div", "Numer faktury:")
    element(right, "div", txt(fa, "P_2") or "", cls="o_ksef_big", data_field="P_2")
    element(right, "div", kind_title(fa), data_field="RodzajFaktury")
    kv = KeyValues(right)
    kv.add("Data wystawienia", txt(fa, "P_1"), data_field="P_1")
    kv.add("Miejsce wystawienia", txt(fa, "P_1M"))
    kv.add("Numer KSeF", (ksef_number or "").strip() or None, data_field="ksef_number")


def _correction(out, fa):
    corrected = nodes(fa, "DaneFaKorygowanej")
    p1k, p2k = node(fa, "Podmiot1K"), nodes(fa, "Podmiot2K")
    reason, kind, number = txt(fa, "PrzyczynaKorekty"), txt(fa, "TypKorekty"), txt(fa, "NrFaKorygowany")
    if not (corrected or reason or kind or number or p1k is not None or p2k):
        return
    box = section(out, "korekta", SECTIONS["korekta"])
    kv = KeyValues(box)
    kv.add("Przyczyna korekty", reason)
    kv.add("Typ skutku korekty", CORRECTION_TYPES.get(kind, kind))
    kv.add("Poprawny numer faktury korygowanej", number)
    rows = []
    for item in corrected:
        ksef = txt(item, "NrKSeFFaKorygowanej")
        outside = is_one(item, "NrKSeFN")
        rows.append(
            [
                txt(item, "NrFaKorygowanej"),
                txt(item, "DataWystFaKorygowanej"),
                ksef or ("faktura wystawiona poza KSeF" if outside else None),
            ]
        )
    if rows:
        element(box, "h3", "Dane identyfikacyjne faktury korygowanej")
        grid(box, ("Numer faktury korygowanej", "Data wystawienia", "Numer KSeF faktury korygowanej"), rows)
    blocks = ([(p1k, "Sprzedawca - treść korygowana")] if p1k is not None else []) + [
        (p, "Nabywca - treść korygowana") for p in p2k
    ]
    for start in range(0, len(blocks), 2):
        for cell, (el, heading) in zip(columns(box), blocks[start : start + 2], strict=False):
            party(cell, el, heading)


# --------------------------------------------------------------------------- annotations, additional info


def _annotations(out, fa):
    ann = node(fa, "Adnotacje")
    if ann is None:
        return
    flags = [label for tag, label in ANNOTATION_FLAGS if is_one(ann, tag)]
    zw = node(ann, "Zwolnienie")
    nst = node(ann, "NoweSrodkiTransportu")
    pm = node(ann, "PMarzy")
    margin = [name for tag, name in MARGIN_NAMES.items() if is_one(pm, tag)]
    vehicles = nodes(nst, "NowySrodekTransportu")
    exempt = is_one(zw, "P_19")
    new_vehicles = is_one(nst, "P_22")
    if not (flags or exempt or new_vehicles or margin or is_one(pm, "P_PMarzy")):
        return
    box = section(out, "adnotacje", SECTIONS["adnotacje"])
    for label in flags:
        element(box, "p", label, data_annotation="flag")
    kv = KeyValues(box)
    if exempt:
        element(box, "p", EXEMPTION_TEXT)
        for tag, label in EXEMPTION_BASES.items():
            kv.add("Podstawa zwolnienia od podatku: %s" % label, txt(zw, tag))
    if margin or is_one(pm, "P_PMarzy"):
        kv.add("Procedura marży", ", ".join(margin) or "TAK")
    if new_vehicles:
        code = txt(nst, "P_42_5")
        kv.add(NEW_VEHICLES, VAT22.get(code, code) or "TAK")
    if vehicles:
        rows = []
        for v in vehicles:
            details = [
                "%s: %s" % (VEHICLE_FIELDS.get(etree.QName(c).localname, etree.QName(c).localname), c.text.strip())
                for c in v
                if isinstance(c.tag, str) and c.text and c.text.strip()
            ]
            rows.append([details])
        grid(box, ("Nowy środek transportu",), rows)


def _additional(out, fa):
    flags = [label for tag, label in ADDITIONAL_FLAGS if is_one(fa, tag)]
    descriptions = nodes(fa, "DodatkowyOpis")
    if not (flags or descriptions):
        return
    box = section(out, "dodatkowe", SECTIONS["dodatkowe"])
    for label in flags:
        element(box, "p", "- " + label)
    if descriptions:
        element(box, "h3", "Dodatkowy opis")
        rows = [
            [str(i), txt(d, "NrWiersza"), txt(d, "Klucz"), txt(d, "Wartosc")] for i, d in enumerate(descriptions, 1)
        ]
        grid(box, ("Lp.", "Numer wiersza", "Rodzaj informacji", "Treść informacji"), rows)


# --------------------------------------------------------------------------- footer, attachment


def _footer(out, root, fa):
    stopka = node(root, "Stopka")
    texts = [txt(i, "StopkaFaktury") for i in nodes(stopka, "Informacje")]
    texts = [t for t in texts if t]
    registries = nodes(stopka, "Rejestry")
    wz = [txt(w) for w in nodes(fa, "WZ")]
    head = node(root, "Naglowek")
    system, created = txt(head, "SystemInfo"), txt(head, "DataWytworzeniaFa")
    if not (texts or registries or any(wz) or system or created):
        return
    box = section(out, "stopka", SECTIONS["stopka"])
    if texts:
        element(box, "h3", "Stopka faktury")
        for text in texts:
            element(box, "p", text, data_field="StopkaFaktury")
    if registries:
        element(box, "h3", "Rejestry")
        rows = [[txt(r, tag) for tag, _l in REGISTRY_COLUMNS] for r in registries]
        grid(box, [label for _t, label in REGISTRY_COLUMNS], rows)
    if any(wz):
        element(box, "h3", "Numery dokumentów magazynowych WZ")
        grid(box, ("Numer WZ",), [[w] for w in wz if w])
    kv = KeyValues(box)
    kv.add("Wytworzona w", system)
    kv.add("Data wytworzenia faktury", created)


def _generic(box, el):
    """Every filled leaf under ``el`` as ``label: value`` (labels from the FA(3) names and schema texts)."""
    kv = KeyValues(box)
    for leaf in el.iter():
        if not isinstance(leaf.tag, str) or len(leaf) or not (leaf.text and leaf.text.strip()):
            continue
        name = human_name(etree.QName(leaf).localname)[0]
        parent = leaf.getparent()
        if parent is not None and parent is not el:
            name = "%s - %s" % (human_name(etree.QName(parent).localname)[0], name)
        kv.add(name[:1].upper() + name[1:], leaf.text.strip())


def _attachment(out, zal):
    if zal is None:
        return
    box = section(out, "zalacznik", SECTIONS["zalacznik"])
    for index, block in enumerate(nodes(zal, "BlokDanych"), 1):
        element(box, "h3", txt(block, "ZNaglowek") or "Szczegółowe dane załącznika (%d)" % index)
        kv = KeyValues(box)
        for meta in nodes(block, "MetaDane"):
            kv.add(txt(meta, "ZKlucz") or "", txt(meta, "ZWartosc"))
        for para in nodes(node(block, "Tekst"), "Akapit"):
            element(box, "p", txt(para))
        for table in nodes(block, "Tabela"):
            tkv = KeyValues(box)
            for meta in nodes(table, "TMetaDane"):
                tkv.add(txt(meta, "TKlucz") or "", txt(meta, "TWartosc"))
            if txt(table, "Opis"):
                element(box, "p", txt(table, "Opis"))
            headers = [txt(k, "NKom") or "" for k in nodes(node(table, "TNaglowek"), "Kol")]
            rows = [[txt(c) for c in nodes(w, "WKom")] for w in nodes(table, "Wiersz")]
            total = node(table, "Suma")
            if total is not None:
                rows.append([txt(c) for c in nodes(total, "SKom")])
            grid(box, headers, rows, keep_empty=True)


# --------------------------------------------------------------------------- KOD I


def _svg_element(svg_bytes):
    """The SVG as HTML-tree elements without namespace prefixes (inline ``<svg>`` in HTML)."""
    source = parse_xml(svg_bytes, what_en="QR image", what_pl="obraz kodu QR")

    def copy(src, parent):
        tag = etree.QName(src).localname
        el = etree.SubElement(parent, tag) if parent is not None else etree.Element(tag)
        for name, value in src.attrib.items():
            el.set(name, value)
        el.text = src.text
        for child in src:
            if isinstance(child.tag, str):
                copy(child, el)
        return el

    svg = copy(source, None)
    svg.set("xmlns", _SVG_NS)
    _fit_label(svg)
    return svg


def _fit_label(svg):
    """Widen the picture when the label under the code is wider than the code (a KSeF number is)."""
    label = svg.find("text")
    try:
        size = int(svg.get("width"))
        height = int(svg.get("height"))
        font = int(label.get("font-size")) if label is not None else 0
    except (TypeError, ValueError):
        return
    needed = int(font * 0.62 * len(label.text or "")) + 2 * font if label is not None else 0
    if needed <= size:
        return
    pad = (needed - size + 1) // 2
    svg.set("width", str(size + 2 * pad))
    svg.set("viewBox", "%d 0 %d %d" % (-pad, size + 2 * pad, height))
    background = svg.find("rect")
    if background is not None:
        background.set("x", str(-pad))


def invoice_qr_facts(root):
    """``(seller NIP, issue date P_1)`` of a parsed FA(3): what KOD I and KOD II are made of."""
    return txt(root, "Podmiot1/DaneIdentyfikacyjne/NIP"), txt(root, "Fa/P_1")


def _kod1(out, root, xml_bytes, ksef_number, environment):
    url = kod1_url(environment, *invoice_qr_facts(root), xml_bytes)
    label = kod1_label(ksef_number)
    box = section(out, "kod1", SECTIONS["kod1"])
    holder = element(box, "div", cls="o_ksef_qr", data_kod1_url=url, data_kod1_label=label)
    holder.append(_svg_element(qr_svg(url, label=label)))
    element(box, "p", "Nie możesz zeskanować kodu z obrazka? Otwórz link weryfikacyjny faktury:")
    para = element(box, "p", cls="o_ksef_wrap")
    if parse_kod1_url(url):
        element(para, "a", url, href=url)
    else:
        para.text = url
