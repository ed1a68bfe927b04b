"""The journal items of new draft bills from KSeF, saved in one INSERT.

``account.move.line.create`` spends most of its time on work a received bill does not need: for
every item it builds an in-memory record to precompute fields that are readonly (company, journal,
debit/credit, tax of a tax line: all known here), checks each many2one's company one record at a
time, calls inverse methods, then recomputes each product line's subtotal and total with the tax
engine, which the import has just run for the whole bill. Here the items go through the ORM's own
low-level ``_create``, which still checks access rights and constraints, converts and caches the
values and marks every stored computed field to compute (at the next flush, for all items at once),
with:

- the values the import computed (amounts from Odoo's tax engine, accounts, taxes, tags), the
  defaults ``create`` would add, and the fields it would have precomputed from them;
- the fields given protected from recomputation as ``create`` protects them, and also those it
  precomputes and then computes again (subtotal and total, debit and credit), a whole group of
  fields computed together or none of it;
- every record from the company's own tables (the caches of the run only read those), which is
  what ``create``'s company check verifies;
- the bills checked balanced, as ``create`` does.

Anything another module stores on a journal item without the import knowing it is computed as
usual, at the next flush; so are the fields ``create`` would precompute and the import does not
give (a tax line's quantity, a payable line's label). Tests compare every stored field of such
bills and items with those ``create`` makes (tests/test_receive_insert.py).
"""

from odoo import api, models

