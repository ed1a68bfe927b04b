"""Collective identifiers (API 2.7.0 ``/collective-identifiers*``): one transfer paying several invoices of one
seller quotes the identifier KSeF issued for them (art. 108g of the VAT Act, from 2027). Answers are checked
against the 2.7.0 contract's schemas, as a third-party SDK reads them."""

import datetime as dt
import re

from openapi_contract import schema, violations
from siminv_helpers import BUYER_NIP, SELLER_NIP, THIRD_NIP, Api, sample_bytes, with_number

OUTSIDER_NIP = "5265877635"  # no party of any invoice here
OTHER_SELLER_NIP = "7740001454"


def crc8(text):
    """CRC-8 of the contract: polynomial 0x07, initial value 0x00 (written out here, not the product's)."""
    crc = 0
    for byte in text.encode("ascii"):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def raw_invoices(simulator, count, seller=SELLER_NIP, buyer=BUYER_NIP):
    return [simulator.sim.seed_raw(b"<Faktura/>", seller, buyer) for _ in range(count)]


def generate(api, invoices, **kw):
    items = [i if isinstance(i, dict) else {"ksefNumber": i} for i in invoices]
    return api.post("/collective-identifiers", {"invoices": items}, **kw)


def created(api, invoices):
    resp = generate(api, invoices)
    assert resp.status_code == 201, resp.text
    assert violations(resp.json(), schema("GenerateCollectiveIdentifierResponse")) == []
    return resp.json()["collectiveIdentifierNumber"]


def refusal(resp, code):
    """The legacy ExceptionResponse of a 400 with ``code``; its details."""
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert violations(body, schema("ExceptionResponse")) == []
    [detail] = body["exception"]["exceptionDetailList"]
    assert detail["exceptionCode"] == code, body
    return detail["details"]


def listed(api, number, **params):
    resp = api.get("/collective-identifiers/%s/invoices" % number, params=params)
    assert resp.status_code == 200, resp.text
    assert violations(resp.json(), schema("CollectiveIdentifierInvoicesQueryResponse")) == []
    return resp.json()


def test_the_identifier_names_the_seller_and_month_and_carries_the_contracts_crc8(simulator, buyer):
    assert crc8("1111111111-IZ202607-65ED02180000") == 0xE7  # the contract's own example
    simulator.sim.clock.set(dt.datetime(2026, 7, 31, 22, 30, tzinfo=dt.timezone.utc))  # 1 August in Warsaw
    number = created(buyer, raw_invoices(simulator, 2))
    match = re.fullmatch(r"(\d{10})-IZ(\d{6})-([0-9A-F]{12})-([0-9A-F]{2})", number)
    assert match, number
    assert match.group(1) == SELLER_NIP  # the seller's NIP, though the buyer asked
    assert match.group(2) == "202608"
    assert int(match.group(4), 16) == crc8(number[:32])
    assert created(buyer, raw_invoices(simulator, 2)) != number


def test_at_most_500_invoices_in_one_identifier(simulator, buyer):
    numbers = raw_invoices(simulator, 501)
    details = refusal(generate(buyer, numbers), 21405)
    assert "500" in details[0]
    problem = generate(buyer, numbers, headers={"X-Error-Format": "problem-details"})
    assert problem.status_code == 400
    assert problem.headers["Content-Type"].startswith("application/problem+json")
    assert violations(problem.json(), schema("BadRequestProblemDetails")) == []
    assert problem.json()["errors"][0]["code"] == 21405
    number = created(buyer, numbers[:500])
    assert len(listed(buyer, number, pageSize=200)["invoices"]) == 200


def test_one_seller_only(simulator, buyer):
    mine = raw_invoices(simulator, 1)
    other = raw_invoices(simulator, 1, seller=OTHER_SELLER_NIP)
    details = refusal(generate(buyer, mine + other), 21405)
    assert SELLER_NIP in details[0] and OTHER_SELLER_NIP in details[0]


