"""Read any FA(3) document into the neutral :class:`~.model.Invoice` model.

Inbound XML is parsed with :func:`ksef_core.xmlsafe.parse_xml` (no entities,
no DTD, no network, size limit), its namespace is checked (FA(2) gets its own
message) and, by default, it is validated against the official FA(3) XSD
before any field is read.
"""

from datetime import date
from decimal import Decimal

from lxml import etree

from ..errors import XmlInputError
from ..nip import nip_checksum_ok
from ..xmlsafe import parse_xml
from .buckets import FIELD_TO_BUCKET
from .errors import Fa3FormatError, Fa3ValidationError
from .fmt import parse_datetime
from .messages import ValidationIssue
from .model import (
    EXEMPTION_BASES,
    MARGIN_SCHEMES,
    AdvanceInvoice,
    Annotations,
    BankAccount,
    BucketTotal,
    CorrectedInvoice,
    Correction,
    Invoice,
    NewVehicle,
    Order,
    Payment,
    PaymentTerm,
    Registry,
    Settlement,
)
from .parser_parts import _dec, _int, _text, parse_line, parse_order_line, parse_party
from .schema import FA2_NAMESPACE, FA3_NAMESPACE, MAX_INVOICE_BYTES, schema_errors
from .xmlutil import q

_EXEMPTION_BY_TAG = {v: k for k, v in EXEMPTION_BASES.items()}
_MARGIN_BY_TAG = {v: k for k, v in MARGIN_SCHEMES.items()}


def _date(el, tag):
    text = _text(el, tag)
    return date.fromisoformat(text) if text else None


def _flag(el, tag):
    return _text(el, tag) == "1"


def load_fa3_root(data, validate=True):
    """Safely parse ``data``, check it is FA(3) (and valid); return the root element."""
    try:
        root = parse_xml(data, max_bytes=MAX_INVOICE_BYTES, what_en="FA(3) invoice file", what_pl="plik faktury FA(3)")
    except Fa3FormatError:
        raise
    except XmlInputError as exc:
        raise Fa3FormatError(exc.message_en, exc.message_pl, code=exc.code, details=exc.details) from None
    qn = etree.QName(root)
    if qn.namespace == FA2_NAMESPACE:
        raise Fa3FormatError(
            "This is an FA(2) invoice; KSeF accepts only FA(3) since 1 Feb 2026. Issue the invoice again "
            "in the FA(3) structure.",
            "To jest faktura w strukturze FA(2); od 1 lutego 2026 KSeF przyjmuje wyłącznie FA(3). Wystaw "
            "fakturę ponownie w strukturze FA(3).",
            code="fa3_is_fa2",
        )
    if qn.namespace != FA3_NAMESPACE or qn.localname != "Faktura":
        raise Fa3FormatError(
            "The file is not an FA(3) invoice: its root element is '%s' in namespace '%s', expected "
            "'Faktura' in '%s'." % (qn.localname, qn.namespace or "-", FA3_NAMESPACE),
            "Plik nie jest fakturą FA(3): element główny to '%s' w przestrzeni nazw '%s', oczekiwano "
            "'Faktura' w '%s'." % (qn.localname, qn.namespace or "-", FA3_NAMESPACE),
            code="fa3_wrong_namespace",
        )
    if validate:
        issues = schema_errors(root) or nip_issues(root)
        if issues:
            raise Fa3ValidationError(
                issues,
                "The file is not a valid FA(3) invoice (%d problem(s)):" % len(issues),
                "Plik nie jest poprawną fakturą FA(3) (problemów: %d):" % len(issues),
            )
    return root


#: the parties whose NIP KSeF checks (its check digit), with their names in both languages
_NIP_PARTIES = (
    ("Podmiot1", "seller", "sprzedawcy"),
    ("Podmiot2", "buyer", "nabywcy"),
    ("Podmiot3", "third party", "podmiotu trzeciego"),
)


