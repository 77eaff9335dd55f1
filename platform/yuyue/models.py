"""Imports every area's models so ``Model.metadata`` is complete (Alembic, tests)."""

from flask_appbuilder.security.sqla import models as security_models  # noqa: F401

from yuyue.audit import models as audit_models  # noqa: F401
from yuyue.audit import operator_chain as operator_audit_models  # noqa: F401
from yuyue.bookings import models as booking_models  # noqa: F401
from yuyue.catalog import models as catalog_models  # noqa: F401
from yuyue.credits import models as credit_models  # noqa: F401
from yuyue.customers import models as customer_models  # noqa: F401
from yuyue.events import models as event_models  # noqa: F401
from yuyue.forms import models as form_models  # noqa: F401
from yuyue.notifying import models as notifying_models  # noqa: F401
from yuyue.observability import heartbeat as heartbeat_models  # noqa: F401
from yuyue.payments import models as payment_models  # noqa: F401
from yuyue.privacy import models as privacy_models  # noqa: F401
from yuyue.scheduling import models as scheduling_models  # noqa: F401
from yuyue.tenancy import models as tenancy_models  # noqa: F401
