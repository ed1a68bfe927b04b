"""The date-sensitive test classes again, under fixed clocks: offline deadlines (business days, Warsaw's day),
certificate expiry, sending (KSeF's acceptance day in the KSeF number and KOD I) and the receiving schedule.

Each class below is an existing class run whole under ``freezegun`` (ticking) at one instant; the bundled
simulator reads the same clock, so Odoo and "KSeF" agree on the time as they do in production. The instants
are those where dates are easy to get wrong (see ``test_clocks.INSTANTS``).
"""

from odoo.tests import tagged

# modules, not classes: a class imported here would also be collected (and run) as a test of this module
from . import test_certificate_expiry, test_clocks, test_offline, test_receive_schedule, test_send

CLASSES = (
    test_offline.TestL10nPlKsefOffline,
    test_certificate_expiry.TestL10nPlKsefCertificateExpiry,
    test_send.TestL10nPlKsefSend,
    test_receive_schedule.TestL10nPlKsefReceiveSchedule,
)


def _at(base, key, instant):
    name = "%sAt%s" % (base.__name__, key)
    # Odoo runs only the test methods a class defines itself, unless it allows inherited ones
    namespace = {"__module__": __name__, "__doc__": "%s, at %s" % (name, instant), "allow_inherited_tests_method": True}
    cls = type(name, (base,), namespace)
    return tagged("post_install_l10n", "post_install", "-at_install")(test_clocks.ksef_clock(instant)(cls))


for _key, _instant in test_clocks.INSTANTS.items():
    for _base in CLASSES:
        _cls = _at(_base, _key, _instant)
        globals()[_cls.__name__] = _cls
del _key, _instant, _base, _cls
