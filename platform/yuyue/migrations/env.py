"""Alembic environment: runs on the connection ``yuyue.migrations_api`` hands over."""

from alembic import context
from yuyue import models  # noqa: F401 - fills Model.metadata
from yuyue.db import Model

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Model.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
