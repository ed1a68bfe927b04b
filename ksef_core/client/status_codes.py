"""KSeF status and exception codes → machine-readable state + PL/EN message.

``describe(kind, code)`` covers the processing status codes of the
asynchronous operations (``auth``, ``session``, ``invoice``, ``export``);
``describe_exception(code)`` covers the numeric exception codes of 4xx
answers (``exceptionCode`` / problem-details ``errors[].code``).  Every
message names the cause and what to do about it.
"""

IN_PROGRESS = "in_progress"
SUCCESS = "success"
FAILED = "failed"

# kind -> code -> (state, final, ok, message_en, message_pl)
_STATUS = {
    "auth": {
        100: ("in_progress", False, False, "Authentication is in progress.", "Uwierzytelnianie w toku."),
        200: ("success", True, True, "Authenticated.", "Uwierzytelniono."),
        415: (
            "no_permissions",
            True,
            False,
            "The token or certificate has no permission in this NIP context: grant permissions to it in "
            "KSeF (or generate the token in the company's context).",
            "Token lub certyfikat nie ma żadnych uprawnień w kontekście tego NIP: nadaj uprawnienia w KSeF "
            "(lub wygeneruj token w kontekście firmy).",
        ),
        425: (
            "revoked",
            True,
            False,
            "The authentication was revoked: sign in again.",
            "Uwierzytelnienie zostało unieważnione: zaloguj się ponownie.",
        ),
        450: (
            "bad_token",
            True,
            False,
            "KSeF refused the KSeF token (invalid, revoked, inactive or wrong time): generate a new token in "
            "KSeF and enter it again.",
            "KSeF odrzucił token KSeF (nieprawidłowy, unieważniony, nieaktywny lub błędny czas): wygeneruj "
            "nowy token w KSeF i wpisz go ponownie.",
        ),
        460: (
            "bad_certificate",
            True,
            False,
            "KSeF refused the certificate (invalid, untrusted, revoked, suspended or expired): use a valid "
            "KSeF or qualified certificate.",
            "KSeF odrzucił certyfikat (nieważny, niezaufany, unieważniony, zawieszony lub wygasły): użyj "
            "ważnego certyfikatu KSeF lub kwalifikowanego.",
        ),
        470: (
            "deceased_person",
            True,
            False,
            "Authentication refused: the person is registered as deceased. Use another person's credential.",
            "Odmowa uwierzytelnienia: osoba jest zarejestrowana jako zmarła. Użyj poświadczeń innej osoby.",
        ),
        480: (
            "blocked",
            True,
            False,
            "The context is blocked in KSeF after a security incident: contact the KSeF helpdesk.",
            "Kontekst jest zablokowany w KSeF po incydencie bezpieczeństwa: skontaktuj się z pomocą KSeF.",
        ),
        500: (
            "unknown_error",
            True,
            False,
            "KSeF reported an unknown authentication error: try again later.",
            "KSeF zgłosił nieznany błąd uwierzytelniania: spróbuj ponownie później.",
        ),
        550: (
            "cancelled_by_system",
            True,
            False,
            "KSeF cancelled the authentication: try again.",
            "KSeF anulował uwierzytelnianie: spróbuj ponownie.",
        ),
    },
    "session": {
        100: ("open", False, False, "The session is open.", "Sesja jest otwarta."),
        150: ("processing", False, False, "The session is being processed.", "Sesja jest przetwarzana."),
        170: (
            "closed",
            False,
            False,
            "The session is closed, processing continues.",
            "Sesja zamknięta, trwa przetwarzanie.",
        ),
        200: ("processed", True, True, "The session was processed.", "Sesja została przetworzona."),
        405: (
            "package_invalid",
            True,
            False,
            "KSeF could not verify the batch package elements: rebuild the package and send it again.",
            "KSeF nie zweryfikował elementów paczki: zbuduj paczkę ponownie i wyślij ją jeszcze raz.",
        ),
        415: (
            "key_decryption_failed",
            True,
            False,
            "KSeF could not decrypt the session key (outdated public key?): send again in a new session.",
            "KSeF nie odszyfrował klucza sesji (nieaktualny klucz publiczny?): wyślij ponownie w nowej sesji.",
        ),
        420: (
            "invoice_limit_exceeded",
            True,
            False,
            "The session exceeded the invoice limit: split the invoices into smaller sessions.",
            "Przekroczono limit faktur w sesji: podziel faktury na mniejsze sesje.",
        ),
        430: (
            "decompression_failed",
            True,
            False,
            "KSeF could not unpack the batch archive: rebuild it and send again.",
            "KSeF nie rozpakował archiwum paczki: zbuduj je ponownie i wyślij jeszcze raz.",
        ),
        435: (
            "part_decryption_failed",
            True,
            False,
            "KSeF could not decrypt a batch part: send the batch again.",
            "KSeF nie odszyfrował części paczki: wyślij paczkę ponownie.",
        ),
        440: (
            "cancelled",
            True,
            False,
            "The session was cancelled (time limit exceeded or no invoices): send the invoices again.",
            "Sesja została anulowana (przekroczony czas lub brak faktur): wyślij faktury ponownie.",
        ),
        445: (
            "no_valid_invoices",
            True,
            False,
            "No invoice of the session was valid: check each invoice's error and correct it.",
            "Żadna faktura w sesji nie była poprawna: sprawdź błąd każdej faktury i popraw ją.",
        ),
        500: (
            "unknown_error",
            True,
            False,
            "KSeF reported an unknown session error: try again.",
            "KSeF zgłosił nieznany błąd sesji: spróbuj ponownie.",
        ),
    },
    "invoice": {
        100: (
            "accepted",
            False,
            False,
            "The invoice was accepted for processing.",
            "Faktura przyjęta do przetwarzania.",
        ),
        150: ("processing", False, False, "The invoice is being processed.", "Faktura jest przetwarzana."),
        200: (
            "success",
            True,
            True,
            "The invoice received its KSeF number.",
            "Faktura otrzymała numer KSeF.",
        ),
        405: (
            "cancelled_session_error",
            True,
            False,
            "The invoice was cancelled because of a session error: send it again in a new session.",
            "Faktura anulowana z powodu błędu sesji: wyślij ją ponownie w nowej sesji.",
        ),
        410: (
            "permission_scope",
            True,
            False,
            "The credential may not issue invoices for this seller (wrong permission scope): "
            "use a token with InvoiceWrite ('wystawianie faktur') in the seller's context.",
            "Poświadczenie nie może wystawiać faktur dla tego sprzedawcy (zły zakres uprawnień): "
            "użyj tokena z uprawnieniem 'wystawianie faktur' (InvoiceWrite) w kontekście sprzedawcy.",
        ),
        415: (
            "attachments_not_allowed",
            True,
            False,
            "Invoices with attachments are not allowed for this taxpayer: file the attachment consent in "
            "e-Urząd Skarbowy or remove the attachment.",
            "Faktury z załącznikami nie są dozwolone dla tego podatnika: złóż zgodę w e-Urzędzie Skarbowym "
            "lub usuń załącznik.",
        ),
        430: (
            "file_invalid",
            True,
            False,
            "The invoice file failed verification (schema, encoding or size): correct the invoice and send it again.",
            "Plik faktury nie przeszedł weryfikacji (schemat, kodowanie lub rozmiar): "
            "popraw fakturę i wyślij ponownie.",
        ),
        435: (
            "decryption_failed",
            True,
            False,
            "KSeF could not decrypt the invoice: send it again in a new session.",
            "KSeF nie odszyfrował faktury: wyślij ją ponownie w nowej sesji.",
        ),
        440: (
            "duplicate",
            True,
            True,
            "KSeF already has this invoice (same seller, type and number): the original KSeF number is used.",
            "KSeF ma już tę fakturę (ten sam sprzedawca, rodzaj i numer): użyto pierwotnego numeru KSeF.",
        ),
        450: (
            "semantic_error",
            True,
            False,
            "The invoice content is invalid (semantic error): correct the data shown in the details and send it again.",
            "Treść faktury jest błędna (błąd semantyczny): popraw dane wskazane w szczegółach i wyślij ponownie.",
        ),
        500: (
            "unknown_error",
            True,
            False,
            "KSeF reported an unknown error for this invoice: send it again.",
            "KSeF zgłosił nieznany błąd faktury: wyślij ją ponownie.",
        ),
        550: (
            "cancelled_by_system",
            True,
            False,
            "KSeF cancelled the processing of this invoice: send it again.",
            "KSeF anulował przetwarzanie faktury: wyślij ją ponownie.",
        ),
    },
    "export": {
        100: ("in_progress", False, False, "The export is being prepared.", "Eksport jest przygotowywany."),
        200: ("success", True, True, "The export is ready.", "Eksport jest gotowy."),
        210: (
            "expired",
            True,
            False,
            "The export package expired: start a new export.",
            "Paczka eksportu wygasła: uruchom nowy eksport.",
        ),
        415: (
            "key_decryption_failed",
            True,
            False,
            "KSeF could not decrypt the export key: start a new export.",
            "KSeF nie odszyfrował klucza eksportu: uruchom nowy eksport.",
        ),
        420: (
            "beyond_hwm",
            True,
            False,
            "The export range starts after KSeF's storage high-water mark: try again later.",
            "Zakres eksportu zaczyna się po dacie HWM trwałego zapisu: spróbuj ponownie później.",
        ),
        500: (
            "unknown_error",
            True,
            False,
            "KSeF reported an unknown export error: start a new export.",
            "KSeF zgłosił nieznany błąd eksportu: uruchom nowy eksport.",
        ),
        550: (
            "cancelled_by_system",
            True,
            False,
            "KSeF cancelled the export: start it again.",
            "KSeF anulował eksport: uruchom go ponownie.",
        ),
    },
}

