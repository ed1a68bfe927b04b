"""Keys of the PostgreSQL advisory locks "company <id> is sending" / "is importing".

Advisory locks belong to the whole PostgreSQL cluster, not to a database: several Odoo databases on one
server (an accounting office's companies, a staging copy, the test databases) would otherwise block each
other's companies that happen to share an id. The first key of each lock therefore names the database too.
"""

import zlib

#: "sending for company <id>" ("KSND" in ASCII)
SEND_LOCK = 0x4B534E44
#: "importing supplier invoices of company <id>" ("KSeF" in ASCII)
RECEIVE_LOCK = 0x4B536546


def lock_key(namespace, dbname):
    """The first key (a signed 32-bit integer) of the advisory lock ``namespace`` in database ``dbname``; the
    second key is the company's id."""
    value = zlib.crc32(("%08x:%s" % (namespace, dbname)).encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


def send_lock_key(cr):
    """The first key of "company <id> is sending" in the database of ``cr``."""
    return lock_key(SEND_LOCK, cr.dbname)


def receive_lock_key(cr):
    """The first key of "company <id> is importing" in the database of ``cr``."""
    return lock_key(RECEIVE_LOCK, cr.dbname)
