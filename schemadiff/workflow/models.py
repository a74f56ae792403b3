"""``schemadiff models``: the spec's SQLAlchemy models written to a file, or checked against it.

A file is up to date when it is what the spec generates, or the same code and comments laid out
otherwise (a formatter with other settings ran over it): only a change that means something makes
it out of date.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from schemadiff.render.models_file import ModelsSummary, render_models, summary
from schemadiff.render.python_source import same_source
from schemadiff.spec.schema import LoadedSpec, load_spec


@dataclass(frozen=True)
class Models:
    """The module generated from one spec."""

    spec: LoadedSpec
    source: str
    summary: ModelsSummary


def generate(spec_path: Path) -> Models:
    """Load the spec (a SpecError lists every problem) and render its models."""
    loaded = load_spec(spec_path)
    return Models(loaded, render_models(loaded.spec, Path(loaded.path).name), summary(loaded.spec))


def is_current(models: Models, out: Path) -> bool:
    """Whether ``out`` holds these models (False when it does not exist or is not text)."""
    try:
        existing = out.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return same_source(models.source, existing)


def write(models: Models, out: Path) -> bool:
    """Write ``out`` unless it is current already; whether it was written."""
    if is_current(models, out):
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(models.source, encoding="utf-8")
    return True
