"""Alembic environment: runs on the connection ``yuyue.migrations_api`` hands over."""

from alembic import context

from yuyue import models  # noqa: F401 - fills Model.metadata
from yuyue.db import Model
from yuyue.sealing import SealedJSON, SealedString
from yuyue.types import UTCDateTime


def render_item(type_, obj, autogen_context):
    """Migrations use plain SQLAlchemy types, so they never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, SealedJSON | SealedString):
        return "sa.Text()"
    return False


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Model.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