def nip_issues(root):
    """Issues of the NIPs of a schema-valid FA(3) whose check digit is wrong (KSeF refuses such an invoice).

    The schema only asks for 10 digits; KSeF also checks the check digit of the seller's, the
    buyer's and the third parties' NIP (Podmiot1, Podmiot2, Podmiot3), as the simulator does.
    """
    issues = []
    for tag, name_en, name_pl in _NIP_PARTIES:
        parties = root.findall(q(tag))
        for index, party in enumerate(parties, 1):
            nip = _text(party.find(q("DaneIdentyfikacyjne")), "NIP")
            if nip is None or nip_checksum_ok(nip):
                continue
            path = "Faktura/%s%s/DaneIdentyfikacyjne/NIP" % (tag, "[%d]" % index if len(parties) > 1 else "")
            en = "Field NIP at %s: the %s's NIP %s is not a valid Polish tax number (wrong check digit)." % (
                path,
                name_en,
                nip,
            )
            pl = "Pole NIP w %s: NIP %s %s nie jest poprawnym numerem NIP (błędna cyfra kontrolna)." % (
                path,
                name_pl,
                nip,
            )
            issues.append(
                ValidationIssue(
                    "NIP",
                    path,
                    en,
                    pl,
                    en.replace(" %s " % nip, " "),
                    pl.replace(" %s " % nip, " "),
                    nip,
                    None,
                    "nip_checksum",
                )
            )
    return issues


def _raw(el):
    return etree.tostring(el, encoding="UTF-8")


def _annotations(el):
    ann = Annotations(
        cash_method=_flag(el, "P_16"),
        self_billing=_flag(el, "P_17"),
        reverse_charge=_flag(el, "P_18"),
        split_payment=_flag(el, "P_18A"),
        simplified_triangular=_flag(el, "P_23"),
    )
    zw = el.find(q("Zwolnienie"))
    for tag, kind in _EXEMPTION_BY_TAG.items():
        text = _text(zw, tag)
        if text is not None:
            ann.exemption_kind, ann.exemption_text = kind, text
    nst = el.find(q("NoweSrodkiTransportu"))
    if _flag(nst, "P_22"):
        ann.art42_5 = _flag(nst, "P_42_5")
        for v in nst.findall(q("NowySrodekTransportu")):
            fields = [
                (etree.QName(c).localname, (c.text or "").strip())
                for c in v
                if isinstance(c.tag, str) and etree.QName(c).localname not in ("P_22A", "P_NrWierszaNST")
            ]
            ann.new_vehicles.append(NewVehicle(_date(v, "P_22A"), _int(v, "P_NrWierszaNST"), fields))
    pm = el.find(q("PMarzy"))
    for tag, scheme in _MARGIN_BY_TAG.items():
        if _flag(pm, tag):
            ann.margin_scheme = scheme
    return ann


def _correction(fa):
    cor = Correction(
        reason=_text(fa, "PrzyczynaKorekty"),
        type=_int(fa, "TypKorekty"),
        period=_text(fa, "OkresFaKorygowanej"),
        corrected_number=_text(fa, "NrFaKorygowany"),
        total_before=_dec(fa, "P_15ZK"),
        rate_before=_dec(fa, "KursWalutyZK"),
    )
    for el in fa.findall(q("DaneFaKorygowanej")):
        cor.invoices.append(
            CorrectedInvoice(
                _date(el, "DataWystFaKorygowanej"),
                _text(el, "NrFaKorygowanej"),
                _text(el, "NrKSeFFaKorygowanej"),
            )
        )
    return cor


def _form(el):
    return _int(el, "FormaPlatnosci"), _text(el, "OpisPlatnosci")


def _account(el):
    return BankAccount(
        number=_text(el, "NrRB"),
        swift=_text(el, "SWIFT"),
        own_bank_account=_int(el, "RachunekWlasnyBanku"),
        bank_name=_text(el, "NazwaBanku"),
        description=_text(el, "OpisRachunku"),
    )


