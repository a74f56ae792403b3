"""A run that meets schemas in states its revision does not know stops before any change and says
so: the schemas grouped by state, for each group first what differs from the nearest state the
revision knows (one of its starting states, or its target), then how far it is from the spec,
and one line saying what to do. Pure: the states were read by preflight."""

from __future__ import annotations

import json
from dataclasses import dataclass

from schemadiff.core.diff import diff_schema
from schemadiff.core.model import SchemaModel, model_from_dict
from schemadiff.core.ops import Op
from schemadiff.errors import SchemadiffError
from schemadiff.runtime.job import Job, LedgerRow, TenantState
from schemadiff.text import few

SHOWN_STATES = 10
SHOWN_CHANGES = 8


class UnknownStates(SchemadiffError):
    """Schemas in states the revision does not know; nothing was changed. ``summary`` and
    ``advice`` are one line each, ``details`` the lines between them."""

    def __init__(self, summary: str, details: list[str], advice: str) -> None:
        self.summary, self.details, self.advice = summary, details, advice
        super().__init__("\n".join([f"{summary}:", *details, advice]))


@dataclass(frozen=True)
class KnownState:
    fingerprint: str
    what: str  # "the starting state of group 2", "the target (the spec)"
    model: SchemaModel


def unknown_states(
    job: Job, unknown: list[str], states: dict[str, TenantState], ledger: dict[str, LedgerRow]
) -> SchemadiffError:
    """The error that stops the run: a lost ledger row explained on its own, else the states."""
    lost = [
        s for s in unknown if job.direction == "downgrade" and s not in ledger and states[s].fingerprint == job.target
    ]
    if lost:
        return SchemadiffError(_lost_ledger_rows(job, lost))
    by_state: dict[str, list[str]] = {}
    for schema in unknown:
        by_state.setdefault(states[schema].fingerprint, []).append(schema)
    candidates = known_states(job, states)
    details: list[str] = []
    for fp, schemas in list(by_state.items())[:SHOWN_STATES]:
        details += _state_lines(job, fp, schemas, states[schemas[0]].model, candidates)
    if len(by_state) > SHOWN_STATES:
        details.append(f"  … and {len(by_state) - SHOWN_STATES} more state(s)")
    summary = (
        f"{len(unknown)} schema(s) in {len(by_state)} state(s) that revision {job.revision} does not know; "
        "nothing was changed"
    )
    advice = (
        "To go on: plan a revision that knows these states (`schemadiff plan -m MESSAGE`; remove this "
        "revision first if no database has run it), or undo the differences shown and run again."
    )
    return UnknownStates(summary, details, advice)


def known_states(job: Job, states: dict[str, TenantState]) -> list[KnownState]:
    """The states the revision knows, the likelier first: its groups' starting states (from the
    revision, or, for a revision that does not carry them, from a schema found in one) and its target."""
    live: dict[str, SchemaModel] = {}
    for state in states.values():
        live.setdefault(state.fingerprint, state.model)
    starts = []
    for n, fp in enumerate(job.groups, 1):
        text = job.start_models.get(fp)
        model = model_from_dict(json.loads(text)) if text else live.get(fp)
        if model is not None:
            starts.append(KnownState(fp, f"the starting state of group {n}", model))
    target = [] if job.target_model is None else [KnownState(job.target, "the target (the spec)", job.target_model)]
    return starts + target if job.direction == "upgrade" else target + starts


def nearest(model: SchemaModel, candidates: list[KnownState]) -> tuple[KnownState, list[Op]] | None:
    """The known state that fewest changes would bring ``model`` to (the first of equals), and those changes."""
    best: tuple[KnownState, list[Op]] | None = None
    for candidate in candidates:
        ops = diff_schema(model, candidate.model)
        if best is None or len(ops) < len(best[1]):
            best = (candidate, ops)
    return best


def _state_lines(job: Job, fp: str, schemas: list[str], model: SchemaModel, candidates: list[KnownState]) -> list[str]:
    lines = [f"  {len(schemas)} schema(s) in state {fp}: {few(schemas)}"]
    found = nearest(model, candidates)
    if found is not None:
        known, ops = found
        lines.append(f"    nearest known state: {known.fingerprint}, {known.what}; to match it: {_changes(ops)}")
    if job.target_model is not None and (found is None or found[0].fingerprint != job.target):
        count = len(diff_schema(model, job.target_model))
        lines.append(f"    to match the spec: {count} change(s) (`schemadiff plan` lists them)")
    return lines


def _changes(ops: list[Op]) -> str:
    shown = "; ".join(op.describe() for op in ops[:SHOWN_CHANGES])
    more = f"; … and {len(ops) - SHOWN_CHANGES} more" if len(ops) > SHOWN_CHANGES else ""
    return (shown + more) if ops else "nothing the revision's model sees (a difference in the catalog only)"


def _lost_ledger_rows(job: Job, lost: list[str]) -> str:
    starts = ", ".join(job.groups)
    return (
        f"{len(lost)} schema(s) are at the target of revision {job.revision} but have no ledger row "
        f"(deleted by hand, or restored from an older backup): {', '.join(lost[:10])}"
        f"{' …' if len(lost) > 10 else ''}. Nothing was changed. The ledger is how a downgrade knows "
        "which state each schema started from; if you know it, name it: "
        "`alembic downgrade -1 -x assume_from=FINGERPRINT` (or `schemadiff rollback --assume-from "
        f"FINGERPRINT`), one of this revision's starting states: {starts}"
    )
