"""Nothing secret or confidential reaches the logs, even at DEBUG, during a full flow."""

import datetime
import logging

from ksef_core.certgen import make_test_certificate
from ksef_core.client import SyncState

NIP = "5265877635"
MARKER = "SECRET-CONTENT-7f3a"


def test_full_flow_logs_no_token_key_or_invoice_content(simulator, make_client, make_invoice, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    simulator.sim.invoice_store.configure(permanent_storage_delay=0)
    token = simulator.sim.mint_token(NIP)
    client = make_client(simulator, token, tmp_dir=str(tmp_path))
    xml = make_invoice(number=MARKER)
    client.check_connection()
    sent = client.send_invoices([("a", xml)], close=True)["a"]
    client.online.upo(sent.session_reference, sent.reference_number)
    client.send_batch([("b", make_invoice(number=MARKER + "-B"))])
    simulator.sim.seed_incoming(make_invoice(seller_nip="1111111111", buyer_nip=NIP, number=MARKER + "-IN"))
    start = (simulator.sim.clock.now() - datetime.timedelta(days=1)).isoformat()
    assert list(client.sync(SyncState("Subject2", start)).run())
    client.download_invoice(sent.ksef_number)
    state = client.token_state
    cert_client = make_client(simulator, certificate=make_test_certificate(nip=NIP))
    cert_client.check_connection()

    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "KSeF" in text  # the client does log its steps
    secrets = [token, token.split("|")[2], state.access_token, state.refresh_token, MARKER, "<Faktura"]
    secrets += [cert_client.token_state.access_token]
    for secret in secrets:
        assert secret not in text
