from . import sealed_inputs
from . import l10n_pl_ksef_setup_wizard
from . import l10n_pl_ksef_user_token_wizard
from . import l10n_pl_ksef_fa3_preview
from . import l10n_pl_ksef_manual_number
from . import l10n_pl_ksef_setup_wizard_pending
from . import account_payment_register
from . import l10n_pl_ksef_cert_wizard
