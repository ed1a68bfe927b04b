"""FA(3) party blocks: ``Podmiot1`` (seller), ``Podmiot2`` (buyer), ``Podmiot3`` (third parties)."""

from ..nip import nip_checksum_ok, normalize_nip
from .fmt import fmt_number
from .xmlutil import opt, sub

_NAMES = {
    "Podmiot1": ("sprzedawcy", "seller"),
    "Podmiot2": ("nabywcy", "buyer"),
    "Podmiot3": ("podmiotu trzeciego", "third party"),
}


def _check_nip(nip, section, path, problems):
    value = normalize_nip(nip)
    pl, en = _NAMES[section]
    if not nip_checksum_ok(value):
        problems.add(
            "NIP",
            path + "/DaneIdentyfikacyjne/NIP",
            "the %s's NIP is not a valid Polish tax number (10 digits with a correct check digit); "
            "check it for a typo." % en,
            "NIP %s nie jest poprawnym numerem NIP (10 cyfr z poprawną cyfrą kontrolną); sprawdź, "
            "czy nie ma literówki." % pl,
        )
    return value


def _address(parent, tag, address):
    if address is None:
        return
    el = sub(parent, tag)
    sub(el, "KodKraju", address.country or "PL")
    sub(el, "AdresL1", address.line1)
    opt(el, "AdresL2", address.line2)
    opt(el, "GLN", address.gln)


def _contacts(parent, contacts, email_tag="Email", phone_tag="Telefon"):
    for contact in contacts[:3]:
        el = sub(parent, "DaneKontaktowe")
        opt(el, email_tag, contact.email)
        opt(el, phone_tag, contact.phone)


def _identification(parent, party, section, path, problems, allow_internal=False):
    ident = sub(parent, "DaneIdentyfikacyjne")
    pl, en = _NAMES[section]
    if party.nip:
        sub(ident, "NIP", _check_nip(party.nip, section, path, problems))
    elif allow_internal and party.internal_id:
        sub(ident, "IDWew", party.internal_id)
    elif party.eu_country or party.eu_vat:
        if not (party.eu_country and party.eu_vat):
            problems.add(
                "NrVatUE",
                path + "/DaneIdentyfikacyjne",
                "an EU %s needs both the country code (KodUE) and the VAT number (NrVatUE)." % en,
                "%s z UE wymaga kodu kraju (KodUE) i numeru VAT UE (NrVatUE)." % pl.capitalize(),
            )
        sub(ident, "KodUE", party.eu_country or "")
        vat = (party.eu_vat or "").replace(" ", "")
        if party.eu_country and vat.upper().startswith(party.eu_country.upper()):
            vat = vat[len(party.eu_country) :]
        sub(ident, "NrVatUE", vat)
    elif party.tax_id:
        opt(ident, "KodKraju", party.tax_country)
        sub(ident, "NrID", party.tax_id)
    elif party.no_id:
        sub(ident, "BrakID", "1")
    else:
        problems.add(
            "DaneIdentyfikacyjne",
            path + "/DaneIdentyfikacyjne",
            "the %s has no identifier: give a NIP, an EU VAT number, a foreign tax ID, or mark "
            "it as having no tax ID." % en,
            "%s nie ma identyfikatora: podaj NIP, numer VAT UE, zagraniczny identyfikator podatkowy "
            "albo zaznacz brak identyfikatora." % pl.capitalize(),
        )
    opt(ident, "Nazwa", party.name)
    return ident


def build_seller(root, party, problems):
    path = "Faktura/Podmiot1"
    el = sub(root, "Podmiot1")
    if party.eu_vat_prefix:
        sub(el, "PrefiksPodatnika", "PL")
    opt(el, "NrEORI", party.eori)
    ident = sub(el, "DaneIdentyfikacyjne")
    if not party.nip:
        problems.add(
            "NIP",
            path + "/DaneIdentyfikacyjne/NIP",
            "the seller's NIP is missing; set the company's tax number.",
            "brak NIP sprzedawcy; uzupełnij numer NIP firmy.",
        )
    sub(ident, "NIP", _check_nip(party.nip, "Podmiot1", path, problems) if party.nip else "")
    if not party.name:
        problems.add(
            "Nazwa",
            path + "/DaneIdentyfikacyjne/Nazwa",
            "the seller's name is missing.",
            "brak nazwy sprzedawcy.",
        )
    sub(ident, "Nazwa", party.name or "")
    if party.address is None:
        problems.add("Adres", path + "/Adres", "the seller's address is missing.", "brak adresu sprzedawcy.")
    _address(el, "Adres", party.address)
    _address(el, "AdresKoresp", party.correspondence_address)
    _contacts(el, party.contacts)
    opt(el, "StatusInfoPodatnika", party.status)
    return el


def build_buyer(root, party, problems):
    path = "Faktura/Podmiot2"
    el = sub(root, "Podmiot2")
    opt(el, "NrEORI", party.eori)
    _identification(el, party, "Podmiot2", path, problems)
    _address(el, "Adres", party.address)
    _address(el, "AdresKoresp", party.correspondence_address)
    _contacts(el, party.contacts)
    opt(el, "NrKlienta", party.customer_number)
    opt(el, "IDNabywcy", party.buyer_key)
    sub(el, "JST", "1" if party.jst else "2")
    sub(el, "GV", "1" if party.gv else "2")
    return el


def build_third_party(root, party, index, problems):
    path = "Faktura/Podmiot3[%d]" % index
    el = sub(root, "Podmiot3")
    opt(el, "IDNabywcy", party.buyer_key)
    opt(el, "NrEORI", party.eori)
    _identification(el, party, "Podmiot3", path, problems, allow_internal=True)
    _address(el, "Adres", party.address)
    _address(el, "AdresKoresp", party.correspondence_address)
    _contacts(el, party.contacts)
    if party.role is not None:
        sub(el, "Rola", str(party.role))
    elif party.role_other:
        sub(el, "RolaInna", "1")
        sub(el, "OpisRoli", party.role_other)
    else:
        problems.add(
            "Rola",
            path + "/Rola",
            "the third party has no role (e.g. 2 = recipient, 4 = additional buyer, 11 = employee).",
            "podmiot trzeci nie ma roli (np. 2 = odbiorca, 4 = dodatkowy nabywca, 11 = pracownik).",
        )
    if party.share is not None:
        opt(el, "Udzial", fmt_number(party.share, 6, "Udzial", path + "/Udzial", problems))
    opt(el, "NrKlienta", party.customer_number)
    return el
