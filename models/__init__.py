from . import l10n_pl_ksef_secret_mixin
from . import l10n_pl_ksef_certificate
from . import res_company
from . import res_company_ksef_client
from . import res_config_settings
