"""`schemadiff check`, the CI gate: its findings from what was read. Pure.

Three questions, each answered from data the workflow read:

1. Does the head revision capture the spec (its target state is the spec's)?
2. Is every revision's code still what was written (its recorded checksum matches)?
3. With a database: is every tenant at the spec (or, with ``allow_pending``, on its way there
   through the revisions not applied yet)?

A *problem* fails the check (exit 2), a *warning* is shown and does not, a *note* says why
something that looks wrong is not a problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemadiff.core.tenant_states import AT_SPEC, PENDING, UNKNOWN, GroupState, RevisionInfo, TenantStates
from schemadiff.text import few

PLAN_HINT = "write one with `schemadiff plan -m MESSAGE`"


@dataclass(frozen=True)
class Finding:
    kind: str  # revision_edited, checksum_removed, no_checksum, spec_not_captured, tenants_unknown, …
    message: str  # one line, naming the file or the schemas and what to do
    path: str = ""  # the file it is about, when it is about one


@dataclass(frozen=True)
class CheckResult:
    spec_path: str
    target: str  # the spec's target state
    chain: tuple[RevisionInfo, ...]  # the versions directory, oldest first
    problems: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    notes: tuple[Finding, ...]
    tenants: TenantStates | None = None  # None: no database was checked
    database: str = ""  # the database checked, as shown (password hidden)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def head(self) -> RevisionInfo | None:
        """The newest schemadiff revision (hand-written ones carry no target state)."""
        return next((r for r in reversed(self.chain) if r.managed), None)


def checksum_findings(chain: tuple[RevisionInfo, ...]) -> tuple[list[Finding], list[Finding]]:
    """(problems, warnings): an edited revision fails; one without a checksum is a warning when no
    older revision has one (written before checksums existed), a problem otherwise (removed)."""
    problems: list[Finding] = []
    warnings: list[Finding] = []
    older: RevisionInfo | None = None  # the newest older revision that records a checksum
    for rev in (r for r in chain if r.managed):
        where = f"{rev.path}: revision {rev.revision}"
        if rev.recorded is None and older is None:
            warnings.append(
                Finding(
                    "no_checksum",
                    f"{where} records no checksum (written before schemadiff recorded them): its operations "
                    "are not verified",
                    rev.path,
                )
            )
        elif rev.recorded is None:
            problems.append(
                Finding(
                    "checksum_removed",
                    f"{where} records no checksum though the older revision {older.revision if older else ''} "
                    "does (removed by hand?); restore the file, or write a new revision instead of editing one",
                    rev.path,
                )
            )
        elif rev.recorded != rev.actual:
            problems.append(
                Finding(
                    "revision_edited",
                    f"{where} was edited after it was written: its operations no longer match the checksum it "
                    "records; undo the edit, or write a new revision (`schemadiff plan -m`) instead of editing one",
                    rev.path,
                )
            )
        if rev.recorded is not None:
            older = rev
    return problems, warnings


def _all_at_spec(tenants: TenantStates | None) -> bool:
    return tenants is not None and all(g.state == AT_SPEC for g in tenants.groups)


def capture_findings(
    spec_path: str, target: str, head: RevisionInfo | None, tenants: TenantStates | None
) -> tuple[list[Finding], list[Finding]]:
    """(problems, notes): the head revision's target must be the spec's. A database whose every
    tenant is already at the spec needs no revision for it (adopting schemadiff on a database
    that has the tables): a note, not a problem."""
    if head is not None and head.target == target:
        return [], []
    if head is None:
        message = f"{spec_path}: no revision captures the spec (target state {target}); {PLAN_HINT}"
    else:
        message = (
            f"{spec_path}: the spec changed but no revision captures it: its target state {target} is not "
            f"the head revision's ({head.revision} in {head.path}, target {head.target}); {PLAN_HINT}"
        )
    if _all_at_spec(tenants):
        return [], [Finding("spec_not_captured", f"{message.split(';')[0]}; every tenant is at it already", spec_path)]
    if tenants is None and head is None:
        message += " (if every tenant is already at the spec, none is needed: check with --database-url)"
    return [Finding("spec_not_captured", message, spec_path)], []


def _group_line(group: GroupState) -> str:
    return f"{len(group.schemas)} schema(s) in state {group.fingerprint} ({few(group.schemas)})"


def tenant_findings(tenants: TenantStates, allow_pending: bool) -> tuple[list[Finding], list[Finding]]:
    """(problems, notes), one per group not at the spec: unknown always fails; pending fails unless
    ``allow_pending`` (a pull request whose revision is not deployed yet)."""
    problems: list[Finding] = []
    notes: list[Finding] = []
    for group in tenants.groups:
        if group.state == UNKNOWN:
            problems.append(
                Finding(
                    "tenants_unknown",
                    f"{_group_line(group)}: unknown: {group.reason}; see `schemadiff plan`, then plan a new revision",
                )
            )
        elif group.state == PENDING:
            line = f"{_group_line(group)}: pending: revision(s) {', '.join(group.via)} not applied yet"
            (notes if allow_pending else problems).append(
                Finding("tenants_pending", line + ("" if allow_pending else "; run `schemadiff apply`"))
            )
    if not tenants.at_head and all(g.state == AT_SPEC for g in tenants.groups):
        line = f"the database is at revision {tenants.revision or '(none)'}, not at the head {tenants.head}"
        (notes if allow_pending else problems).append(
            Finding("revisions_pending", line + ("" if allow_pending else "; run `schemadiff apply`"))
        )
    return problems, notes


def gate(
    spec_path: str,
    target: str,
    chain: tuple[RevisionInfo, ...],
    tenants: TenantStates | None = None,
    database: str = "",
    allow_pending: bool = False,
) -> CheckResult:
    """Every finding of one check."""
    head = next((r for r in reversed(chain) if r.managed), None)
    edited, warnings = checksum_findings(chain)
    not_captured, capture_notes = capture_findings(spec_path, target, head, tenants)
    behind, tenant_notes = tenant_findings(tenants, allow_pending) if tenants is not None else ([], [])
    return CheckResult(
        spec_path,
        target,
        chain,
        tuple(not_captured + edited + behind),
        tuple(warnings),
        tuple(capture_notes + tenant_notes),
        tenants,
        database,
    )
