from odoo.tests.common import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

#: A valid Polish NIP used by the test company (checksum correct).
TEST_NIP = "5265877635"


class L10nPlKsefTestCommon(AccountTestInvoicingCommon):
    """A Polish company and a plain accountant, whatever chart of accounts is installed.

    The addon does not depend on ``l10n_pl`` (see README): these tests run both in a
    database with the Polish chart and in one without it.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
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
