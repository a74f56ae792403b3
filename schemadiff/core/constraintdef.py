"""Text that recreates a stored CHECK exactly as PostgreSQL stored it. Pure.

PostgreSQL keeps a constraint as a parse tree and prints it back with ``pg_get_constraintdef``.
Fed back to ``CREATE``/``ALTER TABLE``, that printed text does not always parse to the same
tree. The case that matters: an ``IN`` list over a ``varchar`` column (``step_type IN ('a', 'b')``,
how ``enum:`` is written) is stored as an array coercion and printed as

    ((step_type)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))

but the parser pushes a cast to ``T[]`` written directly on an ``ARRAY[...]`` into its elements,
so the printed text is stored as ``ARRAY[('a'::character varying)::text, ...]``: a different text,
a different fingerprint, and a rebuilt tenant (the migra proof, a downgrade that re-adds the
constraint) that no longer matches the real one.

Chosen fix: the model keeps the exact text PostgreSQL stored (so fingerprints, and revisions
written before, are unchanged) and creates constraints from a text that parses back to the same
tree: :func:`creatable` casts such an ``ARRAY[...]`` to its elements' own array type first
(``CAST(CAST(ARRAY[...] AS varchar[]) AS text[])``), which the parser cannot push down, so
PostgreSQL builds the same array coercion and prints the same text. Comparing parse trees
instead would have changed every stored fingerprint; a catalog round trip per definition would
need a writable connection where ``plan`` only reads.
"""

from __future__ import annotations

from functools import lru_cache

from pglast import ast, parse_sql, visitors
from pglast.parser import ParseError
from pglast.stream import RawStream


@lru_cache(maxsize=4096)
def creatable(definition: str) -> str | None:
    """A text PostgreSQL stores as the same tree as ``definition`` (a ``pg_get_constraintdef``),
    or None when ``definition`` itself already does."""
    if "ARRAY[" not in definition or not definition.startswith("CHECK ("):
        return None
    try:
        statement = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {definition}")[0].stmt
    except ParseError:
        return None
    assert isinstance(statement, ast.AlterTableStmt) and statement.cmds
    constraint = statement.cmds[0].def_
    assert isinstance(constraint, ast.Constraint)
    rewriter = _KeepArrayCoercions()
    rewriter(statement)
    if not rewriter.changed:
        return None
    constraint.conname = None
    return str(RawStream()(constraint))


def _type_key(name: ast.TypeName | None) -> tuple[object, ...]:
    return (tuple(n.sval for n in name.names or ()), repr(name.typmods)) if name is not None else ()


class _KeepArrayCoercions(visitors.Visitor):  # type: ignore[misc]
    """``CAST(ARRAY[x::E, y::E] AS T[])`` → ``CAST(CAST(ARRAY[x::E, y::E] AS E[]) AS T[])``."""

    changed = False

    def visit_TypeCast(self, ancestors: object, node: ast.TypeCast) -> ast.TypeCast | None:
        array, target = node.arg, node.typeName
        if not isinstance(array, ast.A_ArrayExpr) or target is None or not target.arrayBounds or not array.elements:
            return None
        casts = [
            e
            for e in array.elements
            if isinstance(e, ast.TypeCast) and e.typeName is not None and not e.typeName.arrayBounds
        ]
        kinds = {_type_key(e.typeName) for e in casts}
        if len(casts) != len(array.elements) or len(kinds) != 1 or kinds == {_type_key(target)}:
            return None
        element = casts[0].typeName
        assert element is not None
        inner = ast.TypeCast(
            arg=array,
            typeName=ast.TypeName(
                names=element.names, typmods=element.typmods, typemod=-1, arrayBounds=(ast.Integer(-1),)
            ),
        )
        self.changed = True
        return ast.TypeCast(arg=inner, typeName=target)
