"""Imports every area's models so ``Model.metadata`` is complete (Alembic, tests)."""

from flask_appbuilder.security.sqla import models as security_models  # noqa: F401

from yuyue.tenancy import models as tenancy_models  # noqa: F401
