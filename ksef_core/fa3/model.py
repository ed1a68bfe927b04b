"""Neutral invoice model for FA(3): plain dataclasses, ``Decimal`` amounts, ``date`` dates.

The Odoo layer only translates its records into these objects (and back);
:mod:`.builder` turns an :class:`Invoice` into FA(3) XML and :mod:`.parser`
reads any FA(3) document back into one.  Field comments give the FA(3)
element each attribute maps to.

Amounts are :class:`decimal.Decimal` (never ``float``): money 2 decimals,
unit prices 8, quantities and exchange rates 6.  Flags are ``bool``; a
``None`` flag in :class:`Annotations` means "derive it from the data".
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

#: Invoice kinds (``RodzajFaktury``).
KINDS = ("VAT", "KOR", "ZAL", "ROZ", "UPR", "KOR_ZAL", "KOR_ROZ")
CORRECTION_KINDS = ("KOR", "KOR_ZAL", "KOR_ROZ")

#: Payment forms (``FormaPlatnosci``).
PAYMENT_CASH, PAYMENT_CARD, PAYMENT_VOUCHER, PAYMENT_CHEQUE = 1, 2, 3, 4
PAYMENT_CREDIT, PAYMENT_TRANSFER, PAYMENT_MOBILE = 5, 6, 7

#: Margin schemes (``PMarzy``): value -> FA(3) flag element.
MARGIN_SCHEMES = {
    "travel": "P_PMarzy_2",
    "used_goods": "P_PMarzy_3_1",
    "works_of_art": "P_PMarzy_3_2",
    "antiques": "P_PMarzy_3_3",
}

#: Exemption basis kinds (``Zwolnienie``): value -> FA(3) element.
EXEMPTION_BASES = {"law": "P_19A", "directive": "P_19B", "other": "P_19C"}


@dataclass
class Address:
    """``Adres`` / ``AdresKoresp``: country code and one or two free-text lines."""

    line1: str  # AdresL1
    line2: str = None  # AdresL2
    country: str = "PL"  # KodKraju
    gln: str = None  # GLN


@dataclass
class Contact:
    """``DaneKontaktowe`` (up to 3 per party)."""

    email: str = None
    phone: str = None


@dataclass
class Party:
    """Seller (``Podmiot1``), buyer (``Podmiot2``) or third party (``Podmiot3``).

    Identify a party by exactly one of: ``nip``; ``eu_country`` + ``eu_vat``
    (EU buyer); ``tax_id`` (+ optional ``tax_country``, foreign buyer);
    ``internal_id`` (Podmiot3 only); or ``no_id=True`` (consumer / no tax ID).
    """

    name: str = None  # Nazwa
    nip: str = None  # NIP
    eu_country: str = None  # KodUE
    eu_vat: str = None  # NrVatUE (without the country prefix)
    tax_country: str = None  # KodKraju (of NrID)
    tax_id: str = None  # NrID
    internal_id: str = None  # IDWew (Podmiot3)
    no_id: bool = False  # BrakID
    address: Address = None  # Adres (required for the seller)
    correspondence_address: Address = None  # AdresKoresp
    contacts: list = field(default_factory=list)  # DaneKontaktowe: [Contact]
    eori: str = None  # NrEORI
    customer_number: str = None  # NrKlienta (buyer, third party)
    buyer_key: str = None  # IDNabywcy (buyer, third party)
    # seller only
    eu_vat_prefix: bool = False  # PrefiksPodatnika = PL
    status: int = None  # StatusInfoPodatnika 1..4
    # buyer only
    jst: bool = False  # JST: invoice concerns a subordinate unit of a local government
    gv: bool = False  # GV: invoice concerns a member of a VAT group
    # third party only
    role: int = None  # Rola 1..11 (2 = recipient, 4 = additional buyer, 11 = employee)
    role_other: str = None  # RolaInna=1 + OpisRoli
    share: Decimal = None  # Udzial (percent)


@dataclass
class Line:
    """One invoice line (``FaWiersz``).

    ``rate`` is the FA(3) ``P_12`` code: ``"23"``, ``"22"``, ``"8"``, ``"7"``,
    ``"5"``, ``"4"``, ``"3"``, ``"0 KR"``, ``"0 WDT"``, ``"0 EX"``, ``"zw"``,
    ``"oo"``, ``"np I"``, ``"np II"``; for OSS leave it ``None`` and set
    ``oss_rate`` (``P_12_XII``); for a margin-scheme line set ``margin=True``.
    ``before=True`` marks a correction's "state before" line (``StanPrzed``).
    """

    name: str = None  # P_7
    quantity: Decimal = None  # P_8B (6 dp)
    unit: str = None  # P_8A
    unit_price: Decimal = None  # P_9A net unit price (8 dp)
    unit_price_gross: Decimal = None  # P_9B gross unit price (gross-price invoices)
    discount: Decimal = None  # P_10
    net: Decimal = None  # P_11
    gross: Decimal = None  # P_11A (gross-price invoices)
    vat: Decimal = None  # P_11Vat
    rate: str = None  # P_12
    oss_rate: Decimal = None  # P_12_XII
    annex15: bool = False  # P_12_Zal_15
    excise: Decimal = None  # KwotaAkcyzy
    gtu: str = None  # GTU ("GTU_01".."GTU_13")
    procedure: str = None  # Procedura
    exchange_rate: Decimal = None  # KursWaluty
    before: bool = False  # StanPrzed
    margin: bool = False  # not an FA(3) element: the line belongs to P_13_11
    number: int = None  # NrWierszaFa (None = position in the list)
    uuid: str = None  # UU_ID
    sale_date: date = None  # P_6A
    index: str = None  # Indeks
    gtin: str = None  # GTIN
    pkwiu: str = None  # PKWiU
    cn: str = None  # CN
    pkob: str = None  # PKOB


@dataclass
class BucketTotal:
    """Booked sums of one VAT bucket: ``P_13_x`` net, ``P_14_x`` VAT, ``P_14_xW`` VAT in PLN."""

    net: Decimal
    vat: Decimal = None
    vat_pln: Decimal = None


@dataclass
class NewVehicle:
    """``NowySrodekTransportu``: ``fields`` are FA(3) element/value pairs in schema order
    after ``P_22A``/``P_NrWierszaNST`` (e.g. ``[("P_22BMK", "Audi"), ("P_22B", "1200")]``)."""

    approval_date: date  # P_22A
    line_number: int  # P_NrWierszaNST
    fields: list = field(default_factory=list)


@dataclass
class Annotations:
    """``Adnotacje``.  ``None`` = derive from the invoice data, ``True``/``False`` = as given."""

    cash_method: bool = False  # P_16
    self_billing: bool = False  # P_17
    reverse_charge: bool = None  # P_18 (derived: any "oo" line)
    split_payment: bool = None  # P_18A (derived: annex-15 lines and total > 15 000 PLN)
    exemption_kind: str = None  # "law" / "directive" / "other" (P_19A / P_19B / P_19C)
    exemption_text: str = None  # the legal basis text
    new_vehicles: list = field(default_factory=list)  # [NewVehicle] -> P_22
    art42_5: bool = False  # P_42_5 (only with new vehicles)
    simplified_triangular: bool = False  # P_23
    margin_scheme: str = None  # key of MARGIN_SCHEMES or None


@dataclass
class CorrectedInvoice:
    """``DaneFaKorygowanej``: ``ksef_number=None`` = original issued outside KSeF (``NrKSeFN``)."""

    issue_date: date
    number: str
    ksef_number: str = None


@dataclass
class Correction:
    """Correction data of KOR / KOR_ZAL / KOR_ROZ invoices."""

    invoices: list = field(default_factory=list)  # [CorrectedInvoice]
    reason: str = None  # PrzyczynaKorekty
    type: int = None  # TypKorekty 1/2/3
    period: str = None  # OkresFaKorygowanej
    corrected_number: str = None  # NrFaKorygowany
    total_before: Decimal = None  # P_15ZK
    rate_before: Decimal = None  # KursWalutyZK


@dataclass
class PartialPayment:
    """``ZaplataCzesciowa``."""

    amount: Decimal
    date: date
    form: int = None
    form_other: str = None


@dataclass
class PaymentTerm:
    """``TerminPlatnosci``: a date and/or a described term (e.g. 14 days from delivery)."""

    due_date: date = None  # Termin
    count: int = None  # TerminOpis/Ilosc
    unit: str = None  # TerminOpis/Jednostka (e.g. "dni")
    start_event: str = None  # TerminOpis/ZdarzeniePoczatkowe


@dataclass
class BankAccount:
    """``RachunekBankowy`` / ``RachunekBankowyFaktora``."""

    number: str  # NrRB
    swift: str = None
    own_bank_account: int = None  # RachunekWlasnyBanku 1..3
    bank_name: str = None
    description: str = None


@dataclass
class Payment:
    """``Platnosc``."""

    paid: bool = False  # Zaplacono
    paid_date: date = None  # DataZaplaty
    partial: bool = None  # ZnacznikZaplatyCzesciowej: True=1 (partly), False=2 (fully in parts)
    partial_payments: list = field(default_factory=list)  # [PartialPayment]
    terms: list = field(default_factory=list)  # [PaymentTerm]
    form: int = None  # FormaPlatnosci 1..7
    form_other: str = None  # PlatnoscInna + OpisPlatnosci
    accounts: list = field(default_factory=list)  # [BankAccount]
    factor_accounts: list = field(default_factory=list)  # [BankAccount]
    discount_terms: str = None  # Skonto/WarunkiSkonta
    discount_amount: str = None  # Skonto/WysokoscSkonta
    link: str = None  # LinkDoPlatnosci
    ipksef: str = None  # IPKSeF


@dataclass
class Registry:
    """``Stopka/Rejestry``."""

    full_name: str = None
    krs: str = None
    regon: str = None
    bdo: str = None


@dataclass
class Settlement:
    """``Rozliczenie``: charges / deductions are ``(amount, reason)`` tuples."""

    charges: list = field(default_factory=list)
    charges_total: Decimal = None
    deductions: list = field(default_factory=list)
    deductions_total: Decimal = None
    to_pay: Decimal = None  # DoZaplaty
    to_settle: Decimal = None  # DoRozliczenia


@dataclass
class OrderLine:
    """``ZamowienieWiersz`` of an advance invoice (ZAL / KOR_ZAL)."""

    name: str = None  # P_7Z
    quantity: Decimal = None  # P_8BZ
    unit: str = None  # P_8AZ
    unit_price: Decimal = None  # P_9AZ
    net: Decimal = None  # P_11NettoZ
    vat: Decimal = None  # P_11VatZ
    rate: str = None  # P_12Z
    oss_rate: Decimal = None  # P_12Z_XII
    annex15: bool = False  # P_12Z_Zal_15
    gtu: str = None  # GTUZ
    procedure: str = None  # ProceduraZ
    excise: Decimal = None  # KwotaAkcyzyZ
    before: bool = False  # StanPrzedZ
    number: int = None  # NrWierszaZam
    uuid: str = None  # UU_IDZ
    index: str = None  # IndeksZ
    gtin: str = None  # GTINZ
    pkwiu: str = None  # PKWiUZ
    cn: str = None  # CNZ
    pkob: str = None  # PKOBZ


@dataclass
class Order:
    """``Zamowienie``: order/contract value (gross) and its lines."""

    value: Decimal
    lines: list = field(default_factory=list)  # [OrderLine]


@dataclass
class AdvanceInvoice:
    """``FakturaZaliczkowa`` on a ROZ invoice: KSeF number, or number if issued outside KSeF."""

    ksef_number: str = None
    number: str = None


@dataclass
class Invoice:
    """A complete FA(3) invoice.

    ``totals`` maps bucket keys of :data:`~.buckets.BUCKETS` (``"1"`` = 23/22 %,
    ``"6_2"`` = 0 % WDT, ...) to :class:`BucketTotal`.  Leave it empty to let
    the builder compute it from the lines with ``rounding`` (``"per_line"``:
    VAT rounded on every line then summed; ``"global"``: VAT rounded once per
    rate); when given, the builder checks it against the lines.
    ``raw`` keeps FA(3) sections the model does not describe field by field
    (``PodmiotUpowazniony``, ``Podmiot1K``, ``Podmiot2K``, ``Transport``,
    ``Zalacznik``), as serialized XML elements, so that they round-trip.
    """

    number: str  # P_2
    issue_date: date  # P_1
    created_at: datetime  # Naglowek/DataWytworzeniaFa (never "now": the caller decides)
    seller: Party  # Podmiot1
    buyer: Party  # Podmiot2
    kind: str = "VAT"  # RodzajFaktury
    currency: str = "PLN"  # KodWaluty
    lines: list = field(default_factory=list)  # [Line]
    totals: dict = field(default_factory=dict)  # bucket key -> BucketTotal
    total: Decimal = None  # P_15 (None = computed)
    rounding: str = "per_line"  # "per_line" or "global"
    prices_gross: bool = False  # lines carry P_9B/P_11A; VAT is extracted from gross
    third_parties: list = field(default_factory=list)  # Podmiot3: [Party]
    place_of_issue: str = None  # P_1M
    sale_date: date = None  # P_6
    period_from: date = None  # OkresFa/P_6_Od
    period_to: date = None  # OkresFa/P_6_Do
    delivery_notes: list = field(default_factory=list)  # WZ
    exchange_rate: Decimal = None  # rate used for P_14_xW when lines carry none
    advance_rate: Decimal = None  # KursWalutyZ
    annotations: Annotations = field(default_factory=Annotations)
    correction: Correction = None
    partial_advances: list = field(default_factory=list)  # ZaliczkaCzesciowa: [(date, amount, rate)]
    fp: bool = False  # FP (art. 109 ust. 3d)
    tp: bool = False  # TP (related parties)
    additional_info: list = field(default_factory=list)  # DodatkowyOpis: [(line_no|None, key, value)]
    advance_invoices: list = field(default_factory=list)  # FakturaZaliczkowa: [AdvanceInvoice]
    excise_refund: bool = False  # ZwrotAkcyzy
    settlement: Settlement = None  # Rozliczenie
    payment: Payment = None  # Platnosc
    contracts: list = field(default_factory=list)  # WarunkiTransakcji/Umowy: [(date|None, number|None)]
    orders: list = field(default_factory=list)  # WarunkiTransakcji/Zamowienia: [(date|None, number|None)]
    batch_numbers: list = field(default_factory=list)  # NrPartiiTowaru
    delivery_terms: str = None  # WarunkiDostawy (Incoterms)
    contract_rate: Decimal = None  # KursUmowny
    contract_currency: str = None  # WalutaUmowna
    intermediary: bool = False  # PodmiotPosredniczacy
    order: Order = None  # Zamowienie (ZAL / KOR_ZAL)
    footer: list = field(default_factory=list)  # Stopka/Informacje/StopkaFaktury texts (max 3)
    registries: list = field(default_factory=list)  # Stopka/Rejestry: [Registry]
    system_info: str = None  # Naglowek/SystemInfo
    raw: dict = field(default_factory=dict)  # section name -> [bytes]
