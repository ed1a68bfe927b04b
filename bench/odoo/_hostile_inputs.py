"""The hostile inputs of bench/odoo/hostile.py: mutations of the official FA(3) samples and hand-written files.

Pure Python (lxml only): ``inputs()`` returns a list of :class:`Case`, always the same ones in the same
order (mutations draw from ``random.Random(SEED)``). Each case says what it tests (``category``), its
bytes, what is acceptable (``expect``: ``"refuse"`` = must end as a clear message, ``"bill"`` = must
become a complete bill, ``"either"`` = a clear message or a complete bill), the markup it carries
(``payloads``: texts that must come out escaped) and, for totals that do not add up, ``note``: a
regular expression the bill's notes must match when it becomes a bill.
"""

import random
import re
from pathlib import Path

from lxml import etree

SEED = 20260215
SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "spec" / "samples"
FA3_NS = "http://crd.gov.pl/wzor/2025/06/25/13775/"
FA2_NS = "http://crd.gov.pl/wzor/2023/06/29/12648/"
#: the seller and buyer NIPs of the official samples (the template gets the same)
SELLER_NIP, BUYER_NIP = "9999999999", "1111111111"
MARK = "HOSTILE"
#: markup and script; each carries MARK inside its tag, so an unescaped tag is found by MARKUP_LEAK
PAYLOADS = (
    '<script data-x="%s">alert(1)</script>' % MARK,
    "<img src=x onerror=alert(1) %s>" % MARK,
    '"><svg onload=alert(1) %s>' % MARK,
    "<b %s>bold</b>" % MARK,
    '<a href="javascript:alert(1)" %s>x</a>' % MARK,
    "<iframe %s src=//evil.example>" % MARK,
    "<style %s>*{display:none}</style>" % MARK,
    '\'><t t-out="1" %s/>' % MARK,
    "<!--%s-->" % MARK,
    "%%(name)s %%s {0} ${7*7} {{7*7}} <i %s>" % MARK,
)
#: an unescaped tag or comment of a payload in HTML
MARKUP_LEAK = re.compile(r"<(?:[A-Za-z][^<>]*|!--)%s" % MARK)
FREE_TEXT = (
    "Nazwa", "AdresL1", "AdresL2", "P_1M", "P_2", "P_7", "P_7Z", "P_8A", "P_8AZ", "Klucz", "Wartosc",
    "StopkaFaktury", "NrKlienta", "NrZamowienia", "NazwaBanku", "OpisRachunku", "PrzyczynaKorekty",
    "NrFaKorygowanej", "P_19A", "Powod", "SystemInfo", "UU_ID", "UU_IDZ", "Telefon", "Email", "Indeks",
    "PelnaNazwa",
)  # fmt: skip
NUMBERS = ("P_8B", "P_9A", "P_11", "P_13_1", "P_14_1", "P_15", "Kwota", "P_11NettoZ", "P_12", "KursWaluty")
BAD_NUMBERS = (
    "abc", "1,50", "1e5", "NaN", "Infinity", "-", "99999999999999999999.99", "1.123456789012", "",
    "0x10", "\u0661\u0662\u0663", "\uff11\uff12", "12 345.00", "--5", "+-1", "1.2.3",
)  # fmt: skip
DATES = ("P_1", "P_6", "DataWytworzeniaFa", "DataZaplaty", "Termin", "DataZamowienia")
BAD_DATES = (
    "2026-02-30", "2026-13-01", "15.02.2026", "", "0000-00-00", "2026-02-15T25:00:00", "26-02-15", "2026/02/15",
    "2026-02-15Z", "1899-12-31", "+2026-02-15", "yesterday",
)  # fmt: skip
BAD_NIPS = ("1234567890", "123456789", "12345678901", "ABCDEFGHIJ", "", "0000000000", "999-999-99-99")
REQUIRED = (
    "Naglowek", "Podmiot1", "Podmiot2", "Fa", "P_1", "P_2", "P_15", "KodWaluty", "RodzajFaktury",
    "Adnotacje", "KodFormularza", "DaneIdentyfikacyjne", "Adres", "NIP", "Nazwa", "FaWiersz", "P_8B",
)  # fmt: skip
UNICODE = (
    "\u202eabc\u202c odwr\u00f3cone",
    "zero\u200bwidth\u200d\u2060joiner",
    "emoji \U0001f600\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001d518\U0001d52b",
    "Za\u0307z\u0301o\u0301\u0142c\u0301 ge\u0328s\u0301la\u0328 ja\u0301z\u0301n\u0301",
    "bom\ufeffin text \ufffd replacement",
    "line\u2028separator\u2029paragraph\u0085nel",
    "\u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u05e2\u05d1\u05e8\u05d9\u05ea"
    " \u0939\u093f\u0928\u094d\u0926\u0940",
    "private\ue000use \U000f0000 nbsp\u00a0end",
    "a\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a\u030b\u030c\u030d\u030e\u030f" * 4,
    "\u1f7b\u0345 \u01c4 \ufb01 \u2163 \u00df\u1e9e \u0130i\u0131I",
)  # fmt: skip
#: character references XML 1.0 forbids: the file is not well formed
BAD_CHAR_REFS = ("&#0;", "&#x1;", "&#xD800;", "&#xFFFE;", "&#x1B;", "&#xDFFF;")


