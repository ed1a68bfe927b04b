"""HTML building blocks of the readable visualizations (FA(3) invoice, UPO).

Every text goes into the tree as ``.text`` of an lxml element, never through
string formatting, so markup in the documents always comes out escaped.  The
layout uses tables and plain CSS only: the fragments are printed by
wkhtmltopdf 0.12 (old WebKit, no flexbox, no grid, no external resources).
"""

import re
from decimal import Decimal, InvalidOperation

from lxml import etree, html

ROOT_CLASS = "o_ksef_visual"

#: Scoped stylesheet: every rule starts with the root class, so nothing leaks into the page around it.
CSS = """
.o_ksef_visual { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 9pt; color: #111; }
.o_ksef_visual table { border-collapse: collapse; width: 100%; margin: 0 0 4pt 0; }
.o_ksef_visual td, .o_ksef_visual th { vertical-align: top; text-align: left; padding: 2pt 3pt; }
.o_ksef_visual .o_ksef_grid th, .o_ksef_visual .o_ksef_grid td { border: 1px solid #bababa; }
.o_ksef_visual .o_ksef_grid th { background: #f0f0f0; font-weight: bold; font-size: 8pt; }
.o_ksef_visual .o_ksef_grid tr { page-break-inside: avoid; }
.o_ksef_visual .o_ksef_cols > tbody > tr > td { width: 50%; padding: 0 6pt 0 0; }
.o_ksef_visual .o_ksef_kv td { padding: 1pt 3pt 1pt 0; }
.o_ksef_visual .o_ksef_kv td.o_ksef_label { color: #555; width: 40%; }
.o_ksef_visual .o_ksef_num { text-align: right; white-space: nowrap; }
.o_ksef_visual .o_ksef_wrap { word-break: break-all; }
.o_ksef_visual .o_ksef_section { margin: 0 0 8pt 0; padding: 6pt 0 0 0; border-top: 1px solid #bababa; }
.o_ksef_visual h1 { font-size: 16pt; margin: 0 0 4pt 0; }
.o_ksef_visual h2 { font-size: 11pt; margin: 0 0 4pt 0; }
.o_ksef_visual h3 { font-size: 9.5pt; margin: 4pt 0 2pt 0; }
.o_ksef_visual .o_ksef_brand { font-size: 16pt; }
.o_ksef_visual .o_ksef_brand_e { color: #d00; font-weight: bold; }
.o_ksef_visual .o_ksef_right { text-align: right; }
.o_ksef_visual .o_ksef_big { font-size: 13pt; font-weight: bold; }
.o_ksef_visual .o_ksef_small { font-size: 7.5pt; color: #444; }
.o_ksef_visual .o_ksef_total { font-size: 11pt; font-weight: bold; text-align: right; margin: 4pt 0; }
.o_ksef_visual p { margin: 1pt 0; }
.o_ksef_visual .o_ksef_upo_doc { page-break-inside: avoid; border-top: 1px dotted #bababa; }
"""

#: Characters XML (and so lxml) cannot hold: control characters other than tab / newline / CR.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def element(parent, tag, text=None, cls=None, **attrs):
    """Append ``<tag class=cls>text</tag>`` to ``parent`` (``attrs``: ``data_x`` -> ``data-x``)."""
    el = etree.SubElement(parent, tag)
    if cls:
        el.set("class", cls)
    for name, value in attrs.items():
        if value is not None:
            el.set(name.replace("_", "-"), str(value))
    if text is not None:
        el.text = _NOT_XML.sub("", str(text))
    return el


def new_root(extra_class=None):
    """The fragment's root ``<div class="o_ksef_visual">`` holding the scoped ``<style>``."""
    root = html.Element("div")
    root.set("class", ROOT_CLASS + (" " + extra_class if extra_class else ""))
    style = element(root, "style", type="text/css")
    style.text = CSS
    return root


def serialize(root):
    return html.tostring(root, encoding="unicode")


