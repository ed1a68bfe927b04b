"""The product demo: a Polish company connected to the bundled KSeF simulator, with something to look at.

``scripts/start.sh`` calls ``env["l10n_pl_ksef.demo"]._l10n_pl_ksef_make_demo(company, api_url)`` on a new
database (``KSEF_DEMO=0`` skips it); the browser tour of the tests starts from the same demo. It makes:

* the company: valid NIP, Polish chart of accounts (``l10n_pl``), PLN, address, registers, a bank account;
* KSeF on, environment = the simulator at ``api_url``, a token the simulator mints for the company's NIP,
  stored through the set-up dialog (which tests the connection: it must say "Connected");
* customers (a Polish firm, an EU firm, a non-EU firm, a consumer) and products with GTU codes;
* customer invoices sent to KSeF (a domestic one and an export, accepted with their KSeF numbers; a
  credit note of the domestic one, accepted too) and a draft for the EU firm, ready to confirm and send;
* supplier invoices stored in the simulator for the company, so that the first *Import now* makes bills.

Everything goes through the product's own code paths (set-up dialog, posting, Send to KSeF), as a user's
clicks would; only the simulator's admin API (token, supplier invoices) is reached directly.
"""

import datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from ..ksef_core.fa3.model import Address, Party
from ..ksef_core.simulator.admin_client import SimulatorAdmin
from ..ksef_core.simulator.demo import supplier_invoices_sent

DEMO_NIP = "5251234560"
DEMO_PARAM = "l10n_pl_ksef.demo_company_id"
COMPANY = {
    "name": "Demo KSeF sp. z o.o.",
    "street": "ul. Prosta 20",
    "zip": "00-850",
    "city": "Warszawa",
    "email": "biuro@demo-ksef.example.pl",
    "phone": "+48 22 555 01 00",
    "website": "https://demo-ksef.example.pl",
    "l10n_pl_ksef_krs": "0000123456",
    "l10n_pl_ksef_regon": "123456785",
    "l10n_pl_ksef_place_of_issue": "Warszawa",
}
COMPANY_IBAN = "PL61109010140000071219812874"
CUSTOMERS = {
    "pl": {
        "name": "Hurtownia Mazowsze S.A.",
        "is_company": True,
        "vat": "PL7680002466",
        "street": "ul. Długa 5",
        "zip": "30-001",
        "city": "Kraków",
        "country": "base.pl",
        "email": "ksiegowosc@hurtownia-mazowsze.example.pl",
    },
    "eu": {
        "name": "Kunde Technik GmbH",
        "is_company": True,
        "vat": "DE136695976",
        "street": "Hauptstraße 1",
        "zip": "10115",
        "city": "Berlin",
        "country": "base.de",
        "email": "rechnung@kunde-technik.example.de",
    },
    "world": {
        "name": "Northwind Traders Inc.",
        "is_company": True,
        "vat": "12-3456789",
        "street": "1 Main Street",
        "zip": "10001",
        "city": "New York",
        "country": "base.us",
        "email": "ap@northwind.example.com",
    },
    "consumer": {
        "name": "Jan Kowalski",
        "street": "ul. Polna 3",
        "zip": "00-950",
        "city": "Warszawa",
        "country": "base.pl",
        "email": "jan.kowalski@example.pl",
    },
}
# (key, values, template tax): the template taxes of the Polish chart (goods 23 % G, services 23 % S)
PRODUCTS = (
    (
        "laptop",
        {
            "name": "Laptop Dell Latitude 5550",
            "default_code": "LAP-5550",
            "list_price": 4200.0,
            "type": "consu",
            "l10n_pl_ksef_gtu": "GTU_06",
        },
        "vs_kraj_23",
    ),
    (
        "consulting",
        {
            "name": "Wdrożenie systemu (godzina)",
            "default_code": "WDR-H",
            "list_price": 250.0,
            "type": "service",
            "l10n_pl_ksef_gtu": "GTU_12",
        },
        "vs_kraj_usl_23",
    ),
    (
        "paper",
        {
            "name": "Papier ksero A4 80 g, karton 5 ryz",
            "default_code": "PAP-A4-K5",
            "list_price": 119.0,
            "type": "consu",
            "barcode": "5901234123457",
        },
        "vs_kraj_23",
    ),
)


