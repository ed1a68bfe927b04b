"""A KSeF document belongs to the KSeF it was queued for (environment, address, NIP: its endpoint).

The sender, the recovery of a lost answer, the status checks and the UPO downloads work only on the
documents of the company's current endpoint. A document of another endpoint (the company switched
while it was on its way, before such switches were refused) is left as it is, with a reason saying
why, and looked at again once a day: it never goes to another KSeF, and it never stops the others.
Switching back resumes it.
"""

import datetime

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .l10n_pl_ksef_document import OFFLINE_MODES, PENDING_STATES
from .res_company_ksef_endpoint import endpoint_domain

#: a document of another endpoint keeps the cron away this long (it cannot be worked on anyway)
PARKED = datetime.timedelta(days=1)


def _with_endpoint(env, vals_list):
    """``vals_list`` of new documents or sessions, each given its company's current endpoint unless it names one."""
    companies = env["res.company"].sudo()
    for vals in vals_list:
        if "endpoint" not in vals and vals.get("company_id"):
            vals["endpoint"] = companies.browse(vals["company_id"])._l10n_pl_ksef_endpoint()
    return vals_list


class L10nPlKsefDocument(models.Model):
    _inherit = "l10n_pl_ksef.document"

    endpoint = fields.Char(
        string="KSeF address",
        readonly=True,
        index="btree_not_null",
        help="Environment, address and NIP of the KSeF this document is sent to: it is never sent to another one.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        return super().create(_with_endpoint(self.env, vals_list))

    def _l10n_pl_ksef_withdrawable(self):
        """These documents that have not left and can go back: queued, not issued offline."""
        return self.filtered(lambda d: d.state == "to_send" and d.invoicing_mode not in OFFLINE_MODES)

    def _l10n_pl_ksef_other_endpoint(self):
        """These documents queued for another KSeF than their company's current one."""
        return self.filtered(lambda d: d.endpoint and d.endpoint != d.company_id.sudo()._l10n_pl_ksef_endpoint())

    def _l10n_pl_ksef_other_endpoint_reason(self):
        self.ensure_one()
        environment, url, nip = [*self.endpoint.split("|"), "", ""][:3]
        return _(
            "Queued for another KSeF (%(where)s, NIP %(nip)s) than the one the company uses now: it is not sent, "
            "checked or recovered elsewhere. Switch the company back to that KSeF (Settings > KSeF) to finish it.",
            where=url or environment,
            nip=nip or "-",
        )

    @api.depends_context("lang")
    @api.depends(
        "reason_en",
        "reason_pl",
        "last_error",
        "company_id.l10n_pl_ksef_environment",
        "company_id.l10n_pl_ksef_custom_url",
        "company_id.l10n_pl_ksef_nip",
        "endpoint",
        "state",
    )
    def _compute_reason(self):
        result = super()._compute_reason()
        for document in (self.filtered(lambda d: d.state in PENDING_STATES))._l10n_pl_ksef_other_endpoint():
            document.reason = document._l10n_pl_ksef_other_endpoint_reason()
        return result

    @api.model
    def _l10n_pl_ksef_park_other_endpoints(self, company, now=None):
        """Keep the documents and sessions of ``company`` that belong to another endpoint out of the runs for
        a while (they stay as they are); returns the documents parked."""
        now = now or fields.Datetime.now()
        endpoint = company._l10n_pl_ksef_endpoint()
        due = ["|", ("next_try", "=", False), ("next_try", "<=", now)]
        documents = self.sudo().search(
            [
                ("company_id", "=", company.id),
                ("endpoint", "!=", False),
                ("endpoint", "!=", endpoint),
                "|",
                ("state", "in", PENDING_STATES),
                "&",
                "&",
                "&",
                ("state", "=", "accepted"),
                ("upo_attachment_id", "=", False),
                ("session_id", "!=", False),
                ("invoicing_mode", "!=", "manual"),
                *due,
            ]
        )
        documents._l10n_pl_ksef_set({"next_try": now + PARKED})
        sessions = (
            self.env["l10n_pl_ksef.session"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("endpoint", "!=", False),
                    ("endpoint", "!=", endpoint),
                    ("next_try", "!=", False),
                    ("next_try", "<=", now),
                ]
            )
        )
        sessions.write({"next_try": now + PARKED})
        return documents

    @api.model
    def _l10n_pl_ksef_pending_of(self, company):
        """The pending documents of ``company`` that belong to its current endpoint."""
        return self.sudo().search(
            [
                ("company_id", "=", company.id),
                ("state", "in", PENDING_STATES),
                *endpoint_domain(company._l10n_pl_ksef_endpoint()),
            ]
        )

    def _l10n_pl_ksef_fetch_upos(self, client=None, interactive=False):
        other = self._l10n_pl_ksef_other_endpoint()
        if other and interactive:
            raise UserError(other[0]._l10n_pl_ksef_other_endpoint_reason())
        return super(L10nPlKsefDocument, self - other)._l10n_pl_ksef_fetch_upos(client=client, interactive=interactive)


class L10nPlKsefSession(models.Model):
    _inherit = "l10n_pl_ksef.session"

    endpoint = fields.Char(
        string="KSeF address",
        readonly=True,
        index="btree_not_null",
        help="Environment, address and NIP of the KSeF the session was opened in.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        return super().create(_with_endpoint(self.env, vals_list))


class AccountMove(models.Model):
    _inherit = "account.move"

    def _l10n_pl_ksef_banner_html(self):
        document = self.l10n_pl_ksef_document_id
        if document.state in PENDING_STATES and document._l10n_pl_ksef_other_endpoint():
            return Markup(escape(document._l10n_pl_ksef_other_endpoint_reason()))
        return super()._l10n_pl_ksef_banner_html()
