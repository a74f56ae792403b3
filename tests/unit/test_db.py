"""URLs: where they come from, how they are shown. No database needed."""

from __future__ import annotations

import pytest

from schemadiff.db import redact, resolve_url, to_libpq, to_sqlalchemy
from schemadiff.errors import DatabaseError


@pytest.mark.parametrize("text,shown", [
    ("postgresql://app:p%40ss%3Aw%2Frd%25@db:5432/prod", "postgresql://app:***@db:5432/prod"),
    ("error at postgresql+psycopg://u:secret@h/d now", "error at postgresql+psycopg://u:***@h/d now"),
    ("host=h password=secret dbname=d", "host=h password=*** dbname=d"),
    ("postgresql://postgres:@/db?host=/tmp/x", "postgresql://postgres:@/db?host=/tmp/x"),  # no password to hide
])
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_redact_hides_the_decoded_password_anywhere() -> None:
    url = "postgresql://app:p%40ss%3Aw%2Frd%25@db/prod"
    assert redact("server said: password 'p@ss:w/rd%' is wrong", url) == "server said: password '***' is wrong"


def test_both_url_forms_are_accepted() -> None:
    assert to_libpq("postgresql+psycopg://u@h/d") == "postgresql://u@h/d"
    assert to_libpq("postgres://u@h/d") == "postgresql://u@h/d"
    assert to_sqlalchemy("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    with pytest.raises(DatabaseError, match="not a PostgreSQL URL: mysql://u:\\*\\*\\*@h/d"):
        to_libpq("mysql://u:secret@h/d")


def test_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-database-url/d")
    monkeypatch.setenv("SCHEMADIFF_DATABASE_URL", "postgresql://from-schemadiff/d")
    assert resolve_url("postgresql://from-flag/d").source == "--database-url"
    assert resolve_url(None).url == "postgresql://from-schemadiff/d"
    monkeypatch.delenv("SCHEMADIFF_DATABASE_URL")
    target = resolve_url(None)
    assert (target.url, target.source) == ("postgresql://from-database-url/d", "DATABASE_URL")