_STATUS["certificate_enrollment"] = {
    100: ("in_progress", False, False, "KSeF is processing the certificate request.", "KSeF przetwarza wniosek."),
    200: ("success", True, True, "KSeF issued the certificate.", "KSeF wydał certyfikat."),
    400: (
        "rejected",
        True,
        False,
        "KSeF rejected the certificate request (see KSeF's reason): fix it and enrol again.",
        "KSeF odrzucił wniosek certyfikacyjny (zob. powód podany przez KSeF): popraw go i złóż ponownie.",
    ),
    500: (
        "unknown_error",
        True,
        False,
        "KSeF reported an unknown error with the certificate request: send the request again later.",
        "KSeF zgłosił nieznany błąd wniosku certyfikacyjnego: wyślij wniosek ponownie później.",
    ),
    550: (
        "cancelled_by_system",
        True,
        False,
        "KSeF cancelled the certificate request: send it again.",
        "KSeF anulował wniosek certyfikacyjny: wyślij go ponownie.",
    ),
}

# numeric exception codes of 4xx answers -> (code, message_en, message_pl)
_EXCEPTIONS = {
    9101: (
        "document_invalid",
        "KSeF could not read the signed document: sign it again.",
        "KSeF nie odczytał podpisanego dokumentu: podpisz go ponownie.",
    ),
    9102: (
        "signature_missing",
        "The document has no signature: sign it with the certificate.",
        "Dokument nie ma podpisu: podpisz go certyfikatem.",
    ),
    9105: (
        "signature_invalid",
        "The signature is invalid: check that the certificate and private key belong together.",
        "Podpis jest nieprawidłowy: sprawdź, czy certyfikat i klucz prywatny do siebie pasują.",
    ),
    21111: (
        "challenge_invalid",
        "The authentication challenge expired or is invalid: try again.",
        "Wyzwanie uwierzytelniania wygasło lub jest nieprawidłowe: spróbuj ponownie.",
    ),
    21115: (
        "certificate_invalid",
        "KSeF refused the certificate: use a valid KSeF or qualified certificate.",
        "KSeF odrzucił certyfikat: użyj ważnego certyfikatu KSeF lub kwalifikowanego.",
    ),
    21117: (
        "identifier_context_mismatch",
        "The certificate's identifier does not fit the context type: check the NIP in the settings.",
        "Identyfikator certyfikatu nie pasuje do typu kontekstu: sprawdź NIP w ustawieniach.",
    ),
    21155: (
        "session_invoice_limit",
        "The session reached its invoice limit: send the rest in a new session.",
        "Sesja osiągnęła limit faktur: wyślij pozostałe w nowej sesji.",
    ),
    21157: (
        "batch_part_size",
        "A batch part has a wrong size: rebuild the batch.",
        "Część paczki ma zły rozmiar: zbuduj paczkę ponownie.",
    ),
    21161: (
        "batch_too_many_parts",
        "The batch has too many parts: send fewer invoices per batch.",
        "Paczka ma zbyt wiele części: wyślij mniej faktur w jednej paczce.",
    ),
    21164: (
        "invoice_not_found",
        "KSeF has no invoice with this number in your context: check the KSeF number.",
        "KSeF nie ma faktury o tym numerze w Twoim kontekście: sprawdź numer KSeF.",
    ),
    21165: (
        "invoice_not_yet_available",
        "The invoice is not available yet: try again in a few minutes.",
        "Faktura nie jest jeszcze dostępna: spróbuj ponownie za kilka minut.",
    ),
    21166: (
        "technical_correction_unavailable",
        "A technical correction is not possible for this invoice.",
        "Korekta techniczna tej faktury nie jest możliwa.",
    ),
    21167: (
        "technical_correction_exists",
        "This invoice already has an accepted technical correction.",
        "Ta faktura ma już przyjętą korektę techniczną.",
    ),
    21173: (
        "session_not_found",
        "The KSeF session does not exist or expired: open a new session.",
        "Sesja KSeF nie istnieje lub wygasła: otwórz nową sesję.",
    ),
    21180: (
        "session_state",
        "The KSeF session is closed or in a wrong state: open a new session.",
        "Sesja KSeF jest zamknięta lub w złym stanie: otwórz nową sesję.",
    ),
    21182: (
        "too_many_exports",
        "Too many exports are running: wait for them to finish.",
        "Trwa zbyt wiele eksportów: poczekaj na ich zakończenie.",
    ),
    21183: (
        "beyond_hwm",
        "The date range starts after the storage high-water mark: try later.",
        "Zakres dat zaczyna się po dacie HWM: spróbuj później.",
    ),
    21205: (
        "batch_part_missing",
        "A batch part was not uploaded: send the batch again.",
        "Nie przesłano części paczki: wyślij paczkę ponownie.",
    ),
    21208: (
        "batch_timeout",
        "The batch upload time ran out: send the batch again.",
        "Upłynął czas przesyłania paczki: wyślij paczkę ponownie.",
    ),
    21301: (
        "token_already_redeemed",
        "The authentication was already redeemed: sign in again.",
        "Uwierzytelnienie zostało już wykorzystane: zaloguj się ponownie.",
    ),
    21304: (
        "auth_not_finished",
        "The authentication is not finished or failed: sign in again.",
        "Uwierzytelnianie nie zakończyło się lub nie powiodło: zaloguj się ponownie.",
    ),
    21308: (
        "auth_expired",
        "The authentication expired: sign in again.",
        "Uwierzytelnienie wygasło: zaloguj się ponownie.",
    ),
    21401: (
        "xsd_invalid",
        "The document does not match the XSD schema.",
        "Dokument nie jest zgodny ze schematem XSD.",
    ),
    21402: (
        "size_mismatch",
        "The declared file size does not match the content.",
        "Zadeklarowany rozmiar pliku nie zgadza się z treścią.",
    ),
    21403: (
        "hash_mismatch",
        "The declared file hash does not match the content.",
        "Zadeklarowany skrót pliku nie zgadza się z treścią.",
    ),
    21405: (
        "validation_error",
        "KSeF refused the request data (validation error): see the details.",
        "KSeF odrzucił dane żądania (błąd walidacji): zobacz szczegóły.",
    ),
    21418: (
        "continuation_invalid",
        "The paging token is invalid: start the listing again.",
        "Token stronicowania jest nieprawidłowy: rozpocznij listowanie od nowa.",
    ),
    21470: (
        "public_key_unknown",
        "KSeF does not know the public key used (rotated): the key list is downloaded again.",
        "KSeF nie zna użytego klucza publicznego (rotacja): lista kluczy zostanie pobrana ponownie.",
    ),
    25001: (
        "certificates_need_xades",
        "KSeF gives certificate request data only to a sign-in with a signature (qualified signature or seal, "
        "Profil Zaufany or a KSeF certificate), not with a KSeF token: sign in with a signed request first.",
        "KSeF udostępnia dane do wniosku certyfikacyjnego tylko po logowaniu podpisem (kwalifikowanym, pieczęcią, "
        "Profilem Zaufanym lub certyfikatem KSeF), nie tokenem KSeF: najpierw zaloguj się podpisanym żądaniem.",
    ),
    25002: (
        "certificates_need_xades",
        "KSeF accepts certificate requests only after a sign-in with a signature (qualified signature or seal, "
        "Profil Zaufany or a KSeF certificate), not with a KSeF token: sign in with a signed request first.",
        "KSeF przyjmuje wnioski certyfikacyjne tylko po logowaniu podpisem (kwalifikowanym, pieczęcią, Profilem "
        "Zaufanym lub certyfikatem KSeF), nie tokenem KSeF: najpierw zaloguj się podpisanym żądaniem.",
    ),
    25003: (
        "certificate_subject_mismatch",
        "The certificate request's data differ from the signer's data in KSeF: build it from the enrolment data.",
        "Dane we wniosku różnią się od danych podpisującego w KSeF: zbuduj wniosek z danych do wniosku.",
    ),
    25004: (
        "certificate_csr_invalid",
        "KSeF cannot read the certificate request or its signature is wrong: generate a new request.",
        "KSeF nie odczytał wniosku certyfikacyjnego lub jego podpis jest błędny: wygeneruj nowy wniosek.",
    ),
    25005: (
        "certificate_enrollment_unknown",
        "KSeF knows no certificate request with this reference number.",
        "KSeF nie zna wniosku certyfikacyjnego o tym numerze referencyjnym.",
    ),
    25006: (
        "certificate_enrollment_limit",
        "The limit of certificate requests for this person or company is reached (see the limits in KSeF).",
        "Osiągnięto limit wniosków certyfikacyjnych tej osoby lub firmy (zob. limity w KSeF).",
    ),
    25007: (
        "certificate_limit",
        "The limit of active KSeF certificates is reached: revoke a certificate you no longer use first.",
        "Osiągnięto limit aktywnych certyfikatów KSeF: najpierw unieważnij nieużywany certyfikat.",
    ),
    25008: (
        "certificate_unknown",
        "KSeF knows no certificate of yours with this serial number.",
        "KSeF nie zna Twojego certyfikatu o tym numerze seryjnym.",
    ),
    25009: (
        "certificate_not_revocable",
        "The certificate is already revoked, blocked or expired.",
        "Certyfikat jest już unieważniony, zablokowany lub nieważny.",
    ),
    25010: (
        "certificate_key_invalid",
        "KSeF accepts only EC P-256 or RSA-2048 keys: generate a new key.",
        "KSeF przyjmuje tylko klucze EC P-256 lub RSA-2048: wygeneruj nowy klucz.",
    ),
    25011: (
        "certificate_csr_algorithm",
        "The certificate request is signed with an algorithm KSeF refuses: use SHA-256 with RSA or ECDSA.",
        "Wniosek podpisano algorytmem, którego KSeF nie przyjmuje: użyj SHA-256 z RSA lub ECDSA.",
    ),
    71001: (
        "collective_invoice_not_assignable",
        "KSeF cannot put an invoice into a collective identifier (no such invoice, or this company is no party "
        "of it): check the bills' KSeF numbers.",
        "KSeF nie może przypisać faktury do identyfikatora zbiorczego (brak takiej faktury lub ta firma nie jest "
        "jej stroną): sprawdź numery KSeF rachunków.",
    ),
    71002: (
        "collective_invoice_limit",
        "An invoice is already in the most collective identifiers KSeF allows (132): pay it quoting its own "
        "KSeF number.",
        "Faktura jest już w maksymalnej liczbie identyfikatorów zbiorczych (132): zapłać ją, podając jej "
        "własny numer KSeF.",
    ),
}

