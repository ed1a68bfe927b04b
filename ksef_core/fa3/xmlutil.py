"""Small helpers shared by the builder modules."""

from lxml import etree

from .schema import FA3_NAMESPACE

_NS = "{%s}" % FA3_NAMESPACE
_Q = {}


def q(tag):
    """Qualified FA(3) tag name (cached)."""
    name = _Q.get(tag)
    if name is None:
        name = _Q[tag] = _NS + tag
    return name


def sub(parent, tag, text=None):
    """Append ``<tag>text</tag>``; returns the new element."""
    el = etree.SubElement(parent, q(tag))
    if text is not None:
        el.text = text
    return el


def opt(parent, tag, text):
    """Append ``<tag>`` only when ``text`` is not None/empty."""
    if text is None or text == "":
        return None
    return sub(parent, tag, str(text))
