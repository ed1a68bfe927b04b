"""Pure-Python KSeF 2.0 toolkit used by the ``l10n_pl_ksef`` Odoo addon.

Nothing in this package imports ``odoo``: the API client, cryptography, XAdES,
FA(3) build/parse/validation, QR codes, identifier checks and the KSeF
simulator all run (and are tested) on a machine without Odoo.  Modules use
relative imports only, so the package works both as ``ksef_core`` and as
``odoo.addons.l10n_pl_ksef.ksef_core``.
"""

__all__ = ["__version__"]
__version__ = "19.0.1.0.0"
