"""Exception hierarchy shared by the whole package.

Every error carries a machine-readable ``code`` and a message in Polish and
English, so the Odoo layer can show the user's language and the logs stay
readable.  Messages never contain secrets or invoice contents.
"""


class KsefError(Exception):
    """Base class of every error raised by ``ksef_core``.

    :param code: short machine-readable identifier (e.g. ``"nip_invalid"``)
    :param message_pl: message for the user in Polish
    :param message_en: the same message in English
    :param details: optional dict of non-secret data useful to callers
    """

    default_code = "ksef_error"

    def __init__(self, message_en, message_pl=None, code=None, details=None):
        self.code = code or self.default_code
        self.message_en = message_en
        self.message_pl = message_pl or message_en
        self.details = dict(details or {})
        super().__init__(self.message_en)

    def message(self, lang="en"):
        """Return the message in ``lang`` (``"pl"`` or anything else = English)."""
        return self.message_pl if (lang or "").lower().startswith("pl") else self.message_en

    def bilingual(self):
        """Both messages, Polish first, for places that cannot know the language."""
        if self.message_pl == self.message_en:
            return self.message_en
        return "%s\n%s" % (self.message_pl, self.message_en)

    def __str__(self):
        return self.message_en


class InputError(KsefError):
    """Bad input given by the user or the caller (no request was made)."""

    default_code = "invalid_input"


class XmlInputError(InputError):
    """An inbound XML document was refused (unsafe, too large, malformed, wrong kind)."""

    default_code = "xml_invalid"


class CredentialError(InputError):
    """A token, certificate, key or password cannot be used."""

    default_code = "credential_invalid"