def section(parent, name, heading):
    """``<div class="o_ksef_section" data-section=name><h2>heading</h2>``."""
    box = element(parent, "div", cls="o_ksef_section", data_section=name)
    element(box, "h2", heading)
    return box


def columns(parent, count=2):
    """A layout table of ``count`` equal columns; returns the cells."""
    table = element(parent, "table", cls="o_ksef_cols")
    row = element(element(table, "tbody"), "tr")
    return [element(row, "td") for _ in range(count)]


class KeyValues:
    """A two-column ``label: value`` table created on the first row (so empty blocks leave no trace)."""

    def __init__(self, parent):
        self.parent = parent
        self.body = None

    def add(self, label, value, cls=None, **attrs):
        """One row; a list ``value`` is shown one item per line; empty values add nothing."""
        if isinstance(value, (list, tuple)):
            value = [v for v in value if v]
        if value is None or value in ("", []):
            return None
        if self.body is None:
            self.body = element(element(self.parent, "table", cls="o_ksef_kv"), "tbody")
        row = element(self.body, "tr")
        element(row, "td", label, cls="o_ksef_label")
        if not isinstance(value, list):
            return element(row, "td", value, cls=cls, **attrs)
        cell = element(row, "td", cls=cls, **attrs)
        for item in value:
            element(cell, "div", item)
        return cell


def grid(parent, headers, rows, numeric=(), row_attrs=None, keep_empty=False, small_extras=True):
    """A bordered table; ``rows`` are lists of texts (or ``None``), ``numeric`` the right-aligned columns.

    A cell given as a list shows one item per line (after the first in small type when
    ``small_extras``).  Columns that no row fills are left out unless ``keep_empty``.  ``row_attrs``
    (optional) gives the attributes of each row, e.g. ``{"data_bucket": "1"}``.
    """
    if not keep_empty and rows:
        keep = [i for i in range(len(headers)) if any(len(r) > i and r[i] for r in rows)]
        headers = [headers[i] for i in keep]
        numeric = {n for n, i in enumerate(keep) if i in numeric}
        rows = [[r[i] if len(r) > i else None for i in keep] for r in rows]
    table = element(parent, "table", cls="o_ksef_grid")
    head = element(element(table, "thead"), "tr")
    for title in headers:
        element(head, "th", title)
    body = element(table, "tbody")
    for index, values in enumerate(rows):
        attrs = row_attrs[index] if row_attrs else {}
        row = element(body, "tr", **attrs)
        for col, value in enumerate(values):
            cell = element(row, "td", cls="o_ksef_num" if col in numeric else None)
            _fill(cell, value, small_extras)
    return table


def _fill(cell, value, small_extras):
    if value is None:
        return
    if isinstance(value, (list, tuple)):
        parts = [v for v in value if v]
        if parts:
            cell.text = parts[0]
        for extra in parts[1:]:
            element(cell, "div", extra, cls="o_ksef_small" if small_extras else None)
        return
    cell.text = value


# --------------------------------------------------------------------------- numbers


def _group(digits):
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return " ".join(out)


def pl_number(text, min_places=0):
    """Polish form of a decimal text: ``"-1234.5"`` -> ``"-1 234,50"`` (``min_places=2``).

    Decimals beyond ``min_places`` are kept when they are not zero (unit prices have up to 8);
    a text that is not a number is returned unchanged.
    """
    if text is None:
        return None
    raw = str(text).strip()
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        return raw
    if not value.is_finite():
        return raw
    sign = "-" if value < 0 else ""
    whole, _, frac = format(abs(value), "f").partition(".")
    frac = frac.rstrip("0")
    if len(frac) < min_places:
        frac = frac.ljust(min_places, "0")
    return sign + _group(whole) + ("," + frac if frac else "")


def pl_amount(text):
    """Money: always at least two decimals (``"1234.5"`` -> ``"1 234,50"``)."""
    return pl_number(text, 2)


def to_decimal(text):
    """``Decimal`` of a text, or ``None`` when it is missing or not a number."""
    if text is None:
        return None
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None
