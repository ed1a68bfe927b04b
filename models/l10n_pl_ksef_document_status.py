"""What KSeF decided: status checks, acceptance (KSeF number, UPO), rejection (reason, activity), 440.

Status checks cost as few requests as possible: the session's invoice list (1,000 a page) when more
than a few invoices of one session are waiting, else one status call per invoice; a batch session
is first asked whether it has finished at all. Each accepted invoice gets its UPO as an attachment,
downloaded from KSeF's pre-signed address; the collective UPO of a batch session is kept on the session.
"""

import datetime
import logging

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..ksef_core.client import KsefRateLimited
from ..ksef_core.client.results import InvoiceResult
from ..ksef_core.errors import KsefError
from .l10n_pl_ksef_document import OFFLINE_MODES
from .l10n_pl_ksef_document_send import POLL_LATER, POLL_SOON, _naive

_logger = logging.getLogger(__name__)

#: more waiting invoices than this in one session: read the session's list instead of each status
LIST_THRESHOLD = 3
#: UPOs downloaded per run and company (the rest at the next run)
UPO_LIMIT = 2000
#: a UPO that could not be downloaded is tried again after this long
UPO_RETRY = datetime.timedelta(minutes=5)
ACTIVITY_XMLID = "l10n_pl_ksef.mail_activity_type_ksef_rejected"


