"""The spec's exclusion constraints: a table's ``exclusions: {name: {using, elements, where}}``. Pure.

An exclusion constraint refuses two rows whose elements all match under their operators, e.g.
two bookings of one room whose ``tsrange`` overlap (``&&``). Each element is a column or an
expression (one SQL expression, checked by pglast like every fragment) with its operator, and
optionally the operator class its index uses for it (``inet_ops``: gist's class for ``inet``, which
is not that type's default). The
constraint is built as an index of ``using`` (gist unless said), so each operator must belong to
an operator class of that method for the element's type (gist has ``&&`` and ``=`` on ranges
natively; ``=`` on a plain integer needs the btree_gist extension): PostgreSQL says so when the
spec is normalized, naming the table.

Declared exclusions are managed like foreign keys: a live exclusion constraint on a spec table
that the spec does not declare is drift, shown and dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from schemadiff.core.sqltext import identifier_problem, quote_ident
from schemadiff.errors import SpecProblem
from schemadiff.spec.fragments import check_expression
from schemadiff.spec.yaml_source import Located, Path
from schemadiff.text import did_you_mean

if TYPE_CHECKING:
    from schemadiff.spec.schema import Spec

OPERATOR_CHARACTERS = frozenset("+-*/<>=~!@#%^&|`?")  # PostgreSQL's operator characters
MAX_OPERATOR_LENGTH = 63


def _operator(text: str) -> str:
    """One operator name such as ``&&`` or ``=`` (PostgreSQL's lexical rules for an operator)."""
    if not text or len(text) > MAX_OPERATOR_LENGTH or not set(text) <= OPERATOR_CHARACTERS:
        raise ValueError(f"'{text}' is not an operator: write one such as =, && or <>")
    if "--" in text or "/*" in text:
        raise ValueError(f"'{text}' is not an operator: it holds a comment start")
    return text


def _expression(text: str) -> str:
    check_expression(text)
    return text


def _identifier(name: str) -> str:
    problem = identifier_problem(name)
    if problem:
        raise ValueError(problem)
    return name


Operator = Annotated[str, AfterValidator(_operator)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ExclusionElementSpec(_Strict):
    column: str | None = Field(None, description="a column of this table (or give expression)")
    expression: Annotated[str, AfterValidator(_expression)] | None = Field(
        None, description="one SQL expression, e.g. tsrange(starts_at, ends_at) (or give column)"
    )
    opclass: Annotated[str, AfterValidator(_identifier)] | None = Field(
        None,
        description="the operator class of this element in the index, e.g. inet_ops (gist's class for inet, "
        "not its default); its type's default class unless given",
    )
    operator: Operator = Field(description="two rows conflict when this operator holds for every element, e.g. &&")

    @model_validator(mode="after")
    def _one_of(self) -> ExclusionElementSpec:
        if (self.column is None) == (self.expression is None):
            raise ValueError("give either column or expression")
        problem = identifier_problem(self.column) if self.column is not None else None
        if problem:
            raise ValueError(f"'{self.column}': {problem}")
        return self

    def sql(self) -> str:
        """``key [opclass] WITH operator``, as PostgreSQL's grammar takes an exclusion element."""
        key = quote_ident(self.column) if self.column is not None else f"({self.expression})"
        opclass = f" {quote_ident(self.opclass)}" if self.opclass is not None else ""
        return f"{key}{opclass} WITH {self.operator}"


class ExclusionSpec(_Strict):
    using: Literal["gist", "spgist", "btree", "hash"] = Field("gist", description="the index method it is built with")
    elements: list[ExclusionElementSpec] = Field(
        min_length=1, description="{column or expression, opclass, operator}, in order"
    )
    where: Annotated[str, AfterValidator(_expression)] | None = Field(
        None, description="only rows where this predicate holds are checked: one expression"
    )
    deferrable: bool = False
    initially_deferred: bool = Field(False, description="checked at COMMIT (needs deferrable: true)")

    @model_validator(mode="after")
    def _consistent(self) -> ExclusionSpec:
        if self.initially_deferred and not self.deferrable:
            raise ValueError("initially_deferred needs deferrable: true")
        return self

    def clause(self) -> str:
        text = f"EXCLUDE USING {self.using} ({', '.join(e.sql() for e in self.elements)})"
        if self.where is not None:
            text += f" WHERE ({self.where})"
        if self.deferrable:
            text += " DEFERRABLE INITIALLY DEFERRED" if self.initially_deferred else " DEFERRABLE"
        return text


def exclusion_problems(spec: Spec, located: Located) -> list[SpecProblem]:
    """Every element's column is a column of its table."""
    problems = []
    for tname, table in spec.tables.items():
        for name, exclusion in table.exclusions.items():
            path: Path = ("tables", tname, "exclusions", name, "elements")
            problems += [
                located.problem(
                    (*path, i, "column"),
                    f"column '{e.column}' is not a column of this table{did_you_mean(e.column, list(table.columns))}",
                )
                for i, e in enumerate(exclusion.elements)
                if e.column is not None and e.column not in table.columns
            ]
    return problems
