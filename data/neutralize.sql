-- Neutralized copy of a database: never talk to the real KSeF with production credentials.
UPDATE res_company
   SET l10n_pl_ksef_token_encrypted = NULL,
       l10n_pl_ksef_environment = 'test';
