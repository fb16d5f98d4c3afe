"""Every domain's tables, imported once so Alembic and the tests see the whole schema."""

from marketplace.accounts import integration_models as integrations  # noqa: F401
from marketplace.accounts import models as accounts  # noqa: F401
from marketplace.analytics import models as analytics  # noqa: F401
from marketplace.audit import models as audit  # noqa: F401
from marketplace.beds import models as beds  # noqa: F401
from marketplace.catalog import models as catalog  # noqa: F401
from marketplace.db import Base
from marketplace.events import models as events  # noqa: F401
from marketplace.ledger import models as ledger  # noqa: F401
from marketplace.licensing import models as licensing  # noqa: F401
from marketplace.matching.needs import models as needs  # noqa: F401
from marketplace.matching.requests import models as match_requests  # noqa: F401
from marketplace.matching.threads import models as threads  # noqa: F401
from marketplace.notifications import models as notifications  # noqa: F401
from marketplace.search import models as search  # noqa: F401

metadata = Base.metadata
