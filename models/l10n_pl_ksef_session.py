"""KSeF sessions (online and batch) opened by Odoo to send invoices.

An online session is reused while it is valid, one per company credential (the company's own
token or certificate, or one user's named token): its AES key is kept encrypted so that the cron
and the users' buttons send into the same session. A batch session carries many invoices at once.
The session's collective UPO is kept as an attachment once KSeF has processed it.
"""

import json

from odoo import api, fields, models

from ..ksef_core.client.online import OnlineSession


class L10nPlKsefSession(models.Model):
    _name = "l10n_pl_ksef.session"
    _inherit = ["l10n_pl_ksef.secret.mixin"]
    _description = "KSeF session"
    _order = "id desc"
    _rec_name = "reference"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade", readonly=True)
    kind = fields.Selection([("online", "Online"), ("batch", "Batch")], required=True, readonly=True)
    reference = fields.Char(string="Session reference", readonly=True, index=True, copy=False)
    environment = fields.Char(readonly=True)
    #: who the session belongs to: a named token, or False for the company's own credentials
    user_token_id = fields.Many2one("l10n_pl_ksef.user.token", readonly=True, ondelete="set null")
    state = fields.Selection(
        [
            ("opening", "Opening"),
            ("open", "Open"),
            ("closed", "Closed"),
            ("processed", "Processed"),
            ("failed", "Failed"),
        ],
        default="opening",
        required=True,
        readonly=True,
    )
    valid_until = fields.Datetime(readonly=True)
    secret = fields.Char(string="Session key (encrypted)", groups="base.group_system", copy=False)
    document_ids = fields.One2many("l10n_pl_ksef.document", "session_id", string="Invoices", readonly=True)
    document_count = fields.Integer(compute="_compute_document_count")
    status_code = fields.Integer(readonly=True)
    status_message = fields.Text(readonly=True)
    upo_attachment_id = fields.Many2one("ir.attachment", string="Session UPO", readonly=True)

    def _compute_document_count(self):
        counts = dict(
            self.env["l10n_pl_ksef.document"]._read_group([("session_id", "in", self.ids)], ["session_id"], ["__count"])
        )
        for session in self:
            session.document_count = counts.get(session, 0)

    @api.model
    def _l10n_pl_ksef_online_for(self, company, user_token, environment, now):
        """The open online session of this credential that is still usable at ``now``, or an empty recordset."""
        candidates = self.sudo().search(
            [
                ("company_id", "=", company.id),
                ("kind", "=", "online"),
                ("state", "=", "open"),
                ("environment", "=", environment),
                ("endpoint", "=", company._l10n_pl_ksef_endpoint()),
                ("user_token_id", "=", user_token.id or False),
            ],
            order="id desc",
        )
        for session in candidates:
            client_session = session._l10n_pl_ksef_client_session()
            if client_session is not None and client_session.usable(now):
                return session
        # no longer usable: closed (KSeF closes an expired one by itself) and their UPO fetched
        due = fields.Datetime.now()
        candidates.filtered(lambda s: not s.next_try or s.next_try > due).write({"next_try": due})
        return self.browse()

    def _l10n_pl_ksef_client_session(self):
        """The ``OnlineSession`` (with its key) of this record, or None when it cannot be read."""
        self.ensure_one()
        data = self._l10n_pl_ksef_decrypt_json(self.sudo().secret)
        try:
            return OnlineSession.from_dict(data) if data else None
        except (ValueError, KeyError, TypeError):
            return None

    @api.model
    def _l10n_pl_ksef_store_online(self, company, user_token, environment, client_session):
        return self.sudo().create(
            {
                "company_id": company.id,
                "kind": "online",
                "reference": client_session.reference,
                "environment": environment,
                "user_token_id": user_token.id or False,
                "state": "open",
                "valid_until": client_session.valid_until and client_session.valid_until.replace(tzinfo=None),
                "secret": self._l10n_pl_ksef_encrypt(json.dumps(client_session.to_dict())),
            }
        )
