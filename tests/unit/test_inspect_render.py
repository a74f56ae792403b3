"""`schemadiff inspect`'s pure parts: live types, defaults, constraints and indexes → spec keys, and
the YAML they are written as (read back by the spec's own loader)."""

from __future__ import annotations

import pytest

from schemadiff.core.model import Column, Constraint, Index, Table
from schemadiff.errors import SchemadiffError
from schemadiff.render.spec_yaml import comment_lines, flow, key, render_spec_yaml, scalar
from schemadiff.spec.draft import LiveExtra, Note, SpecDraft
from schemadiff.spec.from_live import TableInput, default_keys, draft_table, spec_type
from schemadiff.spec.live_keys import LiveContext, enum_values, index_entry
from schemadiff.spec.printed_sql import find_top, group, split_top, unwrap
from schemadiff.spec.schema import parse_spec
from schemadiff.spec.yaml_source import load_yaml
from schemadiff.workflow.inspect import guess_pattern

CTX = LiveContext("public", {"task_state": ("new", "done")})


@pytest.mark.parametrize(
    ("live", "spec"),
    [
        ("character varying(20)", "varchar(20)"),
        ("character varying", "varchar"),
        ("character(2)", "char(2)"),
        ("timestamp with time zone", "timestamptz"),
        ("timestamp(3) with time zone", "timestamptz(3)"),
        ("timestamp without time zone", "timestamp"),
        ("time(6) without time zone", "time(6)"),
        ("time with time zone", "timetz"),
        ("numeric(12,2)", "numeric(12,2)"),
        ("integer[]", "integer[]"),
        ("character varying(5)[]", "varchar(5)[]"),
        ("double precision", "double precision"),
        ("task_state", "task_state"),
        ("interval day", None),
        ('"char"', None),
        ("public.citext", None),
        ("task_state[]", None),
        ("bit(3)", None),
    ],
)
def test_live_types_become_the_specs_spelling_or_none(live: str, spec: str | None) -> None:
    assert spec_type(live, ["task_state"]) == spec


@pytest.mark.parametrize(
    ("default", "type_", "live_type", "keys"),
    [
        ("0", "integer", "integer", {"default": 0}),
        ("'-1'::integer", "bigint", "bigint", {"default": -1}),
        ("'5000000000'::bigint", "bigint", "bigint", {"default": 5000000000}),
        ("1.5", "real", "real", {"default": 1.5}),
        ("0.10", "numeric(12,2)", "numeric(12,2)", {"default_sql": "0.10"}),  # 0.1 would print 0.1
        ("true", "boolean", "boolean", {"default": True}),
        ("'pending'::character varying", "varchar(20)", "character varying(20)", {"default": "pending"}),
        ("'it''s'::text", "text", "text", {"default": "it's"}),
        ("'x'::text", "varchar(5)", "character varying(5)", {"default_sql": "'x'::text"}),  # another cast
        ("'ab'::bpchar", "char(3)", "character(3)", {"default": "ab"}),
        ("'2020-01-01'::date", "date", "date", {"default": "2020-01-01"}),
        ("'{}'::jsonb", "jsonb", "jsonb", {"default": {}}),
        ("'{\"a\": 1}'::jsonb", "jsonb", "jsonb", {"default_sql": "'{\"a\": 1}'::jsonb"}),
        ("'{1,2}'::integer[]", "integer[]", "integer[]", {"default_sql": "'{1,2}'::integer[]"}),
        ("now()", "timestamptz", "timestamp with time zone", {"default_sql": "now()"}),
        ("'a\\b'::text", "text", "text", {"default": "a\\b"}),
        ("'$1.00'::money", "money", "money", {"default_sql": "'$1.00'::money"}),
    ],
)
def test_defaults_are_literals_where_the_literal_prints_alike(
    default: str, type_: str, live_type: str, keys: dict[str, object]
) -> None:
    assert default_keys(default, type_, live_type) == keys


def test_an_enum_types_default_is_one_of_its_labels() -> None:
    assert default_keys("'new'::task_state", "task_state", "task_state", enum=True) == {"default": "new"}


def test_a_default_that_is_no_spec_fragment_is_left_to_a_note() -> None:
    assert default_keys("'a\\b'::text || x", "text", "text") == {}  # a backslash in a plain literal


def test_enum_checks_are_recognized_only_in_the_form_the_spec_writes() -> None:
    varchar = "CHECK (((kind)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))"
    assert enum_values(varchar, "kind", "varchar(20)") == ["a", "b"]
    assert enum_values("CHECK ((kind = ANY (ARRAY['a'::text, 'b'::text])))", "kind", "text") == ["a", "b"]
    assert enum_values("CHECK (((kind)::text = 'a'::text))", "kind", "varchar(5)") == ["a"]
    assert enum_values("CHECK ((kind = ANY (ARRAY['a'::text, 'b'::text])))", "other", "text") is None
    assert enum_values("CHECK ((kind <> ALL (ARRAY['a'::text])))", "kind", "text") is None
    assert enum_values("CHECK ((region = ANY (ARRAY['eu'::bpchar])))", "region", "char(2)") is None


