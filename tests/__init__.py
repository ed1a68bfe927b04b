from . import test_connection
from . import test_credentials
from . import test_install
from . import test_secret_access
from . import test_secret_rpc
from . import test_translations
from . import test_user_token
from . import test_certificate_expiry
