"""FA(3) structured invoices: neutral model, XML builder, parser and schema validation.

Typical use::

    from ksef_core.fa3 import Invoice, Party, Address, Line, build_fa3, parse_fa3
    xml = build_fa3(invoice)          # deterministic, XSD-valid bytes
    invoice = parse_fa3(xml)          # safe parse + XSD validation + model
    issues = validate_fa3(xml)        # clerk-readable problems (PL/EN)
"""

from .buckets import BUCKETS, RATE_CODES, compute_sums
from .builder import build_fa3
from .errors import Fa3FormatError, Fa3ValidationError
from .messages import ValidationIssue
from .model import (
    Address,
    AdvanceInvoice,
    Annotations,
    BankAccount,
    BucketTotal,
    Contact,
    CorrectedInvoice,
    Correction,
    Invoice,
    Line,
    NewVehicle,
    Order,
    OrderLine,
    PartialPayment,
    Party,
    Payment,
    PaymentTerm,
    Registry,
    Settlement,
)
from .parser import parse_fa3
from .schema import FA2_NAMESPACE, FA3_NAMESPACE, fa3_schema, schema_errors
from .validate import ensure_valid_fa3, validate_fa3

__all__ = [
    "BUCKETS",
    "FA2_NAMESPACE",
    "FA3_NAMESPACE",
    "RATE_CODES",
    "Address",
    "AdvanceInvoice",
    "Annotations",
    "BankAccount",
    "BucketTotal",
    "Contact",
    "CorrectedInvoice",
    "Correction",
    "Fa3FormatError",
    "Fa3ValidationError",
    "Invoice",
    "Line",
    "NewVehicle",
    "Order",
    "OrderLine",
    "PartialPayment",
    "Party",
    "Payment",
    "PaymentTerm",
    "Registry",
    "Settlement",
    "ValidationIssue",
    "build_fa3",
    "compute_sums",
    "ensure_valid_fa3",
    "fa3_schema",
    "parse_fa3",
    "schema_errors",
    "validate_fa3",
]