class Case:
    __slots__ = ("category", "data", "expect", "name", "note", "payloads")

    def __init__(self, name, category, data, expect="refuse", payloads=(), note=None):
        self.name, self.category, self.data, self.expect = name, category, data, expect
        self.payloads, self.note = tuple(payloads), note


def samples():
    """``{name: bytes}`` of the official FA(3) samples and the KSeF client's template (filled in)."""
    found = {}
    for path in sorted((SAMPLES / "fa3" / "official-mf").glob("*.xml")):
        found[path.stem.replace("FA_3_Przyklad_", "mf")] = path.read_bytes()
    template = (SAMPLES / "fa3" / "ksef-client-templates" / "csharp_invoice-template-fa-3.xml").read_bytes()
    found["template"] = template.replace(b"#nip#", SELLER_NIP.encode()).replace(b"#invoice_number#", b"T/1")
    return found


def _tree(data):
    return etree.fromstring(data, parser=etree.XMLParser(remove_blank_text=False, resolve_entities=False))


def _bytes(root):
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _leaves(root, names):
    return [el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname in names and len(el) == 0]


def _elements(root, name):
    return [el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname == name]


def _path(el):
    names = []
    while el is not None:
        names.append(etree.QName(el).localname)
        el = el.getparent()
    return "/".join(reversed(names[:-1])) or "Faktura"


def _renumber(root, suffix):
    """A number of its own (P_2): the same seller's invoices otherwise share FV2026/02/150."""
    for p2 in _elements(root, "P_2")[:1]:
        p2.text = ("%s/%s" % (p2.text or "", suffix))[-256:]


def _set(data, suffix, changes):
    """``data`` with ``changes(root)`` applied (renumbered); None when the change found nothing to change."""
    root = _tree(data)
    if changes(root) is False:
        return None
    _renumber(root, suffix)
    return _bytes(root)


