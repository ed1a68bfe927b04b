-- Neutralized copy of a database: never talk to the real KSeF with production credentials.
UPDATE res_company
   SET l10n_pl_ksef_token_encrypted = NULL,
       l10n_pl_ksef_environment = 'test';
DELETE FROM l10n_pl_ksef_token_state;
UPDATE l10n_pl_ksef_certificate
   SET data_encrypted = NULL,
       active = FALSE;
UPDATE l10n_pl_ksef_session
   SET secret = NULL;
DELETE FROM l10n_pl_ksef_user_token;
-- no secret is left: a copy with another key starts afresh (no "key changed" refusal)
DELETE FROM ir_config_parameter WHERE key = 'l10n_pl_ksef.key_fingerprint';
DELETE FROM l10n_pl_ksef_setup_wizard;
DELETE FROM l10n_pl_ksef_user_token_wizard;
-- ... and never run the addon's scheduled actions (import, certificate reminders) there.
UPDATE ir_cron
   SET active = FALSE
 WHERE id IN (SELECT res_id FROM ir_model_data WHERE module = 'l10n_pl_ksef' AND model = 'ir.cron');
-- The KSeF position and the invoices waiting belong to the real KSeF: a neutralized copy starts afresh.
DELETE FROM l10n_pl_ksef_receive_failure;
DELETE FROM l10n_pl_ksef_receive_state;
