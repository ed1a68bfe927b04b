"""KSeF overview: one row per company, for the accountant (or the accounting office) of many companies.

A read-only SQL view (``_auto = False``): one query reads every row the user may see, whatever the number
of companies; the record rule keeps the user to his allowed companies (``company_ids``), as for the KSeF
documents themselves. What each row tells:

* how the company logs in to KSeF (token or certificate), whether that credential is there and until when
  it works (a certificate's end of validity; a KSeF token's 31 December 2026), never the credential itself;
* its KSeF documents: to send, being processed, rejected (the invoice's current document), issued offline
  and still on their way, and those past their offline deadline;
* its import of supplier invoices: the last check, its outcome and the invoices waiting for a new attempt
  (in the KSeF the company uses now);
* its last unresolved error in plain words (a rejection, a send waiting after an error, a failed import).

Buttons act on one company within the bounds of a click (``l10n_pl_ksef_document_click.py``): Import now is
the Settings button's run; Send sends the company's due queue within a click's time when it is smaller than a
batch, and leaves the rest (or a batch) to the cron, which it triggers.
"""

import datetime

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.misc import format_date

from .l10n_pl_ksef_document import OFFLINE_MODES

#: KSeF tokens are accepted until this day (then only certificates); also the named tokens of users
TOKEN_LAST_DAY = datetime.date(2026, 12, 31)

#: the company's current KSeF (environment|address|NIP), as ``res_company_ksef_endpoint.endpoint_key`` makes it:
#: the invoices waiting of another KSeF are kept for a switch back and not counted
_ENDPOINT_SQL = SQL(
    """upper(coalesce(c.l10n_pl_ksef_environment, '')) || '|'
       || CASE WHEN upper(coalesce(c.l10n_pl_ksef_environment, '')) = 'CUSTOM'
               THEN coalesce(c.l10n_pl_ksef_custom_url, '') ELSE '' END || '|'
       || regexp_replace(upper(regexp_replace(coalesce(c.l10n_pl_ksef_nip, ''), '[[:space:].-]', '', 'g')),
                         '^PL', '')"""
)


