"""Catalogue of invoice models: one per FA(3) invoice kind and per VAT bucket.

Each factory returns a fresh :class:`Invoice`; ``golden/<name>.xml`` holds the
reviewed FA(3) document it must build to (regenerate with ``regen_golden.py``
only after reviewing the change against the XSD documentation).
"""

from datetime import date, datetime, timezone
from decimal import Decimal as D

from ksef_core.fa3.model import (
    Address,
    AdvanceInvoice,
    Annotations,
    BankAccount,
    BucketTotal,
    Contact,
    CorrectedInvoice,
    Correction,
    Invoice,
    Line,
    NewVehicle,
    Order,
    OrderLine,
    PartialPayment,
    Party,
    Payment,
    PaymentTerm,
    Registry,
    Settlement,
)

CREATED = datetime(2026, 2, 15, 9, 30, 0, tzinfo=timezone.utc)
KSEF_ORIGINAL = "5265877635-20260210-0100A1B2C3D4-5E"


def seller():
    return Party(
        name="ABC AGD sp. z o.o.",
        nip="5265877635",
        address=Address("ul. Kwiatowa 1 m. 2", "00-001 Warszawa"),
        contacts=[Contact(email="biuro@abc-agd.pl", phone="221234567")],
    )


def buyer():
    return Party(
        name="F.H.U. Jan Kowalski",
        nip="1111111111",
        address=Address("ul. Polna 1", "00-002 Warszawa"),
        customer_number="K-0042",
    )


def base(number="FV/2026/02/001", **kw):
    values = {
        "number": number,
        "issue_date": date(2026, 2, 15),
        "created_at": CREATED,
        "seller": seller(),
        "buyer": buyer(),
        "place_of_issue": "Warszawa",
        "sale_date": date(2026, 2, 14),
        "payment": Payment(
            form=6,
            terms=[PaymentTerm(due_date=date(2026, 3, 1))],
            accounts=[BankAccount("73111111111111111111111111", bank_name="Bank Polski S.A.")],
        ),
    }
    values.update(kw)
    return Invoice(**values)


def line(name, qty, price, rate, unit="szt.", **kw):
    return Line(name=name, quantity=D(qty), unit=unit, unit_price=D(price), rate=rate, **kw)


# ---------------------------------------------------------------- buckets


def bucket_23():
    inv = base(
        lines=[
            line(
                "Lodówka Zimnotech mk1",
                "1",
                "1626.01",
                "23",
                gtin="5901234123457",
                index="LOD-MK1",
                gtu="GTU_07",
            ),
            line("Wniesienie sprzętu", "1", "40.65", "23", pkwiu="49.41.19.0"),
            line("Przewód 3x1,5", "12.5", "3.99", "22", unit="m", cn="8544 49"),
        ],
        delivery_notes=["WZ/2026/02/017"],
        orders=[(date(2026, 2, 1), "ZAM-4354343")],
        additional_info=[(None, "preferowane godziny dowozu", "dni robocze 17:00 - 20:00")],
        footer=["Kapitał zakładowy 5 000 000 zł"],
        registries=[Registry(krs="0000099999", regon="999999999", bdo="000099999")],
    )
    return inv


def bucket_8():
    return base(
        lines=[line("Usługa budowlana", "10", "120.5", "8", unit="h"), line("Materiał", "3", "7.3", "7")]
    )


def bucket_5():
    return base(
        lines=[line("Książka", "3", "29.99", "5"), line("Mleko 3,2%", "2.000", "3.49", "5", unit="l")]
    )


def bucket_4():
    return base(lines=[line("Przejazd taksówką", "1", "96.15", "4", unit="kurs")])


def bucket_oss():
    inv = base(
        buyer=Party(
            name="Hans Müller", no_id=True, address=Address("Hauptstr. 1, 10115 Berlin", country="DE")
        ),
        lines=[
            Line(
                name="E-book",
                quantity=D("1"),
                unit="szt.",
                unit_price=D("20.00"),
                oss_rate=D("19"),
                procedure="WSTO_EE",
            )
        ],
        payment=Payment(paid=True, paid_date=date(2026, 2, 14), form=2),
    )
    return inv


