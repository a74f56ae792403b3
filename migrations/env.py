"""Alembic environment written by `schemadiff init`: an ordinary online env.py.

The URL comes from SCHEMADIFF_DATABASE_URL, then DATABASE_URL, then ``sqlalchemy.url`` in
alembic.ini, then schemadiff's embedded PostgreSQL, so `alembic upgrade head` and
`schemadiff apply` always reach the same database; `schemadiff apply` and `rollback` run Alembic
in-process and hand over the URL they resolved that way in ``config.attributes``.
"""

from __future__ import annotations

import os
import re

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def database_url() -> str:
    handed = config.attributes.get("schemadiff.database_url")
    if handed:
        return str(handed)
    for var in ("SCHEMADIFF_DATABASE_URL", "DATABASE_URL"):
        if os.environ.get(var):
            return os.environ[var]
    configured = config.get_main_option("sqlalchemy.url")
    if configured:
        return configured
    from schemadiff.embedded import server_url

    return server_url()


def run_migrations_online() -> None:
    url = re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql+psycopg://", database_url())
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # alembic_version lives in public, next to schemadiff's ledger, whatever the role's search_path
        context.configure(connection=connection, target_metadata=None, transaction_per_migration=True,
                          version_table_schema="public")
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("schemadiff revisions read every tenant's state first and cannot run offline; "
                     "use `schemadiff plan --format sql` for a script")
run_migrations_online()
