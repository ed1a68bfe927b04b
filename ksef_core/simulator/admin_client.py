"""A small client of the simulator's admin API (``/_sim``), for another process: the demo set-up, SDKs' tests.

admin = SimulatorAdmin.for_api_url("http://127.0.0.1:8765/v2")
token = admin.mint_token("5265877635")
number = admin.store_invoice(fa3_xml_bytes)      # an invoice of another seller, e.g. a supplier's
"""

import base64

import requests

from ..errors import KsefError

TIMEOUT = 30


class SimulatorAdmin:
    def __init__(self, admin_url, session=None):
        self.admin_url = admin_url.rstrip("/")
        self.http = session or requests.Session()

    @classmethod
    def for_api_url(cls, api_url, session=None):
        """The admin API of the simulator serving the KSeF API at ``api_url`` (``…/v2``)."""
        base = api_url.rstrip("/")
        if base.endswith("/v2"):
            base = base[: -len("/v2")]
        return cls(base + "/_sim", session=session)

    def _call(self, method, path, body=None):
        try:
            answer = self.http.request(method, self.admin_url + path, json=body, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise KsefError(
                "The KSeF simulator at %s does not answer (%s): start it with "
                "`python -m ksef_core.simulator`." % (self.admin_url, exc.__class__.__name__),
                "Symulator KSeF pod adresem %s nie odpowiada (%s): uruchom go poleceniem "
                "`python -m ksef_core.simulator`." % (self.admin_url, exc.__class__.__name__),
                code="simulator_unreachable",
            )
        if answer.status_code >= 400:
            raise KsefError(
                "The KSeF simulator refused %s %s: HTTP %s %s" % (method, path, answer.status_code, answer.text[:500]),
                "Symulator KSeF odmówił %s %s: HTTP %s %s" % (method, path, answer.status_code, answer.text[:500]),
                code="simulator_refused",
            )
        return answer.json() if answer.content else None

    def health(self):
        return self._call("GET", "/health")

    def mint_token(self, nip, permissions=("InvoiceWrite", "InvoiceRead"), description="Simulator token"):
        """A new active KSeF token for ``nip`` (text)."""
        body = {"nip": nip, "permissions": list(permissions), "description": description}
        return self._call("POST", "/tokens", body)["token"]

    def store_invoice(self, xml_bytes, acquisition_time=None):
        """Store an FA(3) invoice as sent by its seller; returns its KSeF number (the same one when the
        invoice, by seller, kind and number, is there already)."""
        body = {"xml": base64.b64encode(xml_bytes).decode("ascii")}
        if acquisition_time:
            body["acquisitionTime"] = acquisition_time
        return self._call("POST", "/invoices", body)["ksefNumber"]

    def create_collective_identifier(self, context_nip, invoices):
        """A collective identifier created in the context ``context_nip`` (the buyer paying, usually) for
        ``invoices``: KSeF numbers, or ``{"ksefNumber", "payment": {"amount", "currency"}, "description"}``
        dicts. The API's rules apply (one seller, 500 invoices, the context a party of each); returns the number."""
        body = {"context": context_nip, "invoices": list(invoices)}
        return self._call("POST", "/collective-identifiers", body)["collectiveIdentifierNumber"]

    def collective_identifier(self, number):
        """Creator context, seller NIP, date and invoices (with payment details) of one identifier."""
        return self._call("GET", "/collective-identifiers/%s" % number)

    def certificates(self):
        """``{"caCertificate": base64 DER, "certificates": [CertificateListItem...]}`` of every KSeF certificate."""
        return self._call("GET", "/certificates")

    def revoke_certificate(self, serial, reason="Unspecified"):
        """Revoke a KSeF certificate as its owner would (a later XAdES login with it ends with status 460)."""
        return self._call("POST", "/certificates/%s/revoke" % serial, {"revocationReason": reason})

    def expire_certificate(self, serial, valid_to=None):
        """End a KSeF certificate's validity now (or at ``valid_to``, ISO text): KSeF treats it as Expired."""
        return self._call("POST", "/certificates/%s/expire" % serial, {"validTo": valid_to} if valid_to else {})

    def certificate_config(self, pending_polls=None, processing_seconds=None, limits=None):
        """Enrolment processing (status polls answering 100, simulated seconds) and per-identity limits."""
        body = {"pendingPolls": pending_polls, "processingSeconds": processing_seconds, "limits": limits}
        return self._call("POST", "/certificates/config", {k: v for k, v in body.items() if v is not None})