def test_malformed_repeated_or_badly_paid_invoices_are_input_errors(simulator, buyer):
    [a, b] = raw_invoices(simulator, 2)
    assert refusal(generate(buyer, []), 21405)
    assert refusal(generate(buyer, [a, a[:-2] + "00"]), 21405)  # wrong checksum
    assert refusal(generate(buyer, [a, a]), 21405)
    bad_currency = {"ksefNumber": b, "payment": {"amount": 10.0, "currency": "ZZZ"}}
    assert "currency" in refusal(generate(buyer, [a, bad_currency]), 21405)[0]
    no_amount = {"ksefNumber": b, "payment": {"currency": "PLN"}}
    assert "amount" in refusal(generate(buyer, [a, no_amount]), 21405)[0]
    assert "description" in refusal(generate(buyer, [a, {"ksefNumber": b, "description": "x" * 513}]), 21405)[0]


def test_unknown_invoices_and_invoices_of_other_companies_cannot_be_assigned(simulator, buyer):
    [a, b] = raw_invoices(simulator, 2)
    unknown = "%s-20260105-0000000000AA-%s" % (SELLER_NIP, "00")
    unknown = unknown[:33] + "%02X" % crc8(unknown[:32])
    details = refusal(generate(buyer, [a, unknown]), 71001)
    assert details == ["Faktura o numerze KSeF %s nie może zostac przypisana do Identyfikatora Zbiorczego." % unknown]
    outsider = Api(simulator, OUTSIDER_NIP)
    assert len(refusal(generate(outsider, [a, b]), 71001)) == 2


def test_an_invoice_is_in_at_most_132_identifiers_of_one_context(simulator, buyer, seller):
    [a, b] = raw_invoices(simulator, 2)
    for _ in range(132):
        created(buyer, [a, b])
    details = refusal(generate(buyer, [a, b]), 71002)
    assert details == [
        "Faktura o numerze KSeF %s jest już przypisana do maksymalnej liczby Identyfikatorów Zbiorczych." % n
        for n in (a, b)
    ]
    assert created(seller, [a, b])  # the limit counts per context


def test_permissions_any_of_invoice_read_write_or_collective_identifier_manage(simulator):
    invoices = raw_invoices(simulator, 2)
    clerk = Api(simulator, BUYER_NIP, ("CredentialsRead",))
    resp = generate(clerk, invoices)
    assert resp.status_code == 403
    body = resp.json()
    assert violations(body, schema("ForbiddenProblemDetails")) == []
    assert body["reasonCode"] == "missing-permissions"
    assert body["security"]["requiredAnyOfPermissions"] == ["InvoiceRead", "InvoiceWrite", "CollectiveIdentifierManage"]
    assert clerk.get("/collective-identifiers/ksef/%s" % invoices[0]).status_code == 403
    payer = Api(simulator, BUYER_NIP, ("CollectiveIdentifierManage",))
    number = created(payer, invoices)
    assert [i["ksefNumber"] for i in listed(payer, number)["invoices"]] == sorted(invoices, reverse=True)


def test_the_amount_is_shown_to_the_creator_and_the_invoices_parties_only(simulator, buyer, seller):
    sim = simulator.sim
    with_third = sim.seed_incoming(with_number(sample_bytes("FA_3_Przyklad_10.xml"), "IZ/1"))  # Podmiot3 3333333333
    plain = raw_invoices(simulator, 1)[0]
    paid = [
        {"ksefNumber": with_third, "payment": {"amount": 20000.0, "currency": "PLN"}, "description": "zaliczka"},
        {"ksefNumber": plain, "payment": {"amount": 12.5, "currency": "EUR"}},
    ]
    number = created(buyer, paid)
    for who in (buyer, seller):
        rows = {r["ksefNumber"]: r for r in listed(who, number)["invoices"]}
        assert rows[with_third]["payment"] == {"amount": 20000.0, "currency": "PLN"}
        assert rows[with_third]["description"] == "zaliczka" and rows[with_third]["detailsHidden"] is False
        assert rows[plain]["payment"] == {"amount": 12.5, "currency": "EUR"}
    third = Api(simulator, THIRD_NIP, ("InvoiceRead",))
    rows = {r["ksefNumber"]: r for r in listed(third, number)["invoices"]}
    assert rows[with_third]["payment"]["amount"] == 20000.0  # a party of this invoice
    assert rows[plain] == {"ksefNumber": plain, "detailsHidden": True}  # but not of this one
    outsider = Api(simulator, OUTSIDER_NIP, ("InvoiceRead",))
    for row in listed(outsider, number)["invoices"]:
        assert row == {"ksefNumber": row["ksefNumber"], "detailsHidden": True}
    # no amount given: nothing to hide, the fields stay empty for everyone
    bare = created(buyer, raw_invoices(simulator, 2))
    for row in listed(outsider, bare)["invoices"]:
        assert row["detailsHidden"] is False and row["payment"] is None


