"""Which KSeF a company works with (environment, address, NIP: its *endpoint*), and changing it safely.

Everything KSeF knows belongs to one endpoint: a document is sent, recovered, polled and its UPO
fetched only in the endpoint it was queued for; the import position and the invoices waiting for a
new import attempt are kept per endpoint, so switching back resumes where it stopped.

A switch is refused while invoices are on their way to the current endpoint (queued, issued
offline, being sent or processed): the message lists them. Those not sent yet can be withdrawn
(the KSeF set-up's "Withdraw the unsent invoices"); those KSeF has (or may have) must wait for its
answer.
"""

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..ksef_core import nip as ksef_nip
from .l10n_pl_ksef_document import OFFLINE_MODES, PENDING_STATES

#: invoices named in the message refusing a switch; the rest are counted
LISTED = 20


def endpoint_key(environment, custom_url, nip):
    """The endpoint of ``environment`` (a ``res.company`` selection value), ``custom_url`` and ``nip``."""
    environment = (environment or "").upper()
    url = (custom_url or "") if environment == "CUSTOM" else ""
    return "%s|%s|%s" % (environment, url, ksef_nip.normalize_nip(nip) or "")


def endpoint_domain(endpoint):
    """Domain of the records of ``endpoint``; records written before endpoints were kept belong to any."""
    return [("endpoint", "in", [endpoint, False])]


class ResCompany(models.Model):
    _inherit = "res.company"

    def _l10n_pl_ksef_endpoint(self):
        """The KSeF this company works with now: environment, address and NIP."""
        self.ensure_one()
        return endpoint_key(self.l10n_pl_ksef_environment, self.l10n_pl_ksef_custom_url, self.l10n_pl_ksef_nip)

    def _l10n_pl_ksef_pending_documents(self, endpoint=None):
        """The documents of this company on their way to ``endpoint`` (default: the current one)."""
        self.ensure_one()
        endpoint = endpoint or self._l10n_pl_ksef_endpoint()
        return (
            self.env["l10n_pl_ksef.document"]
            .sudo()
            .search(
                [("company_id", "=", self.id), ("state", "in", PENDING_STATES), *endpoint_domain(endpoint)],
                order="id",
            )
        )

    def _l10n_pl_ksef_endpoint_refusal(self, endpoint=None):
        """Why this company cannot leave ``endpoint`` (default: the current one) now, or None."""
        self.ensure_one()
        documents = self._l10n_pl_ksef_pending_documents(endpoint)
        if not documents:
            return None
        names = [document.move_id.name or str(document.move_id.id) for document in documents[:LISTED]]
        listed = ", ".join(names)
        if len(documents) > LISTED:
            listed = _("%(invoices)s and %(count)s more", invoices=listed, count=len(documents) - LISTED)
        parts = [
            _(
                "%(company)s cannot switch to another KSeF environment, address or NIP while invoices are on "
                "their way to the current one: %(invoices)s.",
                company=self.name,
                invoices=listed,
            )
        ]
        if documents._l10n_pl_ksef_withdrawable():
            parts.append(
                _(
                    'Invoices not sent yet can be withdrawn: Settings > KSeF > KSeF set-up, button "Withdraw the '
                    'unsent invoices". Send them again after the switch.'
                )
            )
        if documents.filtered(lambda d: d.state in ("sending", "processing")):
            parts.append(
                _(
                    "Invoices being sent or processed cannot be withdrawn: KSeF may already have them. Wait for "
                    "KSeF's answer (Check KSeF status on the invoice, or the next automatic check), then switch."
                )
            )
        if documents.filtered(lambda d: d.state == "to_send" and d.invoicing_mode in OFFLINE_MODES):
            parts.append(
                _(
                    "Invoices issued offline cannot be withdrawn either: the customer may already have them with the "
                    "QR codes of the current KSeF, where they must be sent."
                )
            )
        return "\n\n".join(parts)

    def _l10n_pl_ksef_check_endpoint_change(self, old_endpoint):
        """Refuse leaving ``old_endpoint`` for the current endpoint while documents are on their way to it."""
        self.ensure_one()
        if old_endpoint == self._l10n_pl_ksef_endpoint():
            return
        refusal = self._l10n_pl_ksef_endpoint_refusal(old_endpoint)
        if refusal:
            raise UserError(refusal)

    def _l10n_pl_ksef_endpoint_moved(self, old_endpoint):
        """The KSeF of ``old_endpoint`` is now at the company's current address (the demo's simulator restarted on
        another port): what belongs to it follows."""
        self.ensure_one()
        endpoint = self._l10n_pl_ksef_endpoint()
        if old_endpoint == endpoint:
            return
        domain = [("company_id", "=", self.id), ("endpoint", "=", old_endpoint)]
        for model in ("l10n_pl_ksef.document", "l10n_pl_ksef.session", "l10n_pl_ksef.receive.failure"):
            records = self.env[model].sudo().with_context(active_test=False).search(domain)
            records.write({"endpoint": endpoint})
        self.env["l10n_pl_ksef.receive.state"].sudo().search(domain).write({"endpoint": endpoint})

    def _l10n_pl_ksef_withdraw_unsent(self, endpoint=None):
        """Withdraw (cancel) this company's documents queued for ``endpoint`` that have not left: their invoices
        can be sent again later. Rows a sender holds right now are left alone. Returns the withdrawn documents."""
        self.ensure_one()
        documents = self._l10n_pl_ksef_pending_documents(endpoint)._l10n_pl_ksef_withdrawable()
        # claimed as every change of state is: a row a sender holds right now (it claims under a row lock) is
        # skipped, and one that left meanwhile is no longer "to send"
        return documents._l10n_pl_ksef_claim("to_send", "cancelled", {"next_try": False})

    def _l10n_pl_ksef_endpoint_switched(self):
        """The company now works with another endpoint: what waited for this one goes on at once (the sender and
        the import of the endpoint left keep their state for a switch back)."""
        self.ensure_one()
        endpoint = self._l10n_pl_ksef_endpoint()
        Document = self.env["l10n_pl_ksef.document"].sudo()
        documents = Document.search(
            [("company_id", "=", self.id), ("endpoint", "=", endpoint), ("next_try", "!=", False)]
        )
        documents.write({"next_try": False})
        sessions = (
            self.env["l10n_pl_ksef.session"]
            .sudo()
            .search([("company_id", "=", self.id), ("endpoint", "=", endpoint), ("next_try", "!=", False)])
        )
        sessions.write({"next_try": fields.Datetime.now()})
        if documents or sessions:
            Document._l10n_pl_ksef_wake_up()
