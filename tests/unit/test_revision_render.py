"""Revision rendering as text (golden, compiled), op → op.* calls, and the runtime's SQL recording."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from schemadiff.model import Column, Constraint, Index, Table
from schemadiff.ops import (
    AddColumn, AddConstraint, AlterColumn, CreateIndex, CreateTable, DropColumn, DropConstraint, DropIndex,
    Op, RenameColumn, SetComment,
)
from schemadiff.render.ops_py import py_type, render_op
from schemadiff.render.revision import RevisionInfo, render_revision, revision_filename, slugify
from schemadiff.runner import PLACEHOLDER
from schemadiff.runtime import record

from .test_plan_render import demo_plan

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
INFO = RevisionInfo("0123456789ab", "fedcba987654", "add task orchestration columns",
                    "Enables granular task tracking", datetime(2026, 1, 15, 14, 30))


def test_revision_matches_golden_and_compiles() -> None:
    text = render_revision(demo_plan(3), INFO)
    path = GOLDEN / "revision_render.py.txt"
    if os.environ.get("SCHEMADIFF_REGENERATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
    compile(text, "revision.py", "exec")


def test_filename_and_slug() -> None:
    assert revision_filename(INFO) == "20260115_1430_add_task_orchestration_columns.py"
    assert slugify("Add: step_type & friends!!") == "add_step_type_friends"
    assert slugify("!!!") == "schemadiff"


@pytest.mark.parametrize("pg,py", [
    ("integer", "sa.Integer()"), ("character varying(50)", "sa.String(length=50)"),
    ("numeric(12,2)", "sa.Numeric(12, 2)"), ("jsonb", "postgresql.JSONB()"),
    ("integer[]", "runtime.pg_type('integer[]')"),
])
def test_py_type(pg: str, py: str) -> None:
    assert py_type(pg) == py


def recorded(op: Op) -> tuple[str, ...]:
    """Exec the rendered op.* lines in a function and record the SQL Alembic emits."""
    import sqlalchemy as sa
    from alembic import op as alembic_op
    from sqlalchemy.dialects import postgresql

    from schemadiff import runtime

    source = "def fn(schema):\n" + "".join(f"    {line}\n" for line in render_op(op))
    namespace = {"sa": sa, "op": alembic_op, "postgresql": postgresql, "runtime": runtime}
    exec(source, namespace)
    return tuple(s.replace(PLACEHOLDER, "s") for s in record(namespace["fn"]))  # type: ignore[arg-type]


COL = Column("step_type", "character varying(50)", False, "'validate'::character varying")
IDX = Index("ix_t", False, "USING btree (a, b) WHERE (a > 0)")
CHECK = Constraint("ck_t", "c", "CHECK ((a > 0))", source="CHECK (a > 0)")


@pytest.mark.parametrize("op,expected", [
    (AddColumn("t", COL), ("ALTER TABLE s.t ADD COLUMN step_type VARCHAR(50) DEFAULT 'validate'::character varying NOT NULL",)),
    (DropColumn("t", COL), ("ALTER TABLE s.t DROP COLUMN step_type",)),
    (RenameColumn("t", "a", "b"), ('ALTER TABLE s.t RENAME a TO b',)),
    (AlterColumn("t", Column("a", "integer", True, "0"), Column("a", "bigint", False, "1")), (
        "ALTER TABLE s.t ALTER COLUMN a DROP DEFAULT",
        "ALTER TABLE s.t ALTER COLUMN a TYPE BIGINT USING a::bigint",
        "ALTER TABLE s.t ALTER COLUMN a SET DEFAULT 1",
        "ALTER TABLE s.t ALTER COLUMN a SET NOT NULL")),
    (CreateIndex("t", IDX), ("CREATE INDEX ix_t ON s.t (a, b) WHERE (a > 0)",)),
    (CreateIndex("t", Index("ix_e", True, "USING btree (lower(a))")),
     ("CREATE UNIQUE INDEX ix_e ON s.t USING btree (lower(a))",)),
    (DropIndex("t", IDX), ("DROP INDEX s.ix_t",)),
    (AddConstraint("t", CHECK), ("ALTER TABLE s.t ADD CONSTRAINT ck_t CHECK (a > 0)",)),
    (AddConstraint("t", Constraint("t_pkey", "p", "PRIMARY KEY (id)")),
     ("ALTER TABLE s.t ADD CONSTRAINT t_pkey PRIMARY KEY (id)",)),
    (AddConstraint("t", Constraint("t_fk", "f", "FOREIGN KEY (a) REFERENCES jobs(id)")),
     ("ALTER TABLE s.t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES jobs(id)",)),
    (DropConstraint("t", CHECK), ("ALTER TABLE s.t DROP CONSTRAINT ck_t",)),
    (SetComment("t", None, None, "tasks"), ("COMMENT ON TABLE s.t IS 'tasks'",)),
    (SetComment("t", None, "tasks", None), ("COMMENT ON TABLE s.t IS NULL",)),
    (SetComment("t", "a", None, "it's"), ("COMMENT ON COLUMN s.t.a IS 'it''s'",)),
    (CreateTable("t", Table("t", (Column("id", "integer", False),))), ("CREATE TABLE s.t (\n    id integer NOT NULL\n)",)),
])
def test_rendered_op_emits_the_expected_sql(op: Op, expected: tuple[str, ...]) -> None:
    assert recorded(op) == expected


def test_quoted_schema_placeholder_in_execute_fallback() -> None:
    lines = render_op(CreateTable("order", Table("order", (Column("user", "text"),))))
    assert lines == ["op.execute(runtime.sql(schema, 'CREATE TABLE {schema}.\"order\" (\\n    \"user\" text\\n)'))"]


def test_the_repository_environment_is_the_one_init_writes() -> None:
    root = Path(__file__).resolve().parents[2]
    assert (root / "migrations" / "env.py").read_text() == (root / "schemadiff" / "templates" / "env.py").read_text()
    assert (root / "migrations" / "script.py.mako").read_text() == (
        root / "schemadiff" / "templates" / "script.py.mako").read_text()