class L10nPlKsefDemo(models.AbstractModel):
    _name = "l10n_pl_ksef.demo"
    _description = "KSeF demo data"

    @api.model
    def _l10n_pl_ksef_demo_company(self):
        """The company the demo made in this database, if any."""
        company_id = int(self.env["ir.config_parameter"].sudo().get_param(DEMO_PARAM) or 0)
        return self.env["res.company"].browse(company_id).exists()

    @api.model
    def _l10n_pl_ksef_make_demo(self, company, api_url, today=None):
        """Make ``company`` the demo company, connected to the simulator serving the KSeF API at ``api_url``;
        returns a summary (dict). Does nothing but return the summary when the demo exists already."""
        done = self._l10n_pl_ksef_demo_company()
        if done:
            if done.l10n_pl_ksef_environment == "custom" and done.l10n_pl_ksef_custom_url != api_url:
                # the simulator moved to another port: the same KSeF, what is on its way there goes on
                done.sudo().with_context(l10n_pl_ksef_same_ksef=True).l10n_pl_ksef_custom_url = api_url
            return self._l10n_pl_ksef_demo_summary(done)
        admin_user = self.env.ref("base.user_admin")
        if not admin_user.tz:
            # the demo company works in Poland: its days (invoice dates, KSeF's acceptance day) are Warsaw's
            admin_user.sudo().tz = "Europe/Warsaw"
        if company not in admin_user.company_ids:
            admin_user.sudo().company_ids = [Command.link(company.id)]
        demo = self.with_user(admin_user).with_company(company).with_context(lang="en_US")
        demo._l10n_pl_ksef_demo_build(company.with_env(demo.env), api_url, today or fields.Date.context_today(demo))
        self.env["ir.config_parameter"].sudo().set_param(DEMO_PARAM, company.id)
        admin_user.sudo().company_id = company
        return self._l10n_pl_ksef_demo_summary(company)

    def _l10n_pl_ksef_demo_build(self, company, api_url, today):
        self._l10n_pl_ksef_demo_set_up_company(company)
        simulator = SimulatorAdmin.for_api_url(api_url)
        token = simulator.mint_token(DEMO_NIP, description="Odoo demo")
        self._l10n_pl_ksef_demo_connect(company, api_url, token, today)
        buyer = Party(
            name=company.name,
            nip=DEMO_NIP,
            address=Address("%s" % company.street, "%s %s" % (company.zip, company.city)),
        )
        # sent by their suppliers on their issue days: already in KSeF's permanent storage, which alone the
        # buyer's export reads (an invoice KSeF accepted a moment ago reaches it a little later)
        for xml, sent in supplier_invoices_sent(buyer, today):
            simulator.store_invoice(xml, acquisition_time=sent)
        partners = self._l10n_pl_ksef_demo_customers()
        products = self._l10n_pl_ksef_demo_products(company)
        self._l10n_pl_ksef_demo_invoices(company, partners, products, today)
        # they wait for the user's first Import now: the scheduled import is due only after its interval
        interval = datetime.timedelta(hours=int(company.l10n_pl_ksef_receive_interval))
        state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(company)
        state.next_attempt = fields.Datetime.now() + interval

    # ------------------------------------------------------------------ steps

    def _l10n_pl_ksef_demo_set_up_company(self, company):
        if company.chart_template != "pl":
            if company.chart_template or "pl" not in self.env["account.chart.template"]._get_chart_template_mapping():
                raise UserError(
                    _(
                        "The KSeF demo needs a company with the Polish chart of accounts (module l10n_pl): "
                        "%(company)s has another one. Run the demo on a new database.",
                        company=company.name,
                    )
                )
            self.env["account.chart.template"].try_loading("pl", company, install_demo=False)
        pl = self.env.ref("base.pl")
        company.write(dict(COMPANY, country_id=pl.id, vat="PL%s" % DEMO_NIP, currency_id=self.env.ref("base.PLN").id))
        bank = self.env["res.partner.bank"].create(
            {"acc_number": COMPANY_IBAN, "partner_id": company.partner_id.id, "allow_out_payment": True}
        )
        sale_journal = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
        )
        sale_journal.bank_account_id = bank

    def _l10n_pl_ksef_demo_connect(self, company, api_url, token, today):
        """The credentials saved through the set-up dialog, which tests the connection."""
        wizard = self.env["l10n_pl_ksef.setup.wizard"].create(
            {
                "company_id": company.id,
                "step": "credentials",
                "environment": "custom",
                "custom_url": api_url,
                "auth_method": "token",
                "token": token,
            }
        )
        wizard.action_save_credentials()
        report = company.l10n_pl_ksef_last_check or ""
        if "Connected" not in report:
            raise UserError(_("The demo company could not connect to the KSeF simulator:\n%(report)s", report=report))
        purchase_journal = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "purchase")], limit=1
        )
        company.write(
            {
                "l10n_pl_ksef_send_mode": "manual",
                "l10n_pl_ksef_start_date": today.replace(day=1),
                "l10n_pl_ksef_receive": True,
                "l10n_pl_ksef_receive_journal_id": purchase_journal.id,
            }
        )

    def _l10n_pl_ksef_demo_customers(self):
        values = [
            dict({k: v for k, v in data.items() if k != "country"}, country_id=self.env.ref(data["country"]).id)
            for data in CUSTOMERS.values()
        ]
        return dict(zip(CUSTOMERS, self.env["res.partner"].create(values), strict=True))

    def _l10n_pl_ksef_demo_products(self, company):
        ChartTemplate = self.env["account.chart.template"].with_company(company)
        values = []
        for _key, data, tax in PRODUCTS:
            sale_tax = ChartTemplate.ref(tax, raise_if_not_found=False)
            values.append(dict(data, taxes_id=[Command.set(sale_tax.ids)] if sale_tax else []))
        products = self.env["product.product"].create(values)
        return dict(zip([key for key, _data, _tax in PRODUCTS], products, strict=True))

    def _l10n_pl_ksef_demo_invoices(self, company, partners, products, today):
        def line(product, quantity, price=None):
            values = {"product_id": product.id, "quantity": quantity}
            if price is not None:
                values["price_unit"] = price
            return Command.create(values)

        Move = self.env["account.move"]
        domestic, export, eu_draft = Move.create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partners["pl"].id,
                    "invoice_date": today,
                    "invoice_payment_term_id": self.env.ref("account.account_payment_term_15days").id,
                    "invoice_line_ids": [
                        line(products["laptop"], 2),
                        line(products["consulting"], 8),
                        line(products["paper"], 3),
                    ],
                },
                {
                    "move_type": "out_invoice",
                    "partner_id": partners["world"].id,
                    "invoice_date": today,
                    "invoice_line_ids": [line(products["laptop"], 5, 4000.0)],
                },
                {
                    "move_type": "out_invoice",
                    "partner_id": partners["eu"].id,
                    "invoice_date": today,
                    "invoice_line_ids": [line(products["consulting"], 12)],
                },
            ]
        )
        (domestic | export).action_post()
        self._l10n_pl_ksef_demo_send(domestic | export)
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=domestic.ids)
            .create({"reason": "Zwrot jednego laptopa", "journal_id": domestic.journal_id.id, "date": today})
        )
        credit_note = Move.browse(reversal.refund_moves()["res_id"])
        laptop_line = credit_note.invoice_line_ids.filtered(lambda line: line.product_id == products["laptop"])
        credit_note.write(
            {
                "l10n_pl_ksef_correction_reason": "Zwrot jednego laptopa",
                "invoice_line_ids": [Command.update(laptop_line.id, {"quantity": 1})]
                + [Command.delete(other.id) for other in credit_note.invoice_line_ids - laptop_line],
            }
        )
        credit_note.action_post()
        self._l10n_pl_ksef_demo_send(credit_note)
        return domestic, export, credit_note, eu_draft

    def _l10n_pl_ksef_demo_send(self, moves):
        """Send to KSeF as the button does, then ask for the status until KSeF has answered."""
        errors = moves._l10n_pl_ksef_send_now(raise_on_problem=True)
        for _attempt in range(10):
            if all(move.l10n_pl_ksef_state == "accepted" for move in moves):
                return
            moves.l10n_pl_ksef_document_id._l10n_pl_ksef_click()
            moves.invalidate_recordset()
        raise UserError(
            _(
                "KSeF did not accept the demo invoices: %(states)s %(errors)s",
                states=", ".join("%s: %s" % (m.name, m.l10n_pl_ksef_state) for m in moves),
                errors=errors or "",
            )
        )

    @api.model
    def _l10n_pl_ksef_demo_summary(self, company):
        moves = self.env["account.move"].search([("company_id", "=", company.id), ("move_type", "like", "out_")])
        return {
            "company": company.name,
            "nip": company.l10n_pl_ksef_nip,
            "connection": (company.l10n_pl_ksef_last_check or "").splitlines(),
            "invoices": [
                (m.name or self.env._("Draft"), m.partner_id.name, m.l10n_pl_ksef_state, m.l10n_pl_ksef_number)
                for m in moves
            ],
        }
