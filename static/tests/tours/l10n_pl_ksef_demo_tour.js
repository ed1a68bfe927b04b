/** The newcomer's first three things to try in the demo, clicked in a real browser
 * (tests/test_demo.py starts them on the demo company connected to the KSeF simulator). */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";
import { showProductColumn } from "@account/js/tours/tour_utils";

const tours = registry.category("web_tour.tours");
const draft = ":has(.o_arrow_button_current[data-value=draft])";
const posted = ":has(.o_arrow_button_current[data-value=posted])";
let sentKsefNumber = null;

// 1. Settings > Invoicing > KSeF: test the connection.
tours.add("l10n_pl_ksef_demo_connection", {
    steps: () => [
        {
            content: "The KSeF block of the settings, with the stored token",
            trigger: "#l10n_pl_ksef_connection_setting:contains(A token is stored for this company)",
        },
        {
            content: "Test the connection",
            trigger: "#l10n_pl_ksef_connection_setting button[name=action_l10n_pl_ksef_test_connection]",
            run: "click",
        },
        {
            content: "KSeF answered: connected, with the permissions to send and receive",
            trigger: ".modal .o_l10n_pl_ksef_check:contains(Connected):contains(InvoiceWrite):contains(InvoiceRead)",
        },
        {
            content: "Close the test",
            trigger: ".modal-footer button:contains(Done)",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});

// 2. A new customer invoice, confirmed and sent to KSeF; the list shows its KSeF number, accepted.
tours.add("l10n_pl_ksef_demo_send", {
    steps: () => [
        {
            content: "Choose the customer",
            trigger: `.o_form_view${draft} div[name=partner_id] input`,
            run: "edit Hurtownia Mazowsze",
        },
        {
            trigger: ".ui-menu-item a:contains(Hurtownia Mazowsze S.A.)",
            run: "click",
        },
        {
            content: "Add a line",
            trigger: "div[name=invoice_line_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        ...showProductColumn(),
        {
            trigger: "div[name=invoice_line_ids] div[name=product_id]",
            run: "click",
        },
        {
            trigger: "div[name=invoice_line_ids] div[name=product_id] input",
            run: "edit Laptop Dell",
        },
        {
            trigger: ".ui-menu-item a:contains(Laptop Dell Latitude 5550)",
            run: "click",
        },
        ...stepUtils.saveForm(),
        {
            content: "The laptop's price and its 23 % VAT are proposed",
            trigger: ".o_form_view span[name=amount_total]:contains(5,166.00)",
        },
        {
            content: "Confirm the invoice",
            trigger: `.o_form_view${draft} button[name=action_post]`,
            run: "click",
        },
        {
            content: "Send it to KSeF",
            trigger: `.o_form_view${posted} button[name=action_l10n_pl_ksef_send]`,
            run: "click",
        },
        {
            content: "KSeF accepted it: the banner says so and the number is shown",
            trigger: ".o_form_view .alert-success:contains(KSeF)",
        },
        {
            content: "Note the KSeF number KSeF gave",
            trigger: ".o_form_view div[name=l10n_pl_ksef_number]:contains(5251234560-)",
            run() {
                sentKsefNumber = this.anchor.textContent.trim();
            },
        },
        {
            content: "Back to the list of invoices",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "The list shows the invoice's KSeF number and the accepted state",
            trigger: ".o_list_view td[name=l10n_pl_ksef_number]:contains(5251234560-)",
            run() {
                const row = [...document.querySelectorAll(".o_list_view .o_data_row")].find(
                    (tr) => tr.querySelector("td[name=l10n_pl_ksef_number]")?.textContent.trim() === sentKsefNumber
                );
                if (!row) {
                    throw new Error(`No row of the list shows the KSeF number ${sentKsefNumber}`);
                }
                const state = row.querySelector("td[name=l10n_pl_ksef_state]").textContent.trim();
                if (state !== "Accepted" || !row.textContent.includes("Hurtownia Mazowsze")) {
                    throw new Error(`The row of ${sentKsefNumber} says "${state}": ${row.textContent}`);
                }
            },
        },
    ],
});

// 3. Settings: Import now makes bills of the supplier invoices waiting in KSeF; open one.
tours.add("l10n_pl_ksef_demo_import", {
    steps: () => [
        {
            content: "Import supplier invoices from KSeF now",
            trigger: "#l10n_pl_ksef_receiving_setting button[name=action_l10n_pl_ksef_receive_now]",
            run: "click",
        },
        {
            content: "Three bills were made",
            trigger: ".o_notification:contains(3 new bills)",
        },
        ...stepUtils.goToAppSteps("account.menu_finance", "Open Invoicing"),
        {
            trigger: ".o_main_navbar [data-menu-xmlid='account.menu_finance_payables']",
            run: "click",
        },
        {
            trigger: ".dropdown-menu [data-menu-xmlid='account.menu_action_move_in_invoice_type']",
            run: "click",
        },
        {
            content: "Open the bill of the printing house",
            trigger: ".o_list_view .o_data_row:contains(Drukarnia Wisła S.A.) td[name=invoice_partner_display_name]",
            run: "click",
        },
        {
            content: "A draft bill with the supplier's number, its KSeF number and both lines",
            trigger:
                ".o_form_view:has(div[name=partner_id] input:value(Drukarnia Wisła S.A.)):has(.o_arrow_button_current[data-value=draft]) div[name=invoice_line_ids]:contains(Druk ulotek):contains(Projekt graficzny)",
        },
        {
            content: "The bill shows the KSeF number of the supplier's invoice",
            trigger: ".o_form_view .o_field_widget[name=l10n_pl_ksef_number]",
            run() {
                const text = this.anchor.textContent + (this.anchor.querySelector("input")?.value || "");
                if (!text.includes("6761313750-")) {
                    throw new Error(`The bill's KSeF number is not the supplier's: ${this.anchor.outerHTML}`);
                }
            },
        },
    ],
});
