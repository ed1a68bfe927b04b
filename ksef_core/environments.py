"""KSeF environments and their hosts (API base, QR verification host, Latarnia status API).

This is the ONLY place where KSeF host names are written down; every other module
imports them from here.  Sources: ksef-docs ``srodowiska.md`` / ``kody-qr.md`` and the
official clients (Latarnia hosts).  ``CUSTOM`` (see :func:`get_environment`) points
at a simulator or any other KSeF-compatible server.
"""

from dataclasses import dataclass

from .errors import InputError


@dataclass(frozen=True)
class Environment:
    """Hosts of one KSeF environment (all without a trailing slash)."""

    api_url: str
    qr_url: str
    latarnia_url: str = ""
    name: str = "CUSTOM"

    @property
    def is_production(self):
        return self.name == "PROD"


ENVIRONMENTS = {
    "TEST": Environment(
        name="TEST",
        api_url="https://api-test.ksef.mf.gov.pl/v2",
        qr_url="https://qr-test.ksef.mf.gov.pl",
        latarnia_url="https://api-latarnia-test.ksef.mf.gov.pl",
    ),
    "DEMO": Environment(
        name="DEMO",
        api_url="https://api-demo.ksef.mf.gov.pl/v2",
        qr_url="https://qr-demo.ksef.mf.gov.pl",
        # The official clients publish no separate Latarnia host for DEMO; status
        # announcements for DEMO and PROD come from the production Latarnia.
        latarnia_url="https://api-latarnia.ksef.mf.gov.pl",
    ),
    "PROD": Environment(
        name="PROD",
        api_url="https://api.ksef.mf.gov.pl/v2",
        qr_url="https://qr.ksef.mf.gov.pl",
        latarnia_url="https://api-latarnia.ksef.mf.gov.pl",
    ),
}

_ALIASES = {"PRD": "PROD", "PRODUCTION": "PROD", "TE": "TEST", "TR": "DEMO"}


def _clean_url(url, what):
    url = (url or "").strip()
    if not url.startswith(("http://", "https://")):
        raise InputError(
            "The %s URL %r must start with http:// or https://." % (what, url),
            "Adres %s %r musi zaczynać się od http:// lub https://." % (what, url),
            code="environment_url_invalid",
        )
    return url.rstrip("/")


def get_environment(name, custom_api_url=None, custom_qr_url=None):
    """Return the :class:`Environment` called ``name`` (TEST, DEMO, PROD; case-insensitive).

    ``name="CUSTOM"`` (or any name when ``custom_api_url`` is given) returns an
    environment for a simulator / private server: ``custom_api_url`` is required and
    ``custom_qr_url`` defaults to the API URL's origin.  An ``Environment`` instance
    is returned unchanged.
    """
    if isinstance(name, Environment):
        return name
    key = (name or "").strip().upper()
    key = _ALIASES.get(key, key)
    if custom_api_url or key == "CUSTOM":
        if not custom_api_url:
            raise InputError(
                "A custom KSeF environment needs the API URL (e.g. http://127.0.0.1:8080/v2).",
                "Własne środowisko KSeF wymaga podania adresu API (np. http://127.0.0.1:8080/v2).",
                code="environment_url_missing",
            )
        api = _clean_url(custom_api_url, "API")
        if custom_qr_url:
            qr = _clean_url(custom_qr_url, "QR")
        else:
            scheme, _, rest = api.partition("://")
            qr = "%s://%s" % (scheme, rest.split("/", 1)[0])
        # a KSeF-compatible API (the bundled simulator) serves its Latarnia beside the API: {root}/latarnia
        latarnia = api[: -len("/v2")] + "/latarnia" if api.endswith("/v2") else ""
        return Environment(name=key or "CUSTOM", api_url=api, qr_url=qr, latarnia_url=latarnia)
    env = ENVIRONMENTS.get(key)
    if env is None:
        raise InputError(
            "Unknown KSeF environment %r; choose TEST, DEMO or PROD." % (name,),
            "Nieznane środowisko KSeF %r; wybierz TEST, DEMO lub PROD." % (name,),
            code="environment_unknown",
        )
    return env