class L10nPlKsefOverview(models.Model):
    _name = "l10n_pl_ksef.overview"
    _description = "KSeF overview by company"
    _auto = False
    _order = "has_problem desc, name, id"
    _rec_name = "company_id"
    #: flushed before the view is read
    _depends = {
        "res.company": [
            "name",
            "active",
            "l10n_pl_ksef_active",
            "l10n_pl_ksef_environment",
            "l10n_pl_ksef_custom_url",
            "l10n_pl_ksef_nip",
            "l10n_pl_ksef_auth_method",
            "l10n_pl_ksef_token_encrypted",
            "l10n_pl_ksef_receive",
        ],
        "l10n_pl_ksef.document": [
            "company_id",
            "state",
            "invoicing_mode",
            "offline_deadline",
            "reason_en",
            "reason_pl",
            "last_error",
        ],
        "account.move": ["l10n_pl_ksef_document_id", "state"],
        "l10n_pl_ksef.certificate": ["company_id", "active", "purpose", "valid_to"],
        "l10n_pl_ksef.user.token": ["company_id"],
        "l10n_pl_ksef.receive.failure": ["company_id", "active", "endpoint"],
        "l10n_pl_ksef.receive.state": ["company_id", "last_run", "outcome", "next_attempt", "last_result"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    name = fields.Char(string="Company name", readonly=True)
    ksef_active = fields.Boolean(string="KSeF enabled", readonly=True)
    environment = fields.Selection(
        selection=lambda self: self.env["res.company"]._fields["l10n_pl_ksef_environment"].selection,
        string="KSeF environment",
        readonly=True,
    )
    auth_method = fields.Selection(
        [("token", "KSeF token"), ("certificate", "Certificate")], string="Logs in with", readonly=True
    )
    credential_missing = fields.Boolean(
        string="Credential missing",
        readonly=True,
        help="KSeF is enabled but the company has no KSeF token or no authentication certificate (the one its "
        "login method needs): set it in Settings > KSeF.",
    )
    credential_valid_to = fields.Date(
        string="Credential valid until",
        readonly=True,
        help="A certificate: the last day of its validity. A KSeF token: 31 December 2026, the last day KSeF "
        "accepts tokens.",
    )
    named_token_count = fields.Integer(string="Users' named tokens", readonly=True)
    token_ending = fields.Boolean(
        string="Uses KSeF tokens",
        readonly=True,
        help="The company, or some of its users, log in to KSeF with a token: KSeF accepts tokens until "
        "31 December 2026. Get a KSeF certificate and switch the login method in Settings > KSeF before then.",
    )
    to_send_count = fields.Integer(string="To send", readonly=True)
    processing_count = fields.Integer(string="Processing", readonly=True, help="Being sent or processed by KSeF.")
    rejected_count = fields.Integer(
        string="Rejected", readonly=True, help="Invoices whose last KSeF document KSeF rejected: fix and send again."
    )
    offline_count = fields.Integer(
        string="Issued offline", readonly=True, help="Invoices issued offline that KSeF has not accepted yet."
    )
    offline_overdue_count = fields.Integer(
        string="Past the offline deadline",
        readonly=True,
        help="Offline invoices not in KSeF yet whose legal deadline (Send to KSeF by) has passed.",
    )
    receive_enabled = fields.Boolean(string="Imports supplier invoices", readonly=True)
    last_import = fields.Datetime(string="Last import", readonly=True)
    import_outcome = fields.Selection(
        selection=lambda self: self.env["l10n_pl_ksef.receive.state"]._fields["outcome"].selection,
        string="Import outcome",
        readonly=True,
    )
    next_import = fields.Datetime(string="Next import", readonly=True)
    waiting_count = fields.Integer(
        string="Invoices waiting",
        readonly=True,
        help="Supplier invoices KSeF has that could not become bills yet: they are tried again automatically.",
    )
    has_problem = fields.Boolean(string="Needs attention", readonly=True)
    send_error_en = fields.Text(string="Last sending problem (English)", readonly=True)
    send_error_pl = fields.Text(string="Last sending problem (Polish)", readonly=True)
    send_error_date = fields.Datetime(string="Last sending problem on", readonly=True)
    import_error = fields.Text(string="Import error", readonly=True)
    credential = fields.Char(
        string="KSeF login",
        compute="_compute_credential",
        help="How the company logs in to KSeF and until when that works; never the credential itself.",
    )
    last_error = fields.Text(string="Last error", compute="_compute_last_error")
    last_error_date = fields.Datetime(string="Last error on", compute="_compute_last_error")

    @property
    def _table_query(self):
        return self._overview_query()

    def _overview_query(self):
        pending = ("to_send", "sending", "processing")
        return SQL(
            """
            WITH pending AS (
                SELECT d.company_id,
                       COUNT(*) FILTER (WHERE d.state = 'to_send') AS to_send_count,
                       COUNT(*) FILTER (WHERE d.state IN ('sending', 'processing')) AS processing_count,
                       COUNT(*) FILTER (WHERE d.invoicing_mode IN %(offline)s) AS offline_count,
                       COUNT(*) FILTER (WHERE d.invoicing_mode IN %(offline)s AND d.state IN ('to_send', 'sending')
                                          AND d.offline_deadline < (now() AT TIME ZONE 'Europe/Warsaw')::date)
                           AS offline_overdue_count
                  FROM l10n_pl_ksef_document d
                 WHERE d.state IN %(pending)s
                 GROUP BY d.company_id
            ), rejected AS (
                SELECT d.company_id, COUNT(*) AS rejected_count
                  FROM l10n_pl_ksef_document d
                  JOIN account_move m ON m.l10n_pl_ksef_document_id = d.id AND m.state != 'cancel'
                 WHERE d.state = 'rejected'
                 GROUP BY d.company_id
            ), send_error AS (
                SELECT DISTINCT ON (d.company_id) d.company_id,
                       COALESCE(d.reason_en, d.last_error) AS send_error_en,
                       COALESCE(d.reason_pl, d.reason_en, d.last_error) AS send_error_pl,
                       d.write_date AS send_error_date
                  FROM l10n_pl_ksef_document d
                  JOIN account_move m ON m.l10n_pl_ksef_document_id = d.id AND m.state != 'cancel'
                 WHERE (d.state = 'rejected' OR (d.state = 'to_send' AND d.last_error IS NOT NULL))
                 ORDER BY d.company_id, d.write_date DESC, d.id DESC
            ), certificate AS (
                SELECT DISTINCT ON (t.company_id) t.company_id, t.valid_to
                  FROM l10n_pl_ksef_certificate t
                 WHERE t.active AND t.purpose = 'authentication'
                 ORDER BY t.company_id, t.valid_to DESC, t.id DESC
            ), named_token AS (
                SELECT u.company_id, COUNT(*) AS named_token_count
                  FROM l10n_pl_ksef_user_token u
                 GROUP BY u.company_id
            ), waiting AS (
                SELECT f.company_id, COUNT(*) AS waiting_count
                  FROM l10n_pl_ksef_receive_failure f
                  JOIN res_company c ON c.id = f.company_id
                 WHERE f.active AND (f.endpoint IS NULL OR f.endpoint = %(endpoint)s)
                 GROUP BY f.company_id
            ), rows AS (
                SELECT c.id AS id,
                       c.id AS company_id,
                       c.name AS name,
                       COALESCE(c.l10n_pl_ksef_active, FALSE) AS ksef_active,
                       c.l10n_pl_ksef_environment AS environment,
                       c.l10n_pl_ksef_auth_method AS auth_method,
                       COALESCE(c.l10n_pl_ksef_active, FALSE) AND CASE
                           WHEN c.l10n_pl_ksef_auth_method = 'certificate' THEN cert.company_id IS NULL
                           ELSE COALESCE(c.l10n_pl_ksef_token_encrypted, '') = ''
                       END AS credential_missing,
                       CASE WHEN c.l10n_pl_ksef_auth_method = 'certificate' THEN cert.valid_to::date
                            WHEN COALESCE(c.l10n_pl_ksef_token_encrypted, '') != '' THEN %(token_last_day)s::date
                       END AS credential_valid_to,
                       COALESCE(nt.named_token_count, 0) AS named_token_count,
                       (c.l10n_pl_ksef_auth_method = 'token' AND COALESCE(c.l10n_pl_ksef_token_encrypted, '') != '')
                           OR COALESCE(nt.named_token_count, 0) > 0 AS token_ending,
                       COALESCE(p.to_send_count, 0) AS to_send_count,
                       COALESCE(p.processing_count, 0) AS processing_count,
                       COALESCE(r.rejected_count, 0) AS rejected_count,
                       COALESCE(p.offline_count, 0) AS offline_count,
                       COALESCE(p.offline_overdue_count, 0) AS offline_overdue_count,
                       COALESCE(c.l10n_pl_ksef_receive, FALSE) AS receive_enabled,
                       s.last_run AS last_import,
                       s.outcome AS import_outcome,
                       s.next_attempt AS next_import,
                       COALESCE(w.waiting_count, 0) AS waiting_count,
                       se.send_error_en,
                       se.send_error_pl,
                       se.send_error_date,
                       CASE WHEN s.outcome = 'error' THEN s.last_result END AS import_error
                  FROM res_company c
                  LEFT JOIN pending p ON p.company_id = c.id
                  LEFT JOIN rejected r ON r.company_id = c.id
                  LEFT JOIN send_error se ON se.company_id = c.id
                  LEFT JOIN certificate cert ON cert.company_id = c.id
                  LEFT JOIN named_token nt ON nt.company_id = c.id
                  LEFT JOIN waiting w ON w.company_id = c.id
                  LEFT JOIN l10n_pl_ksef_receive_state s ON s.company_id = c.id
                 WHERE c.active
            )
            SELECT rows.*,
                   rows.ksef_active AND (rows.credential_missing OR rows.rejected_count > 0
                       OR rows.offline_overdue_count > 0 OR rows.waiting_count > 0 OR rows.import_error IS NOT NULL
                       OR rows.send_error_en IS NOT NULL) AS has_problem
              FROM rows
            """,
            offline=OFFLINE_MODES,
            pending=pending,
            endpoint=_ENDPOINT_SQL,
            token_last_day=TOKEN_LAST_DAY,
        )

    @api.depends_context("lang")
    @api.depends("ksef_active", "auth_method", "credential_missing", "credential_valid_to")
    def _compute_credential(self):
        methods = dict(self._fields["auth_method"]._description_selection(self.env))
        for row in self:
            method = methods.get(row.auth_method) or ""
            if not row.ksef_active:
                row.credential = False
            elif row.credential_missing:
                row.credential = _("%(method)s: missing", method=method)
            elif row.credential_valid_to:
                row.credential = _(
                    "%(method)s, until %(date)s", method=method, date=format_date(self.env, row.credential_valid_to)
                )
            else:
                row.credential = method

    @api.depends_context("lang")
    @api.depends("send_error_en", "send_error_pl", "send_error_date", "import_error", "last_import")
    def _compute_last_error(self):
        polish = (self.env.lang or "").startswith("pl")
        for row in self:
            send_error = (row.send_error_pl if polish else row.send_error_en) or row.send_error_en
            candidates = []
            if send_error:
                candidates.append((row.send_error_date or datetime.datetime.min, send_error))
            if row.import_error:
                candidates.append(
                    (row.last_import or datetime.datetime.min, _("Import: %(error)s", error=row.import_error))
                )
            if not candidates:
                row.last_error = False
                row.last_error_date = False
                continue
            when, text = max(candidates, key=lambda candidate: candidate[0])
            row.last_error = text
            row.last_error_date = when if when != datetime.datetime.min else False

    # ------------------------------------------------------------------ buttons

    def _l10n_pl_ksef_row(self):
        """This row, checked against the user's access (the record rule keeps him to his companies): a button
        called by RPC with the id of another company's row is refused like a read of it."""
        self.ensure_one()
        self.check_access("read")
        return self.company_id

    def action_import_now(self):
        """Import now: the Settings button's run for this company (accounting managers and administrators)."""
        company = self._l10n_pl_ksef_row()
        return company.action_l10n_pl_ksef_receive_now()

    def action_send_queued(self):
        """Send the company's due queue now, within a click's time; a batch's worth (or what the time does
        not allow) goes to the cron, which this triggers."""
        company = self._l10n_pl_ksef_row()
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(_("Only invoicing users and accountants can send invoices to KSeF."))
        if not company.l10n_pl_ksef_active:
            raise UserError(
                _(
                    "KSeF is not enabled for %(company)s: turn it on in Settings > Accounting > KSeF.",
                    company=company.name,
                )
            )
        Document = self.env["l10n_pl_ksef.document"]
        due = [
            ("company_id", "=", company.id),
            ("state", "=", "to_send"),
            "|",
            ("next_try", "=", False),
            ("next_try", "<=", fields.Datetime.now()),
        ]
        threshold = Document._l10n_pl_ksef_batch_threshold()
        documents = Document.search(due, order="id", limit=threshold)
        if not documents:
            return self._l10n_pl_ksef_notify(
                _("Nothing of %(company)s is due to be sent to KSeF now.", company=company.name), "info"
            )
        summary = {"time_up": False}
        if len(documents) < threshold:
            summary = documents._l10n_pl_ksef_click()  # within a click's time; triggers the cron for the rest
        else:
            # a batch's worth: the cron sends it in a batch session, in its own time
            Document._l10n_pl_ksef_wake_up()
            background = Document.search_count(due)
            return self._l10n_pl_ksef_notify(
                _(
                    "%(company)s: %(count)s invoices will be sent in the background, in a batch session.",
                    company=company.name,
                    count=background,
                ),
                "warning",
            )
        documents.invalidate_recordset(["state"])
        states = documents.sudo().mapped("state")
        accepted = states.count("accepted")
        processing = states.count("sending") + states.count("processing")
        rejected = states.count("rejected")
        background = states.count("to_send")
        message = _(
            "%(company)s: %(accepted)s accepted, %(processing)s being processed, %(rejected)s rejected, "
            "%(background)s will be sent in the background.",
            company=company.name,
            accepted=accepted,
            processing=processing,
            rejected=rejected,
            background=background,
        )
        if summary.get("time_up"):
            message += " " + _("This click's time was up: sending continues in the background.")
        kind = "danger" if rejected else "warning" if background else "success"
        return self._l10n_pl_ksef_notify(message, kind)

    def _l10n_pl_ksef_notify(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Send to KSeF"),
                "message": message,
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_open_documents(self):
        """The company's KSeF documents."""
        company = self._l10n_pl_ksef_row()
        action = self.env["ir.actions.act_window"]._for_xml_id("l10n_pl_ksef.l10n_pl_ksef_document_action")
        action["domain"] = [("company_id", "=", company.id)]
        action["context"] = {"search_default_" + key: 1 for key in self.env.context.get("ksef_filters", ())}
        action["name"] = _("KSeF documents of %(company)s", company=company.name)
        return action

    def action_open_waiting(self):
        """The company's supplier invoices waiting for a new import attempt."""
        company = self._l10n_pl_ksef_row()
        action = self.env["ir.actions.act_window"]._for_xml_id("l10n_pl_ksef.l10n_pl_ksef_receive_failure_action")
        action["domain"] = [("company_id", "=", company.id), ("in_current_ksef", "=", True)]
        action["name"] = _("Supplier invoices waiting of %(company)s", company=company.name)
        return action