def test_invoices_of_an_identifier_page_by_continuation_token(simulator, buyer):
    numbers = raw_invoices(simulator, 25)
    number = created(buyer, numbers)
    first = listed(buyer, number)
    assert len(first["invoices"]) == 10 and first["continuationToken"]
    seen = [r["ksefNumber"] for r in first["invoices"]]
    token = first["continuationToken"]
    while token:
        resp = buyer.get("/collective-identifiers/%s/invoices" % number, headers={"x-continuation-token": token})
        seen += [r["ksefNumber"] for r in resp.json()["invoices"]]
        token = resp.json().get("continuationToken")
    assert seen == sorted(numbers, reverse=True)
    assert refusal(buyer.get("/collective-identifiers/%s/invoices" % number, params={"pageSize": 5}), 21405)
    assert refusal(buyer.get("/collective-identifiers/%s/invoices" % number, params={"pageSize": 201}), 21405)


def test_unknown_or_malformed_identifiers_are_refused(simulator, buyer):
    unknown = "%s-IZ202607-000000000000" % SELLER_NIP
    unknown += "-%02X" % crc8(unknown)
    assert "nie istnieje" in refusal(buyer.get("/collective-identifiers/%s/invoices" % unknown), 21405)[0]
    typo = unknown[:-1] + ("0" if unknown[-1] != "0" else "1")
    assert refusal(buyer.get("/collective-identifiers/%s/invoices" % typo), 21405)


def test_lookup_by_ksef_number(simulator, buyer, seller):
    sim = simulator.sim
    [a, b, c] = raw_invoices(simulator, 3)
    first = created(buyer, [a, b])
    sim.clock.advance(60)
    second = created(buyer, [a, c])
    by_seller = created(seller, [b, c])

    def lookup(api, number):
        resp = api.get("/collective-identifiers/ksef/%s" % number)
        assert resp.status_code == 200, resp.text
        assert violations(resp.json(), schema("CollectiveIdentifiersByKsefNumberQueryResponse")) == []
        items = resp.json()["collectiveIdentifiers"]
        return [(i["collectiveIdentifierNumber"], i["createdInCurrentContext"]) for i in items]

    assert lookup(buyer, a) == [(second, True), (first, True)]  # newest first
    assert lookup(seller, a) == [(second, False), (first, False)]  # the seller sees what its buyer made
    assert set(lookup(buyer, b)) == {(first, True), (by_seller, False)}
    assert lookup(Api(simulator, OUTSIDER_NIP), a) == []  # no party, made none
    assert lookup(buyer, raw_invoices(simulator, 1)[0]) == []
    assert refusal(buyer.get("/collective-identifiers/ksef/%s" % a[:-2]), 21405)


