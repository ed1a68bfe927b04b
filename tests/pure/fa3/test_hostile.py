"""Hostile or wrong inbound files are refused before any field is read, with bilingual messages."""

import pytest
from fa3_cases import CASES

from ksef_core.errors import KsefError, XmlInputError
from ksef_core.fa3 import (
    FA2_NAMESPACE,
    FA3_NAMESPACE,
    Fa3FormatError,
    Fa3ValidationError,
    build_fa3,
    ensure_valid_fa3,
    parse_fa3,
    validate_fa3,
)


@pytest.fixture(scope="module")
def good():
    return build_fa3(CASES["bucket_23"]())


def test_xxe_external_entity_is_refused(good):
    evil = good.replace(
        b'<?xml version="1.0" encoding="UTF-8"?>\n',
        b'<?xml version="1.0"?>\n<!DOCTYPE Faktura [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
    ).replace(b"<P_7>Wniesienie", b"<P_7>&x;Wniesienie")
    with pytest.raises(Fa3FormatError) as exc:
        parse_fa3(evil)
    assert exc.value.code == "xml_dtd_forbidden"
    assert "DTD" in exc.value.message_en and "DTD" in exc.value.message_pl


def test_billion_laughs_is_refused_without_expansion():
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((c,) + (c - 1,) * 10) for c in range(98, 108)
        )
        + b']><Faktura xmlns="%s">&k;</Faktura>' % FA3_NAMESPACE.encode()
    )
    with pytest.raises(Fa3FormatError) as exc:
        parse_fa3(lol)
    assert exc.value.code == "xml_dtd_forbidden"


def test_twenty_megabyte_file_is_refused_by_size(good):
    huge = good.replace(b"</Faktura>", b"<!--" + b"x" * (20 * 1000 * 1000) + b"--></Faktura>")
    with pytest.raises(Fa3FormatError) as exc:
        parse_fa3(huge)
    assert exc.value.code == "xml_too_large"
    assert "too large" in exc.value.message_en and "za duży" in exc.value.message_pl


def test_fa2_document_gets_its_own_message(good):
    fa2 = good.replace(FA3_NAMESPACE.encode(), FA2_NAMESPACE.encode())
    with pytest.raises(Fa3FormatError) as exc:
        parse_fa3(fa2)
    assert exc.value.code == "fa3_is_fa2"
    assert "FA(2)" in exc.value.message_en and "1 Feb 2026" in exc.value.message_en
    assert "FA(2)" in exc.value.message_pl and "1 lutego 2026" in exc.value.message_pl
    assert [i.code for i in validate_fa3(fa2)] == ["fa3_is_fa2"]


def test_wrong_namespace_is_refused(good):
    other = good.replace(FA3_NAMESPACE.encode(), b"urn:example:invoice")
    with pytest.raises(Fa3FormatError) as exc:
        parse_fa3(other)
    assert exc.value.code == "fa3_wrong_namespace"
    assert "urn:example:invoice" in exc.value.message_en
    assert "nie jest fakturą FA(3)" in exc.value.message_pl


def test_upo_or_other_root_in_fa3_namespace_is_refused():
    doc = b'<?xml version="1.0"?><Potwierdzenie xmlns="%s"/>' % FA3_NAMESPACE.encode()
    with pytest.raises(Fa3FormatError) as exc:
        parse_fa3(doc)
    assert "Potwierdzenie" in exc.value.message_en


def test_malformed_and_empty_files_are_refused():
    for data, code in ((b"<Faktura><Fa>", "xml_malformed"), (b"   ", "xml_empty"), (None, "xml_not_bytes")):
        with pytest.raises(Fa3FormatError) as exc:
            parse_fa3(data)
        assert exc.value.code == code
        assert isinstance(exc.value, XmlInputError) and isinstance(exc.value, KsefError)


def test_schema_invalid_file_is_refused_with_the_field_named(good):
    bad = good.replace(b"<P_12>22</P_12>", b"<P_12>21</P_12>")
    with pytest.raises(Fa3ValidationError) as exc:
        ensure_valid_fa3(bad)
    err = exc.value
    assert "P_12 (VAT rate)" in err.message_en
    assert "P_12 (stawka VAT)" in err.message_pl
    assert "not a valid FA(3) invoice" in err.message_en
    assert err.issues[0].value == "21"
    assert err.issues[0].path == "Faktura/Fa/FaWiersz[3]/P_12"
    # the exception text names the field but does not repeat invoice contents
    assert "'21'" not in err.message_en and "'21'" not in err.message_pl
    assert "'21'" in err.issues[0].message_en


