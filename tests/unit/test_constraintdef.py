"""creatable(): a text PostgreSQL stores as the same CHECK it printed (checked on PostgreSQL in
tests/integration/test_proof_rebuild.py)."""

from __future__ import annotations

from schemadiff.core.constraintdef import creatable

IN_LIST = "CHECK (((step_type)::text = ANY ((ARRAY['validate'::character varying, 'map'::character varying])::text[])))"


def test_an_array_coercion_keeps_its_elements_array_type() -> None:
    assert creatable(IN_LIST) == (
        "CHECK (CAST(step_type AS text) = ANY(CAST(CAST(ARRAY[CAST('validate' AS varchar), "
        "CAST('map' AS varchar)] AS varchar[]) AS text[])))"
    )


def test_not_valid_and_no_inherit_are_kept() -> None:
    assert (creatable(IN_LIST + " NO INHERIT NOT VALID") or "").endswith(") NO INHERIT NOT VALID")


def test_definitions_that_round_trip_already_are_left_alone() -> None:
    assert creatable("CHECK ((id > 0))") is None
    assert (
        creatable("CHECK (((s)::text = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text])))")
        is None
    )
    assert creatable("FOREIGN KEY (job_id) REFERENCES jobs(id)") is None
