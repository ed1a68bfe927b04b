"""Turn raw libxml2 schema errors into messages an invoicing clerk understands.

Every :class:`ValidationIssue` names the FA(3) element (``P_2``), its human
name in Polish and English ("numer faktury" / "invoice number"), where it is
(``Faktura/Fa/P_2``), the offending value and what is allowed.  The raw
libxml2 text is kept in ``raw`` for developers.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

from .names import ELEMENT_RULES, FIELD_NAMES, TYPE_RULES

_XSD = "{http://www.w3.org/2001/XMLSchema}"
_QNAME = re.compile(r"\{[^}]*\}")
_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
_TYPE = re.compile(r"type '(?:\{[^}]*\})?([^']+)'")
_QUOTED = re.compile(r"'([^']*)'")
_EXPECTED = re.compile(r"Expected is(?: one of)? \(([^)]*)\)")
_MAX_VALUE_SHOWN = 60


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in an FA(3) document.

    ``element`` is the FA(3) element name, ``path`` its location with element
    names (``Faktura/Fa/FaWiersz[2]/P_12``), ``value`` the offending text (may be
    ``None``), ``message_pl`` / ``message_en`` the clerk-readable explanation
    (with the value), ``safe_message_pl`` / ``safe_message_en`` the same
    without the value (for exceptions and logs), ``raw`` the libxml2 text.
    """

    element: str
    path: str
    message_en: str
    message_pl: str
    safe_message_en: str = ""
    safe_message_pl: str = ""
    value: str = None
    line: int = None
    code: str = "schema"
    raw: str = field(default="", compare=False)

    def message(self, lang="en"):
        return self.message_pl if (lang or "").lower().startswith("pl") else self.message_en

    def __str__(self):
        return self.message_en


@lru_cache(maxsize=1)
def _xsd_docs():
    """element name -> first sentence of its Polish xsd:documentation (first declaration wins)."""
    from .schema import SCHEMA_FILE, XSD_DIR

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    docs = {}
    for path in sorted(XSD_DIR.glob("*.xsd"), key=lambda p: p.name != SCHEMA_FILE):
        tree = etree.parse(str(path), parser=parser)
        for el in tree.iter(_XSD + "element"):
            name = el.get("name")
            doc = el.find(_XSD + "annotation/" + _XSD + "documentation")
            if name and name not in docs and doc is not None and doc.text:
                text = " ".join(doc.text.split())
                text = re.sub(r"\s*\[[^\]]*\]$", "", text)
                docs[name] = text.split(". ")[0][:120]
    return docs


def human_name(element):
    """Return ``(polish, english)`` human names of an FA(3) element."""
    if element in FIELD_NAMES:
        return FIELD_NAMES[element]
    doc = _xsd_docs().get(element)
    if doc:
        return doc[0].lower() + doc[1:], "FA(3) field %s" % element
    return element, element


def label(element, lang):
    """``P_2 (numer faktury)`` style label."""
    pl, en = human_name(element)
    return "%s (%s)" % (element, pl if lang == "pl" else en)


def rule_of_type(type_name):
    return TYPE_RULES.get(type_name)


def _named_path(node):
    parts = []
    while node is not None and isinstance(node.tag, str):
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += "[%d]" % (same.index(node) + 1)
        parts.append(name)
        node = parent
    return "/".join(reversed(parts))


def _find_node(root, xpath):
    if not xpath:
        return None
    try:
        found = root.getroottree().xpath(xpath)
    except etree.XPathError:
        return None
    return found[0] if found and isinstance(found[0], etree._Element) else None


def _shown(value):
    if value is None:
        return None
    value = value.strip()
    if len(value) > _MAX_VALUE_SHOWN:
        value = value[: _MAX_VALUE_SHOWN - 1] + "…"
    return value


def _expected_names(msg):
    m = _EXPECTED.search(msg)
    if not m:
        return []
    names = [_QNAME.sub("", part.strip()) for part in m.group(1).split(",")]
    return [n for n in names if n and n != "##other"]


