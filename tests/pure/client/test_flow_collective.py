"""``client.collective`` against the simulator: the collective identifier a payment of several bills of one
supplier quotes from 2027 (art. 108g of the VAT Act), and the invoices a received one stands for."""

import datetime
from decimal import Decimal

import pytest

from ksef_core.client import KsefApiError, KsefRateLimited, KsefUnavailable
from ksef_core.errors import InputError
from ksef_core.ksef_number import checksum, is_valid_collective_identifier

BUYER = "5265877635"  # the client company, paying
SUPPLIER = "1111111111"
OTHER_SUPPLIER = "7740001454"
OUTSIDER = "3333333333"


def bills(simulator, count, seller=SUPPLIER, buyer=BUYER):
    return [simulator.sim.seed_raw(b"<Faktura/>", seller, buyer) for _ in range(count)]


@pytest.fixture()
def payer(simulator, make_client):
    return make_client(simulator, simulator.sim.mint_token(BUYER), nip=BUYER)


def test_a_payment_of_two_bills_gets_an_identifier_the_supplier_resolves_with_amounts(simulator, make_client, payer):
    a, b = bills(simulator, 2)
    number = payer.collective.generate(
        [{"ksef_number": a, "amount": Decimal("1230.45"), "currency": "PLN", "description": "FV/1"}, b]
    )
    assert is_valid_collective_identifier(number) and number.startswith(SUPPLIER + "-IZ")
    supplier = make_client(simulator, simulator.sim.mint_token(SUPPLIER), nip=SUPPLIER)
    supplier.tokens.login()
    counter = supplier.transport.counter()
    items = {i.ksef_number: i for i in supplier.collective.invoices(number)}
    assert set(items) == {a, b}
    assert (items[a].amount, items[a].currency, items[a].description) == (Decimal("1230.45"), "PLN", "FV/1")
    assert items[b].amount is None and not items[b].details_hidden
    assert items[a].collective_identifier == number
    assert counter.by_key == {"POST /v2/collective-identifiers/invoices": 1}  # one request, newest endpoint
    outsider = make_client(simulator, simulator.sim.mint_token(OUTSIDER), nip=OUTSIDER)
    hidden = {i.ksef_number: i for i in outsider.collective.invoices(number)}
    assert hidden[a].details_hidden and hidden[a].amount is None
    assert [r.number for r in supplier.collective.by_ksef_number(a)] == [number]
    assert not supplier.collective.by_ksef_number(a)[0].created_in_current_context


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda s: bills(s, 1) + bills(s, 1, seller=OTHER_SUPPLIER), "collective_several_sellers"),
        (lambda s: bills(s, 1), "collective_too_few"),
        (lambda s: ["%s-20260105-0000000000AA-00" % SUPPLIER] * 2, "ksef_number_invalid"),
        (lambda s: [{"ksef_number": n, "amount": 5} for n in bills(s, 2)], "collective_payment_incomplete"),
        (lambda s: ["%s-20260105-%012X-00" % (SUPPLIER, i) for i in range(501)], "ksef_number_invalid"),
    ],
)
def test_lists_ksef_would_refuse_are_refused_before_any_request(simulator, payer, make, code):
    invoices = make(simulator)
    counter = payer.transport.counter()
    with pytest.raises(InputError) as info:
        payer.collective.generate(invoices)
    assert info.value.code == code
    assert info.value.message("pl") != info.value.message("en")
    assert counter.total == 0


def test_more_than_500_bills_are_refused_before_any_request(simulator, payer):
    invoices = bills(simulator, 501)
    counter = payer.transport.counter()
    with pytest.raises(InputError) as info:
        payer.collective.generate(invoices)
    assert info.value.code == "collective_too_many" and "500" in info.value.message("pl")
    assert counter.total == 0
    assert is_valid_collective_identifier(payer.collective.generate(invoices[:500]))