def _payment(el):
    from .model import PartialPayment

    pay = Payment(paid=_flag(el, "Zaplacono"), paid_date=_date(el, "DataZaplaty"))
    marker = _text(el, "ZnacznikZaplatyCzesciowej")
    if marker is not None:
        pay.partial = marker == "1"
    for z in el.findall(q("ZaplataCzesciowa")):
        form, other = _form(z)
        pay.partial_payments.append(
            PartialPayment(_dec(z, "KwotaZaplatyCzesciowej"), _date(z, "DataZaplatyCzesciowej"), form, other)
        )
    for t in el.findall(q("TerminPlatnosci")):
        opis = t.find(q("TerminOpis"))
        pay.terms.append(
            PaymentTerm(
                due_date=_date(t, "Termin"),
                count=_int(opis, "Ilosc"),
                unit=_text(opis, "Jednostka"),
                start_event=_text(opis, "ZdarzeniePoczatkowe"),
            )
        )
    pay.form, pay.form_other = _form(el)
    pay.accounts = [_account(a) for a in el.findall(q("RachunekBankowy"))]
    pay.factor_accounts = [_account(a) for a in el.findall(q("RachunekBankowyFaktora"))]
    skonto = el.find(q("Skonto"))
    if skonto is not None:
        pay.discount_terms = _text(skonto, "WarunkiSkonta")
        pay.discount_amount = _text(skonto, "WysokoscSkonta")
    pay.link = _text(el, "LinkDoPlatnosci")
    pay.ipksef = _text(el, "IPKSeF")
    return pay


def _settlement(el):
    st = Settlement(
        charges_total=_dec(el, "SumaObciazen"),
        deductions_total=_dec(el, "SumaOdliczen"),
        to_pay=_dec(el, "DoZaplaty"),
        to_settle=_dec(el, "DoRozliczenia"),
    )
    st.charges = [(_dec(o, "Kwota"), _text(o, "Powod")) for o in el.findall(q("Obciazenia"))]
    st.deductions = [(_dec(o, "Kwota"), _text(o, "Powod")) for o in el.findall(q("Odliczenia"))]
    return st


def _transaction_terms(inv, el):
    inv.contracts = [(_date(u, "DataUmowy"), _text(u, "NrUmowy")) for u in el.findall(q("Umowy"))]
    inv.orders = [(_date(z, "DataZamowienia"), _text(z, "NrZamowienia")) for z in el.findall(q("Zamowienia"))]
    inv.batch_numbers = [(b.text or "").strip() for b in el.findall(q("NrPartiiTowaru"))]
    inv.delivery_terms = _text(el, "WarunkiDostawy")
    inv.contract_rate = _dec(el, "KursUmowny")
    inv.contract_currency = _text(el, "WalutaUmowna")
    transports = el.findall(q("Transport"))
    if transports:
        inv.raw["Transport"] = [_raw(t) for t in transports]
    inv.intermediary = _flag(el, "PodmiotPosredniczacy")