def _table(**kwargs: object) -> Table:
    columns = (
        Column("id", "bigint", nullable=False, identity="d"),
        Column("kind", "character varying(20)", nullable=False, default="'a'::character varying"),
        Column("note", "text"),
    )
    return Table("t", columns=columns, **kwargs)  # type: ignore[arg-type]


def test_a_table_becomes_shorthands_on_its_columns_and_named_entries() -> None:
    constraints = (
        Constraint("t_pkey", "p", "PRIMARY KEY (id)"),
        Constraint("t_note_key", "u", "UNIQUE (note)"),
        Constraint(
            "ck_t_kind",
            "c",
            "CHECK (((kind)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))",
        ),
        Constraint("t_pair", "u", "UNIQUE NULLS NOT DISTINCT (kind, note) DEFERRABLE"),
        Constraint("t_note_check", "c", "CHECK ((length(note) < 10))"),
        Constraint("t_id_fkey", "f", "FOREIGN KEY (id) REFERENCES public.owners(id)"),
    )
    draft = draft_table(TableInput(_table(constraints=constraints)), CTX)
    assert draft.columns == {
        "id": {"type": "bigint", "primary_key": True, "identity": True, "references": "public.owners.id"},
        "kind": {"type": "varchar(20)", "nullable": False, "default": "a", "enum": ["a", "b"]},
        "note": {"type": "text", "unique": True},
    }
    assert draft.sections["uniques"] == {
        "t_pair": {"columns": ["kind", "note"], "nulls_not_distinct": True, "deferrable": True}
    }
    assert draft.sections["checks"] == {"t_note_check": "length(note) < 10"}
    assert draft.notes == []


def test_what_the_spec_cannot_hold_is_a_note_never_dropped() -> None:
    table = Table(
        "t",
        columns=(
            Column("id", "integer", nullable=False, default="nextval('t_id_seq'::regclass)"),
            Column("span", "interval day"),
        ),
        constraints=(
            Constraint("t_id_check", "c", "CHECK ((id > 0)) NO INHERIT"),
            Constraint("t_id_check2", "c", "CHECK ((id > 1)) NOT VALID"),
        ),
        indexes=(Index("t_fill", False, "USING btree (id) WITH (fillfactor='70')"),),
    )
    extras = (LiveExtra("t", "trigger", "touch", "CREATE TRIGGER touch BEFORE UPDATE ON public.t …"),)
    draft = draft_table(TableInput(table, extras), CTX)
    assert draft.columns["id"] == {"type": "integer", "nullable": False, "identity": True}
    assert "span" not in draft.columns
    texts = [(n.text.split(":")[0], n.changes) for n in draft.notes]
    assert texts == [
        ("column id is serial (sequence t_id_seq)", True),
        ("column span (interval day) left out", True),
        ("constraint t_id_check left out", True),
        (
            "constraint t_id_check2 is NOT VALID here; the spec's constraints are validated, so the plan validates it",
            True,
        ),
        ("index t_fill left out", True),
        ("trigger touch (not managed by schemadiff, left as it is)", False),
    ]
    assert draft.sections["checks"] == {"t_id_check2": "id > 1"}


@pytest.mark.parametrize(
    ("tail", "unique", "entry"),
    [
        ("USING btree (a, b)", False, {"columns": ["a", "b"]}),
        (
            'USING btree (a COLLATE "C" text_pattern_ops DESC NULLS LAST, lower(b), (a + 1)) INCLUDE (c) WHERE (c > 1)',
            True,
            {
                "columns": [
                    {"name": "a", "order": "desc", "nulls": "last", "opclass": "text_pattern_ops", "collation": "C"}
                ],
                "expressions": ["lower(b)", "a + 1"],
                "include": ["c"],
                "unique": True,
                "where": "c > 1",
            },
        ),
        ("USING gin (doc)", False, {"columns": ["doc"], "using": "gin"}),
        ("USING btree (a NULLS FIRST)", False, {"columns": [{"name": "a", "nulls": "first"}]}),
    ],
)
def test_index_tails_become_index_entries(tail: str, unique: bool, entry: dict[str, object]) -> None:
    assert index_entry(Index("i", unique, tail)) == entry


@pytest.mark.parametrize(
    "tail",
    [
        "USING btree (lower(b), a)",  # an expression before a column
        "USING btree (a) WITH (fillfactor='70')",
        "USING btree (a) NULLS NOT DISTINCT",
        "USING btree (lower(b) DESC)",
        "USING bloom (a)",
        "USING btree (a public.my_ops)",
    ],
)
def test_index_forms_the_spec_cannot_write_are_refused(tail: str) -> None:
    with pytest.raises(ValueError, match="spec"):
        index_entry(Index("i", False, tail))


