"""Send & Print: a "KSeF" option, on by default for the companies that use this addon.

The invoices are sent before their PDF is made (``_call_web_service_before_invoice_pdf_render``),
so the PDF can carry the KSeF number.

Odoo's own ``l10n_pl_edi`` installs itself with ``l10n_pl``. For a company that uses this addon it
must neither offer its own KSeF option, nor send, nor download: its hooks are wrapped once the
registry is complete (``_register_hook``), whatever the order the two modules were loaded in. A
company that leaves this addon off keeps ``l10n_pl_edi`` exactly as it is.
"""

import functools

from markupsafe import Markup

from odoo import _, api, models
from odoo.tools import html2plaintext

EDI_KEY = "l10n_pl_ksef"
#: the extra EDI of Odoo's l10n_pl_edi in Send & Print
ODOO_EDI_KEY = "pl_ksef"


def _words(html):
    """The words of an e-mail body (the wizard keeps it sanitized: its markup differs from the template's)."""
    return html2plaintext(str(html or "")).split()


def _ours(move):
    return bool(move.company_id.l10n_pl_ksef_active)


def _wrap_once(cls, name, make):
    """Replace ``cls.name`` by ``make(original)`` unless already done."""
    original = getattr(cls, name, None)
    if original is None or getattr(original, "_l10n_pl_ksef_wrapped", False):
        return
    wrapped = functools.wraps(original)(make(original))
    wrapped._l10n_pl_ksef_wrapped = True
    setattr(cls, name, wrapped)


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _l10n_pl_ksef_is_applicable(self, move):
        # a held invoice keeps the option: sending refuses it with what to fix, and no PDF goes out without KSeF
        return bool(move._l10n_pl_ksef_sendable() or (move.l10n_pl_ksef_hold and move.state == "posted"))

    def _get_all_extra_edis(self) -> dict:
        res = super()._get_all_extra_edis()
        res[EDI_KEY] = {
            "label": _("Send to KSeF"),
            "is_applicable": self._l10n_pl_ksef_is_applicable,
            "help": _("Send the invoice to KSeF before the PDF is made, so that it carries the KSeF number."),
        }
        return res

    def _call_web_service_before_invoice_pdf_render(self, invoices_data):
        super()._call_web_service_before_invoice_pdf_render(invoices_data)
        ours = self.env["account.move"].browse(
            [
                move.id
                for move, data in invoices_data.items()
                if EDI_KEY in (data.get("extra_edis") or ()) and not data.get("error")
            ]
        )
        if not ours:
            return
        errors = ours._l10n_pl_ksef_send_now(raise_on_problem=False)
        for move, text in errors.items():
            invoices_data[move]["error"] = {"error_title": _("The invoice was not sent to KSeF"), "errors": [text]}
        for move in ours - self.env["account.move"].browse([m.id for m in errors]):
            if move.l10n_pl_ksef_state == "rejected":
                invoices_data[move]["error"] = {
                    "error_title": _("KSeF rejected the invoice"),
                    "errors": [move.l10n_pl_ksef_document_id.reason or ""],
                }
            elif move.l10n_pl_ksef_state != "accepted" and not move._l10n_pl_ksef_offline_deliverable():
                # no PDF and no e-mail without the number: the customer would get an invoice KSeF may refuse
                queued = move.l10n_pl_ksef_state == "to_send"
                waiting = queued and move.l10n_pl_ksef_document_id.last_error
                if waiting:
                    text = _(
                        "The invoice is not in KSeF yet: %(reason)s The PDF and the e-mail are made once it has "
                        "its KSeF number (or once it is issued offline).",
                        reason=move.l10n_pl_ksef_document_id.last_error,
                    )
                elif queued:
                    text = _(
                        "The invoice will be sent to KSeF in the background (this click's time was up, or another "
                        "sending for the company was under way). The PDF and the e-mail are made once the number "
                        "is known: use Send again in a minute."
                    )
                else:
                    text = _(
                        "KSeF is still processing the invoice. The PDF and the e-mail are made once the "
                        "number is known: use Send again in a moment."
                    )
                invoices_data[move]["error"] = {
                    "error_title": _("KSeF has not given the KSeF number yet"),
                    "errors": [text],
                }

    @api.model
    def _get_default_mail_body(self, move, mail_template, mail_lang):
        body = super()._get_default_mail_body(move, mail_template, mail_lang)
        return self._l10n_pl_ksef_with_number(move, body, mail_lang)

    @api.model
    def _get_default_sending_settings(self, move, from_cron=False, **custom_settings):
        vals = super()._get_default_sending_settings(move, from_cron=from_cron, **custom_settings)
        # the e-mail is written before KSeF numbers the invoice (when the wizard opens, or here): it names the
        # payment reference the invoice has now. Whether it is the template's own text (not edited) is noted, so
        # that the e-mail going out can be written again once the KSeF number is the payment reference.
        if (
            vals.get("mail_body")
            and vals.get("mail_template")
            and move.company_id.l10n_pl_ksef_active
            and move.company_id.l10n_pl_ksef_payment_reference
            and not move.l10n_pl_ksef_number
        ):
            default = self._get_default_mail_body(move, vals["mail_template"], vals.get("mail_lang"))
            if _words(default) == _words(vals["mail_body"]):
                vals["l10n_pl_ksef_reference"] = move.payment_reference
        return vals

    def _get_mail_params(self, move, move_data):
        params = super()._get_mail_params(move, move_data)
        if (
            "l10n_pl_ksef_reference" in move_data
            and move.l10n_pl_ksef_number
            and move.payment_reference != move_data["l10n_pl_ksef_reference"]
        ):
            # KSeF numbered the invoice a moment ago and its number became the payment reference: the template's
            # e-mail is written again, so that it asks for that number only (art. 108g of the VAT Act)
            params["body"] = self._get_default_mail_body(move, move_data["mail_template"], move_data.get("mail_lang"))
        # the number KSeF gave a moment ago (Send & Print sends before the e-mail goes out)
        params["body"] = self._l10n_pl_ksef_with_number(move, params.get("body"), move_data.get("mail_lang"))
        return params

    @api.model
    def _l10n_pl_ksef_with_number(self, move, body, lang):
        note = move._l10n_pl_ksef_mail_note(lang) if move.company_id.l10n_pl_ksef_active else None
        if not note or " ".join(_words(note)) in " ".join(_words(body)):
            return body  # said already (the wizard's body, the user's own words)
        return Markup(body or "") + note

    def _register_hook(self):
        super()._register_hook()

        def extra_edis(original):
            def method(self):
                res = original(self)
                odoo_edi = res.get(ODOO_EDI_KEY)
                if odoo_edi and not odoo_edi.get("_l10n_pl_ksef"):
                    applicable = odoo_edi["is_applicable"]
                    odoo_edi["is_applicable"] = lambda move: not _ours(move) and applicable(move)
                    odoo_edi["_l10n_pl_ksef"] = True
                return res

            return method

        def before_pdf(original):
            def method(self, invoices_data):
                for move, data in invoices_data.items():
                    edis = data.get("extra_edis")
                    if edis and ODOO_EDI_KEY in edis and _ours(move):
                        data["extra_edis"] = [key for key in edis if key != ODOO_EDI_KEY]
                return original(self, invoices_data)

            return method

        # the Send & Print wizards inherit account.move.send: each registry class is wrapped
        for name in self.env.registry.descendants([self._name], "_inherit"):
            cls = type(self.env[name])
            _wrap_once(cls, "_get_all_extra_edis", extra_edis)
            _wrap_once(cls, "_call_web_service_before_invoice_pdf_render", before_pdf)


class AccountMove(models.Model):
    _inherit = "account.move"

    def _register_hook(self):
        super()._register_hook()
        cls = type(self)

        def download(original):
            def method(self, *args, **kwargs):
                if self.env.company.l10n_pl_ksef_active:
                    return False  # this addon receives for the company: no second copy of each bill
                return original(self, *args, **kwargs)

            return method

        def check_status(original):
            def method(self, *args, **kwargs):
                if self.env.company.l10n_pl_ksef_active:
                    return None
                return original(self, *args, **kwargs)

            return method

        _wrap_once(cls, "_l10n_pl_edi_download_bills_from_ksef", download)
        _wrap_once(cls, "_cron_l10n_pl_edi_check_invoice_status", check_status)
