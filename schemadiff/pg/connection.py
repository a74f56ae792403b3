"""Database URLs and connections: where the URL comes from, how it is shown, how we connect."""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg import abc, generators, pq, sql
from psycopg.adapt import PyFormat, Transformer
from psycopg.conninfo import make_conninfo
from psycopg.pq.abc import PGresult
from psycopg.types.string import TextBinaryLoader

from schemadiff.errors import DatabaseError, first_line
from schemadiff.pg import embedded_server

URL_ENV_VARS = ("SCHEMADIFF_DATABASE_URL", "DATABASE_URL")
_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+psycopg2?|\+psycopg)?://", re.IGNORECASE)


@dataclass(frozen=True)
class ResolvedUrl:
    """A resolved database URL (psycopg form) and where it came from."""

    url: str
    source: str  # "--database-url", an env var name, or "embedded"

    @property
    def shown(self) -> str:
        return redact(self.url)


def resolve_url(flag: str | None, database: str = "postgres") -> ResolvedUrl:
    """``--database-url``, else SCHEMADIFF_DATABASE_URL, else DATABASE_URL, else embedded."""
    if flag:
        return ResolvedUrl(to_libpq(flag), "--database-url")
    for var in URL_ENV_VARS:
        if os.environ.get(var):
            return ResolvedUrl(to_libpq(os.environ[var]), var)
    return ResolvedUrl(embedded_server.server_url(database=database), "embedded")


def to_libpq(url: str) -> str:
    """Accept SQLAlchemy's ``postgresql+psycopg://`` as well as plain ``postgresql://``; a user or
    password holding raw ``@``, ``/``, ``?``, ``#``, spaces or a stray ``%`` is percent-encoded, so
    libpq and SQLAlchemy read the userinfo as ending at the last ``@``, as the person meant."""
    if not _SCHEME.match(url):
        raise DatabaseError(f"not a PostgreSQL URL: {redact(url)}; expected postgresql://user@host/db")
    return _encode_userinfo(_SCHEME.sub("postgresql://", url, count=1))


def to_sqlalchemy(url: str) -> str:
    return _SCHEME.sub("postgresql+psycopg://", url, count=1)


def split_userinfo(url: str) -> tuple[str, str | None, str | None, str]:
    """``(scheme://, user, password, rest)`` of a URL whose userinfo ends at the LAST ``@`` before
    the query (so a query value may hold ``@``, a password may not hold a raw ``?``); user and
    password raw (as written), None when absent."""
    head, sep, tail = url.partition("://")
    before_query = tail.partition("?")[0]
    if not sep or "@" not in before_query:
        return url, None, None, ""
    userinfo, _, rest = before_query.rpartition("@")
    rest += tail[len(before_query) :]
    user, colon, password = userinfo.partition(":")
    return head + sep, user, password if colon else None, rest


_NEEDS_ENCODING = re.compile(r"[@/?#\s]|%(?![0-9A-Fa-f]{2})")


def _encode_userinfo(url: str) -> str:
    head, user, password, rest = split_userinfo(url)
    if user is None or not _NEEDS_ENCODING.search(user + (password or "")):
        return url
    encoded = quote(unquote(user), safe="") + ("" if password is None else ":" + quote(unquote(password), safe=""))
    return f"{head}{encoded}@{rest}"


def password_of(url: str) -> str | None:
    """The decoded password of ``url`` (userinfo up to its last ``@``), None when it has none."""
    password = split_userinfo(url)[2]
    return unquote(password) if password else None


# scheme://user:PASSWORD@ — the password runs to the last @ on the line before any other URL starts
_URL_PASSWORD = re.compile(r"(://[^/:\s]*):((?:(?!://)[^\n])*)@")


def _hide_url_password(match: re.Match[str]) -> str:
    return f"{match[1]}@" if match[2] == "" else f"{match[1]}:***@"  # user:@host shows as user@host