#: the modules whose extensions of journal item creation the INSERT does as they do (the ORM's is None)
_CREATE_KNOWN = {None, "account", "analytic", "l10n_pl_ksef"}
#: the methods of ``create`` the INSERT goes around (and the fields' inverse methods)
_CREATE_METHODS = (
    "create",
    "_create",
    "_prepare_create_values",
    "_add_precomputed_values",
    "_add_missing_default_values",
    "default_get",
    "_sanitize_vals",
)
#: the field types a compute that assigns nothing leaves at 0 or False in the database (not NULL)
_ZERO_TYPES = {"float": 0.0, "monetary": 0.0, "integer": 0, "boolean": False}
#: the fields of a journal item ``create`` would compute from its move and its other values
_IMPLIED = (
    "parent_state",
    "date",
    "invoice_date",
    "ref",
    "payment_id",
    "statement_line_id",
    "statement_id",
    "no_followup",
    "amount_residual",
    "amount_residual_currency",
    "reconciled",
    "product_uom_id",
    "price_subtotal",
    "price_total",
    "company_id",
    "company_currency_id",
    "journal_id",
    "debit",
    "credit",
    "is_storno",
    "tax_line_id",
    "tax_group_id",
)


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    @api.model
    def _l10n_pl_ksef_insert(self, bills, bill_values, lines_per_bill):
        """Save the journal items ``lines_per_bill`` (``create`` values, a list per bill) of the new
        draft bills ``bills`` made of ``bill_values`` (their ``create`` values); returns the items.
        Call with the context the bills were created with."""
        company = bills.company_id
        company.ensure_one()
        now = self.env.cr.now()
        plans, uoms = {}, {}
        precision = self.env["decimal.precision"].precision_get("Percentage Analytic")
        data_list = []
        for bill, lines in zip(bills, lines_per_bill, strict=True):
            common = {
                "move_id": bill.id,
                "company_id": company.id,
                "company_currency_id": company.currency_id.id,
                "journal_id": bill.journal_id.id,
                "currency_id": bill.currency_id.id,
                # the move's, as their related fields would read them (a new bill: no payment, no statement)
                "parent_state": bill.state,
                "date": bill.date,
                "invoice_date": bill.invoice_date,
                "ref": bill.ref,
                "payment_id": False,
                "statement_line_id": False,
                "statement_id": False,
                "no_followup": bill.journal_id.type == "general",
                "create_uid": self.env.uid,
                "create_date": now,
                "write_uid": self.env.uid,
                "write_date": now,
            }
            for values in lines:
                stored = dict(common, **values)
                if "balance" in stored:
                    stored.update(self._l10n_pl_ksef_storno(company, bill, stored))
                    stored.update(self._l10n_pl_ksef_residual(company, stored))
                if stored.get("analytic_distribution"):  # as the analytic mixin's create: percentages normalised
                    stored = self._sanitize_values(stored, precision)
                if "product_uom_id" not in stored:
                    stored["product_uom_id"] = self._l10n_pl_ksef_uom(company, stored.get("product_id"), uoms)
                tax = self.env["account.tax.repartition.line"].browse(stored.get("tax_repartition_line_id")).tax_id
                stored.update(tax_line_id=tax.id, tax_group_id=tax.tax_group_id.id)
                key = frozenset(stored)
                if key not in plans:
                    plans[key] = self._l10n_pl_ksef_insert_plan(key)
                defaults, protected, to_compute = plans[key]
                stored = dict(defaults, **stored)
                if stored.get("display_type") in ("line_section", "line_subsection", "line_note"):
                    stored.pop("account_id", None)  # as create: a section or note has no account
                data_list.append({"stored": stored, "inherited": {}, "protected": protected, "compute": to_compute})
        if not data_list:
            return self.browse()
        Move = self.env["account.move"]
        moves_protected = [
            (self._l10n_pl_ksef_protected(Move, values), bill) for bill, values in zip(bills, bill_values, strict=True)
        ]
        with bills._check_balanced({"records": bills}), self.env.protecting(moves_protected):
            lines = self._create(data_list)
            # the fields ``create`` would have precomputed and that are not given: computed at the next
            # flush, for all items at once (some depend on nothing, so nothing else would mark them)
            to_compute = {}
            for data, line in zip(data_list, lines, strict=True):
                for field in data["compute"]:
                    to_compute.setdefault(field, []).append(line.id)
            for field, ids in to_compute.items():
                self.env.add_to_compute(field, self.browse(ids))
            # the bill's accounting date depends on whether its items affect the tax report (tax lock
            # date): created without them, it is computed again with them (and its items' dates)
            self.env.add_to_compute(bills._fields["date"], bills)
        return lines

    @api.model
    def _l10n_pl_ksef_insert_safe(self):
        """Whether no installed module but Odoo's own extends the creation of journal items: another
        module's code there would be skipped by the INSERT, so the import then uses ``create``."""
        methods = set(_CREATE_METHODS)
        methods.update(field.inverse for field in self._fields.values() if isinstance(field.inverse, str))
        return all(
            getattr(cls, "_module", None) in _CREATE_KNOWN
            for cls in type(self).__mro__
            if not methods.isdisjoint(vars(cls))
        )

    @api.model
    def _l10n_pl_ksef_storno(self, company, bill, values):
        """``is_storno``, ``debit`` and ``credit`` of an item, as ``create`` stores them: with storno
        accounting a refund's items are storno (the amount stays on its side, negative)."""
        storno = company.account_storno and bill.move_type in ("out_refund", "in_refund")
        balance = values["balance"]
        if storno:
            return {"is_storno": True, "debit": min(balance, 0.0), "credit": min(-balance, 0.0)}
        return {"is_storno": False, "debit": max(balance, 0.0), "credit": max(-balance, 0.0)}

    @api.model
    def _l10n_pl_ksef_residual(self, company, values):
        """What is left to pay of a new item (nothing reconciled yet), as ``create`` computes it."""
        account = self.env["account.account"].browse(values.get("account_id"))
        if not (account.reconcile or account.account_type in ("asset_cash", "liability_credit_card")):
            return {"amount_residual": 0.0, "amount_residual_currency": 0.0, "reconciled": False}
        currency = self.env["res.currency"].browse(values["currency_id"])
        return {
            "amount_residual": values["balance"],
            "amount_residual_currency": values["amount_currency"],
            "reconciled": company.currency_id.is_zero(values["balance"])
            and currency.is_zero(values["amount_currency"]),
        }

    @api.model
    def _l10n_pl_ksef_uom(self, company, product_id, uoms):
        """A bill line's unit, as ``create`` computes it: the supplier's purchase unit, else the product's."""
        if product_id not in uoms:
            product = self.env["product.product"].browse(product_id)
            seller = product.seller_ids._get_filtered_supplier(company, product, False)[:1]
            uoms[product_id] = (seller.product_uom_id or product.uom_id).id
        return uoms[product_id]

    @api.model
    def _l10n_pl_ksef_insert_plan(self, names):
        """``(defaults, protected, to_compute)`` of items given the fields ``names``: the defaults
        ``create`` would add for the others, the fields it would not compute again (a whole group or
        none), and those it would precompute."""
        stored = {name for name, field in self._fields.items() if field.store and name != "id"}
        defaults = self.default_get(sorted(stored - names)) if stored - names else {}
        for name, value in defaults.items():
            if self._fields[name].type == "many2many" and value and isinstance(value[0], int):
                defaults[name] = [(6, 0, value)]
        given = names | set(defaults)
        protected = self._l10n_pl_ksef_protected(self, given) | {
            field
            for name in _IMPLIED
            if name in given
            for field in self.pool.field_computed.get(self._fields[name], [self._fields[name]])
        }
        protected = {
            field
            for field in protected
            if all(other.name in given for other in self.pool.field_computed.get(field, [field]))
        }
        to_compute = [field for field in self._fields.values() if field.precompute and field.name not in given]
        # stored as create stores what a compute leaves unassigned: 0 or False, not NULL
        defaults.update({field.name: _ZERO_TYPES[field.type] for field in to_compute if field.type in _ZERO_TYPES})
        return defaults, protected, to_compute

    @api.model
    def _l10n_pl_ksef_protected(self, model, names):
        """The fields ``create`` protects from recomputation when ``names`` are given on ``model``."""
        protected = set()
        for name in names:
            field = model._fields[name]
            if field.compute and (not field.readonly or field.precompute or field.inverse):
                protected.update(self.pool.field_computed.get(field, [field]))
        return protected