def test_printed_sql_is_cut_at_its_top_level_only() -> None:
    assert split_top("a, lower(b, 'x,y'), \"q,\"") == ["a", "lower(b, 'x,y')", '"q,"']
    text = "EXCLUDE USING gist (k WITH =) WHERE ((k > 0)) DEFERRABLE"
    assert group(text) == ("k WITH =", 29)
    assert unwrap(group(text, find_top(text, " WHERE "))[0]) == "k > 0"
    assert unwrap("(a) + (b)") == "(a) + (b)"
    assert unwrap("('a)'::text = x)") == "'a)'::text = x"


@pytest.mark.parametrize(
    "value", ["on", "yes", "0", "1.5", "2020-01-01", "=", "&&", "a: b", "x #y", "-1", "", " lead", "it's", "null"]
)
def test_scalars_read_back_as_the_same_string(value: str) -> None:
    assert load_yaml(f"k: {scalar(value)}", "t.yaml").data == {"k": value}
    assert load_yaml(f"k: {{v: {scalar(value)}}}", "t.yaml").data == {"k": {"v": value}}
    assert load_yaml(f"{key(value)}: v", "t.yaml").data == {value: "v"}


@pytest.mark.parametrize("value", ["a\nb", 'say "hi"\\', "tab\there", "bell\x07", "nul-free \u2028 line", "😀 'q'"])
def test_strings_yaml_cannot_take_plain_are_escaped(value: str) -> None:
    assert load_yaml(f"k: {scalar(value)}", "t.yaml").data == {"k": value}


def test_flow_style_is_the_readmes() -> None:
    assert flow({"type": "bigint", "primary_key": True, "identity": True}) == (
        "{type: bigint, primary_key: true, identity: true}"
    )
    assert flow({"columns": ["job_id", {"name": "created_at", "order": "desc"}]}) == (
        "{columns: [job_id, {name: created_at, order: desc}]}"
    )
    assert flow({"type": "numeric(12,2)", "default": 0}) == "{type: 'numeric(12,2)', default: 0}"


def test_comments_stay_comments_whatever_they_hold() -> None:
    lines = comment_lines([Note("trigger x: line one\nline two\x00 " + "word " * 40)], "    ")
    assert all(line.startswith("    # ") for line in lines) and len(lines) > 1
    assert load_yaml("\n".join(["a: 1", *lines, "b: 2"]), "t.yaml").data == {"a": 1, "b": 2}


def test_a_rendered_draft_is_a_valid_spec_with_its_notes_as_comments() -> None:
    draft = SpecDraft("public", "^user_[0-9]+$", "public", enums={"task_state": ["new", "it's done"]})
    table = draft_table(TableInput(_table(comment="What: it is.")), CTX)
    table.note("policy p (not managed by schemadiff, left as it is): FOR ALL TO public USING (true)")
    draft.tables.append(table)
    text = render_spec_yaml(draft)
    spec = parse_spec(text)
    assert spec.enums == {"task_state": ["new", "it's done"]}
    assert spec.tables["t"].comment == "What: it is."
    assert spec.tables["t"].columns["kind"].default == "a"
    assert "    # policy p (not managed by schemadiff, left as it is): FOR ALL TO public USING (true)" in text


def test_the_tenant_pattern_is_guessed_from_the_commonest_numbered_prefix() -> None:
    names = ["public", "user_1", "user_2", "user_10", "User_9", "user_5_archive", "audit"]
    assert guess_pattern(names, "public") == "^user_[0-9]+$"
    assert guess_pattern(["public", "t.1", "t.2"], "public") == r"^t\.[0-9]+$"
    with pytest.raises(SchemadiffError, match="--pattern"):
        guess_pattern(["public", "audit"], "public")


def test_keys_and_indexes_on_a_column_left_out_are_left_out_too() -> None:
    table = Table(
        "t",
        columns=(Column("id", "integer", nullable=False), Column("span", "interval day")),
        constraints=(
            Constraint("t_span_key", "u", "UNIQUE (span)", uses=("span",)),
            Constraint("t_ev_fkey", "f", "FOREIGN KEY (id) REFERENCES events(id)", uses=("id",)),
        ),
        indexes=(Index("t_span", False, "USING btree (span)", uses=("span",)),),
    )
    ctx = LiveContext("public", unplannable={"events": "partitioned"})
    draft = draft_table(TableInput(table), ctx)
    assert draft.columns == {"id": {"type": "integer", "nullable": False}}
    assert all(not entries for entries in draft.sections.values())
    assert [n.text.split(";")[0] for n in draft.notes] == [
        "column span (interval day) left out: the spec has no such type",
        "constraint t_span_key left out: it uses column span, which is left out",
        "constraint t_ev_fkey left out: it references events, which is partitioned (schemadiff plans plain tables)",
        "index t_span left out: it uses column span, which is left out",
    ]
