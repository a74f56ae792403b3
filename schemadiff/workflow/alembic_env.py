"""The project's Alembic environment: create it (`init`), find its head, write revisions into it."""

from __future__ import annotations

import secrets
import shutil
from datetime import datetime
from pathlib import Path

import psycopg
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from schemadiff.core.plan import Plan
from schemadiff.errors import DatabaseError, SchemadiffError, first_line
from schemadiff.pg import connection
from schemadiff.render.revision_file import (
    RevisionInfo,
    render_revision,
    revision_filename,
)

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
    if _ignore_embedded_server(root / ".gitignore"):
        created.append(root / ".gitignore")
    return created


EMBEDDED_HOME = ".schemadiff/"  # the embedded server's data directory, relative to where it runs


def _ignore_embedded_server(gitignore: Path) -> bool:
    """Add the embedded server's data directory to ``.gitignore`` unless it is already listed;
    whether the file changed."""
    text = gitignore.read_text() if gitignore.exists() else ""
    listed = {line.strip().rstrip("/") for line in text.splitlines()}
    if EMBEDDED_HOME.rstrip("/") in listed or "/" + EMBEDDED_HOME.rstrip("/") in listed:
        return False
    gitignore.write_text(text + ("" if not text or text.endswith("\n") else "\n") + EMBEDDED_HOME + "\n")
    return True


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
        raise SchemadiffError(
            f"the versions directory has {len(heads)} heads ({', '.join(heads)}); "
            "merge them with `alembic merge heads` first"
        )
    return heads[0] if heads else None


def write_revision(
    plan: Plan,
    cfg: Config,
    message: str,
    why: str | None,
    versions_override: str | None = None,
    now: datetime | None = None,
) -> Path:
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


def database_revisions(url: str) -> tuple[str, ...]:
    """The revisions recorded in ``public.alembic_version`` (none when the table is absent)."""
    try:
        with connection.connect(url) as conn:
            if not (conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone() or (0,))[0]:
                return ()
            return tuple(r[0] for r in conn.execute("SELECT version_num FROM public.alembic_version ORDER BY 1"))
    except psycopg.Error as exc:
        raise DatabaseError(connection.redact(f"database error: {first_line(exc)}", url)) from None


def pending_revisions(cfg: Config, url: str, versions_override: str | None = None) -> list[str]:
    """Revisions of the versions directory the database has not run, newest first, as
    ``"<id> (<message>)"``; empty when the database is at the head."""
    versions = versions_directory(cfg, versions_override)
    script = script_directory(cfg, versions if versions_override else None)
    current = database_revisions(url)
    try:
        pending = list(script.iterate_revisions("heads", current or "base"))
    except CommandError as exc:
        raise SchemadiffError(
            f"the database is at revision {', '.join(current)}, which the versions directory "
            f"{versions} does not have ({first_line(exc)}); plan against the database this "
            "project migrates"
        ) from None
    return [f"{s.revision} ({s.doc})" for s in pending]


def require_up_to_date(cfg: Config, url: str, versions_override: str | None = None) -> None:
    """Refuse to write a revision onto a database behind the newest one: it could not run there."""
    pending = pending_revisions(cfg, url, versions_override)
    if pending:
        current = ", ".join(database_revisions(url)) or "(none)"
        raise SchemadiffError(
            f"the database is at revision {current} but the versions directory has pending "
            f"revision(s) {', '.join(pending)}; apply them first (schemadiff apply) or plan "
            "against an up-to-date database"
        )
