"""Persistence: the ``Store`` interface and a factory choosing a backend by URL.

URLs:

* ``sqlite:///path/to/file.db``: a SQLite file; everything after ``sqlite:///`` is the path, so
  ``sqlite:///data/karez.db`` is relative to the working directory and ``sqlite:////var/k.db``
  is absolute. Missing parent directories are created on open.
* ``sqlite://:memory:`` (or ``sqlite:///:memory:``): a private in-memory database.
* ``postgresql://user:password@host:port/database`` (or ``postgres://``): a PostgreSQL
  database; asyncpg's query parameters (``sslmode=...``) pass through. ``?schema=name`` keeps
  the tables in that schema (created if missing, used as ``search_path``), e.g. one schema per
  test run or per node sharing a database.
"""

from __future__ import annotations

from connector.store.base import ConcurrentUpdate, Session, Store

__all__ = ["ConcurrentUpdate", "Session", "Store", "open_store"]

_SQLITE = "sqlite://"
_MEMORY = ":memory:"


def open_store(url: str) -> Store:
    """The store for ``url``, not yet connected: ``await store.open()`` before use."""
    if url.startswith(_SQLITE):
        from connector.store.sqlite import SqliteStore

        rest, _, query = url[len(_SQLITE) :].partition("?")
        threaded = query in ("threaded=1", "threaded=true")
        if query and not threaded:
            raise ValueError(f"bad SQLite URL {url!r}: the only option is ?threaded=1")
        if rest in (_MEMORY, "/" + _MEMORY):
            return SqliteStore(_MEMORY, threaded=threaded)
        if not rest.startswith("/") or len(rest) == 1:
            raise ValueError(f"bad SQLite URL {url!r}: use sqlite:///path or sqlite://:memory:")
        return SqliteStore(rest[1:], threaded=threaded)
    if url.startswith(("postgresql://", "postgres://")):
        from connector.store.postgres import PostgresStore

        return PostgresStore.from_url(url)
    raise ValueError(f"unsupported store URL {url!r}: use sqlite:// or postgresql://")
