import json
import logging
import os
import tempfile

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..ksef_core import secretbox
from ..ksef_core.client import TokenState
from ..ksef_core.errors import KsefError

_logger = logging.getLogger(__name__)

#: Name of the server configuration option holding the encryption key (odoo.conf).
CONFIG_KEY = "l10n_pl_ksef_encryption_key"


class L10nPlKsefSecretMixin(models.AbstractModel):
    """Encryption at rest for KSeF credentials.

    The key comes from the server configuration option ``l10n_pl_ksef_encryption_key``
    (recommended: the same value on every server of a deployment). Without it, a
    per-database key file is created once in Odoo's data directory
    (``<data_dir>/l10n_pl_ksef/<database uuid>.key``, mode 0600). Either way the key is
    never stored in the database, so a stolen dump does not reveal the secrets.
    """

    _name = "l10n_pl_ksef.secret.mixin"
    _description = "KSeF secret storage"

    #: Name of the encrypted field holding the KSeF session (access/refresh tokens), if the model has one.
    _l10n_pl_ksef_session_field = None

    @api.model
    def _l10n_pl_ksef_encryption_key(self):
        key = config.get(CONFIG_KEY)
        if key:
            return key
        db_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid") or self.env.cr.dbname
        folder = os.path.join(config["data_dir"], "l10n_pl_ksef")
        path = os.path.join(folder, "%s.key" % db_uuid)
        try:
            if not os.path.exists(path):
                self._l10n_pl_ksef_create_key_file(folder, path)
            with open(path, encoding="ascii") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise UserError(
                _(
                    "Odoo cannot keep the KSeF encryption key in %(folder)s (%(error)s). Set the option %(option)s "
                    "in the server configuration, or let the Odoo server write to its data directory.",
                    folder=folder,
                    error=exc.strerror or type(exc).__name__,
                    option=CONFIG_KEY,
                )
            ) from None

    @api.model
    def _l10n_pl_ksef_create_key_file(self, folder, path):
        """Create the key file atomically: two workers starting together end up with the same key."""
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(dir=folder, prefix=".key-")  # created with mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secretbox.generate_key())
            try:
                os.link(tmp_path, path)  # fails if another worker was first: its key is kept
                _logger.info("KSeF: created the credentials encryption key file for this database.")
            except FileExistsError:
                _logger.debug("KSeF: another worker created the encryption key file first; using it.")
        finally:
            os.unlink(tmp_path)

    @api.model
    def _l10n_pl_ksef_encrypt(self, secret):
        if not secret:
            return False
        try:
            return secretbox.encrypt(self._l10n_pl_ksef_encryption_key(), secret)
        except KsefError as exc:  # a malformed key in the server configuration
            raise UserError(exc.bilingual()) from None

    @api.model
    def _l10n_pl_ksef_decrypt(self, stored, as_text=True):
        if not stored:
            return False
        try:
            return secretbox.decrypt(self._l10n_pl_ksef_encryption_key(), stored, as_text=as_text)
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None

    def _l10n_pl_ksef_load_session_state(self):
        """The stored KSeF session (``TokenState``), or None: unreadable state just means signing in again."""
        self.ensure_one()
        stored = self.sudo()[self._l10n_pl_ksef_session_field]
        data = self._l10n_pl_ksef_decrypt_json(stored)
        try:
            return TokenState.from_dict(data) if data else None
        except (ValueError, KsefError):
            return None

    @api.model
    def _l10n_pl_ksef_decrypt_json(self, stored):
        """The JSON object kept encrypted in ``stored``, or None when absent or unreadable."""
        if not stored:
            return None
        try:
            return json.loads(self._l10n_pl_ksef_decrypt(stored))
        except (UserError, ValueError):
            return None

    def _l10n_pl_ksef_store_session_state(self, state):
        """Keep (encrypted) the KSeF session the client obtained, shared by users and cron workers."""
        self.ensure_one()
        payload = json.dumps(state.to_dict()) if state else False
        self.sudo()[self._l10n_pl_ksef_session_field] = self._l10n_pl_ksef_encrypt(payload) if payload else False