class L10nPlKsefDocument(models.Model):
    _inherit = "l10n_pl_ksef.document"

    # ------------------------------------------------------------------ polling

    def _l10n_pl_ksef_poll(self, client, result, sent_since=None):
        """Ask KSeF about the documents in ``processing`` and apply the final answers.

        The sessions this run has just sent into (documents sent from ``sent_since``) are asked even once the
        company's share of the cron run is over (one request a session): KSeF has usually decided by then, and
        the company's invoices are not left waiting a whole round of the other companies for it."""
        processing = self.filtered(lambda d: d.state == "processing")
        if processing:
            processing._l10n_pl_ksef_poll_sessions(client, result, sent_since)
            # still processing: checked again after a pause that grows with the wait (10 s .. 2 min)
            now = fields.Datetime.now()

            def next_check(document):
                waited = (now - (document.sent_date or now)).total_seconds()
                return now + datetime.timedelta(seconds=min(POLL_LATER.seconds, max(POLL_SOON.seconds, waited)))

            # one write per moment (a batch shares its sending time), not one per document
            waiting = processing.filtered(lambda d: d.state == "processing")
            for moment, documents in waiting.grouped(next_check).items():
                documents.next_try = moment

    def _l10n_pl_ksef_poll_sessions(self, client, result, sent_since=None):
        def fresh(documents):
            return bool(sent_since) and any(d.sent_date and d.sent_date >= sent_since for d in documents)

        # the sessions just sent into first
        groups = sorted(self.grouped("session_id").items(), key=lambda group: not fresh(group[1]))
        for session, documents in groups:
            if self._l10n_pl_ksef_time_up(share=not fresh(documents)):
                result["time_up"] = True  # the others are checked at the next run
                return
            if not session.reference:
                continue
            if session.kind == "batch" and not session._l10n_pl_ksef_session_finished(client):
                continue
            if session.kind == "batch" or len(documents) > LIST_THRESHOLD:
                by_hash = {d.invoice_hash: d for d in documents}
                by_ref = {d.reference_number: d for d in documents if d.reference_number}
                answers = []
                for item in client.online.list_invoices(session.reference, page_size=1000):
                    document = by_ref.get(item.get("referenceNumber")) or by_hash.get(item.get("invoiceHash"))
                    if document is not None:
                        answers.append((document, item))
                self._l10n_pl_ksef_apply_items(client, answers, result)
            else:
                for document in documents.filtered("reference_number"):
                    item = client.online.invoice_status(session.reference, document.reference_number)
                    document._l10n_pl_ksef_apply_item(client, item, result)
            silent = documents.filtered(lambda d: d.state == "processing")
            if session.kind == "batch" and session.state == "failed" and silent:
                # the whole package failed (not one invoice): nothing of it is in KSeF, it goes again
                silent._l10n_pl_ksef_claim(
                    "processing",
                    "to_send",
                    self._l10n_pl_ksef_error_values(
                        session.status_message or "KSeF did not process the batch.", session_id=False
                    ),
                )
            elif session.kind == "batch":
                # KSeF said nothing about an invoice of a processed batch: it failed for that invoice
                for document in silent:
                    document._l10n_pl_ksef_reject(
                        "KSeF processed the batch but reported nothing about this invoice: send it again.",
                        "KSeF przetworzył paczkę, ale nie podał wyniku dla tej faktury: wyślij ją ponownie.",
                        code=session.status_code or 0,
                    )
                    result["rejected"] += 1
            self._l10n_pl_ksef_commit()

    def _l10n_pl_ksef_missing_upos(self, company, client, only=None):
        """Download the UPOs of ``company``'s accepted documents that have none yet: just accepted, or
        KSeF was busy before (those wait for their ``next_try``); ``only``: of these documents only (a click)."""
        missing = self.sudo().search(
            [
                ("company_id", "=", company.id),
                *([("id", "in", only.ids)] if only is not None else []),
                ("endpoint", "in", [company._l10n_pl_ksef_endpoint(), False]),
                ("state", "=", "accepted"),
                ("upo_attachment_id", "=", False),
                ("invoicing_mode", "!=", "manual"),
                ("session_id", "!=", False),
                "|",
                ("next_try", "=", False),
                ("next_try", "<=", fields.Datetime.now()),
            ],
            limit=UPO_LIMIT,
        )
        if missing:
            missing._l10n_pl_ksef_fetch_upos(client=client)

    def _l10n_pl_ksef_apply_items(self, client, answers, result):
        """Apply ``[(document, SessionInvoiceStatusResponse)]``: the plain acceptances all at once (one claim,
        one batch of chatter lines, one write per table), the rest (440, rejections) one by one."""
        accepted = {}
        for document, item in answers:
            outcome = InvoiceResult(
                document.id, document.invoice_hash, session_reference=document.session_id.reference
            ).update(item)
            if outcome.final and outcome.ok and not outcome.duplicate:
                accepted[document.id] = outcome
            else:
                document._l10n_pl_ksef_apply(client, outcome, result)
        if accepted:
            result["accepted"] += len(self.browse(list(accepted))._l10n_pl_ksef_accept_all(accepted))

    def _l10n_pl_ksef_apply_item(self, client, item, result):
        """Apply one ``SessionInvoiceStatusResponse`` to this document."""
        self.ensure_one()
        outcome = InvoiceResult(self.id, self.invoice_hash, session_reference=self.session_id.reference).update(item)
        self._l10n_pl_ksef_apply(client, outcome, result)

    def _l10n_pl_ksef_apply(self, client, outcome, result):
        """Apply a final :class:`InvoiceResult`: accepted (also a 440 whose original is this very
        invoice, by hash) or rejected with KSeF's reason."""
        self.ensure_one()
        if not outcome.final:
            return
        if outcome.duplicate:
            same = self._l10n_pl_ksef_same_as_original(client, outcome)
            if same is None:
                return  # KSeF could not be asked now: decided at the next status check
            if same:
                result["accepted"] += len(self._l10n_pl_ksef_accept(outcome, duplicate=True))
                return
            self._l10n_pl_ksef_reject(
                "KSeF already has another invoice with this number (KSeF number %s) whose content differs: "
                "give this invoice a new number, or correct the one in KSeF." % outcome.ksef_number,
                "KSeF ma już inną fakturę o tym numerze (numer KSeF %s) o innej treści: nadaj tej fakturze "
                "nowy numer albo skoryguj fakturę w KSeF." % outcome.ksef_number,
                code=440,
            )
            result["rejected"] += 1
            return
        if outcome.ok:
            result["accepted"] += len(self._l10n_pl_ksef_accept(outcome))
            return
        status = outcome.status
        details = "; ".join(str(d) for d in status.details if d)
        reason_en = status.message("en") + (" KSeF: %s" % details if details else "")
        reason_pl = status.message("pl") + (" KSeF: %s" % details if details else "")
        self._l10n_pl_ksef_reject(reason_en, reason_pl, code=status.code)
        result["rejected"] += 1

    def _l10n_pl_ksef_same_as_original(self, client, outcome):
        """A 440 duplicate is this very invoice only when KSeF holds it with the same hash;
        ``None`` when KSeF cannot be asked now (a 429 goes up to reschedule the run)."""
        if not outcome.original_session:
            return False
        try:
            found = client.online.find(outcome.original_session, self.invoice_hash)
        except KsefRateLimited:
            raise
        except KsefError:
            return None
        return bool(found and found.ksef_number == outcome.ksef_number)

    def _l10n_pl_ksef_accept(self, outcome, duplicate=False):
        """Accepted by KSeF: returns the document when it was still waiting for KSeF's answer (else empty)."""
        self.ensure_one()
        return self._l10n_pl_ksef_accept_all({self.id: outcome}, duplicate=duplicate)

    def _l10n_pl_ksef_accept_all(self, outcomes, duplicate=False):
        """Accepted by KSeF (``{document id: InvoiceResult}``): returns those of these documents that were still
        waiting for KSeF's answer, claimed together; the others (decided meanwhile) are left as they are."""
        now = fields.Datetime.now()
        each = {}
        for document in self:
            outcome = outcomes[document.id]
            each[document.id] = {
                "ksef_number": outcome.ksef_number,
                "acceptance_date": _naive(outcome.acquisition_date) or now,
                "status_code": outcome.status.code if outcome.status else 200,
                "upo_url": outcome.upo_download_url or False,
                "reference_number": outcome.reference_number or document.reference_number,
                "ksef_invoicing_mode": outcome.invoicing_mode or False,
            }
        accepted = self._l10n_pl_ksef_claim(
            "processing",
            "accepted",
            {
                "duplicate": duplicate,
                "reason_en": False,
                "reason_pl": False,
                "last_error": False,
                "next_try": False,
            },
            each=each,
        )
        accepted.move_id._l10n_pl_ksef_after_acceptance()
        return accepted

    def _l10n_pl_ksef_reject(self, reason_en, reason_pl, code=0):
        """Rejected (by KSeF, or its FA(3) could not be made): returns the document when it was still pending."""
        self.ensure_one()
        rejected = self._l10n_pl_ksef_claim(
            ("to_send", "sending", "processing"),
            "rejected",
            {"status_code": code, "reason_en": reason_en, "reason_pl": reason_pl, "next_try": False},
        )
        rejected._l10n_pl_ksef_rejection_activity()
        return rejected

    def _l10n_pl_ksef_rejection_activity(self):
        """A to-do for the invoice's salesperson (else its creator) saying what KSeF refused and why."""
        activity_type = self.env.ref(ACTIVITY_XMLID, raise_if_not_found=False)
        for document in self:
            move = document.move_id
            user = document._l10n_pl_ksef_responsible()
            move.sudo().activity_schedule(
                activity_type_id=activity_type.id if activity_type else False,
                summary=_("KSeF rejected the invoice"),
                note=_(
                    "KSeF rejected %(invoice)s (code %(code)s): %(reason)s\n"
                    "Reset the invoice to draft, fix it and send it again.",
                    invoice=move.name,
                    code=document.status_code,
                    reason=document.with_context(lang=user.lang).reason,
                )
                + (
                    "\n"
                    + _(
                        "It was issued offline and the customer has it: the fixed invoice goes to KSeF as its "
                        "technical correction."
                    )
                    if document.invoicing_mode in OFFLINE_MODES
                    else ""
                ),
                user_id=user.id,
            )

    # ------------------------------------------------------------------ UPO

    def _l10n_pl_ksef_fetch_upos(self, client=None, interactive=False):
        """Download the UPO of these accepted documents and keep each as an attachment of its invoice."""
        documents = self.filtered(lambda d: d.state == "accepted" and not d.upo_attachment_id and d.ksef_number)
        if not documents:
            return
        if client is None:
            company = documents.company_id[:1]
            try:
                own = company.sudo()._l10n_pl_ksef_client(
                    ksef_user=documents[0].ksef_user_id, deadline_seconds=self._l10n_pl_ksef_time_left(interactive)
                )
                with own:
                    documents._l10n_pl_ksef_fetch_upos(client=own, interactive=interactive)
            except KsefError as exc:
                _logger.info("KSeF: UPO not downloaded now (%s)", exc.code)
                if interactive:
                    raise UserError(exc.bilingual()) from None
            return
        values, fetched = [], []
        for document in documents:
            if self._l10n_pl_ksef_time_up():
                break  # the others at the next run (their next_try is due)
            try:
                content = document._l10n_pl_ksef_download_upo(client)
            except KsefError as exc:
                _logger.info("KSeF: UPO of document %s not downloaded now (%s)", document.id, exc.code)
                if interactive:
                    raise
                # the rest waits a few minutes: the cron must not spin on an unavailable UPO
                documents.filtered(lambda d: d not in fetched).sudo().write(
                    {"next_try": fields.Datetime.now() + UPO_RETRY}
                )
                break
            values.append(
                {
                    "name": "UPO-%s.xml" % document.ksef_number,
                    "raw": content,
                    "mimetype": "application/xml",
                    "res_model": "account.move",
                    "res_id": document.move_id.id,
                    "company_id": document.company_id.id,
                }
            )
            fetched.append(document)
        if values:
            attachments = self.env["ir.attachment"].sudo().create(values)
            for document, attachment in zip(fetched, attachments, strict=True):
                document.sudo().upo_attachment_id = attachment
            documents.browse()._l10n_pl_ksef_audit_upo(dict(zip(fetched, attachments, strict=True)))
        self._l10n_pl_ksef_commit()

    def _l10n_pl_ksef_download_upo(self, client):
        """The UPO from KSeF's pre-signed address, or (expired, unreachable) from the API."""
        url = self.sudo().upo_url
        if url:
            try:
                return client.online.upo_from_url(url)
            except KsefRateLimited:
                raise
            except KsefError:
                _logger.info("KSeF: UPO address of document %s failed; asking the API", self.id)
        return client.online.upo(self.session_id.reference, ksef_number=self.ksef_number)