def mutations(rng, name, data):
    cases = []

    def add(kind, label, mutated, expect="refuse", payloads=(), note=None):
        if mutated is not None and mutated != data:
            cases.append(Case("%s/%s/%s" % (name, kind, label), kind, mutated, expect, payloads, note))

    # the sample itself (renumbered): a bill of the company it is addressed to must be made, so that
    # refusing everything fails (a sample whose buyer is someone else is rightly refused: not counted)
    buyer = re.search(rb"<Podmiot2>.*?</Podmiot2>", data, re.S)
    if buyer and b"<NIP>%s</NIP>" % BUYER_NIP.encode() in buyer.group(0):
        add("valid", "as-is", _set(data, "ok", lambda root: None), "bill")
    # truncated: cut at random points, and just before the end
    end = len(data.rstrip()) - 1  # the last ">"
    for cut in [*sorted(rng.sample(range(1, end - 12), 7)), end]:
        add("truncated", "at%d" % cut, data[:cut])
    # invalid numbers, dates and NIPs: one field (by its position among those fields) gets a bad value
    root = _tree(data)
    for kind, names, values, count in (
        ("number", NUMBERS, BAD_NUMBERS, 8),
        ("date", DATES, BAD_DATES, 6),
        ("nip", ("NIP",), BAD_NIPS, 5),
    ):
        fields = _leaves(root, names)
        for index in range(count):
            at = index % len(fields) if kind == "nip" else rng.randrange(len(fields))
            value = rng.choice(values)

            def change(root, names=names, at=at, value=value):
                _leaves(root, names)[at].text = value

            label = "%d-%s" % (index, _path(fields[at]).replace("/", "."))
            add(kind, label, _set(data, "%s%d" % (kind[0], index), change))
    # totals that do not add up: the bill (if any) must say so
    for index, (tag, delta) in enumerate((("P_15", "1000"), ("P_15", "0.07"), ("P_13_1", "50"), ("P_14_1", "9.99"))):

        def change(root, tag=tag, delta=delta):
            found = _leaves(root, (tag,))
            if not found:
                return False
            found[0].text = "%.2f" % (float(found[0].text) + float(delta))

        note = r"(?i)differ|difference|różni|różnica"
        add("totals", "%s+%s" % (tag, delta), _set(data, "t%d" % index, change), "either", note=note)
    # missing required parts
    for index, tag in enumerate(rng.sample(REQUIRED, 8)):

        def change(root, tag=tag):
            found = _elements(root, tag)
            if not found:
                return False
            victim = found[0]
            victim.getparent().remove(victim)

        # an optional part (FaWiersz of an invoice given by its totals) may go: then a complete bill
        add("missing", tag, _set(data, "m%d" % index, change), "either")
    # markup in every text field, one field at a time, and in all of them at once
    for index, field in enumerate(_leaves(root, FREE_TEXT)):
        payload = PAYLOADS[(index + len(name)) % len(PAYLOADS)]

        def change(root, at=index, payload=payload):
            _leaves(root, FREE_TEXT)[at].text = payload

        add(
            "markup",
            "%d-%s" % (index, _path(field).replace("/", ".")),
            _set(data, "x%d" % index, change),
            "either",
            [payload],
        )
    for index in range(3):
        payload = PAYLOADS[rng.randrange(len(PAYLOADS))]

        def change(root, payload=payload):
            for el in _leaves(root, FREE_TEXT):
                el.text = payload if etree.QName(el).localname != "P_2" else el.text

        add("markup", "all-%d" % index, _set(data, "X%d" % index, change), "either", [payload])
    # markup as CDATA (the text is the same after parsing)
    cdata = re.sub(rb"<P_7>[^<]*</P_7>", b"<P_7><![CDATA[" + PAYLOADS[0].encode() + b"]]></P_7>", data, count=1)
    if cdata != data:
        add("markup", "cdata-P_7", cdata, "either", [PAYLOADS[0]])
    # very long texts: at the limit, just over it, far over it
    for index, (tag, length) in enumerate(
        rng.sample([(t, n) for t in ("Nazwa", "P_7", "AdresL1") for n in (256, 257, 512, 20000)], 5)
    ):

        def change(root, tag=tag, length=length):
            found = _leaves(root, (tag,))
            if not found:
                return False
            found[0].text = ("Długi tekst ŻÓŁW %s " % MARK * (length // 20 + 1))[:length]

        add("long", "%s-%d" % (tag, length), _set(data, "l%d" % index, change), "either")
    # Unicode edge cases in text fields
    for index, text in enumerate(rng.sample(UNICODE, 6)):
        tag = ("Nazwa", "P_7", "AdresL1", "StopkaFaktury", "P_8A", "Wartosc")[index]

        def change(root, tag=tag, text=text):
            found = _leaves(root, (tag,))
            if not found:
                return False
            found[0].text = text

        add("unicode", "%d-%s" % (index, tag), _set(data, "u%d" % index, change), "either")
    for ref in rng.sample(BAD_CHAR_REFS, 2):
        add("unicode", "charref-%s" % ref.strip("&#;"), re.sub(rb"(<P_7>)", rb"\1" + ref.encode(), data, count=1))
    # encodings and byte order marks
    text = data.decode("utf-8")
    body = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    add("encoding", "utf8-bom", b"\xef\xbb\xbf" + data, "either")
    add("encoding", "utf16-bom", ('<?xml version="1.0" encoding="UTF-16"?>\n' + body).encode("utf-16"), "either")
    add(
        "encoding",
        "utf16le-nobom",
        ('<?xml version="1.0" encoding="UTF-16LE"?>\n' + body).encode("utf-16-le"),
        "either",
    )
    add("encoding", "utf32", ('<?xml version="1.0" encoding="UTF-32"?>\n' + body).encode("utf-32"), "either")
    cp = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("cp1250", "replace")
    if cp != data:
        add("encoding", "cp1250-says-utf8", cp)
    add(
        "encoding",
        "cp1250-declared",
        ('<?xml version="1.0" encoding="windows-1250"?>\n' + body).encode("cp1250", "replace"),
        "either",
    )
    add(
        "encoding",
        "latin2-says-utf8-bytes",
        ('<?xml version="1.0" encoding="ISO-8859-2"?>\n' + body).encode("utf-8"),
        "either",
    )
    add("encoding", "ebcdic-declared", ('<?xml version="1.0" encoding="EBCDIC-XYZ"?>\n' + body).encode("utf-8"))
    add("encoding", "space-before-prolog", b"  \n" + data)
    add("encoding", "nul-tail", data + b"\x00\x00", "either")
    add("encoding", "invalid-utf8", data.replace(b"<P_7>", b"<P_7>\xc3\x28\xff", 1))
    add("namespace", "fa2", data.replace(FA3_NS.encode(), FA2_NS.encode()))
    add("namespace", "other", data.replace(FA3_NS.encode(), b"urn:example:invoice"))
    add("namespace", "none", re.sub(rb'\sxmlns="[^"]*"', b"", data, count=1))
    return cases


def hand_written(good):
    """Files written by hand around ``good`` (a valid FA(3)): XXE, DTDs, entities, nesting, size, other XML."""
    ns = FA3_NS.encode()
    decl = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", good)
    cases = []

    def add(category, label, data, expect="refuse"):
        cases.append(Case("hand/%s/%s" % (category, label), category, data, expect))

    def with_dtd(doctype, marker=None):
        text = decl + doctype + b"\n" + body
        return text.replace(b"<P_7>", b"<P_7>" + marker, 1) if marker else text

    add("xxe", "file", with_dtd(b'<!DOCTYPE Faktura [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;"))
    add("xxe", "http", with_dtd(b'<!DOCTYPE Faktura [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', b"&x;"))
    add("xxe", "public", with_dtd(b'<!DOCTYPE Faktura [<!ENTITY x PUBLIC "-//X//Y" "file:///etc/hostname">]>', b"&x;"))
    add("xxe", "parameter", with_dtd(b'<!DOCTYPE Faktura [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'))
    add("xxe", "external-dtd", with_dtd(b'<!DOCTYPE Faktura SYSTEM "http://127.0.0.1:9/fa3.dtd">'))
    add("xxe", "external-dtd-file", with_dtd(b'<!DOCTYPE Faktura SYSTEM "file:///etc/passwd">'))
    add("xxe", "attribute-default", with_dtd(b'<!DOCTYPE Faktura [<!ATTLIST Faktura x CDATA "y">]>'))
    add("xxe", "in-attribute", with_dtd(b'<!DOCTYPE Faktura [<!ENTITY x "v">]>').replace(b"<P_7>", b'<P_7 a="&x;">', 1))
    add(
        "xxe",
        "utf16",
        (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Faktura [<!ENTITY x SYSTEM '
            '"file:///etc/passwd">]>' + body.decode().replace("<P_7>", "<P_7>&x;", 1)
        ).encode("utf-16"),
    )
    add(
        "xxe",
        "xinclude",
        body.replace(
            b"<P_7>",
            b'<P_7><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>',
            1,
        ),
    )
    add(
        "xxe",
        "schema-location",
        body.replace(b"<Faktura ", b'<Faktura xsi:schemaLocation="%s http://127.0.0.1:9/evil.xsd" ' % ns, 1),
        "either",
    )
    add(
        "xxe",
        "stylesheet-pi",
        decl + b'<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:9/x.xsl"?>\n' + body,
        "either",
    )
    add("xxe", "doctype-in-comment", decl + b"<!-- <!DOCTYPE x> -->\n" + body, "either")
    laughs = b"".join(
        b'<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">' % ((i,) + (i - 1,) * 10)
        for i in range(1, 10)
    )
    add("entities", "billion-laughs", with_dtd(b'<!DOCTYPE Faktura [<!ENTITY l0 "lol">' + laughs + b"]>", b"&l9;"))
    add("entities", "quadratic", with_dtd(b'<!DOCTYPE Faktura [<!ENTITY a "' + b"A" * 50000 + b'">]>', b"&a;" * 2000))
    add("entities", "undeclared", body.replace(b"<P_7>", b"<P_7>&undeclared;", 1))
    add("entities", "predefined-only", body.replace(b"<P_7>", b"<P_7>&amp;&lt;b&gt;&quot;&apos;", 1), "either")
    add(
        "entities",
        "numeric-refs",
        body.replace(b"<P_7>", b"<P_7>&#60;script&#62;&#x3C;b&#x3E;" + MARK.encode(), 1),
        "either",
    )
    for depth in (50, 255, 300, 5000, 100000):
        nest = b"<x>" * depth + b"</x>" * depth
        add("nesting", "depth-%d" % depth, body.replace(b"</Fa>", nest + b"</Fa>", 1))
    add(
        "nesting",
        "attributes-10k",
        body.replace(b"<P_7>", b"<P_7 " + b" ".join(b"a%d='1'" % i for i in range(10000)) + b">", 1),
    )
    add("nesting", "wide-50k", body.replace(b"</Fa>", b"<x/>" * 50000 + b"</Fa>", 1))
    padding = b"<!--" + b"x" * 3100000 + b"-->"
    add("size", "3.1MB", decl + body.replace(b"</Faktura>", padding + b"</Faktura>"))
    add(
        "size",
        "1.5MB-comment",
        decl + body.replace(b"</Faktura>", b"<!--" + b"x" * 1500000 + b"--></Faktura>"),
        "either",
    )
    add("size", "20MB", decl + body.replace(b"</Faktura>", b"<!--" + b"x" * 20000000 + b"--></Faktura>"))
    add("size", "2.9MB-text", body.replace(b"<P_7>", b"<P_7>" + b"y" * 2900000, 1))
    add("size", "empty", b"")
    add("size", "whitespace", b" \n\t\r\n ")
    add("size", "prolog-only", decl)
    add("size", "one-byte", b"<")
    add("other", "fa2-sample", decl + b'<Faktura xmlns="%s"><Naglowek/></Faktura>' % FA2_NS.encode())
    add("other", "fa1", body.replace(ns, b"http://crd.gov.pl/wzor/2021/11/29/11089/"))
    add("other", "fa3-ns-other-root", decl + b'<Potwierdzenie xmlns="%s"><x/></Potwierdzenie>' % ns)
    add("other", "faktura-no-ns", decl + b"<Faktura><Fa><P_2>1</P_2></Fa></Faktura>")
    add("other", "faktura-empty", decl + b'<Faktura xmlns="%s"/>' % ns)
    add(
        "other",
        "faktura-text",
        decl + b'<Faktura xmlns="%s">%s</Faktura>' % (ns, PAYLOADS[0].replace("<", "&lt;").encode()),
    )
    add(
        "other",
        "prefixed-fa3",
        body.replace(b'xmlns="%s"' % ns, b'xmlns:fa="%s"' % ns, 1)
        .replace(b"<", b"<fa:")
        .replace(b"<fa:/", b"</fa:")
        .replace(b"<fa:!--", b"<!--")
        .replace(b"<fa:fa:", b"<fa:"),
        "either",
    )
    add("other", "note", decl + b"<note><to>Tove</to><body>Hello</body></note>")
    add("other", "html", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")
    add(
        "other",
        "xhtml",
        decl + b'<html xmlns="http://www.w3.org/1999/xhtml"><body><script>alert(1)</script></body></html>',
    )
    add(
        "other",
        "svg",
        decl + b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>',
    )
    add(
        "other",
        "soap",
        decl + b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
    )
    add("other", "rss", decl + b'<rss version="2.0"><channel><title>x</title></channel></rss>')
    add("other", "json", b'{"Faktura": {"P_2": "FV/1"}}')
    add("other", "text", "To nie jest faktura, tylko tekst. Zażółć gęślą jaźń.".encode())
    add("other", "pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    add("other", "zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    add("other", "gzip", b"\x1f\x8b\x08\x00" + bytes(range(200)))
    add("other", "random-binary", bytes(random.Random(SEED).randrange(256) for _ in range(4000)))
    add("other", "two-roots", body + body)
    add(
        "other",
        "xml-1.1",
        body.replace(b"<P_7>", b"<P_7>\x01", 1).join([b'<?xml version="1.1" encoding="UTF-8"?>\n', b""]),
    )
    for upo in sorted((SAMPLES / "upo").rglob("*.xml"))[:3]:
        add("other", "upo-%s" % upo.parent.name, upo.read_bytes())
    return cases


def inputs():
    """Every case, in a fixed order."""
    rng = random.Random(SEED)
    found = samples()
    cases = []
    for name, data in found.items():
        cases += mutations(rng, name, data)
    cases += hand_written(found["mf1"])
    return cases
