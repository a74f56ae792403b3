"""`tenant create` without a database: the names refused, the head revision read, the statements
that create a tenant (naming no schema), and what a database behind the head is told."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemadiff.errors import SchemadiffError
from schemadiff.spec.schema import load_spec
from schemadiff.spec.to_model import create_schema_statements, spec_model
from schemadiff.workflow.alembic_env import init_environment
from schemadiff.workflow.head_revision import HeadRevision, require_head
from schemadiff.workflow.new_tenant import TenantBlueprint, TenantRefused, prepare_tenants

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "schema.yaml"
EXAMPLE = ROOT / "examples" / "marketplace_fk.yaml"
CHAIN = ("c3 (third)", "b2 (second)", "a1 (first)")


def blueprint(pattern: str = "^user_[0-9]+$") -> TenantBlueprint:
    head = HeadRevision("c3", "0afbcd0afbf7c182", None, "public", pattern, ("marketplace_tasks",), CHAIN, ROOT)
    return TenantBlueprint(load_spec(SPEC), head, (), ("marketplace_tasks",), ())


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("customer_1", "does not match the tenant pattern '^user_[0-9]+$' ("),
        ("user_1 ", "does not match the tenant pattern"),
        ("public", "is the template schema"),
        ("", "is not a schema name"),
        ("user_1\x00", "is not a schema name"),
        ("user_" + "9" * 59, "is 64 bytes; PostgreSQL allows 63"),
    ],
)
def test_names_that_are_not_tenants_are_refused(name: str, says: str) -> None:
    with pytest.raises(TenantRefused, match="nothing was created") as refused:
        blueprint().check_name(name)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_tenant_name_is_accepted() -> None:
    blueprint().check_name("user_" + "9" * 58)  # 63 bytes: PostgreSQL's limit, kept whole


def test_a_name_the_head_revisions_pattern_misses_is_refused() -> None:
    """The runtime runs a revision on the schemas its own pattern matches: a tenant it would not
    see could not be downgraded with the others."""
    with pytest.raises(
        TenantRefused, match=r"does not match the pattern '\^user_\[0-9\]\{1,3\}\$' of head revision c3"
    ):
        blueprint(pattern="^user_[0-9]{1,3}$").check_name("user_1000")


def test_a_database_behind_the_head_is_told_what_is_pending() -> None:
    require_head(blueprint().head, ("c3",))  # at the head: nothing to say
    with pytest.raises(SchemadiffError, match=r"at revision a1, not at head c3: pending c3 \(third\), b2 \(second\);"):
        require_head(blueprint().head, ("a1",))
    with pytest.raises(
        SchemadiffError, match=r"at revision \(none\), not at head c3: pending c3 \(third\), b2 \(second\), a1"
    ):
        require_head(blueprint().head, ())
    with pytest.raises(
        SchemadiffError, match=r"at revision zz9, which the versions directory \(head c3\) does not have"
    ):
        require_head(blueprint().head, ("zz9",))


def test_the_statements_name_no_schema_enum_types_first_keys_last() -> None:
    statements = create_schema_statements(None, spec_model(load_spec(EXAMPLE).spec))
    tables = [table for table, _statement in statements]
    assert tables[0] is None and statements[0][1].startswith("CREATE TYPE task_step AS ENUM (")
    assert statements[-1] == (
        "marketplace_tasks",
        "ALTER TABLE marketplace_tasks ADD CONSTRAINT marketplace_tasks_job_id_fkey "
        "FOREIGN KEY (job_id) REFERENCES jobs (id)",
    )
    assert not any("REFERENCES" in s for _t, s in statements[:-1])
    assert not any("public." in s or "user_" in s for _t, s in statements)
    qualified = create_schema_statements("user_9", spec_model(load_spec(EXAMPLE).spec))
    assert qualified[0][1].startswith("CREATE TYPE user_9.task_step AS ENUM (")


def test_no_revision_yet_is_refused_before_any_database(tmp_path: Path) -> None:
    init_environment(tmp_path)
    with pytest.raises(TenantRefused, match="the versions directory has no revision yet; write one with"):
        prepare_tenants(SPEC, tmp_path / "alembic.ini")


def test_a_head_revision_not_written_by_schemadiff_is_refused(tmp_path: Path) -> None:
    init_environment(tmp_path)
    (tmp_path / "migrations" / "versions" / "by_hand.py").write_text(
        'revision = "h1"\ndown_revision = None\n\n\ndef upgrade() -> None:\n    pass\n\n\n'
        "def downgrade() -> None:\n    pass\n"
    )
    with pytest.raises(TenantRefused, match="head revision h1 was not written by schemadiff"):
        prepare_tenants(SPEC, tmp_path / "alembic.ini")


def test_create_tenant_reads_the_spec_and_revisions_again_only_when_a_file_changed(tmp_path: Path) -> None:
    from schemadiff.workflow.new_tenant import _prepared

    init_environment(tmp_path)
    versions = tmp_path / "migrations" / "versions"
    [revision] = (ROOT / "migrations" / "versions").glob("*.py")
    (versions / revision.name).write_text(revision.read_text())
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC.read_text())
    ini = tmp_path / "alembic.ini"
    first = _prepared(spec, ini, "2s")
    assert _prepared(spec, ini, "2s") is first
    assert _prepared(spec, ini, "5s") is not first  # another setting, another blueprint
    spec.write_text(SPEC.read_text() + "# a comment\n")
    second = _prepared(spec, ini, "2s")
    assert second is not first and _prepared(spec, ini, "2s") is second
    (versions / "20990101_0000_later.py").write_text(
        revision.read_text()
        .replace("revision = '922286ffdd67'", "revision = 'later'")
        .replace("down_revision = None", "down_revision = '922286ffdd67'")
    )
    third = _prepared(spec, ini, "2s")
    assert third is not second and third.head.revision == "later"
