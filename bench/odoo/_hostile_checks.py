"""Judging the outcome of one hostile input on one path (bench/odoo/hostile.py): pure text checks, no Odoo.

A *message* is clear when it is not empty, names something (not a bare "see the server log"), carries no
Python exception text, and reads in Polish and English: either both languages are in it (the bilingual
messages of ksef_core) or it is a translatable string of the addon or of Odoo's ``account`` whose Polish
translation exists (the user sees it in their language).
"""

import ast
import html
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Python exception text in a message shown to a user
EXCEPTION_TEXT = re.compile(
    r"Traceback|File \"[^\"]+\", line|\b(?:XMLSyntax|XMLSchema\w*|Key|Attribute|Type|Value|Index|Name|"
    r"UnicodeDecode|UnicodeEncode|ZeroDivision|Recursion|Memory|Assertion|Integrity|Lookup|Runtime|OS|"
    r"Overflow)Error\b|InvalidOperation|psycopg2|\blxml\b|NoneType|object has no attribute|"
    r"unsupported operand|not subscriptable|<class '"
)
#: what a message says when an exception was swallowed (the user learns nothing)
GENERIC = re.compile(
    r"see the server log|Unexpected error|This specific error occurred|Error importing attachment|"
    r"zobacz dziennik serwera|Nieoczekiwany błąd"
)
_POLISH = re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]|\b(?:nie|jest|faktur\w*|plik\w*|pole|wiersz)\b", re.I)
_ENGLISH = re.compile(r"\b(?:the|is|not|invoice|file|field|line)\b", re.I)


def _po_entries(path):
    """``[(msgid, msgstr)]`` of a .po file (multi-line strings joined)."""
    entries, current, key = [], {}, None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith(("msgid ", "msgstr ")):
            key, rest = line.split(" ", 1)
            if key == "msgid" and current:
                entries.append(current)
                current = {}
            current[key] = ast.literal_eval(rest)
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
        else:
            key = None
    if current:
        entries.append(current)
    return [(e.get("msgid", ""), e.get("msgstr", "")) for e in entries if e.get("msgid") and e.get("msgstr")]


def _template(msgid):
    """A regular expression matching a msgid with its placeholders filled in."""
    parts = re.split(r"%\(\w+\)s|%s|%d", msgid)
    return "".join(re.escape(part) + ".*?" for part in parts[:-1]) + re.escape(parts[-1])


class Translations:
    """The translated msgids (Polish) of the addon and of ``account``: ``translated(text)``."""

    def __init__(self, odoo_src="/opt/odoo/19.0"):
        entries = _po_entries(ROOT / "i18n" / "pl.po")
        account = Path(odoo_src) / "addons" / "account" / "i18n" / "pl.po"
        if account.exists():
            entries += _po_entries(account)
        # longest first: a short msgid ("%s") must not vouch for a long text
        self.patterns = [
            re.compile(r"^\s*" + _template(msgid) + r"\s*$", re.S)
            for msgid, _msgstr in sorted(entries, key=lambda e: -len(e[0]))
            if len(re.sub(r"%\(\w+\)s|%s|%d", "", msgid)) >= 12
        ]

    def translated(self, text):
        return any(pattern.match(text) for pattern in self.patterns)


def plain(markup):
    """The text of an HTML message body (tags dropped, entities decoded)."""
    text = re.sub(r"<br\s*/?>", "\n", markup or "")
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def message_problems(text, translations):
    """What is wrong with a message the user sees (empty list: it is clear)."""
    if not text or len(text.strip()) < 20:
        return ["empty or too short message: %r" % (text,)]
    problems = []
    if EXCEPTION_TEXT.search(text):
        problems.append("exception text: %r" % EXCEPTION_TEXT.search(text).group(0))
    if GENERIC.search(text):
        problems.append("generic message: %r" % GENERIC.search(text).group(0))
    bilingual = bool(_POLISH.search(text) and _ENGLISH.search(text))
    if not bilingual and not translated_lines(text, translations):
        problems.append("not in Polish and English: %r" % text[:160])
    return problems


def translated_lines(text, translations):
    """Every paragraph of ``text`` is a translated string (or bilingual itself)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return all(
        translations.translated(line) or (_POLISH.search(line) and _ENGLISH.search(line)) for line in lines
    ) or translations.translated(text)


def markup_leaks(html_text, mark_re):
    """Unescaped payload tags in rendered HTML (a list of the first few found)."""
    return [match.group(0)[:60] for match in mark_re.finditer(html_text or "")][:3]