def _rule_from_message(msg, type_name):
    """(pl, en) description of what is allowed, from the libxml2 facet text."""
    rule = rule_of_type(type_name) if type_name else None
    if rule:
        return rule
    facet = re.search(r"\[facet '(\w+)'\]", msg)
    quoted = _QUOTED.findall(msg)
    kind = facet.group(1) if facet else ""
    if kind == "maxLength" and quoted:
        return ("najwyżej %s znaków" % quoted[-1], "at most %s characters" % quoted[-1])
    if kind == "minLength" and quoted:
        return ("co najmniej %s znaków" % quoted[-1], "at least %s characters" % quoted[-1])
    if kind == "length" and quoted:
        return ("dokładnie %s znaków" % quoted[-1], "exactly %s characters" % quoted[-1])
    if kind == "enumeration":
        m = re.search(r"set \{([^}]*)\}", msg)
        allowed = m.group(1).replace("'", "") if m else "?"
        if len(allowed) > 120:
            allowed = allowed[:117] + "…"
        return ("jedna z wartości: %s" % allowed, "one of: %s" % allowed)
    if kind == "fractionDigits" and quoted:
        return ("najwyżej %s miejsc po przecinku" % quoted[-1], "at most %s decimals" % quoted[-1])
    if kind == "totalDigits" and quoted:
        return ("najwyżej %s cyfr" % quoted[-1], "at most %s digits" % quoted[-1])
    if kind in ("minInclusive", "minExclusive") and quoted:
        return ("wartość nie mniejsza niż %s" % quoted[-1], "a value not below %s" % quoted[-1])
    if kind in ("maxInclusive", "maxExclusive") and quoted:
        return ("wartość nie większa niż %s" % quoted[-1], "a value not above %s" % quoted[-1])
    if kind == "pattern":
        return ("wartość w wymaganym formacie", "a value in the required format")
    return None


def _issue_for(error, root):
    msg = error.message or ""
    node = _find_node(root, getattr(error, "path", None))
    m = _ELEMENT.search(msg)
    element = m.group(1) if m else (etree.QName(node).localname if node is not None else "?")
    path = _named_path(node) if node is not None else element
    where_pl = " w %s" % path if path else ""
    where_en = " at %s" % path if path else ""
    type_name = (_TYPE.search(msg).group(1) if _TYPE.search(msg) else None) if "type '" in msg else None
    expected = _expected_names(msg)

    if "Missing child element" in msg:
        miss_pl = ", ".join(label(n, "pl") for n in expected)
        miss_en = ", ".join(label(n, "en") for n in expected)
        pl = "Brak wymaganego pola%s: %s. Uzupełnij je." % (where_pl, miss_pl)
        en = "A required field is missing%s: %s. Fill it in." % (where_en, miss_en)
        return ValidationIssue(element, path, en, pl, en, pl, None, error.line, "missing", msg)
    if "This element is not expected" in msg:
        missing = _missing_required(node.getparent() if node is not None else None)
        if missing:
            parent_path = path.rsplit("/", 1)[0]
            pl = "Brak wymaganego pola w %s: %s. Uzupełnij je." % (
                parent_path,
                ", ".join(label(n, "pl") for n in missing),
            )
            en = "A required field is missing in %s: %s. Fill it in." % (
                parent_path,
                ", ".join(label(n, "en") for n in missing),
            )
            return ValidationIssue(
                missing[0], parent_path + "/" + missing[0], en, pl, en, pl, None, error.line, "missing", msg
            )
        exp_pl = ", ".join(label(n, "pl") for n in expected[:8]) or "-"
        exp_en = ", ".join(label(n, "en") for n in expected[:8]) or "-"
        pl = (
            "Pole %s%s jest w tym miejscu niedozwolone: brakuje wcześniejszego wymaganego pola "
            "albo pola są w złej kolejności. Oczekiwano: %s." % (label(element, "pl"), where_pl, exp_pl)
        )
        en = (
            "Field %s%s is not allowed here: a required field before it is missing or the fields "
            "are in the wrong order. Expected: %s." % (label(element, "en"), where_en, exp_en)
        )
        return ValidationIssue(element, path, en, pl, en, pl, None, error.line, "unexpected", msg)
    if "No matching global declaration" in msg or "No matching global element" in msg:
        pl = (
            "Dokument nie jest fakturą FA(3): element główny %s nie jest elementem Faktura schematu FA(3)."
            % element
        )
        en = "The document is not an FA(3) invoice: its root %s is not the FA(3) Faktura element." % element
        return ValidationIssue(element, path, en, pl, en, pl, None, error.line, "root", msg)

    value = node.text if node is not None and node.text is not None else None
    if value is None:
        q = _QUOTED.findall(msg)
        value = q[1] if len(q) > 1 and "The value" not in msg else None
    if value is None and "value '" in msg:
        value = re.search(r"value '([^']*)'", msg).group(1)
    rule = ELEMENT_RULES.get(element) or (rule_of_type(type_name) if type_name else None)
    declared, inline = _schema_type_of(element) or (None, False)
    if rule is None and inline:
        # an inline restriction (e.g. BDO: at most 9 characters) is described by its own facet
        rule = _rule_from_message(msg, None) or rule_of_type(declared)
    rule = rule or rule_of_type(declared) or _rule_from_message(msg, None)
    if rule is None:
        rule = (
            "wartość zgodna ze schematem FA(3)",
            "a value allowed by the FA(3) schema",
        )
    shown = _shown(value)
    empty = shown == "" or shown is None
    if empty:
        pl = "Pole %s%s jest puste: uzupełnij je (dozwolone: %s)." % (label(element, "pl"), where_pl, rule[0])
        en = "Field %s%s is empty: fill it in (allowed: %s)." % (label(element, "en"), where_en, rule[1])
        return ValidationIssue(element, path, en, pl, en, pl, value, error.line, "empty", msg)
    pl = "Pole %s%s ma niedozwoloną wartość '%s'. Dozwolone: %s." % (
        label(element, "pl"),
        where_pl,
        shown,
        rule[0],
    )
    en = "Field %s%s has a value that is not allowed: '%s'. Allowed: %s." % (
        label(element, "en"),
        where_en,
        shown,
        rule[1],
    )
    safe_pl = "Pole %s%s ma niedozwoloną wartość. Dozwolone: %s." % (label(element, "pl"), where_pl, rule[0])
    safe_en = "Field %s%s has a value that is not allowed. Allowed: %s." % (
        label(element, "en"),
        where_en,
        rule[1],
    )
    return ValidationIssue(element, path, en, pl, safe_en, safe_pl, value, error.line, "value", msg)


