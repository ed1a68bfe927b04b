"""The admin API's ``POST /_sim/invoices`` (through ``SimulatorAdmin``) and the demo's supplier invoices."""

import datetime as dt

import pytest
import requests
from siminv_helpers import Api, sample_bytes

from ksef_core.errors import KsefError
from ksef_core.fa3 import parse_fa3, validate_fa3
from ksef_core.fa3.model import Address, Party
from ksef_core.simulator.admin_client import SimulatorAdmin
from ksef_core.simulator.demo import supplier_invoices

DEMO_BUYER = Party(name="Demo KSeF sp. z o.o.", nip="5251234560", address=Address("ul. Prosta 20", "00-850 Warszawa"))


def test_an_invoice_stored_through_the_admin_api_is_the_buyers_to_download(simulator):
    admin = SimulatorAdmin.for_api_url(simulator.base_url)
    xml = sample_bytes("FA_3_Przyklad_1.xml")
    received = simulator.sim.clock.now() - dt.timedelta(minutes=5)  # already in permanent storage
    number = admin.store_invoice(xml, acquisition_time=received.isoformat())
    assert simulator.sim.invoice_store.invoices[number]["acquisitionDate"] == received
    buyer = Api(simulator, "1111111111")
    answer = buyer.get("/invoices/ksef/%s" % number)
    assert answer.status_code == 200, answer.text
    assert answer.content == xml
    # the same invoice (seller, kind, number) again: the same KSeF number, nothing added
    assert admin.store_invoice(xml) == number
    assert len(simulator.sim.invoice_store.invoices) == 1


def test_a_refused_invoice_and_a_silent_simulator_are_explained(simulator):
    admin = SimulatorAdmin.for_api_url(simulator.base_url)
    with pytest.raises(KsefError) as refused:
        admin.store_invoice(b"<Faktura/>")
    assert refused.value.code == "simulator_refused" and "KSeF would refuse it" in str(refused.value)
    silent = SimulatorAdmin("http://127.0.0.1:9/_sim")
    with pytest.raises(KsefError) as unreachable:
        silent.mint_token("5251234560")
    assert unreachable.value.code == "simulator_unreachable"
    assert "python -m ksef_core.simulator" in unreachable.value.message("pl")


def test_a_token_minted_through_the_admin_api_logs_in(simulator):
    token = SimulatorAdmin.for_api_url(simulator.base_url + "/").mint_token("5251234560")
    assert "|nip-5251234560|" in token
    api = Api.__new__(Api)
    api.server, api.sim, api.base, api.nip = simulator, simulator.sim, simulator.base_url, "5251234560"
    api.http = requests.Session()
    api.token = api._login(token)
    assert api.get("/tokens").status_code == 200


def test_demo_supplier_invoices_are_valid_and_issued_to_the_demo_company(simulator):
    today = dt.date(2026, 12, 1)
    documents = supplier_invoices(DEMO_BUYER, today)
    assert len(documents) == 3
    admin = SimulatorAdmin.for_api_url(simulator.base_url)
    sellers = set()
    for xml in documents:
        assert validate_fa3(xml) == []
        invoice = parse_fa3(xml)
        assert invoice.buyer.nip == "5251234560"
        assert invoice.issue_date < today
        assert invoice.payment.accounts and invoice.payment.terms
        sellers.add(invoice.seller.nip)
        admin.store_invoice(xml)
    assert len(sellers) == 2
    assert len(simulator.sim.invoice_store.invoices) == 3
