"""URLs: where they come from, how they are shown. No database needed."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from schemadiff.errors import DatabaseError
from schemadiff.pg.connection import (
    password_of,
    redact,
    resolve_url,
    to_libpq,
    to_sqlalchemy,
)


@pytest.mark.parametrize(
    "text,shown",
    [
        ("postgresql://app:p%40ss%3Aw%2Frd%25@db:5432/prod", "postgresql://app:***@db:5432/prod"),
        ("error at postgresql+psycopg://u:secret@h/d now", "error at postgresql+psycopg://u:***@h/d now"),
        ("host=h password=secret dbname=d", "host=h password=*** dbname=d"),
        (
            "postgresql://postgres:@/db?host=/tmp/x",
            "postgresql://postgres@/db?host=/tmp/x",
        ),  # an empty password: dropped
        ("at postgresql://postgres:@127.0.0.1:5432/db: refused", "at postgresql://postgres@127.0.0.1:5432/db: refused"),
        ("postgresql://postgres@h/db", "postgresql://postgres@h/db"),  # no password
        ("postgresql://u:p@ss w:rd/x@host:5432/db", "postgresql://u:***@host:5432/db"),  # raw @, space, : and /
        ("to postgresql://u:p@ss@h/d: refused", "to postgresql://u:***@h/d: refused"),
        ("postgresql://u:pa/ss@h/d", "postgresql://u:***@h/d"),
        ("postgresql://u:p%40ss@h/d", "postgresql://u:***@h/d"),
        (
            "from postgresql://a:x@h1/d to postgresql://b:y y@h2/d",
            "from postgresql://a:***@h1/d to postgresql://b:***@h2/d",
        ),
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.mark.parametrize(
    "url,password",
    [
        ("postgresql://u:p@ss w:rd/x@host:5432/db", "p@ss w:rd/x"),
        ("postgresql://u:p%40ss%20w@host/db", "p@ss w"),
        ("postgresql://u:p:q@host/db?sslcert=/a@b", "p:q"),  # the query is not userinfo
        ("postgresql://u@host/db", None),
        ("postgresql://u:@host/db", None),
    ],
)
def test_password_of_takes_the_userinfo_up_to_the_last_at(url: str, password: str | None) -> None:
    assert password_of(url) == password


@pytest.mark.parametrize(
    "raw,password",
    [
        ("p@ss w:rd/x", "p@ss w:rd/x"),
        ("p%40ss", "p@ss"),
        ("50%off", "50%off"),
    ],
)
def test_redact_hides_every_form_of_the_urls_password(raw: str, password: str) -> None:
    url = f"postgresql://u:{raw}@h/d"
    text = f"raw {raw}, decoded {password}, encoded {quote(password, safe='')}, url {url}"
    shown = redact(text, url)
    assert shown == "raw ***, decoded ***, encoded ***, url postgresql://u:***@h/d"


def test_raw_userinfo_characters_are_percent_encoded_for_libpq() -> None:
    assert to_libpq("postgresql://u:p@ss w:rd/x@host:5432/db?sslmode=disable") == (
        "postgresql://u:p%40ss%20w%3Ard%2Fx@host:5432/db?sslmode=disable"
    )
    for unchanged in (
        "postgresql://app:p%40ss@h/d",
        "postgresql://u@h/d?sslcert=/a@b",
        "postgresql://h:5/d",
        "postgresql://postgres:@/db?host=/tmp/x",
    ):
        assert to_libpq(unchanged) == unchanged


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
