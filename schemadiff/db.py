"""Database URLs and connections: where the URL comes from, how it is shown, how we connect."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.types.string import TextBinaryLoader

from schemadiff import embedded
from schemadiff.errors import DatabaseError, first_line

URL_ENV_VARS = ("SCHEMADIFF_DATABASE_URL", "DATABASE_URL")
_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+psycopg2?|\+psycopg)?://", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """A resolved database URL (psycopg form) and where it came from."""

    url: str
    source: str  # "--database-url", an env var name, or "embedded"

    @property
    def shown(self) -> str:
        return redact(self.url)


def resolve_url(flag: str | None, database: str = "postgres") -> Target:
    """``--database-url``, else SCHEMADIFF_DATABASE_URL, else DATABASE_URL, else embedded."""
    if flag:
        return Target(to_libpq(flag), "--database-url")
    for var in URL_ENV_VARS:
        if os.environ.get(var):
            return Target(to_libpq(os.environ[var]), var)
    return Target(embedded.server_url(database=database), "embedded")


def to_libpq(url: str) -> str:
    """Accept SQLAlchemy's ``postgresql+psycopg://`` as well as plain ``postgresql://``."""
    if not _SCHEME.match(url):
        raise DatabaseError(f"not a PostgreSQL URL: {redact(url)}; expected postgresql://user@host/db")
    return _SCHEME.sub("postgresql://", url, count=1)


def to_sqlalchemy(url: str) -> str:
    return _SCHEME.sub("postgresql+psycopg://", url, count=1)


def password_of(url: str) -> str | None:
    try:
        return unquote(urlsplit(url).password or "") or None
    except ValueError:
        return None


def redact(text: str, url: str | None = None) -> str:
    """Replace every password in ``text`` (URL userinfo, and ``url``'s password anywhere) by ***."""
    secret = password_of(url) if url else None
    out = re.sub(r"(://[^/:@\s]*:)[^@\s]+@", r"\1***@", text)  # an empty password stays empty
    out = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", out, flags=re.IGNORECASE)
    if secret:
        out = out.replace(secret, "***")
        raw = urlsplit(url).password if url else None
        if raw:
            out = out.replace(raw, "***")
    return out


class OneStatementCursor(psycopg.Cursor[Any]):
    """Every query goes over the extended protocol (binary results), even without parameters, so
    the server itself refuses a second statement in one message; psycopg would otherwise send a
    query without parameters as a simple-protocol script."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None) -> OneStatementCursor:
        super().execute(query, params, prepare=prepare, binary=True if binary is None else binary)
        return self


class _CharLoader(TextBinaryLoader):
    """PostgreSQL's one-byte ``"char"`` in binary is a NUL byte when empty (``attidentity``,
    ``attgenerated``); as text it is an empty string: keep the text meaning."""

    def load(self, data: Any) -> str:
        return str(super().load(data)).rstrip("\x00")


def connect(url: str, autocommit: bool = False) -> psycopg.Connection:
    """Open a psycopg connection (one statement per message); failures become one redacted line."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=10,
                               application_name="schemadiff", cursor_factory=OneStatementCursor)
        conn.adapters.register_loader('"char"', _CharLoader)
        return conn
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to {redact(url)}: {redact(first_line(exc), url)}") from None


def database_url(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return parts._replace(path="/" + database).geturl()
