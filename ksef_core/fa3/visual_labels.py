"""Polish wording of the FA(3) visualization: headings and the meaning of coded values.

The headings and labels follow the Ministry of Finance's own visualization
(Aplikacja Podatnika KSeF / ``ksef-pdf-generator``); the coded values follow
the ``xsd:documentation`` of the FA(3) schema.  VAT buckets, rate codes and
margin schemes are not repeated here: they come from :mod:`.buckets`,
:mod:`.rates` and :mod:`.model`.
"""

from .model import MARGIN_SCHEMES
from .rates import RATES

BRAND = ("Krajowy System ", "e", "-Faktur")

#: Section headings, in the order of the Ministry's visualization.
SECTIONS = {
    "naglowek": "Faktura",
    "korekta": "Dane faktury korygowanej",
    "podmioty": "Podmioty",
    "szczegoly": "Szczegóły",
    "pozycje": "Pozycje",
    "zamowienie": "Zamówienie",
    "podsumowanie": "Podsumowanie stawek podatku",
    "adnotacje": "Adnotacje",
    "dodatkowe": "Dodatkowe informacje",
    "rozliczenie": "Rozliczenie",
    "platnosc": "Płatność",
    "warunki": "Warunki transakcji",
    "stopka": "Pozostałe informacje",
    "zalacznik": "Załącznik do faktury",
    "kod1": "Sprawdź, czy Twoja faktura znajduje się w KSeF!",
}

#: ``RodzajFaktury`` -> the heading of the invoice.
KIND_TITLES = {
    "VAT": "Faktura podstawowa",
    "KOR": "Faktura korygująca",
    "ZAL": "Faktura zaliczkowa",
    "ROZ": "Faktura rozliczeniowa",
    "UPR": "Faktura uproszczona",
    "KOR_ZAL": "Faktura korygująca fakturę zaliczkową",
    "KOR_ROZ": "Faktura korygująca fakturę rozliczeniową",
}
#: A KOR invoice with ``OkresFaKorygowanej`` is a collective correction (a discount for a period).
KIND_COLLECTIVE_CORRECTION = "Faktura korygująca zbiorcza (rabat)"

#: ``StatusInfoPodatnika``.
TAXPAYER_STATUS = {
    "1": "Stan likwidacji",
    "2": "Postępowanie restrukturyzacyjne",
    "3": "Stan upadłości",
    "4": "Przedsiębiorstwo w spadku",
}

#: ``Podmiot3/Rola`` (short form of the schema's descriptions).
THIRD_PARTY_ROLES = {
    "1": "Faktor",
    "2": "Odbiorca (jednostka wewnętrzna, oddział nabywcy)",
    "3": "Podmiot pierwotny",
    "4": "Dodatkowy nabywca",
    "5": "Wystawca faktury",
    "6": "Dokonujący płatności",
    "7": "Jednostka samorządu terytorialnego - wystawca",
    "8": "Jednostka samorządu terytorialnego - odbiorca",
    "9": "Członek grupy VAT - wystawca",
    "10": "Członek grupy VAT - odbiorca",
    "11": "Pracownik",
}

#: ``PodmiotUpowazniony/RolaPU``.
AUTHORISED_ROLES = {
    "1": "Organ egzekucyjny",
    "2": "Komornik sądowy",
    "3": "Przedstawiciel podatkowy",
}

#: ``FormaPlatnosci``.
PAYMENT_FORMS = {
    "1": "Gotówka",
    "2": "Karta",
    "3": "Bon",
    "4": "Czek",
    "5": "Kredyt",
    "6": "Przelew",
    "7": "Mobilna",
}

#: ``ZnacznikZaplatyCzesciowej``.
PARTIAL_PAYMENT = {"1": "Zapłacono w części", "2": "Zapłacono całość w częściach"}

#: ``TypKorekty``.
CORRECTION_TYPES = {
    "1": "Korekta skutkująca w dacie ujęcia faktury pierwotnej",
    "2": "Korekta skutkująca w dacie wystawienia faktury korygującej",
    "3": "Korekta skutkująca w dacie innej, w tym gdy dla różnych pozycji faktury korygującej daty te są różne",
}

#: ``RachunekWlasnyBanku``.
OWN_BANK_ACCOUNT = {
    "1": "Rachunek banku lub SKOK służący do rozliczeń z tytułu nabywanych wierzytelności pieniężnych",
    "2": "Rachunek banku lub SKOK wykorzystywany do pobrania należności od nabywcy i przekazania jej dostawcy",
    "3": "Rachunek banku lub SKOK prowadzony w ramach gospodarki własnej, niebędący rachunkiem rozliczeniowym",
}

