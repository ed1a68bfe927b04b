"""Errors of the FA(3) engine (all bilingual, all :class:`~ksef_core.errors.KsefError`)."""

from ..errors import InputError, XmlInputError
from .messages import issues_text


class Fa3ValidationError(InputError):
    """An invoice (model or XML) breaks the FA(3) rules.

    ``issues`` lists every :class:`~.messages.ValidationIssue`; the exception
    text names the fields but not their values (values stay in ``issues``).
    """

    default_code = "fa3_invalid"

    def __init__(self, issues, intro_en=None, intro_pl=None):
        self.issues = list(issues)
        intro_en = intro_en or "The invoice does not meet the FA(3) rules (%d problem(s)):" % len(self.issues)
        intro_pl = intro_pl or "Faktura nie spełnia wymagań FA(3) (problemów: %d):" % len(self.issues)
        super().__init__(
            "%s\n%s" % (intro_en, issues_text(self.issues, "en", safe=True)),
            "%s\n%s" % (intro_pl, issues_text(self.issues, "pl", safe=True)),
            details={"issues": [(i.element, i.path, i.code) for i in self.issues]},
        )


class Fa3FormatError(XmlInputError):
    """The document is not an FA(3) invoice at all (other XML, FA(2), unsafe, too large)."""

    default_code = "fa3_format"