def bucket_0_kr():
    return base(lines=[line("Wyrób medyczny", "2", "150", "0 KR")])


def bucket_0_wdt():
    return base(
        currency="EUR",
        buyer=Party(
            name="Kühl GmbH",
            eu_country="DE",
            eu_vat="DE123456789",
            address=Address("Hauptstr. 5", "10115 Berlin", country="DE"),
        ),
        lines=[line("Lodówka Zimnotech mk1", "10", "400", "0 WDT", sale_date=date(2026, 2, 3))],
        payment=Payment(
            form=6,
            terms=[PaymentTerm(count=30, unit="dni", start_event="wydanie towaru")],
            accounts=[BankAccount("PL61109010140000071219812874", swift="WBKPPLPP")],
        ),
    )


def bucket_0_ex():
    return base(
        currency="USD",
        buyer=Party(
            name="Cold Inc.",
            tax_country="US",
            tax_id="12-3456789",
            address=Address("1 Main St", "Springfield, IL 62701", country="US"),
        ),
        lines=[line("Lodówka Zimnotech mk1", "5", "450", "0 EX")],
        delivery_terms="FCA Gdynia",
    )


def bucket_zw():
    inv = base(
        lines=[
            line("Rata leasingowa 01/2026", "1", "2000", "23"),
            line("Pakiet ubezpieczeń 01/2026", "1", "300", "zw"),
        ],
        annotations=Annotations(exemption_kind="law", exemption_text="art. 43 ust. 1 pkt 37 ustawy VAT"),
        period_from=date(2026, 1, 1),
        period_to=date(2026, 1, 31),
        sale_date=None,
    )
    return inv


def bucket_np_i():
    return base(
        buyer=Party(
            name="Acme Ltd",
            tax_country="GB",
            tax_id="GB123456789",
            address=Address("1 High St", "London", "GB"),
        ),
        lines=[line("Montaż instalacji w Londynie", "1", "10000", "np I")],
    )


def bucket_np_ii():
    # art. 28b services to an EU taxpayer: the buyer accounts for the VAT (P_18=1, derived from the code) and
    # the seller shows its PL-prefixed VAT-UE number (art. 97 ust. 10 pkt 3: the caller sets it)
    with_prefix = seller()
    with_prefix.eu_vat_prefix = True
    return base(
        seller=with_prefix,
        buyer=Party(
            name="Software SARL",
            eu_country="FR",
            eu_vat="12345678901",
            address=Address("1 rue X", "Paris", "FR"),
        ),
        lines=[line("Usługa programistyczna", "40", "150", "np II", unit="h")],
    )


def bucket_oo():
    return base(lines=[line("Złom stalowy", "1.250", "1200", "oo", unit="t")])


def bucket_margin():
    return base(
        lines=[
            Line(
                name="Samochód używany Skoda Octavia",
                quantity=D("1"),
                unit="szt.",
                unit_price=D("35000"),
                margin=True,
            )
        ],
        annotations=Annotations(margin_scheme="used_goods"),
    )


# ---------------------------------------------------------------- kinds and features


def kind_kor_before_after():
    return base(
        number="FK/2026/02/001",
        kind="KOR",
        sale_date=date(2026, 2, 10),
        correction=Correction(
            invoices=[CorrectedInvoice(date(2026, 2, 10), "FV/2026/02/000", KSEF_ORIGINAL)],
            reason="obniżka ceny o 200 zł z uwagi na uszkodzenia estetyczne",
            type=3,
        ),
        lines=[
            line("Lodówka Zimnotech mk1", "1", "1626.01", "23", before=True, uuid="aaaa111133339990"),
            line("Lodówka Zimnotech mk1", "1", "1463.41", "23", uuid="aaaa111133339990"),
        ],
    )


def kind_kor_difference():
    return base(
        number="FK/2026/02/002",
        kind="KOR",
        correction=Correction(
            invoices=[CorrectedInvoice(date(2025, 12, 20), "FV/2025/12/311")],
            reason="zwrot 2 szt. towaru",
            type=2,
        ),
        lines=[line("Czajnik elektryczny", "-2", "80", "23")],
        payment=Payment(form=6),
    )