def _fa(inv, fa):
    inv.currency = _text(fa, "KodWaluty")
    inv.place_of_issue = _text(fa, "P_1M")
    inv.delivery_notes = [(w.text or "").strip() for w in fa.findall(q("WZ"))]
    inv.sale_date = _date(fa, "P_6")
    okres = fa.find(q("OkresFa"))
    if okres is not None:
        inv.period_from, inv.period_to = _date(okres, "P_6_Od"), _date(okres, "P_6_Do")
    for child in fa:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name in FIELD_TO_BUCKET:
            key, part = FIELD_TO_BUCKET[name]
            bt = inv.totals.setdefault(key, BucketTotal(net=None))
            setattr(bt, part, Decimal(child.text.strip()))
    inv.total = _dec(fa, "P_15")
    inv.advance_rate = _dec(fa, "KursWalutyZ")
    inv.annotations = _annotations(fa.find(q("Adnotacje")))
    if fa.find(q("DaneFaKorygowanej")) is not None:
        inv.correction = _correction(fa)
        for name in ("Podmiot1K", "Podmiot2K"):
            found = fa.findall(q(name))
            if found:
                inv.raw[name] = [_raw(e) for e in found]
    inv.partial_advances = [
        (_date(z, "P_6Z"), _dec(z, "P_15Z"), _dec(z, "KursWalutyZW")) for z in fa.findall(q("ZaliczkaCzesciowa"))
    ]
    inv.fp = _flag(fa, "FP")
    inv.tp = _flag(fa, "TP")
    inv.additional_info = [
        (_int(d, "NrWiersza"), _text(d, "Klucz"), _text(d, "Wartosc")) for d in fa.findall(q("DodatkowyOpis"))
    ]
    inv.advance_invoices = [
        AdvanceInvoice(_text(z, "NrKSeFFaZaliczkowej"), _text(z, "NrFaZaliczkowej"))
        for z in fa.findall(q("FakturaZaliczkowa"))
    ]
    inv.excise_refund = _flag(fa, "ZwrotAkcyzy")
    inv.lines = [parse_line(el) for el in fa.findall(q("FaWiersz"))]
    inv.prices_gross = any(line.gross is not None or line.unit_price_gross is not None for line in inv.lines)
    rozl = fa.find(q("Rozliczenie"))
    if rozl is not None:
        inv.settlement = _settlement(rozl)
    plat = fa.find(q("Platnosc"))
    if plat is not None:
        inv.payment = _payment(plat)
    wt = fa.find(q("WarunkiTransakcji"))
    if wt is not None:
        _transaction_terms(inv, wt)
    zam = fa.find(q("Zamowienie"))
    if zam is not None:
        inv.order = Order(
            _dec(zam, "WartoscZamowienia"), [parse_order_line(r) for r in zam.findall(q("ZamowienieWiersz"))]
        )


def parse_fa3(data, validate=True):
    """Parse FA(3) XML bytes into an :class:`~.model.Invoice`.

    :raises Fa3FormatError: unsafe / too large / malformed XML, FA(2), or not an FA(3) invoice.
    :raises Fa3ValidationError: (``validate=True``) the document breaks the FA(3) schema.
    """
    root = load_fa3_root(data, validate=validate)
    try:
        return _invoice(root)
    except (AttributeError, TypeError, ValueError, ArithmeticError):
        # only reachable with validate=False: a schema-valid document always maps
        raise Fa3FormatError(
            "The FA(3) invoice could not be read: its structure does not follow the FA(3) schema. "
            "Validate the file to see which fields are wrong.",
            "Nie udało się odczytać faktury FA(3): jej struktura nie jest zgodna ze schematem FA(3). "
            "Sprawdź plik walidacją, aby zobaczyć błędne pola.",
            code="fa3_unreadable",
        ) from None


def _invoice(root):
    head = root.find(q("Naglowek"))
    fa = root.find(q("Fa"))
    inv = Invoice(
        number=_text(fa, "P_2"),
        issue_date=_date(fa, "P_1"),
        created_at=parse_datetime(_text(head, "DataWytworzeniaFa")),
        seller=parse_party(root.find(q("Podmiot1"))),
        buyer=parse_party(root.find(q("Podmiot2"))),
        kind=_text(fa, "RodzajFaktury"),
        system_info=_text(head, "SystemInfo"),
    )
    inv.third_parties = [parse_party(p) for p in root.findall(q("Podmiot3"))]
    upow = root.find(q("PodmiotUpowazniony"))
    if upow is not None:
        inv.raw["PodmiotUpowazniony"] = [_raw(upow)]
    _fa(inv, fa)
    stopka = root.find(q("Stopka"))
    if stopka is not None:
        inv.footer = [_text(i, "StopkaFaktury") for i in stopka.findall(q("Informacje")) if _text(i, "StopkaFaktury")]
        inv.registries = [
            Registry(_text(r, "PelnaNazwa"), _text(r, "KRS"), _text(r, "REGON"), _text(r, "BDO"))
            for r in stopka.findall(q("Rejestry"))
        ]
    zal = root.find(q("Zalacznik"))
    if zal is not None:
        inv.raw["Zalacznik"] = [_raw(zal)]
    return inv