_REASONS = {
    "missing-permissions": (
        "The credential lacks a permission for this operation: generate a token with 'wystawianie faktur' "
        "(InvoiceWrite) to send and 'przeglądanie faktur' (InvoiceRead) to receive.",
        "Poświadczenie nie ma uprawnienia do tej operacji: wygeneruj token z uprawnieniem 'wystawianie "
        "faktur' (InvoiceWrite) do wysyłki i 'przeglądanie faktur' (InvoiceRead) do odbioru.",
    ),
    "ip-not-allowed": (
        "KSeF refused the request from this IP address (authorization policy): allow the server's IP.",
        "KSeF odrzucił żądanie z tego adresu IP (polityka autoryzacji): dopuść adres IP serwera.",
    ),
}


class StatusInfo:
    """Outcome of one status code: ``state`` for machines, ``message(lang)`` for people."""

    __slots__ = ("code", "description", "details", "final", "kind", "message_en", "message_pl", "ok", "state")

    def __init__(self, kind, code, state, final, ok, message_en, message_pl, description=None, details=None):
        self.kind = kind
        self.code = code
        self.state = state
        self.final = final
        self.ok = ok
        self.message_en = message_en
        self.message_pl = message_pl
        self.description = description
        self.details = list(details or ())

    def message(self, lang="en"):
        return self.message_pl if (lang or "").lower().startswith("pl") else self.message_en

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self):
        return "StatusInfo(%s %s %s)" % (self.kind, self.code, self.state)


