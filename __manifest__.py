{
    "name": "Poland - KSeF 2.0 e-Invoicing",
    "version": "19.0.1.0.0",
    "category": "Accounting/Localizations/EDI",
    "summary": "Send invoices to and import supplier invoices from KSeF 2.0 (FA(3))",
    "description": """
Connects Odoo invoicing to KSeF 2.0, the Polish National e-Invoice System:
sending customer invoices as FA(3), importing supplier invoices as vendor
bills, per-company credentials (KSeF token or certificate), QR codes and
offline modes. All KSeF logic lives in the pure-Python ``ksef_core`` package.
""",
    "author": "l10n_pl_ksef contributors",
    "website": "https://github.com/l10n-pl-ksef/l10n_pl_ksef",
    "license": "LGPL-3",
    "depends": ["account"],
    "external_dependencies": {
        "python": ["cryptography", "lxml", "requests", "qrcode", "werkzeug"],
    },
    "data": [
        "security/ir.model.access.csv",
        "security/l10n_pl_ksef_security.xml",
        "data/ir_cron.xml",
        "data/mail_activity_type.xml",
        "data/account_bank_statement_line_actions.xml",
        "views/l10n_pl_ksef_user_token_views.xml",
        "views/l10n_pl_ksef_certificate_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_users_views.xml",
        "wizards/l10n_pl_ksef_setup_wizard_views.xml",
        "wizards/l10n_pl_ksef_user_token_wizard_views.xml",
        "wizards/l10n_pl_ksef_cert_wizard_views.xml",
        "views/account_move_views.xml",
        "views/l10n_pl_ksef_receive_failure_views.xml",
        "views/account_move_fa3_views.xml",
        "wizards/l10n_pl_ksef_fa3_preview_views.xml",
        "views/l10n_pl_ksef_document_views.xml",
        "views/l10n_pl_ksef_overview_views.xml",
        "views/account_move_ksef_send_views.xml",
        "views/account_move_bill_views.xml",
        "wizards/l10n_pl_ksef_manual_number_views.xml",
        "wizards/account_payment_register_views.xml",
        "views/account_payment_views.xml",
        "views/report_invoice.xml",
        "views/portal_templates.xml",
        "views/report_ksef_visualization.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "l10n_pl_ksef/static/tests/tours/**/*",
        ],
    },
    "installable": True,
    "application": False,
    "auto_install": False,
}
