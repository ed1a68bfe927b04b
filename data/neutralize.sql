-- Neutralized copy of a database: never talk to the real KSeF with production credentials.
UPDATE res_company
   SET l10n_pl_ksef_token_encrypted = NULL,
       l10n_pl_ksef_session_state = NULL,
       l10n_pl_ksef_environment = 'test';
UPDATE l10n_pl_ksef_certificate
   SET data_encrypted = NULL,
       active = FALSE;
