"""Safe YAML loading that remembers where every node stands in the file.

Only plain data is built (``yaml.SafeLoader`` nodes, no tags to objects); aliases and merge
keys are refused, so alias bombs cannot expand; duplicate keys are errors; mapping keys are
taken as the text written, so a column named ``on`` or ``yes`` stays a string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from schemadiff.errors import SpecError, SpecProblem

MAX_SPEC_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 32

Path = tuple[str | int, ...]
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")}


@dataclass
class Located:
    """The loaded data plus the (line, column) of each path's key and value, 1-based."""

    data: Any
    file: str
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[SpecProblem] = field(default_factory=list)

    def problem(self, path: Path, message: str, at_key: bool = False) -> SpecProblem:
        line, col = self.position(path, at_key)
        shown = ".".join(str(p) for p in path)
        return SpecProblem(self.file, line, col, shown, message)

    def position(self, path: Path, at_key: bool = False) -> tuple[int, int]:
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if at_key and end == len(path) and prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return (1, 1)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, located: Located) -> None:
        self.loc = located
        self.seen: set[int] = set()
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.loc.values[path] = _mark(node)
        if id(node) in self.seen:
            self.loc.problems.append(self.loc.problem(path, "YAML aliases are not allowed"))
            return None
        self.seen.add(id(node))
        if len(path) > MAX_DEPTH:
            self.loc.problems.append(self.loc.problem(path, "nesting is too deep"))
            return None
        if node.tag not in _PLAIN_TAGS:
            self.loc.problems.append(self.loc.problem(path, f"YAML tag '{node.tag}' is not allowed"))
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                self.loc.values[(*path, "<<")] = _mark(key_node)
                self.loc.problems.append(
                    self.loc.problem((*path, "<<"), "only plain keys are allowed (no merge keys or complex keys)")
                )
                continue
            key = str(key_node.value)
            if key in out:
                self.loc.keys[(*path, key)] = _mark(key_node)
                self.loc.problems.append(self.loc.problem((*path, key), f"duplicate key '{key}'", at_key=True))
                continue
            self.loc.keys[(*path, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class _DepthLimitedLoader(yaml.SafeLoader):
    """SafeLoader whose recursive composer stops at MAX_DEPTH instead of at Python's recursion limit."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:  # type: ignore[override]
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


def _compose(text: str, file: str) -> yaml.Node | None:
    """The YAML node tree of ``text``; SpecError (one located line) for syntax errors and deep nesting."""
    loader = _DepthLimitedLoader(text)
    try:
        return loader.get_single_node()  # type: ignore[no-any-return]
    except _TooDeep as exc:
        line, col = exc.mark.line + 1, exc.mark.column + 1
        raise SpecError(
            [SpecProblem(file, line, col, "", f"YAML nesting is deeper than {MAX_DEPTH} levels; flatten it")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecError(
            [SpecProblem(file, line, col, "", f"YAML syntax error: {exc.problem or exc.context}")]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError([SpecProblem(file, 1, 1, "", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()


def too_large(file: str) -> SpecError:
    return SpecError(
        [SpecProblem(file, 1, 1, "", f"spec is larger than {MAX_SPEC_BYTES // 1024 // 1024} MiB; split it or trim it")]
    )


def load_yaml(text: str, file: str) -> Located:
    """Parse ``text``; raise SpecError for syntax errors, aliases and duplicate keys."""
    located = Located(data=None, file=file)
    if len(text.encode("utf-8", "replace")) > MAX_SPEC_BYTES:
        raise too_large(file)
    root = _compose(text, file)
    if root is None:
        raise SpecError([SpecProblem(file, 1, 1, "", "spec is empty")])
    located.data = _Builder(located).build(root, ())
    if located.problems:
        raise SpecError(located.problems)
    return located
