"""``using:`` / ``down_using:`` of the spec's columns, handed to the diff (``core.conversions``). Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemadiff.core.conversions import Conversion, Conversions

if TYPE_CHECKING:
    from schemadiff.spec.schema import Spec


def spec_conversions(spec: Spec) -> Conversions:
    out: dict[str, dict[str, Conversion]] = {}
    for tname, table in spec.tables.items():
        for cname, col in table.columns.items():
            if col.using is not None or col.down_using is not None:
                out.setdefault(tname, {})[cname] = Conversion(col.using, col.down_using)
    return out