def _missing_required(parent):
    if parent is None:
        return []
    required = _required_children().get(etree.QName(parent).localname, ())
    present = {etree.QName(c).localname for c in parent if isinstance(c.tag, str)}
    return [n for n in required if n not in present]


def _collect_required(node, out):
    """Required child element names of a content model (sequences only, no choices/optional groups)."""
    for child in node:
        tag = child.tag
        if tag == _XSD + "element":
            if child.get("minOccurs", "1") != "0" and child.get("name"):
                out.append(child.get("name"))
        elif tag == _XSD + "sequence" and child.get("minOccurs", "1") != "0":
            _collect_required(child, out)
        elif tag in (_XSD + "complexContent",):
            ext = child.find(_XSD + "extension")
            if ext is not None:
                _collect_required(ext, out)
        elif tag == _XSD + "extension":
            _collect_required(child, out)


@lru_cache(maxsize=1)
def _required_children():
    """element name -> names of its always-required children (from its inline complex type)."""
    from .schema import SCHEMA_FILE, XSD_DIR

    tree = _schema_tree(str(XSD_DIR / SCHEMA_FILE))
    result = {}
    for el in tree.iter(_XSD + "element"):
        name = el.get("name")
        ctype = el.find(_XSD + "complexType")
        if not name or ctype is None or name in result:
            continue
        out = []
        _collect_required(ctype, out)
        seq = ctype.find(_XSD + "sequence")
        if seq is not None and seq.get("minOccurs", "1") == "0":
            out = []
        result[name] = tuple(out)
    return result


@lru_cache(maxsize=512)
def _schema_type_of(element):
    """Best-effort ``(simple type name, inline?)`` of an element (first declaration with that name)."""
    from .schema import SCHEMA_FILE, XSD_DIR

    tree = _schema_tree(str(XSD_DIR / SCHEMA_FILE))
    for el in tree.iter(_XSD + "element"):
        if el.get("name") == element:
            if el.get("type"):
                return el.get("type").split(":")[-1], False
            r = el.find(_XSD + "simpleType/" + _XSD + "restriction")
            return (r.get("base", "").split(":")[-1] if r is not None else None), True
    return None


@lru_cache(maxsize=1)
def _schema_tree(path):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(path, parser=parser)


def issues_from_error_log(error_log, root):
    """Convert an lxml schema ``error_log`` into a list of :class:`ValidationIssue`."""
    issues = []
    seen = set()
    for error in error_log:
        issue = _issue_for(error, root)
        key = (issue.path, issue.message_en)
        if key not in seen:
            seen.add(key)
            issues.append(issue)
    return issues


def issues_text(issues, lang="en", safe=False, limit=10):
    """Join issues into one text block (at most ``limit`` listed)."""
    pl = (lang or "").lower().startswith("pl")
    lines = []
    for issue in issues[:limit]:
        if safe:
            lines.append("- " + (issue.safe_message_pl if pl else issue.safe_message_en))
        else:
            lines.append("- " + (issue.message_pl if pl else issue.message_en))
    if len(issues) > limit:
        more = len(issues) - limit
        lines.append(("- … i %d kolejnych problemów" if pl else "- … and %d more problems") % more)
    return "\n".join(lines)
