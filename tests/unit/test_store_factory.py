"""``open_store`` URL handling."""

from __future__ import annotations

import pytest

from connector.store import open_store
from connector.store.postgres import PostgresStore, split_url
from connector.store.sqlite import SqliteStore


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/karez.db", "data/karez.db"),
        ("sqlite:////var/lib/karez/k.db", "/var/lib/karez/k.db"),
        ("sqlite://:memory:", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls(url: str, path: str) -> None:
    store = open_store(url)
    assert isinstance(store, SqliteStore)
    assert store.path == path


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite://relative.db"])
def test_bad_sqlite_urls(url: str) -> None:
    with pytest.raises(ValueError):
        open_store(url)


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError):
        open_store("mysql://localhost/db")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgres_url_with_schema(scheme: str) -> None:
    store = open_store(f"{scheme}://u:pw@db:5433/karez?sslmode=disable&schema=node_a")
    assert isinstance(store, PostgresStore)
    assert store.schema == "node_a"
    assert store.dsn == f"{scheme}://u:pw@db:5433/karez?sslmode=disable"


def test_postgres_url_without_schema() -> None:
    assert split_url("postgresql://db/karez") == ("postgresql://db/karez", None)


@pytest.mark.parametrize("schema", ["Upper", "1abc", "a-b", "x;drop", ""])
def test_postgres_bad_schema(schema: str) -> None:
    with pytest.raises(ValueError):
        open_store(f"postgresql://db/karez?schema={schema}")
