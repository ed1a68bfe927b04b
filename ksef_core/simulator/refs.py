"""KSeF-style reference numbers: ``YYYYMMDD-XX-HHHHHHHHHH-HHHHHHHHHH-CC``."""

import secrets

from ..ksef_number import crc8

# Kinds seen in the API: CR challenge, AU authentication, EC token, SO online session,
# SB batch session, EE invoice, EX export, OP permission operation, UP UPO.


def new_reference(clock, kind):
    """A fresh 36-char reference number of ``kind`` (two letters) dated with the simulator clock."""
    kind = (kind or "XX").upper()[:2].ljust(2, "X")
    body = "%s-%s-%s-%s" % (
        clock.now().strftime("%Y%m%d"),
        kind,
        secrets.token_hex(5).upper(),
        secrets.token_hex(5).upper(),
    )
    return "%s-%02X" % (body, crc8(body.encode("ascii")))