#: ``Adnotacje`` flags shown when set to 1, in the Ministry's order.
ANNOTATION_FLAGS = (
    ("P_18A", "Mechanizm podzielonej płatności"),
    ("P_16", "Metoda kasowa"),
    ("P_18", "Odwrotne obciążenie"),
    ("P_23", "Procedura trójstronna uproszczona"),
    ("P_17", "Samofakturowanie"),
)
EXEMPTION_TEXT = (
    "Dostawa towarów lub świadczenie usług zwolnionych od podatku na podstawie art. 43 ust. 1, "
    "art. 113 ust. 1 i 9 albo przepisów wydanych na podstawie art. 82 ust. 3 lub na podstawie innych przepisów"
)
#: ``Zwolnienie``: element -> label of the legal basis.
EXEMPTION_BASES = {
    "P_19A": "Przepis ustawy albo aktu wydanego na podstawie ustawy",
    "P_19B": "Przepis dyrektywy 2006/112/WE",
    "P_19C": "Inna podstawa prawna",
}
#: ``PMarzy`` element -> Polish name of the margin scheme (from the rate table).
MARGIN_NAMES = {
    MARGIN_SCHEMES[r.margin_scheme]: r.name_pl.split(": ", 1)[-1] for r in RATES.values() if r.margin_scheme
}
NEW_VEHICLES = "Wewnątrzwspólnotowa dostawa nowych środków transportu"
#: ``P_42_5``.
VAT22 = {
    "1": "Istnieje obowiązek wystawienia dokumentu VAT-22",
    "2": "Nie istnieje obowiązek wystawienia dokumentu VAT-22",
}
#: ``NowySrodekTransportu`` fields (others fall back to the schema's documentation).
VEHICLE_FIELDS = {
    "P_22A": "Data dopuszczenia do użytku",
    "P_NrWierszaNST": "Numer wiersza faktury",
    "P_22BMK": "Marka",
    "P_22BMD": "Model",
    "P_22BK": "Kolor",
    "P_22BNR": "Numer rejestracyjny",
    "P_22BRP": "Rok produkcji",
    "P_22B": "Przebieg pojazdu lądowego",
    "P_22B1": "Numer VIN",
    "P_22B2": "Numer nadwozia",
    "P_22B3": "Numer podwozia",
    "P_22B4": "Numer ramy",
    "P_22BT": "Typ pojazdu",
    "P_22C": "Liczba godzin roboczych (jednostka pływająca)",
    "P_22C1": "Numer kadłuba",
    "P_22D": "Liczba godzin lotu (statek powietrzny)",
    "P_22D1": "Numer fabryczny",
}

#: Flags of ``Fa`` shown under "Dodatkowe informacje".
ADDITIONAL_FLAGS = (
    ("TP", "Istniejące powiązania między nabywcą a dokonującym dostawy towarów lub usługodawcą"),
    ("FP", "Faktura, o której mowa w art. 109 ust. 3d ustawy"),
    (
        "ZwrotAkcyzy",
        "Informacja dodatkowa związana ze zwrotem podatku akcyzowego zawartego w cenie oleju napędowego",
    ),
)

INTERMEDIARY = (
    "Dostawa dokonana przez podmiot, o którym mowa w art. 22 ust. 2d ustawy (transakcja łańcuchowa "
    "inna niż procedura trójstronna uproszczona)"
)

#: Columns of the line table: (element, heading, format) — format: amount / number / text.
LINE_COLUMNS = (
    ("NrWierszaFa", "Lp.", "text"),
    ("P_7", "Nazwa towaru lub usługi", "text"),
    ("GTU", "GTU", "text"),
    ("P_8B", "Ilość", "number"),
    ("P_8A", "Miara", "text"),
    ("P_9A", "Cena jedn. netto", "amount"),
    ("P_9B", "Cena jedn. brutto", "amount"),
    ("P_10", "Rabat", "amount"),
    ("P_12", "Stawka podatku", "text"),
    ("P_11", "Wartość sprzedaży netto", "amount"),
    ("P_11A", "Wartość sprzedaży brutto", "amount"),
    ("P_11Vat", "Kwota podatku", "amount"),
    ("KursWaluty", "Kurs waluty", "number"),
)
#: Line details printed in small type under the name: (element, label, format).
LINE_DETAILS = (
    ("Indeks", "Indeks", "text"),
    ("GTIN", "GTIN", "text"),
    ("PKWiU", "PKWiU", "text"),
    ("CN", "CN", "text"),
    ("PKOB", "PKOB", "text"),
    ("P_6A", "Data dostawy / wykonania", "text"),
    ("Procedura", "Procedura", "text"),
    ("KwotaAkcyzy", "Kwota podatku akcyzowego", "amount"),
    ("P_12_Zal_15", "Towar lub usługa z zał. nr 15 do ustawy", "flag"),
    ("UU_ID", "Unikalny numer wiersza", "text"),
)
#: The same for ``ZamowienieWiersz`` (element names end with ``Z``).
ORDER_COLUMNS = tuple(
    (
        {"NrWierszaFa": "NrWierszaZam", "P_11": "P_11NettoZ", "P_11Vat": "P_11VatZ"}.get(tag, tag + "Z"),
        heading,
        fmt,
    )
    for tag, heading, fmt in LINE_COLUMNS
    if tag not in ("P_9B", "P_10", "P_11A", "KursWaluty")
)
ORDER_DETAILS = tuple(
    ({"P_12_Zal_15": "P_12Z_Zal_15", "UU_ID": "UU_IDZ"}.get(tag, tag + "Z"), label, fmt)
    for tag, label, fmt in LINE_DETAILS
    if tag != "P_6A"
)

BEFORE = "Przed korektą"
AFTER = "Po korekcie"
MARGIN = "marża"
YES, NO = "TAK", "NIE"

#: Registries of the footer (``Stopka/Rejestry``).
REGISTRY_COLUMNS = (("PelnaNazwa", "Pełna nazwa"), ("KRS", "KRS"), ("REGON", "REGON"), ("BDO", "BDO"))

#: ``P_15`` label per invoice kind (the amount due, the correction of it, what remains to pay...).
TOTAL_LABELS = {
    "ROZ": "Kwota pozostała do zapłaty",
    "KOR": "Korekta kwoty należności ogółem",
    "KOR_ROZ": "Korekta kwoty należności ogółem",
    "ZAL": "Otrzymana kwota zapłaty (zaliczki)",
    "KOR_ZAL": "Korekta kwoty zapłaty (zaliczki)",
}
TOTAL_DEFAULT = "Kwota należności ogółem"
