"""ReplaceIndex: a live index the spec defines differently, swapped without a window. Pure.

The new definition is built under a temporary name beside the old index, the old one is dropped
and the new one renamed, all in the tenant's transaction: queries never find the table without
an index of that name. (An online, CONCURRENTLY form for large tables is not written yet.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from schemadiff.core.ddl_clauses import index_sql
from schemadiff.core.hazards import BLOCKS_WRITES, DROPS_INDEX, FAILS_ON_EXISTING_ROWS
from schemadiff.core.model import Index
from schemadiff.core.ops import Op
from schemadiff.core.sqltext import qualify, quote_ident

REPLACEMENT_SUFFIX = "_sdnew"


def replacement_index_name(name: str) -> str:
    """Where ReplaceIndex builds the new definition before renaming it (within 63 bytes)."""
    return name.encode("utf-8")[: 63 - len(REPLACEMENT_SUFFIX)].decode("utf-8", "ignore") + REPLACEMENT_SUFFIX


@dataclass(frozen=True)
class ReplaceIndex(Op):
    """A live index whose definition differs from the spec's index of the same name: build the new
    one under a temporary name, drop the old one, rename — the table is never without the index."""

    kind: ClassVar[str] = "replace_index"
    table: str
    old: Index
    new: Index
    online: bool = False  # reserved for a CONCURRENTLY form on large tables; not used yet

    @property
    def name(self) -> str:
        return self.new.name

    @property
    def hazards(self) -> tuple[str, ...]:
        return (BLOCKS_WRITES, DROPS_INDEX, *((FAILS_ON_EXISTING_ROWS,) if self.new.unique else ()))

    def sql(self, schema: str | None) -> list[str]:
        temporary = replacement_index_name(self.new.name)
        return [
            index_sql(schema, self.table, replace(self.new, name=temporary)),
            f"DROP INDEX {qualify(schema, self.old.name)}",
            f"ALTER INDEX {qualify(schema, temporary)} RENAME TO {quote_ident(self.new.name)}",
        ]

    def reverse(self) -> Op:
        return ReplaceIndex(self.table, self.new, self.old, self.online)

    def describe(self) -> str:
        invalid = " (INVALID)" if not self.old.valid else ""
        return (
            f"replace index {self.new.name}{invalid} on {self.table}: {self.old.tail} → "
            f"{'unique ' if self.new.unique else ''}{self.new.tail} (built beside it, then swapped)"
        )