def test_a_bill_ksef_does_not_hold_for_this_company_is_named(simulator, payer):
    mine = bills(simulator, 1)
    foreign = bills(simulator, 1, buyer=OUTSIDER)  # the supplier's invoice to someone else
    with pytest.raises(KsefApiError) as info:
        payer.collective.generate(mine + foreign)
    assert info.value.code == "collective_invoice_not_assignable"
    assert info.value.details["ksef_numbers"] == foreign
    assert "identyfikatora zbiorczego" in info.value.message("pl")


def test_ksef_unreachable_or_rate_limited_raises_a_clear_error_and_makes_nothing(simulator, make_client, sleeps):
    sim = simulator.sim
    invoices = bills(simulator, 2)
    client = make_client(simulator, sim.mint_token(BUYER), nip=BUYER, sleep=sleeps, max_wait_seconds=0)
    client.tokens.login()
    fault = sim.faults.error("/collective-identifiers", status=503, count=None, method="POST")
    with pytest.raises(KsefUnavailable) as info:
        client.collective.generate(invoices)
    assert "spróbuj ponownie później" in info.value.message("pl")
    sim.faults.remove(fault)
    assert not sim.collective.items
    sim.clock.freeze()
    sim.set_rate_limits(True)
    for _ in range(10):
        client.collective.generate(invoices)
    with pytest.raises(KsefRateLimited) as limited:
        client.collective.generate(invoices)
    assert limited.value.retry_after >= 1


def test_a_lost_answer_reuses_the_identifier_ksef_made(simulator, payer):
    invoices = bills(simulator, 3)
    payer.tokens.login()
    simulator.sim.faults.drop("/collective-identifiers", method="POST")
    number = payer.collective.generate(invoices)
    assert list(simulator.sim.collective.items) == [number]  # made once, not twice
    assert payer.collective.generate(invoices, reuse_existing=True) == number
    assert payer.collective.generate(invoices) != number  # asked for a new one: a new one


def test_identifiers_read_by_tens_and_an_unknown_one_maps_to_none(simulator, payer):
    made = {payer.collective.generate(bills(simulator, 2)): None for _ in range(12)}
    unknown = next(iter(made))[:20] + "0000000000AB"
    unknown += "-%s" % checksum(unknown)
    numbers = [*made, unknown]
    counter = payer.transport.counter()
    found = payer.collective.invoices_many(numbers)
    assert found[unknown] is None
    assert all(len(found[n]) == 2 for n in made)
    assert counter.total <= len(numbers) // 2  # 2 batches of 10, then the failing one one by one
    with pytest.raises(KsefApiError) as info:
        payer.collective.invoices(unknown)
    assert info.value.code == "collective_identifier_unknown"
    with pytest.raises(InputError):
        payer.collective.invoices(unknown[:-1] + ("0" if unknown[-1] != "0" else "1"))


def test_an_api_2_7_0_server_is_read_with_its_get_endpoint(simulator, payer):
    """A server without ``POST /collective-identifiers/invoices`` (2.7.0) answers 404: the client uses the GET."""
    simulator.sim.faults.error("/collective-identifiers/invoices", status=404, count=None, method="POST")
    numbers = [payer.collective.generate(bills(simulator, 2)) for _ in range(3)]
    counter = payer.transport.counter()
    found = payer.collective.invoices_many(numbers)
    assert all(len(found[n]) == 2 for n in numbers)
    assert payer.collective.multi_endpoint is False
    assert counter.by_key["GET /v2/collective-identifiers/{id}/invoices"] == 3


def test_query_walks_windows_of_100_days(simulator, payer):
    sim = simulator.sim
    start = sim.clock.now() - datetime.timedelta(days=1)
    early = payer.collective.generate(bills(simulator, 2))
    sim.clock.advance(150 * 86400)
    late = payer.collective.generate(bills(simulator, 3))
    counter = payer.transport.counter()
    found = list(payer.collective.query(start))
    assert {(r.number, r.invoice_count, r.created_in_current_context) for r in found} == {
        (early, 2, True),
        (late, 3, True),
    }
    assert counter.total == 2  # 151 days: two windows
    assert [r.number for r in payer.collective.query(start, invoice_count_from=3)] == [late]
