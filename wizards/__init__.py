from . import l10n_pl_ksef_setup_wizard
