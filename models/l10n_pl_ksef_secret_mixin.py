import json
import logging
import os
import tempfile

import psycopg2

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config

from ..ksef_core import secretbox
from ..ksef_core.client import TokenState
from ..ksef_core.errors import KsefError

_logger = logging.getLogger(__name__)

#: markers of the session memo (``_l10n_pl_ksef_session_memo``): texts, compared by value (a stored session is
#: ciphertext with its own prefix or False, never one of these); the memo lives in the cursor's data, where an
#: object's identity is not kept (the demo's tests met a marker that was no longer ``is`` itself)
_IN_RUN = "l10n_pl_ksef:session-written-in-the-run"
_NOT_APART = "l10n_pl_ksef:session-not-written-apart"

#: Name of the server configuration option holding the encryption key (odoo.conf).
CONFIG_KEY = "l10n_pl_ksef_encryption_key"
#: System Parameter holding the fingerprint of the key the database's secrets are encrypted with
FINGERPRINT_PARAM = "l10n_pl_ksef.key_fingerprint"


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

    def write(self, vals):
        result = super().write(vals)
        field = self._l10n_pl_ksef_session_field
        if field and self._fields[field].store:
            # the run wrote (so holds) these rows: their sessions are written in the run from now on
            memo = self._l10n_pl_ksef_session_memo()
            memo.update(dict.fromkeys(((self._name, record_id, field) for record_id in self.ids), _IN_RUN))
        return result

    @api.model
    def _l10n_pl_ksef_encryption_key(self):
        """The encryption keys (a list: the first encrypts, all decrypt), checked against the fingerprint of
        the key the database's secrets were encrypted with; the secrets are re-encrypted when a new key was
        put in front of the old one."""
        keys = self._l10n_pl_ksef_configured_keys()
        self._l10n_pl_ksef_check_fingerprint(keys)
        return keys

    @api.model
    def _l10n_pl_ksef_configured_keys(self):
        configured = config.get(CONFIG_KEY)
        if configured:
            try:
                return secretbox.parse_keys(configured)
            except KsefError as exc:
                raise UserError(exc.bilingual()) from None
        db_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid") or self.env.cr.dbname
        folder = os.path.join(config["data_dir"], "l10n_pl_ksef")
        path = os.path.join(folder, "%s.key" % db_uuid)
        try:
            if not os.path.exists(path):
                self._l10n_pl_ksef_refuse_new_key(path)
                self._l10n_pl_ksef_create_key_file(folder, path)
            with open(path, encoding="ascii") as handle:
                return secretbox.parse_keys(handle.read())
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
        except KsefError as exc:
            raise UserError(exc.bilingual()) from None

    @api.model
    def _l10n_pl_ksef_refuse_new_key(self, path):
        """Never make a new key while secrets encrypted with another one exist: a lost data directory,
        or a second server sharing the database, would start overwriting each other's secrets."""
        stored = self.env["ir.config_parameter"].sudo().get_param(FINGERPRINT_PARAM)
        if not stored and not self._l10n_pl_ksef_encrypted_values(limit=1):
            return
        raise UserError(
            _(
                "The KSeF encryption key file %(path)s is missing, but this database holds KSeF credentials "
                "encrypted with a key (fingerprint %(fingerprint)s). Restore that file from the backup of "
                "Odoo's data directory, or put the key in the server option %(option)s. If the key is lost: "
                "delete the System Parameter %(parameter)s and enter the KSeF credentials again (Settings > "
                "KSeF). / Brak pliku klucza szyfrowania KSeF %(path)s, a baza zawiera dane uwierzytelniające "
                "KSeF zaszyfrowane kluczem (odcisk %(fingerprint)s). Przywróć ten plik z kopii katalogu danych "
                "Odoo albo wpisz klucz w opcji serwera %(option)s. Jeśli klucz przepadł: usuń parametr "
                "systemowy %(parameter)s i wprowadź dane KSeF ponownie (Ustawienia > KSeF).",
                path=path,
                fingerprint=stored or "?",
                option=CONFIG_KEY,
                parameter=FINGERPRINT_PARAM,
            )
        )

    @api.model
    def _l10n_pl_ksef_check_fingerprint(self, keys):
        params = self.env["ir.config_parameter"].sudo()
        stored = params.get_param(FINGERPRINT_PARAM)
        current = secretbox.fingerprint(keys[0])
        if stored == current:
            return
        if not stored:
            params.set_param(FINGERPRINT_PARAM, current)
            return
        if stored in {secretbox.fingerprint(key) for key in keys[1:]}:
            self._l10n_pl_ksef_rotate_secrets(keys)
            params.set_param(FINGERPRINT_PARAM, current)
            return
        raise UserError(
            _(
                "This server's KSeF encryption key (fingerprint %(current)s) is not the one this database's "
                "KSeF credentials were encrypted with (fingerprint %(stored)s). Configure the original key in "
                "the server option %(option)s (to change keys, list the new key first and the old one after "
                "it: the credentials are then encrypted again with the new one). If the key is lost: delete "
                "the System Parameter %(parameter)s and enter the KSeF credentials again. / Klucz szyfrowania "
                "KSeF tego serwera (odcisk %(current)s) nie jest kluczem, którym zaszyfrowano dane KSeF tej "
                "bazy (odcisk %(stored)s). Ustaw pierwotny klucz w opcji serwera %(option)s (aby zmienić klucz, "
                "podaj nowy klucz, a po nim stary). Jeśli klucz przepadł: usuń parametr systemowy "
                "%(parameter)s i wprowadź dane KSeF ponownie.",
                current=current,
                stored=stored,
                option=CONFIG_KEY,
                parameter=FINGERPRINT_PARAM,
            )
        )

    @api.model
    def _l10n_pl_ksef_encrypted_values(self, limit=None):
        """``[(table, column, id, value)]`` of the encrypted values stored by the models with secrets."""
        found = []
        for name in self.env.registry.descendants([self._name], "_inherit"):
            model = self.env[name]
            if model._abstract or not model._auto:
                continue
            for field in model._fields.values():
                if field.type not in ("char", "text") or not field.store or field.inherited:
                    continue
                self.env.cr.execute(
                    SQL(
                        "SELECT id, %s FROM %s WHERE %s LIKE %s ORDER BY id %s",
                        SQL.identifier(field.name),
                        SQL.identifier(model._table),
                        SQL.identifier(field.name),
                        secretbox.PREFIX + "%",
                        SQL("LIMIT %s", limit) if limit else SQL(),
                    )
                )
                found += [(model._table, field.name, row[0], row[1]) for row in self.env.cr.fetchall()]
                if limit and len(found) >= limit:
                    return found
        return found

    @api.model
    def _l10n_pl_ksef_rotate_secrets(self, keys):
        """Encrypt every stored secret again with the first key (after a new key was put in front)."""
        self.env.flush_all()
        values = self._l10n_pl_ksef_encrypted_values()
        for table, column, record_id, value in values:
            try:
                rotated = secretbox.rotate(keys, value)
            except KsefError:
                _logger.warning(
                    "KSeF: a secret in %s.%s (id %s) fits none of the keys; left as it is", table, column, record_id
                )
                continue
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET %s = %s WHERE id = %s",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    rotated,
                    record_id,
                )
            )
        self.env.invalidate_all()
        _logger.info("KSeF: %d stored secret(s) encrypted again with the new key", len(values))

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
        holder, field = self._l10n_pl_ksef_session_holder()
        # what this transaction wrote apart, its snapshot does not show: the memo does
        stored = self._l10n_pl_ksef_session_memo().get((holder._name, holder.id, field), _NOT_APART)
        data = self._l10n_pl_ksef_decrypt_json(holder[field] if stored in (_NOT_APART, _IN_RUN) else stored)
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
        value = self._l10n_pl_ksef_encrypt(payload) if payload else False
        holder, field = self._l10n_pl_ksef_session_holder()
        self._l10n_pl_ksef_write_session(holder, field, value)

    @api.model
    def _l10n_pl_ksef_write_session(self, holder, field, value):
        """Write a session (``value``, encrypted or False) into ``holder[field]``: apart when it can
        be done (see ``_l10n_pl_ksef_store_apart``), in the run otherwise.

        Once a transaction wrote the row in the run, it keeps doing so: an apart write committed
        under its pending or uncommitted one would make it fail ("could not serialize access").
        Forgetting a session (new credentials) goes the same way, never as a pending ORM write
        that a login's apart write would then overtake.
        """
        memo = self._l10n_pl_ksef_session_memo()
        key = (holder._name, holder.id, field)
        if memo.get(key) != _IN_RUN:
            holder.flush_recordset()  # a write of the run pending on this row: the apart write waits, then yields
            if self._l10n_pl_ksef_store_apart(holder, field, value):
                memo[key] = value
                holder.invalidate_recordset([field])
                return
        holder[field] = value
        memo[key] = _IN_RUN

    @api.model
    def _l10n_pl_ksef_session_memo(self):
        """``{(model, id, field): value}`` of the sessions this transaction wrote, apart (their value:
        the transaction's snapshot still shows the old one) or in the run (``_IN_RUN``). Kept until
        the transaction ends (commit or rollback)."""
        return self.env.cr.postrollback.data.setdefault("l10n_pl_ksef.session_memo", {})

    def _l10n_pl_ksef_store_apart(self, holder, field, value):
        """Write the session on a cursor of its own, committed at once: a run never holds that row, so
        two workers of one company (one sending, one importing, both signing in) never make each other's
        transaction fail over it. False when it cannot be done that way (the row is not committed yet,
        or another worker writes it this very moment): the run writes it then."""
        try:
            with self.env.registry.cursor() as cr:
                # never wait for a row the run itself may hold (it waits for us): give up, the run writes it
                cr.execute("SET LOCAL lock_timeout = '2s'")
                cr.execute(
                    SQL(
                        "UPDATE %s SET %s = %s, write_date = (now() at time zone 'UTC') WHERE id = %s",
                        SQL.identifier(holder._table),
                        SQL.identifier(field),
                        value or None,
                        holder.id,
                    )
                )
                return bool(cr.rowcount)
        except psycopg2.Error as exc:
            _logger.info("KSeF: session tokens of %s kept in the run (%s)", holder, exc.__class__.__name__)
            return False

    def _l10n_pl_ksef_session_holder(self):
        """``(record, field)`` keeping this record's KSeF session tokens (sudo); by default its own field."""
        self.ensure_one()
        return self.sudo(), self._l10n_pl_ksef_session_field
