"""SQLAlchemy models of the tables in schema.yaml: do not edit.

Written by `schemadiff models`; run it again when the spec changes (`schemadiff models
--check` fails while this file is out of date with the spec).

No table names a schema: every tenant schema holds them all. Choose the tenant
per connection:

    tenant = engine.execution_options(schema_translate_map={None: "user_42"})
    with Session(tenant) as session:
        ...
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


# Tenants: the template public and every schema matching ^user_[0-9]+$.
class Base(DeclarativeBase):
    """Base.metadata holds every table and enum type of the spec, in no schema:
    the tenant schema is chosen at run time (schema_translate_map)."""


class MarketplaceTasks(Base):
    __tablename__ = "marketplace_tasks"
    __table_args__ = (
        sa.CheckConstraint(
            "step_type IN ('validate', 'map', 'upload_image', 'create', 'save')",
            name="ck_marketplace_tasks_step_type",
        ),
        sa.Index("idx_marketplace_tasks_job_order", "job_id", "step_order"),
        sa.Index("ix_marketplace_tasks_step_type", "step_type"),
        {"comment": "One step of a marketplace publishing job; one commit per task."},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger(), sa.Identity(), primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.Integer())
    status: Mapped[str] = mapped_column(
        sa.String(20),
        server_default=sa.text("'pending'"),
    )
    payload: Mapped[Any | None] = mapped_column(postgresql.JSONB())
    error_message: Mapped[str | None] = mapped_column(sa.Text())
    retry_count: Mapped[int] = mapped_column(sa.Integer(), server_default=sa.text("0"))
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True),
        server_default=sa.text("now()"),
    )
    step_type: Mapped[str] = mapped_column(
        sa.String(50),
        server_default=sa.text("'validate'"),
    )
    step_order: Mapped[int] = mapped_column(sa.Integer(), server_default=sa.text("1"))
    is_idempotent: Mapped[bool] = mapped_column(
        sa.Boolean(),
        server_default=sa.text("true"),
    )
    side_effects: Mapped[Any | None] = mapped_column(postgresql.JSONB())