def describe(kind, code, description=None, details=None):
    """Describe a processing status ``code`` of ``kind`` (auth/session/invoice/export)."""
    try:
        code = int(code)
    except (TypeError, ValueError):
        code = None
    table = _STATUS.get(kind, {})
    if code in table:
        state, final, ok, en, pl = table[code]
    elif code is not None and code < 200:
        state, final, ok = IN_PROGRESS, False, False
        en, pl = "Processing (status %s)." % code, "Przetwarzanie (status %s)." % code
    else:
        state, final, ok = "unknown_status", True, False
        en = "KSeF returned an unexpected status %s: try again later or contact support." % code
        pl = "KSeF zwrócił nieoczekiwany status %s: spróbuj później lub skontaktuj się z pomocą." % code
    if details and not ok and final:
        # KSeF's details (e.g. which field failed validation) are not secret and help the user.
        extra = "; ".join(str(d) for d in details)[:500]
        en, pl = "%s (%s)" % (en, extra), "%s (%s)" % (pl, extra)
    return StatusInfo(kind, code, state, final, ok, en, pl, description, details)


def describe_status(kind, status):
    """Describe a ``status`` object as returned by KSeF (``{code, description, details}``)."""
    status = status or {}
    return describe(kind, status.get("code"), status.get("description"), status.get("details"))


def describe_exception(code):
    """``(machine_code, message_en, message_pl)`` for a KSeF exception code, or ``None``."""
    try:
        return _EXCEPTIONS.get(int(code))
    except (TypeError, ValueError):
        return None


def describe_reason(reason_code):
    """``(message_en, message_pl)`` for a 403 ``reasonCode``, or ``None``."""
    return _REASONS.get(reason_code)
