"""Parse FA(3) parties and lines (helpers of :mod:`.parser`)."""

from datetime import date
from decimal import Decimal

from .model import Address, Contact, Line, OrderLine, Party
from .schema import FA3_NAMESPACE
from .xmlutil import q

_NS_LEN = len(FA3_NAMESPACE) + 2


def _values(el):
    """``{local name: stripped text}`` of the direct children (first occurrence wins)."""
    out = {}
    for child in el:
        tag = child.tag
        if isinstance(tag, str):
            name = tag[_NS_LEN:]
            if name not in out:
                text = child.text
                out[name] = text.strip() if text is not None else None
    return out


def _d(values, name):
    text = values.get(name)
    return Decimal(text) if text is not None else None


def _i(values, name):
    text = values.get(name)
    return int(text) if text else None


def _text(el, tag):
    child = el.find(q(tag)) if el is not None else None
    if child is None or child.text is None:
        return None
    return child.text.strip()


def _dec(el, tag):
    text = _text(el, tag)
    return Decimal(text) if text is not None else None


def _int(el, tag):
    text = _text(el, tag)
    return int(text) if text else None


def _address(el):
    if el is None:
        return None
    return Address(
        line1=_text(el, "AdresL1"),
        line2=_text(el, "AdresL2"),
        country=_text(el, "KodKraju"),
        gln=_text(el, "GLN"),
    )


def parse_party(el):
    """``Podmiot1`` / ``Podmiot2`` / ``Podmiot3`` -> :class:`Party`."""
    ident = el.find(q("DaneIdentyfikacyjne"))
    party = Party(
        name=_text(ident, "Nazwa"),
        nip=_text(ident, "NIP"),
        eu_country=_text(ident, "KodUE"),
        eu_vat=_text(ident, "NrVatUE"),
        tax_country=_text(ident, "KodKraju"),
        tax_id=_text(ident, "NrID"),
        internal_id=_text(ident, "IDWew"),
        no_id=_text(ident, "BrakID") == "1",
        address=_address(el.find(q("Adres"))),
        correspondence_address=_address(el.find(q("AdresKoresp"))),
        eori=_text(el, "NrEORI"),
        customer_number=_text(el, "NrKlienta"),
        buyer_key=_text(el, "IDNabywcy"),
        eu_vat_prefix=_text(el, "PrefiksPodatnika") == "PL",
        status=_int(el, "StatusInfoPodatnika"),
        jst=_text(el, "JST") == "1",
        gv=_text(el, "GV") == "1",
        role=_int(el, "Rola"),
        role_other=_text(el, "OpisRoli"),
        share=_dec(el, "Udzial"),
    )
    party.contacts = [
        Contact(_text(c, "Email"), _text(c, "Telefon")) for c in el.findall(q("DaneKontaktowe"))
    ]
    return party


def parse_line(el):
    """``FaWiersz`` -> :class:`Line`."""
    v = _values(el)
    g = v.get
    sale = g("P_6A")
    return Line(
        name=g("P_7"),
        quantity=_d(v, "P_8B"),
        unit=g("P_8A"),
        unit_price=_d(v, "P_9A"),
        unit_price_gross=_d(v, "P_9B"),
        discount=_d(v, "P_10"),
        net=_d(v, "P_11"),
        gross=_d(v, "P_11A"),
        vat=_d(v, "P_11Vat"),
        rate=g("P_12"),
        oss_rate=_d(v, "P_12_XII"),
        annex15=g("P_12_Zal_15") == "1",
        excise=_d(v, "KwotaAkcyzy"),
        gtu=g("GTU"),
        procedure=g("Procedura"),
        exchange_rate=_d(v, "KursWaluty"),
        before=g("StanPrzed") == "1",
        number=_i(v, "NrWierszaFa"),
        uuid=g("UU_ID"),
        sale_date=date.fromisoformat(sale) if sale else None,
        index=g("Indeks"),
        gtin=g("GTIN"),
        pkwiu=g("PKWiU"),
        cn=g("CN"),
        pkob=g("PKOB"),
    )


def parse_order_line(el):
    """``ZamowienieWiersz`` -> :class:`OrderLine`."""
    v = _values(el)
    g = v.get
    return OrderLine(
        name=g("P_7Z"),
        quantity=_d(v, "P_8BZ"),
        unit=g("P_8AZ"),
        unit_price=_d(v, "P_9AZ"),
        net=_d(v, "P_11NettoZ"),
        vat=_d(v, "P_11VatZ"),
        rate=g("P_12Z"),
        oss_rate=_d(v, "P_12Z_XII"),
        annex15=g("P_12Z_Zal_15") == "1",
        gtu=g("GTUZ"),
        procedure=g("ProceduraZ"),
        excise=_d(v, "KwotaAkcyzyZ"),
        before=g("StanPrzedZ") == "1",
        number=_i(v, "NrWierszaZam"),
        uuid=g("UU_IDZ"),
        index=g("IndeksZ"),
        gtin=g("GTINZ"),
        pkwiu=g("PKWiUZ"),
        cn=g("CNZ"),
        pkob=g("PKOBZ"),
    )
