"""The versions directory read without running it: each revision's id, parent, target state, the
states its groups start from, and its checksum, recorded and actual.

Alembic imports every revision to know its chain; `check` and `status` read the files' syntax
trees instead, so a revision file of an unreviewed pull request is never executed (the same
trust boundary as `plan`: a CI job holding the production URL runs nothing the pull request wrote).
"""

from __future__ import annotations

import ast
from pathlib import Path

from schemadiff.core.tenant_states import RevisionInfo
from schemadiff.errors import SchemadiffError
from schemadiff.render.python_source import parse_python
from schemadiff.render.revision_checksum import operations_checksum, recorded_checksum


def _constant(node: ast.expr | None) -> object:
    """A literal's value (strings, None, tuples and lists of them); ``...`` for anything else."""
    if node is None:
        return ...
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ...


def _assignments(tree: ast.Module) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    found[t.id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            found[stmt.target.id] = stmt.value
    return found


def _starts(groups: ast.expr | None) -> tuple[str, ...]:
    """The fingerprints of ``GROUPS = [runtime.Group('fp', …), …]``."""
    if not isinstance(groups, (ast.List, ast.Tuple)):
        return ()
    calls = [e for e in groups.elts if isinstance(e, ast.Call) and e.args]
    return tuple(str(v) for c in calls if isinstance(v := _constant(c.args[0]), str))


def read_revision(path: Path) -> RevisionInfo | None:
    """One revision file; None when it declares no ``revision`` (not a revision)."""
    text = path.read_text(encoding="utf-8")
    try:
        tree = parse_python(text, str(path))
    except SyntaxError as exc:
        raise SchemadiffError(f"{path}:{exc.lineno}: not valid Python ({exc.msg}); fix or restore the file") from None
    names = _assignments(tree)
    if "revision" not in names:
        return None
    revision, down = _constant(names["revision"]), _constant(names.get("down_revision"))
    if not isinstance(revision, str) or not (down is None or isinstance(down, (str, tuple, list))):
        raise SchemadiffError(f"{path}: its revision and down_revision must be plain strings to be read")
    parents = (down,) if isinstance(down, str) else tuple(str(d) for d in down or ())
    target = _constant(names.get("TARGET"))
    if not isinstance(target, str) or "GROUPS" not in names:
        return RevisionInfo(revision, str(path), parents)
    return RevisionInfo(
        revision,
        str(path),
        parents,
        target,
        _starts(names["GROUPS"]),
        recorded_checksum(text),
        operations_checksum(text),
    )


def read_chain(directory: Path) -> tuple[RevisionInfo, ...]:
    """Every revision of ``directory``, oldest first (parents before children); one head, every
    parent present (what Alembic needs too)."""
    if not directory.is_dir():
        return ()
    revisions: dict[str, RevisionInfo] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith(("__init__", ".#")):
            continue
        rev = read_revision(path)
        if rev is None:
            continue
        if rev.revision in revisions:
            raise SchemadiffError(f"{path}: revision {rev.revision} is also {revisions[rev.revision].path}")
        revisions[rev.revision] = rev
    return _ordered(revisions, directory)


def _ordered(revisions: dict[str, RevisionInfo], directory: Path) -> tuple[RevisionInfo, ...]:
    for rev in revisions.values():
        missing = [p for p in rev.down if p not in revisions]
        if missing:
            raise SchemadiffError(
                f"{rev.path}: revision {rev.revision} revises {', '.join(missing)}, which {directory} does not have"
            )
    parents = {p for rev in revisions.values() for p in rev.down}
    heads = [r for r in revisions if r not in parents]
    if len(heads) > 1:
        raise SchemadiffError(
            f"{directory} has {len(heads)} heads ({', '.join(sorted(heads))}); merge them with `alembic merge heads` first"
        )
    order: list[RevisionInfo] = []
    seen: set[str] = set()
    stack: list[tuple[str, bool]] = [(h, False) for h in heads]
    while stack:  # depth first, parents before children (a merge revision after all its parents)
        name, done = stack.pop()
        if done:
            order.append(revisions[name])
        elif name not in seen:
            seen.add(name)
            stack.append((name, True))
            stack.extend((p, False) for p in reversed(revisions[name].down))
    if len(order) != len(revisions):
        raise SchemadiffError(f"{directory}: its revisions form a cycle; fix their down_revision")
    return tuple(order)