def test_unvalidated_parse_of_a_broken_structure_gives_a_clear_error(good):
    start = good.index(b"<Adnotacje>")
    end = good.index(b"</Adnotacje>") + len(b"</Adnotacje>")
    with pytest.raises(Fa3FormatError) as exc:
        parse_fa3(good[:start] + good[end:], validate=False)
    assert exc.value.code == "fa3_unreadable"
    assert "Nie udało się odczytać" in exc.value.message_pl


def test_dtd_in_a_utf16_file_is_refused_like_any_dtd(good):
    """The byte test for "<!DOCTYPE" cannot see UTF-16: the parsed document's DTD is refused all the same
    (it used to reach the schema validation, which failed with an internal lxml error)."""
    body = good.decode("utf-8").split("?>", 1)[1]
    evil = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Faktura [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + body.replace("<P_7>", "<P_7>&x;", 1)
    ).encode("utf-16")
    for data in (
        evil,
        ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Faktura SYSTEM "x.dtd">' + body).encode("utf-16"),
    ):
        with pytest.raises(Fa3FormatError) as exc:
            parse_fa3(data)
        assert exc.value.code == "xml_dtd_forbidden"
        assert "DTD" in exc.value.message_en and "DTD" in exc.value.message_pl
    assert [i.code for i in validate_fa3(evil)] == ["xml_dtd_forbidden"]


def test_polish_messages_keep_the_name_fa3_in_capitals():
    with pytest.raises(Fa3FormatError) as exc:
        parse_fa3(b"<Faktura><Fa>")
    assert exc.value.message_pl.startswith("Plik faktury FA(3) nie jest poprawnym XML")


def test_nip_with_a_wrong_check_digit_is_refused_naming_the_party(good):
    """KSeF refuses an invoice whose seller's, buyer's or third party's NIP has a wrong check digit: so does
    the import (the schema alone only asks for 10 digits)."""
    seller = good.split(b"<Podmiot1>", 1)[1].split(b"</NIP>", 1)[0].rsplit(b">", 1)[1]
    bad = good.replace(b"<NIP>%s</NIP>" % seller, b"<NIP>1234567890</NIP>", 1)
    with pytest.raises(Fa3ValidationError) as exc:
        parse_fa3(bad)
    err = exc.value
    assert err.issues[0].code == "nip_checksum" and err.issues[0].path == "Faktura/Podmiot1/DaneIdentyfikacyjne/NIP"
    assert "seller's NIP" in err.message_en and "check digit" in err.message_en
    assert "NIP sprzedawcy" in err.message_pl and "cyfra kontrolna" in err.message_pl
    assert "1234567890" not in err.message_en  # no invoice contents in the exception text
    assert [i.code for i in validate_fa3(bad)] == ["nip_checksum"]


def test_a_broken_file_is_explained_in_plain_words_in_both_languages(good):
    """libxml2's own text ("Premature end of data in tag ...") is English jargon: the message first says
    what it means, in Polish and in English, and keeps libxml2's text as the details."""
    for data, en, pl in (
        (good[: len(good) // 2], "cut off", "ucięty"),
        (good.replace(b"<P_7>", b"<P_7>\xff", 1), "not encoded in UTF-8", "nie jest zapisany w kodowaniu UTF-8"),
        (good.replace(b"<P_7>", b"<P_7>&#x1;", 1), "character XML forbids", "znak niedozwolony w XML"),
        (good.replace(b"</Fa>", b"<x>" * 300 + b"</x>" * 300 + b"</Fa>", 1), "nested too deeply", "zbyt głęboko"),
        (good + b"<x/>", "content after the end", "dodatkowa treść"),
    ):
        with pytest.raises(Fa3FormatError) as exc:
            parse_fa3(data)
        assert exc.value.code == "xml_malformed"
        assert en in exc.value.message_en and "details: " in exc.value.message_en
        assert pl in exc.value.message_pl and "szczegóły: " in exc.value.message_pl