def test_query_lists_the_contexts_identifiers_and_those_of_its_own_invoices(simulator, buyer, seller):
    sim = simulator.sim
    start = sim.clock.now()
    made = []
    for size in range(2, 14):  # 12 identifiers of 2..13 invoices, one a minute
        made.append(created(buyer, raw_invoices(simulator, size)))
        sim.clock.advance(60)
    body = {"dateCreatedFrom": start.isoformat(), "dateCreatedTo": sim.clock.now().isoformat()}

    def query(api, page_size=None, **filters):
        params = {"pageSize": page_size} if page_size else {}
        resp = api.post("/collective-identifiers/query", dict(body, **filters), params=params)
        assert resp.status_code == 200, resp.text
        assert violations(resp.json(), schema("CollectiveIdentifiersQueryResponse")) == []
        return resp.json()

    page = query(buyer)
    assert [i["collectiveIdentifierNumber"] for i in page["collectiveIdentifiers"]] == made[::-1][:10]
    assert page["continuationToken"]
    rest = buyer.post(
        "/collective-identifiers/query", body, headers={"x-continuation-token": page["continuationToken"]}
    ).json()
    assert [i["collectiveIdentifierNumber"] for i in rest["collectiveIdentifiers"]] == made[::-1][10:]
    assert not rest.get("continuationToken")
    # the seller is Podmiot 1 of all of them: listed, not created in its context
    for_seller = query(seller, page_size=200)["collectiveIdentifiers"]
    assert len(for_seller) == 12 and not any(i["createdInCurrentContext"] for i in for_seller)
    assert query(seller, createdInCurrentContext=True)["collectiveIdentifiers"] == []
    counts = query(buyer, invoiceCountFrom=5, invoiceCountTo=6)["collectiveIdentifiers"]
    assert [i["invoiceCount"] for i in counts] == [6, 5]
    assert len(query(buyer, collectiveIdentifierNumber=made[3])["collectiveIdentifiers"]) == 1
    assert query(Api(simulator, OUTSIDER_NIP), page_size=200)["collectiveIdentifiers"] == []
    too_long = {"dateCreatedFrom": (start - dt.timedelta(days=101)).isoformat(), "dateCreatedTo": start.isoformat()}
    assert "100" in refusal(buyer.post("/collective-identifiers/query", too_long), 21405)[0]
    assert refusal(buyer.post("/collective-identifiers/query", {"dateCreatedFrom": start.isoformat()}), 21405)


def test_invoices_of_several_identifiers_in_one_request_as_current_sdks_ask(simulator, buyer):
    """``POST /collective-identifiers/invoices`` of the releases after 2.7.0 (what current SDKs call)."""
    first_invoices, second_invoices = raw_invoices(simulator, 2), raw_invoices(simulator, 3)
    first, second = created(buyer, first_invoices), created(buyer, second_invoices)
    resp = buyer.post("/collective-identifiers/invoices", {"collectiveIdentifierNumbers": [first, second]})
    assert resp.status_code == 200, resp.text
    assert violations(resp.json(), schema("CollectiveIdentifierInvoicesQueryResponse")) == []
    pairs = {(r["collectiveIdentifierNumber"], r["ksefNumber"]) for r in resp.json()["invoices"]}
    assert pairs == {(first, n) for n in first_invoices} | {(second, n) for n in second_invoices}
    assert refusal(buyer.post("/collective-identifiers/invoices", {"collectiveIdentifierNumbers": [first] * 11}), 21405)


def test_generate_is_rate_limited_as_the_contract_says(simulator, buyer):
    sim = simulator.sim
    limits = buyer.get("/rate-limits").json()
    assert limits["collectiveIdentifier"] == {"perSecond": 10, "perMinute": 60, "perHour": 120}
    invoices = raw_invoices(simulator, 2)
    sim.clock.freeze()
    sim.set_rate_limits(True)
    codes = [generate(buyer, invoices).status_code for _ in range(11)]
    assert codes == [201] * 10 + [429]
    assert buyer.get("/collective-identifiers/ksef/%s" % invoices[0]).status_code == 200  # reads are not limited


def test_admin_api_creates_for_a_context_and_shows_everything(simulator):
    import requests

    invoices = raw_invoices(simulator, 2)
    admin = simulator.admin_url
    paid = {"ksefNumber": invoices[1], "payment": {"amount": 5, "currency": "PLN"}}
    resp = requests.post(
        admin + "/collective-identifiers", json={"context": BUYER_NIP, "invoices": [invoices[0], paid]}
    )
    assert resp.status_code == 201, resp.text
    number = resp.json()["collectiveIdentifierNumber"]
    info = requests.get(admin + "/collective-identifiers/" + number).json()
    assert info["context"] == {"type": "Nip", "value": BUYER_NIP} and info["sellerNip"] == SELLER_NIP
    assert info["invoices"][1]["payment"] == {"amount": 5, "currency": "PLN"}
    refused = requests.post(admin + "/collective-identifiers", json={"context": OUTSIDER_NIP, "invoices": invoices})
    assert refused.status_code == 400
    assert refused.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 71001
