import base64
import contextlib
from unittest.mock import patch

from odoo.tests.common import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

#: A valid Polish NIP used by the test company (checksum correct).
TEST_NIP = "5265877635"
#: A second valid NIP, for another company.
OTHER_NIP = "7680002466"


def b64(data):
    return base64.b64encode(data).decode("ascii")


#: the savepoint a commit of the product sets in a test (see ``production_path``)
COMMITTED = "l10n_pl_ksef_committed"


def production_path(cls):
    """Run the product's own commits, rollbacks and cursors in the test class ``cls`` as Odoo's test cursor
    plays them (call it in ``setUpClass``, and :func:`commit_point` in ``setUp``).

    The product commits on both sides of each KSeF call and rolls a failed run back; its token store and its
    sending lock work on cursors of their own. Odoo forbids a commit on the test's cursor; its ``TestCursor``
    (what a request or a cron job gets in a test) plays them inside the test's transaction instead, and so
    does this: a commit marks a savepoint the next rollback returns to, the cursors the product opens are
    Odoo test cursors of the same transaction (registry test mode). What stays out of reach is what needs two
    transactions: another connection seeing a commit, a lock or a serialization failure between them.

    A commit sets a new savepoint of one name and never releases one: releasing it would also end the
    savepoints opened since (``assertRaises``); a rollback goes back to the newest one still there.
    """
    if not cls._registry_patched:  # an HttpCase is in registry test mode already
        cls.registry_enter_test_mode_cls()
    cr = cls.cr
    commit_point(cr)

    def commit():
        cr.flush()
        commit_point(cr)
        cr.clear()
        cr.prerollback.clear()
        cr.postrollback.clear()
        cr.postcommit.clear()  # as Odoo's TestCursor: no post-commit hooks in tests

    def rollback():
        cr.clear()
        cr.postcommit.clear()
        cr.prerollback.run()
        cr._obj.execute('ROLLBACK TO SAVEPOINT "%s"' % COMMITTED)
        cr.postrollback.run()

    cls.startClassPatcher(patch.object(cr, "commit", commit))
    cls.startClassPatcher(patch.object(cr, "rollback", rollback))


def commit_point(cr):
    """What a rollback of the product returns to (at the latest): now. On the raw cursor, as Odoo's TestCursor
    does with its savepoints: not a query of the test."""
    cr._obj.execute('SAVEPOINT "%s"' % COMMITTED)


class L10nPlKsefTestCommon(AccountTestInvoicingCommon):
    """A Polish company and a plain accountant, whatever chart of accounts is installed.

    The addon does not depend on ``l10n_pl`` (see README): these tests run both in a
    database with the Polish chart and in one without it.

    Every test runs the product's production path: its commits, rollbacks and own cursors (see
    ``production_path``).
    """

    def setUp(self):
        super().setUp()
        commit_point(self.cr)  # a rollback in this test never goes further back than its start

    @contextlib.contextmanager
    def enter_registry_test_mode(self):
        """The registry is in test mode for the whole test already (``production_path``)."""
        self.env.flush_all()
        yield
        self.env.invalidate_all()

    @contextlib.contextmanager
    def real_connections(self):
        """``registry.cursor()`` opens a real connection of its own inside this block (another transaction,
        which does not see this test's uncommitted rows)."""
        self.env.flush_all()
        patches = type(self).registry_patches
        for patcher in patches:
            patcher.stop()
        try:
            yield
        finally:
            for patcher in patches:
                patcher.start()
            self.env.invalidate_all()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        production_path(cls)
        cls.company = cls.company_data["company"]
        cls.company.write(
            {
                "country_id": cls.env.ref("base.pl").id,
                "account_fiscal_country_id": cls.env.ref("base.pl").id,
                "vat": "PL%s" % TEST_NIP,
                "l10n_pl_ksef_active": True,
            }
        )
        cls.accountant = new_test_user(
            cls.env,
            login="ksef_accountant",
            groups="account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    @classmethod
    def start_simulator(cls):
        """Start the bundled KSeF simulator on a free localhost port for this test class."""
        from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

        stack = contextlib.ExitStack()
        cls.simulator = stack.enter_context(running_simulator())
        cls.addClassCleanup(stack.close)
        return cls.simulator

    def connect_to_simulator(self):
        """A fresh KSeF token of the test company saved through the set-up wizard (``self.token``)."""
        self.sim = self.simulator.sim
        self.addCleanup(self.sim.faults.clear)
        self.token = self.sim.mint_token(TEST_NIP, ("InvoiceWrite", "InvoiceRead"))
        wizard = self.setup_wizard(auth_method="token", token=self.token)
        wizard.action_save_credentials()
        self.assertEqual(wizard.step, "done")

    @classmethod
    def purchase_tax(cls, company, code):
        """The purchase tax the import takes for the FA(3) rate ``code`` in ``company`` (made when its chart
        has none, e.g. the generic one)."""
        tax = cls.env["account.move"].new({"company_id": company.id})._l10n_pl_ksef_purchase_tax(code)
        return tax or cls.env["account.tax"].create(
            {
                "name": "VAT %s%% (test purchase)" % code,
                "amount": float(code),
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "company_id": company.id,
                "tax_group_id": cls.env["account.tax.group"].create({"name": "VAT %s%%" % code}).id,
                "sequence": 1,
            }
        )

    def setup_wizard(self, company=None, **values):
        company = company or self.company
        values.setdefault("environment", "custom")
        values.setdefault("custom_url", getattr(self, "simulator", None) and self.simulator.base_url)
        return self.env["l10n_pl_ksef.setup.wizard"].create(dict(values, company_id=company.id, step="credentials"))


class L10nPlKsefPlnTestCommon(L10nPlKsefTestCommon):
    """The test company books in PLN, like a Polish company: the Polish chart where it is installed, else the
    generic one (the addon works with both)."""

    country_code = "PL"

    @classmethod
    def _use_chart_template(cls, company, chart_template_ref=None):
        if not chart_template_ref:
            installed = cls.env["ir.module.module"]._get("l10n_pl").state == "installed"
            chart_template_ref = "pl" if installed else "generic_coa"
        return super()._use_chart_template(company, chart_template_ref)
