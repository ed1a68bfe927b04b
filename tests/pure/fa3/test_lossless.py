"""Reading and re-building a received FA(3) document loses no data."""

import re
from decimal import Decimal

import pytest
from fa3_cases import CASES
from lxml import etree

from ksef_core.fa3 import build_fa3, parse_fa3, validate_fa3

NS = "{http://crd.gov.pl/wzor/2025/06/25/13775/}"
_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?$")

EXTRA_SECTIONS = {
    "</Podmiot2>": """</Podmiot2>
  <PodmiotUpowazniony>
    <DaneIdentyfikacyjne><NIP>7740001454</NIP><Nazwa>Komornik Sądowy</Nazwa></DaneIdentyfikacyjne>
    <Adres><KodKraju>PL</KodKraju><AdresL1>ul. Sądowa 1, Płock</AdresL1></Adres>
    <DaneKontaktowe><EmailPU>komornik@example.pl</EmailPU></DaneKontaktowe>
    <RolaPU>1</RolaPU>
  </PodmiotUpowazniony>""",
    "</Zamowienia>": """</Zamowienia>
      <Transport>
        <RodzajTransportu>3</RodzajTransportu>
        <OpisLadunku>5</OpisLadunku>
      </Transport>""",
    "</Stopka>": """</Stopka>
  <Zalacznik>
    <BlokDanych>
      <MetaDane><ZKlucz>Umowa</ZKlucz><ZWartosc>U/1/2026</ZWartosc></MetaDane>
      <Tekst><Akapit>Harmonogram dostaw w załączeniu.</Akapit></Tekst>
    </BlokDanych>
  </Zalacznik>""",
}


def _leaves(data):
    root = etree.fromstring(data)
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str) or len(el):
            continue
        path = "/".join(etree.QName(a).localname for a in reversed(list(el.iterancestors()))) + "/"
        text = (el.text or "").strip()
        if _NUMBER.match(text):  # 2000 and 2000.00 are the same amount; 000099999 (BDO) stays text
            text = format(Decimal(text).normalize(), "f")
        out.append((path + etree.QName(el).localname, text, tuple(sorted(el.attrib.items()))))
    return sorted(out)


def test_every_leaf_of_every_official_sample_survives(spec_dir):
    for path in sorted((spec_dir / "samples" / "fa3" / "official-mf").glob("*.xml")):
        original = path.read_bytes()
        rebuilt = build_fa3(parse_fa3(original), check_totals=False)
        assert _leaves(rebuilt) == _leaves(original), path.name


@pytest.fixture(scope="module")
def with_extras():
    data = build_fa3(CASES["bucket_23"]())
    for marker, replacement in EXTRA_SECTIONS.items():
        assert marker.encode() in data
        data = data.replace(marker.encode(), replacement.encode(), 1)
    assert validate_fa3(data) == []
    return data


def test_sections_outside_the_model_round_trip_verbatim(with_extras):
    inv = parse_fa3(with_extras)
    assert set(inv.raw) == {"PodmiotUpowazniony", "Transport", "Zalacznik"}
    rebuilt = build_fa3(inv)
    assert validate_fa3(rebuilt) == []
    assert _leaves(rebuilt) == _leaves(with_extras)
    assert b"ns0:" not in rebuilt and rebuilt.count(b"xmlns=") == 1
    assert build_fa3(parse_fa3(rebuilt)) == rebuilt
