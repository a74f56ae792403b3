"""The project's Alembic environment: create it (`init`), find its head, write revisions into it."""

from __future__ import annotations

import secrets
import shutil
from datetime import datetime
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from schemadiff.errors import SchemadiffError
from schemadiff.plan import Plan
from schemadiff.render.revision import RevisionInfo, render_revision, revision_filename

TEMPLATES = Path(__file__).parent / "templates"


def init_environment(root: Path, script_location: str = "migrations") -> list[Path]:
    """Create alembic.ini, env.py, script.py.mako and versions/ where absent; the paths created."""
    created: list[Path] = []
    root.mkdir(parents=True, exist_ok=True)
    ini = root / "alembic.ini"
    if not ini.exists():
        text = (TEMPLATES / "alembic.ini").read_text()
        ini.write_text(text.replace("script_location = migrations", f"script_location = {script_location}"))
        created.append(ini)
    scripts = root / script_location
    (scripts / "versions").mkdir(parents=True, exist_ok=True)
    for name in ("env.py", "script.py.mako"):
        if not (scripts / name).exists():
            shutil.copyfile(TEMPLATES / name, scripts / name)
            created.append(scripts / name)
    return created


def alembic_config(ini: Path) -> Config:
    if not ini.exists():
        raise SchemadiffError(f"no Alembic environment: {ini} not found; run `schemadiff init` first")
    cfg = Config(str(ini))
    location = cfg.get_main_option("script_location") or "migrations"
    cfg.set_main_option("script_location", str((ini.parent / location).resolve()))
    return cfg


def script_directory(cfg: Config, versions: Path | None = None) -> ScriptDirectory:
    script = ScriptDirectory.from_config(cfg)
    if versions is not None:
        return ScriptDirectory(script.dir, version_locations=[str(versions.resolve())])
    return script


def versions_directory(cfg: Config, override: str | None) -> Path:
    if override:
        return Path(override)
    return Path(cfg.get_main_option("script_location") or "migrations") / "versions"


def current_head(script: ScriptDirectory) -> str | None:
    heads = script.get_heads()
    if len(heads) > 1:
        raise SchemadiffError(f"the versions directory has {len(heads)} heads ({', '.join(heads)}); "
                              "merge them with `alembic merge heads` first")
    return heads[0] if heads else None


def write_revision(plan: Plan, cfg: Config, message: str, why: str | None,
                   versions_override: str | None = None, now: datetime | None = None) -> Path:
    """Render the plan as a revision chained onto the current head; the path written."""
    versions = versions_directory(cfg, versions_override)
    versions.mkdir(parents=True, exist_ok=True)
    head = current_head(script_directory(cfg, versions if versions_override else None))
    info = RevisionInfo(secrets.token_hex(6), head, message, why, now or datetime.now())
    text = render_revision(plan, info)
    compile(text, revision_filename(info), "exec")
    path = versions / revision_filename(info)
    if path.exists():
        raise SchemadiffError(f"{path} already exists; use another message or wait a minute")
    path.write_text(text)
    return path
