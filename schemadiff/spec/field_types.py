"""The annotated field types the spec's models are made of: identifiers, type names, SQL fragments
(parsed by PostgreSQL's own parser, see fragments), regular expressions, identity kinds and
options, hazard names. Each validates one value; pydantic locates its error. Pure.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, WithJsonSchema

from schemadiff.core.hazards import ALL
from schemadiff.core.sqltext import identifier_problem, parse_type
from schemadiff.spec.enums import label_problem
from schemadiff.spec.fragments import check_expression, check_type_name
from schemadiff.spec.keys import check_reference
from schemadiff.spec.table_problems import TEXT_CATEGORIES
from schemadiff.text import did_you_mean

HAZARDS = ALL
INDEX_METHODS = ("btree", "hash", "gin", "gist", "brin", "spgist")


def _identifier(name: str) -> str:
    problem = identifier_problem(name)
    if problem:
        raise ValueError(problem)
    return name


def _type(text: str, info: ValidationInfo) -> str:
    check_type_name(text)
    enums = (info.context or {}).get("enums") or ()
    if text in enums:  # the name of a spec enum type is a type
        return text
    try:
        parse_type(text)
    except ValueError:
        hint = did_you_mean(text, list(enums))
        if hint:
            raise ValueError(f"unknown column type '{text}'{hint}") from None
        raise
    return text


def _enum_label(label: str) -> str:
    problem = label_problem(label)
    if problem:
        raise ValueError(problem)
    return label


def _expression(text: str) -> str:
    check_expression(text)
    return text


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return pattern


def collatable(text: str) -> bool:
    """A text type (or an array of one); a spec enum type has no collation."""
    try:
        return parse_type(text).category in TEXT_CATEGORIES
    except ValueError:
        return False


def _identity_kind(value: bool | str) -> bool | str:
    if isinstance(value, str) and value not in ("always", "by_default"):
        raise ValueError(f"identity '{value}' is not a kind: write true (by_default), by_default or always")
    return value


Ident = Annotated[str, AfterValidator(_identifier)]
Reference = Annotated[str, AfterValidator(check_reference)]
IdentityKind = Annotated[
    bool | str,
    AfterValidator(_identity_kind),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"enum": ["always", "by_default"], "type": "string"}]}),
]
EnumLabel = Annotated[str, AfterValidator(_enum_label)]
RegexPattern = Annotated[str, AfterValidator(_regex)]


class IdentitySpec(BaseModel):
    """``identity: {kind, start, increment}``: an identity column with its sequence's options."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    kind: Literal["by_default", "always"] = Field("by_default", description="BY DEFAULT (the default) or ALWAYS")
    start: int | None = Field(None, ge=1, description="START WITH (default 1)")
    increment: int | None = Field(None, ge=1, description="INCREMENT BY (default 1)")


IDENTITY_TAGS = ("[identity kind]", "[identity options]")  # union branches; never shown in a located error


def _identity_form(raw: Any) -> str:
    return IDENTITY_TAGS[1] if isinstance(raw, dict) else IDENTITY_TAGS[0]


# a kind (true, by_default, always) or a mapping with the sequence's options; discriminated so that an
# error names only the form written
Identity = Annotated[
    Annotated[IdentityKind, Tag(IDENTITY_TAGS[0])] | Annotated[IdentitySpec, Tag(IDENTITY_TAGS[1])],
    Discriminator(_identity_form),
]


TypeName = Annotated[str, AfterValidator(_type)]
SqlExpression = Annotated[str, AfterValidator(_expression)]
Hazard = Literal[
    "deletes_data",
    "rewrites_table",
    "blocks_writes",
    "access_exclusive",
    "scans_table",
    "fails_on_existing_rows",
    "irreversible",
    "drops_index",
    "drops_constraint",
    "not_crash_safe",
]