def kind_zal():
    return base(
        number="FZ/2026/02/001",
        kind="ZAL",
        sale_date=None,
        totals={"1": BucketTotal(net=D("16260.16"), vat=D("3739.84"))},
        total=D("20000"),
        payment=Payment(paid=True, paid_date=date(2026, 2, 15), form=6),
        order=Order(
            value=D("375150"),
            lines=[
                OrderLine(
                    name="Mieszkanie 50 m2",
                    quantity=D("1"),
                    unit="szt.",
                    unit_price=D("300000"),
                    net=D("300000"),
                    vat=D("69000"),
                    rate="23",
                ),
                OrderLine(
                    name="Usługi dodatkowe",
                    quantity=D("1"),
                    unit="szt.",
                    unit_price=D("5000"),
                    net=D("5000"),
                    vat=D("1150"),
                    rate="23",
                ),
            ],
        ),
    )


def kind_roz():
    return base(
        number="FR/2026/03/001",
        kind="ROZ",
        totals={"1": BucketTotal(net=D("231707.32"), vat=D("53292.68"))},
        total=D("285000"),
        advance_invoices=[AdvanceInvoice(ksef_number=KSEF_ORIGINAL), AdvanceInvoice(number="FZ/2025/12/009")],
        lines=[line("Mieszkanie 50 m2", "1", "300000", "23"), line("Usługi dodatkowe", "1", "5000", "23")],
        additional_info=[(None, "zaliczki otrzymane (brutto)", "90150.00 zł")],
    )


def kind_upr():
    return base(
        number="FU/2026/02/001",
        kind="UPR",
        buyer=Party(nip="1111111111"),
        totals={"1": BucketTotal(net=D("365.85"), vat=D("84.15"))},
        total=D("450"),
        lines=[Line(name="Wiertarka Wiertex mk5")],
        payment=Payment(paid=True, paid_date=date(2026, 2, 14), form=1),
    )


def kind_kor_zal():
    return base(
        number="FKZ/2026/02/001",
        kind="KOR_ZAL",
        sale_date=None,
        totals={"1": BucketTotal(net=D("-813.01"), vat=D("-186.99"))},
        total=D("-1000"),
        correction=Correction(
            invoices=[CorrectedInvoice(date(2026, 2, 15), "FZ/2026/02/001", KSEF_ORIGINAL)],
            reason="błędna kwota zaliczki",
            type=1,
            total_before=D("20000"),
        ),
        payment=None,
    )


def kind_kor_roz():
    return base(
        number="FKR/2026/03/001",
        kind="KOR_ROZ",
        totals={"1": BucketTotal(net=D("-4065.04"), vat=D("-934.96"))},
        total=D("-5000"),
        correction=Correction(
            invoices=[CorrectedInvoice(date(2026, 3, 1), "FR/2026/03/001", KSEF_ORIGINAL)],
            reason="rabat potransakcyjny",
        ),
        lines=[line("Mieszkanie 50 m2", "1", "-4065.04", "23")],
        payment=None,
    )


def foreign_currency():
    return base(
        currency="EUR",
        exchange_rate=D("4.2135"),
        lines=[
            line("Konsultacje", "10", "100", "23", unit="h", exchange_rate=D("4.2135")),
            line("Dojazd", "1", "45.5", "8", exchange_rate=D("4.2135")),
        ],
        payment=Payment(
            form=6,
            accounts=[BankAccount("PL61109010140000071219812874", swift="WBKPPLPP", description="EUR")],
        ),
    )


def gross_prices_global():
    return base(
        prices_gross=True,
        rounding="global",
        buyer=Party(name="Konsument", no_id=True),
        lines=[
            Line(name="Chleb", quantity=D("3"), unit="szt.", unit_price_gross=D("4.99"), rate="5"),
            Line(name="Mleko", quantity=D("2"), unit="szt.", unit_price_gross=D("3.49"), rate="5"),
            Line(
                name="Baterie",
                quantity=D("1"),
                unit="opak.",
                unit_price_gross=D("19.99"),
                rate="23",
                discount=D("2.00"),
            ),
        ],
        payment=Payment(paid=True, paid_date=date(2026, 2, 15), form=1),
    )