def redact(text: str, url: str | None = None) -> str:
    """Replace every password in ``text`` by ***: a URL's userinfo password (up to the last ``@``,
    raw ``@ / :`` and spaces included), ``password=`` settings, and ``url``'s password anywhere, as
    written, percent-encoded and decoded. An empty password is dropped: ``user:@host`` → ``user@host``."""
    out = _URL_PASSWORD.sub(_hide_url_password, text)
    out = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", out, flags=re.IGNORECASE)
    raw = split_userinfo(url)[2] if url else None
    if raw:
        forms = {raw, unquote(raw), quote(unquote(raw), safe="")}
        for form in sorted(forms, key=len, reverse=True):
            out = out.replace(form, "***")
    return out


class OneStatementCursor(psycopg.Cursor[Any]):
    """Every query goes over the extended protocol (binary results), even without parameters, so
    the server itself refuses a second statement in one message; psycopg would otherwise send a
    query without parameters as a simple-protocol script."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> OneStatementCursor:
        super().execute(query, params, prepare=prepare, binary=True if binary is None else binary)
        return self


class _CharLoader(TextBinaryLoader):
    """PostgreSQL's one-byte ``"char"`` in binary is a NUL byte when empty (``attidentity``,
    ``attgenerated``); as text it is an empty string: keep the text meaning."""

    def load(self, data: Any) -> str:
        return str(super().load(data)).rstrip("\x00")


def connect(url: str, autocommit: bool = False) -> psycopg.Connection:
    """Open a psycopg connection (one statement per message); failures become one redacted line."""
    return _open(url, autocommit, redact(url), lambda text: redact(text, url))


def connect_like(conn: psycopg.Connection) -> psycopg.Connection:
    """Another connection to ``conn``'s server and database, with its parameters (its password too,
    which libpq does not show in the connection string), for work in parallel."""
    info = conn.info
    password = info.password
    conninfo = make_conninfo(info.dsn, password=password) if password else info.dsn

    def hide(text: str) -> str:
        return redact(text.replace(password, "***") if password else text)

    return _open(conninfo, False, f"database {info.dbname!r} on {info.host}:{info.port}", hide)


def _open(conninfo: str, autocommit: bool, shown: str, hide: Callable[[str], str]) -> psycopg.Connection:
    try:
        conn = psycopg.connect(
            conninfo,
            autocommit=autocommit,
            connect_timeout=10,
            application_name="schemadiff",
            cursor_factory=OneStatementCursor,
        )
        conn.adapters.register_loader('"char"', _CharLoader)
        conn.execute("SET standard_conforming_strings = on")  # a literal's backslash is a backslash
        if not autocommit:
            conn.commit()
        return conn
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to {shown}: {hide(first_line(exc))}") from None


@dataclass(frozen=True)
class Message:
    """One SQL statement for :func:`pipelined`: its text with PostgreSQL's own ``$1``, ``$2`` …
    placeholders, its values (adapted by psycopg, sent apart from the text), and optionally the
    name under which it is prepared once per connection, so its plan is made once."""

    sql: str
    params: tuple[Any, ...] = ()
    prepared: str | None = None


_prepared: weakref.WeakKeyDictionary[psycopg.Connection, set[str]] = weakref.WeakKeyDictionary()
_prepared_lock = threading.Lock()


def pipelined(
    conn: psycopg.Connection,
    messages: Sequence[Message],
    before_error: Callable[[list[list[tuple[Any, ...]]]], None] | None = None,
) -> list[list[tuple[Any, ...]]]:
    """Send ``messages`` in one write and one round trip; each message's rows.

    Each statement is its own extended-protocol message (Parse, Bind, Execute: the server refuses
    a second statement in one), its values bound parameters; one Sync follows the last. Outside
    an explicit transaction the statements up to that Sync are one implicit transaction: it
    commits only when every statement succeeded. The first error is raised (as psycopg raises
    it) once the server has answered everything, so the connection is idle again afterwards;
    ``before_error`` first sees the rows of the statements answered before it (and may raise).

    psycopg's own pipeline writes and polls the socket once per statement; this sends all the
    statements as one buffer and reads the answers back together.
    """
    pgconn, tx, encoding = conn.pgconn, Transformer.from_context(conn), conn.info.encoding
    with _prepared_lock:
        prepared = _prepared.setdefault(conn, set())
    if any(m.prepared for m in messages):
        # psycopg deallocates ALL of a connection's prepared statements after it runs a DROP, ALTER
        # or ROLLBACK while holding prepared statements of its own: it must hold none beside ours
        conn.prepare_threshold = None
    answers: list[int | str] = []  # what each answer is for: a message, or the name of a Prepare
    with conn.lock:
        pgconn.enter_pipeline_mode()
        try:
            for n, message in enumerate(messages):
                params = tx.dump_sequence(message.params, [PyFormat.AUTO] * len(message.params))
                if message.prepared is None:
                    pgconn.send_query_params(
                        message.sql.encode(encoding), params, tx.types, tx.formats, pq.Format.BINARY
                    )
                else:
                    name = message.prepared.encode()
                    if message.prepared not in prepared and message.prepared not in answers:
                        pgconn.send_prepare(name, message.sql.encode(encoding), tx.types)
                        answers.append(message.prepared)
                    pgconn.send_query_prepared(name, params, tx.formats, pq.Format.BINARY)
                answers.append(n)
            pgconn.pipeline_sync()
            conn.wait(generators.send(pgconn))
            rows, error = _read_until_sync(conn, tx, answers, prepared, len(messages))
        finally:
            _leave_pipeline_mode(conn)
    if isinstance(error, psycopg.errors.InvalidSqlStatementName):
        prepared.clear()  # deallocated behind our back: prepared again next time
    if error is not None:
        if before_error is not None:
            before_error(rows)
        raise error
    return rows


def _read_until_sync(
    conn: psycopg.Connection, tx: abc.Transformer, answers: list[int | str], prepared: set[str], count: int
) -> tuple[list[list[tuple[Any, ...]]], psycopg.Error | None]:
    """Every answer up to the Sync: the rows of each message, and the first error; a statement
    whose Prepare succeeded is added to ``prepared`` (the server keeps it whatever follows)."""
    rows: list[list[tuple[Any, ...]]] = [[] for _ in range(count)]
    error: psycopg.Error | None = None
    pending = iter(answers)
    for result in _last_results(conn):
        answer = next(pending, None)
        if result.status == pq.ExecStatus.FATAL_ERROR and error is None:
            error = psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
        elif isinstance(answer, str) and result.status == pq.ExecStatus.COMMAND_OK:
            prepared.add(answer)
        elif isinstance(answer, int) and result.status == pq.ExecStatus.TUPLES_OK:
            tx.set_pgresult(result)
            rows[answer] = tx.load_rows(0, result.ntuples, tuple)
    return rows, error


def _last_results(conn: psycopg.Connection) -> Iterator[PGresult]:
    """The last result of each statement in the pipeline, up to its Sync (which is read too). It
    waits on the socket only while the answer read so far holds no complete result."""
    pgconn, last = conn.pgconn, None
    while True:
        result = conn.wait(generators.fetch(pgconn)) if pgconn.is_busy() else pgconn.get_result()
        if result is not None and result.status == pq.ExecStatus.PIPELINE_SYNC:
            return
        if result is not None:
            last = result
        elif last is not None:  # the end of one statement's results
            yield last
            last = None
        elif pgconn.status != pq.ConnStatus.OK:
            raise psycopg.OperationalError("the connection was lost during a pipeline")


def _leave_pipeline_mode(conn: psycopg.Connection) -> None:
    """Back to normal mode; a connection left with unread answers (interrupted) is closed."""
    if conn.pgconn.pipeline_status == pq.PipelineStatus.OFF:
        return
    try:
        conn.pgconn.exit_pipeline_mode()
    except psycopg.OperationalError:
        conn.close()


def drop_database(admin: psycopg.Connection, name: str) -> None:
    """``DROP DATABASE IF EXISTS`` on an autocommit connection, politely: PostgreSQL waits a few
    seconds for connections that are closing; only a database still in use after that is dropped
    ``WITH (FORCE)``, which terminates its sessions (each a FATAL line in the server's log)."""
    name_sql = sql.Identifier(name)
    try:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name_sql))
    except psycopg.errors.ObjectInUse:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_sql))


def database_url(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return parts._replace(path="/" + database).geturl()
