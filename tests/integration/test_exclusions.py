"""Exclusion constraints (``exclusions``) on a real PostgreSQL, with gist's own range operators (no
extension): tenants that lack the constraint, have it, have it differently or hold one the spec does
not declare (drift, dropped) are planned, proved with migra, upgraded with ``alembic upgrade head``,
converge, and roll back to where they started; a tenant whose rows conflict fails alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision

SPEC = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
  bookings:
    columns:
      id: {type: integer, primary_key: true}
      room: {type: integer, nullable: false}
      during: {type: tsrange, nullable: false}
      status: {type: text, nullable: false, default: booked}
    exclusions:
      no_double_booking:
        elements:
          - {expression: "int4range(room, room, '[]')", operator: "="}
          - {column: during, operator: "&&"}
        where: "status <> 'cancelled'"
"""
WANTED = (
    "EXCLUDE USING gist (int4range(room, room, '[]'::text) WITH =, during WITH &&) "
    "WHERE ((status <> 'cancelled'::text))"
)
TENANTS = ("public", "user_1", "user_2", "user_3")


def seed(url: str) -> None:
    for schema in TENANTS:
        execute(
            url,
            f"CREATE SCHEMA IF NOT EXISTS {schema}",
            f"CREATE TABLE {schema}.bookings (id integer PRIMARY KEY, room integer NOT NULL, "
            "during tsrange NOT NULL, status text NOT NULL DEFAULT 'booked')",
            f"INSERT INTO {schema}.bookings VALUES (1, 1, '[2026-01-01 10:00, 2026-01-01 11:00)', 'booked'), "
            "(2, 2, '[2026-01-01 10:00, 2026-01-01 11:00)', 'booked'), "
            "(3, 1, '[2026-01-01 10:30, 2026-01-01 12:00)', 'cancelled')",
        )
    execute(
        url,
        "ALTER TABLE user_1.bookings ADD CONSTRAINT no_double_booking EXCLUDE USING gist "
        "(int4range(room, room, '[]') WITH =, during WITH &&) WHERE (status <> 'cancelled')",
        "DELETE FROM user_2.bookings WHERE id = 3",
        "ALTER TABLE user_2.bookings ADD CONSTRAINT no_double_booking EXCLUDE USING gist "
        "(int4range(room, room, '[]') WITH =, during WITH &&)",  # differently: cancelled ones count
        "ALTER TABLE user_3.bookings ADD CONSTRAINT one_per_id EXCLUDE USING btree (id WITH =)",  # drift
    )


def exclusions(url: str) -> dict[str, list[tuple[str, str]]]:
    rows = query(
        url,
        "SELECT connamespace::regnamespace::text, conname::text, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'x' ORDER BY 1, 2",
    )
    out: dict[str, list[tuple[str, str]]] = {}
    for schema, name, definition in rows:
        out.setdefault(schema, []).append((name, definition))
    return out


def write_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    return spec


def test_exclusions_round_trip_from_four_starting_states(fresh_db: str, server_url: str, tmp_path: Path) -> None:
    seed(fresh_db)
    spec = write_spec(tmp_path)
    start, start_defs = fingerprints(fresh_db, spec), exclusions(fresh_db)
    assert len(set(start.values())) == 4
    shown = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert shown.exit_code == 2, shown.stdout + shown.stderr
    assert "drop constraint one_per_id on bookings" in shown.stdout  # undeclared: drift, dropped
    assert "add exclusion constraint no_double_booking on bookings" in shown.stdout
    assert "scans_table" in shown.stdout and "access_exclusive" in shown.stdout
    project = make_project(tmp_path / "project")
    revision = write_revision(project, spec, fresh_db, server_url, "no double booking").read_text()  # migra proof
    assert "ADD CONSTRAINT no_double_booking EXCLUDE USING gist" in revision
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stdout + up.stderr
    assert exclusions(fresh_db) == {s: [("no_double_booking", WANTED)] for s in TENANTS}
    again = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert len(set(fingerprints(fresh_db, spec).values())) == 1
    conflicting = "INSERT INTO user_1.bookings VALUES (9, 2, '[2026-01-01 10:15, 2026-01-01 10:45)', 'booked')"
    with pytest.raises(Exception, match="no_double_booking"):
        execute(fresh_db, conflicting)  # the constraint holds
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stdout + down.stderr
    assert exclusions(fresh_db) == start_defs
    assert fingerprints(fresh_db, spec) == start


def test_a_tenant_whose_rows_conflict_fails_alone(fresh_db: str, server_url: str, tmp_path: Path) -> None:
    seed(fresh_db)
    execute(fresh_db, "UPDATE user_3.bookings SET status = 'booked' WHERE id = 3")  # overlaps booking 1
    spec = write_spec(tmp_path)
    project = make_project(tmp_path / "project")
    write_revision(project, spec, fresh_db, server_url, "no double booking")
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode != 0
    assert 'user_3: could not create exclusion constraint "no_double_booking"; the others are done' in up.stdout
    assert "Traceback" not in (up.stdout + up.stderr)  # plain alembic: one FAILED line
    found = exclusions(fresh_db)
    assert found["user_3"] == [("one_per_id", "EXCLUDE USING btree (id WITH =)")]  # rolled back alone
    assert [found[s] for s in ("public", "user_1", "user_2")] == [[("no_double_booking", WANTED)]] * 3


def test_an_operator_gist_lacks_for_the_type_points_at_the_table(
    fresh_db: str, server_url: str, tmp_path: Path
) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC.replace('{column: during, operator: "&&"}', '{column: room, operator: "="}'))
    execute(fresh_db, "CREATE SCHEMA user_1")
    result = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert result.exit_code == 1
    assert "bookings" in result.stderr and "operator class" in result.stderr  # integer = needs btree_gist
