"""The date-sensitive tests again, under fixed clocks: offline deadlines (business days, Warsaw's day),
certificate expiry, sending (KSeF's acceptance day in the KSeF number and the UPO, idle sessions closed) and the
receiving schedule (intervals, back-offs, Retry-After).

Each class below is an existing class run at one instant under ``freezegun`` (ticking, see
``test_clocks.ksef_clock``): the bundled simulator reads the same clock, so Odoo and "KSeF" agree on the time as
they do in production. The instants are those where dates are easy to get wrong (``test_clocks.INSTANTS``);
only the tests whose outcome depends on the day or the hour run again (``SELECTED``), to keep the suite's time.
"""

from odoo.tests import tagged

# modules, not classes: a class imported here would also be collected (and run) as a test of this module
from . import test_certificate_expiry, test_clocks, test_offline, test_receive_schedule, test_send

#: class -> the tests that depend on the day or the hour
SELECTED = {
    test_offline.TestL10nPlKsefOffline: (
        "test_unreachable_ksef_issues_offline_delivers_and_sends_once_when_back",
        "test_a_failure_announced_in_latarnia_makes_it_an_emergency_invoice_and_moves_the_deadline",
        "test_issue_offline24_by_hand_then_the_queue_sends_it_with_offline_mode",
        "test_an_invoice_sent_after_its_issue_day_is_recorded_offline_by_ksef_without_error",
        "test_the_responsible_user_is_warned_before_the_deadline_once",
        "test_past_the_deadline_the_invoice_is_flagged_in_the_list",
    ),
    test_certificate_expiry.TestL10nPlKsefCertificateExpiry: (
        "test_expiring_certificate_gives_each_admin_one_todo",
        "test_certificate_valid_for_long_gives_no_todo",
    ),
    test_send.TestL10nPlKsefSend: (
        "test_send_button_gives_the_ksef_number_upo_and_dates",
        "test_batch_session_above_the_threshold",
    ),
    test_send.TestL10nPlKsefSendExactlyOnce: (
        "test_idle_online_session_is_closed_and_its_upo_kept",
        "test_429_reschedules_at_retry_after",
    ),
    test_receive_schedule.TestL10nPlKsefReceiveSchedule: (
        "test_rate_limit_postpones_the_company_until_retry_after",
        "test_changing_the_interval_takes_effect_at_once",
        "test_waiting_invoices_are_retried_a_few_at_a_time_after_their_backoff",
    ),
}


def _at(base, key, instant, selected):
    name = "%sAt%s" % (base.__name__, key)
    unknown = set(selected) - set(dir(base))
    assert not unknown, "no such test in %s: %s" % (base.__name__, ", ".join(sorted(unknown)))
    # Odoo runs only the test methods a class defines itself, unless it allows inherited ones; the others are
    # hidden (not callable: not collected)
    namespace = {"__module__": __name__, "__doc__": "%s, at %s" % (name, instant), "allow_inherited_tests_method": True}
    namespace.update({attr: None for attr in dir(base) if attr.startswith("test") and attr not in selected})
    cls = type(name, (base,), namespace)
    # tag "ksef_clocks": the test command runs these in one of its two databases only
    cls = test_clocks.ksef_clock(instant)(cls)
    return tagged("post_install_l10n", "post_install", "-at_install", "ksef_clocks")(cls)


for _key, _instant in test_clocks.INSTANTS.items():
    for _base, _selected in SELECTED.items():
        _cls = _at(_base, _key, _instant, _selected)
        globals()[_cls.__name__] = _cls
del _key, _instant, _base, _selected, _cls