def split_payment_annex15():
    return base(
        lines=[line("Telefon komórkowy", "10", "2000", "23", annex15=True, gtu="GTU_06")],
        payment=Payment(
            form=6,
            accounts=[BankAccount("73111111111111111111111111")],
            link="https://pay.example.pl/p?IPKSeF=123ABCDEFGHIJ",
            ipksef="123ABCDEFGHIJ",
        ),
    )


def annotations_flags():
    inv = base(
        lines=[line("Naprawa", "1", "500", "23")],
        annotations=Annotations(cash_method=True, self_billing=True, split_payment=True),
        payment=Payment(
            partial_payments=[
                PartialPayment(D("300"), date(2026, 2, 10), form=1),
                PartialPayment(D("115"), date(2026, 2, 12), form_other="kompensata"),
            ],
            partial=True,
            terms=[PaymentTerm(due_date=date(2026, 3, 1))],
            form=6,
            discount_terms="zapłata w 7 dni",
            discount_amount="2%",
        ),
    )
    inv.buyer.jst = True
    inv.third_parties = [
        Party(
            name="Szkoła Podstawowa nr 1",
            nip="7740001454",
            address=Address("ul. Szkolna 1", "09-400 Płock"),
            role=8,
        ),
        Party(name="Anna Nowak", no_id=True, role=11),
        Party(name="Odbiorca Sp. z o.o.", internal_id="1111111111-00001", role=2),
    ]
    return inv


def new_vehicle():
    return base(
        buyer=Party(
            name="Autohaus AG", eu_country="AT", eu_vat="U12345678", address=Address("Ring 1", "Wien", "AT")
        ),
        lines=[line("Samochód osobowy Skoda Superb", "1", "120000", "0 WDT")],
        annotations=Annotations(
            new_vehicles=[
                NewVehicle(
                    date(2026, 1, 20),
                    1,
                    [
                        ("P_22BMK", "Skoda"),
                        ("P_22BMD", "Superb"),
                        ("P_22B", "1200"),
                        ("P_22B1", "TMBJJ7NP0K1234567"),
                    ],
                )
            ],
            art42_5=True,
        ),
    )


def gv_buyer_vat_group():
    inv = base(
        lines=[line("Abonament", "1", "99.99", "23")],
        fp=True,
        settlement=Settlement(
            charges=[(D("15.00"), "opłata za przesyłkę")], charges_total=D("15.00"), to_pay=D("137.99")
        ),
    )
    inv.buyer.gv = True
    inv.third_parties = [Party(name="Członek Grupy VAT sp. z o.o.", nip="7740001454", role=10)]
    inv.seller.status = 2
    return inv


CASES = {
    "bucket_23": bucket_23,
    "bucket_8": bucket_8,
    "bucket_5": bucket_5,
    "bucket_4_taxi": bucket_4,
    "bucket_oss": bucket_oss,
    "bucket_0_kr": bucket_0_kr,
    "bucket_0_wdt": bucket_0_wdt,
    "bucket_0_ex": bucket_0_ex,
    "bucket_zw": bucket_zw,
    "bucket_np_i": bucket_np_i,
    "bucket_np_ii": bucket_np_ii,
    "bucket_oo": bucket_oo,
    "bucket_margin": bucket_margin,
    "kind_kor_before_after": kind_kor_before_after,
    "kind_kor_difference": kind_kor_difference,
    "kind_zal": kind_zal,
    "kind_roz": kind_roz,
    "kind_upr": kind_upr,
    "kind_kor_zal": kind_kor_zal,
    "kind_kor_roz": kind_kor_roz,
    "foreign_currency": foreign_currency,
    "gross_prices_global": gross_prices_global,
    "split_payment_annex15": split_payment_annex15,
    "annotations_flags": annotations_flags,
    "new_vehicle": new_vehicle,
    "gv_buyer_vat_group": gv_buyer_vat_group,
}
