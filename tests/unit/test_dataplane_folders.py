"""``File`` addresses naming a folder: path rules, listings, and serving over a real server."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from connector.dataplane import folders
from connector.dataplane.folders import (
    contained,
    folder_segments,
    list_folder,
    open_in_folder,
)
from connector.errors import Forbidden, NotFound
from tests.unit.public_app import Start, public_endpoints


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    async with public_endpoints() as start_:
        yield start_


SECRET = b"the provider's private key"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``shared/`` with files, a sub-folder, hidden entries and symlinks in and out;
    ``outside/`` beside it holds what must never be served."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    root = tmp_path / "shared"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.csv").write_text("id,x\n1,2\n")
    (root / "b.json").write_text("{}")
    (root / "sub" / "c.csv").write_bytes(os.urandom(300_000))
    (root / "sub" / "deeper" / "d.txt").write_text("deep")
    (root / "empty").mkdir()
    (root / ".env").write_text("PASSWORD=1")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]")
    (root / "escape.txt").symlink_to(outside / "secret.txt")  # a file link out
    (root / "escape-dir").symlink_to(outside)  # a directory link out
    (root / "inside.csv").symlink_to(root / "a.csv")  # a link that stays inside
    (root / "to-hidden").symlink_to(root / ".env")  # inside, but onto a hidden file
    (root / "dangling").symlink_to(root / "nothing-here")
    os.mkfifo(root / "fifo")  # opened without blocking, and refused
    return root


# --- path rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sub_path", "segments"),
    [("", []), ("a.csv", ["a.csv"]), ("sub/c.csv", ["sub", "c.csv"]), ("sub/", ["sub"])],
)
def test_segments(sub_path, segments):
    assert folder_segments(sub_path) == segments


@pytest.mark.parametrize(
    ("sub_path", "reason"),
    [
        ("..", "'..'"),
        ("../outside/secret.txt", "'..'"),
        ("sub/../../outside", "'..'"),
        ("sub/./c.csv", "'.'"),
        ("/etc/passwd", "relative"),
        ("//etc/passwd", "relative"),
        ("sub\\..\\..\\x", "backslash"),
        ("a.csv\x00.png", "NUL"),
        ("a\nb", "control"),
        (".env", "Hidden"),
        ("sub/.git/config", "Hidden"),
    ],
)
def test_refused_paths(sub_path, reason):
    with pytest.raises(Forbidden) as caught:
        folder_segments(sub_path)
    assert reason in caught.value.message


def test_containment():
    assert contained("/srv/data", "/srv/data") == []
    assert contained("/srv/data", "/srv/data/a/b") == ["a", "b"]
    assert contained("/srv/data", "/srv/database/x") is None  # a prefix is not a parent
    assert contained("/srv/data", "/srv") is None
    assert contained("/", "/etc/passwd") == ["etc", "passwd"]


def _open(root: Path, sub_path: str) -> folders.Opened:
    fd = os.open(root, os.O_RDONLY)
    try:
        return open_in_folder(fd, str(root), sub_path)
    finally:
        os.close(fd)


@pytest.mark.parametrize("sub_path", ["escape.txt", "escape-dir/secret.txt", "escape-dir"])
def test_symlinks_out_of_the_folder_are_refused(tree, sub_path):
    with pytest.raises(Forbidden, match="outside the shared folder"):
        _open(tree, sub_path)


def test_symlink_inside_is_followed_but_not_onto_hidden_files(tree):
    opened = _open(tree, "inside.csv")
    try:
        assert os.read(opened.fd, 100) == b"id,x\n1,2\n"
        assert opened.name == "a.csv"
    finally:
        os.close(opened.fd)
    with pytest.raises(Forbidden, match="Hidden"):
        _open(tree, "to-hidden")


@pytest.mark.parametrize("sub_path", ["missing.csv", "dangling", "a.csv/x", "fifo"])
def test_missing_or_special_files_are_not_found(tree, sub_path):
    with pytest.raises(NotFound):
        _open(tree, sub_path)


def test_a_link_swapped_in_after_the_check_is_not_followed(tree, monkeypatch):
    """The race: the path resolves inside, then a component becomes a link out."""
    (tree.parent / "outside" / "c.csv").write_bytes(SECRET)  # what following the link finds
    real_realpath = os.path.realpath

    def racing(path, *args, **kw):
        result = real_realpath(path, *args, **kw)
        if path.endswith("sub/c.csv"):
            os.rename(tree / "sub", tree / "sub-moved")
            (tree / "sub").symlink_to(tree.parent / "outside")
        return result

    monkeypatch.setattr(os.path, "realpath", racing)
    with pytest.raises(NotFound):
        _open(tree, "sub/c.csv")


# --- listings ------------------------------------------------------------------------------


def _list(root: Path, sub_path: str = "", limit: int = folders.MAX_LISTING):
    opened = _open(root, sub_path)
    try:
        return list_folder(opened.fd, str(root), opened.segments, limit)
    finally:
        os.close(opened.fd)


def test_listing_is_recursive_sorted_and_leaves_out_hidden_and_escaping_entries(tree):
    files, truncated = _list(tree)
    paths = [f["path"] for f in files]
    assert paths == ["a.csv", "b.json", "inside.csv", "sub/c.csv", "sub/deeper/d.txt"]
    assert paths == sorted(paths)
    assert not truncated
    by_path = {f["path"]: f for f in files}
    assert by_path["sub/c.csv"]["size"] == 300_000
    assert by_path["a.csv"]["modified"].endswith("Z")


def test_listing_of_a_sub_folder_uses_paths_from_the_root(tree):
    files, _ = _list(tree, "sub")
    assert [f["path"] for f in files] == ["sub/c.csv", "sub/deeper/d.txt"]
    assert _list(tree, "empty") == ([], False)


def test_string_order_across_levels(tmp_path):
    for name in ("a/b.csv", "a.csv", "a-b.csv", "ab/z", "a0"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    paths = [f["path"] for f in _list(tmp_path)[0]]
    assert paths == sorted(paths) == ["a-b.csv", "a.csv", "a/b.csv", "a0", "ab/z"]


def test_listing_is_capped_and_reads_big_directories_in_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(folders, "_SCAN_BATCH", 7)
    for i in range(50):
        (tmp_path / f"f{i:03d}").write_text("x")
    (tmp_path / "zz").mkdir()
    (tmp_path / "zz" / "last").write_text("x")
    files, truncated = _list(tmp_path)
    assert [f["path"] for f in files] == [f"f{i:03d}" for i in range(50)] + ["zz/last"]
    assert not truncated
    files, truncated = _list(tmp_path, limit=20)
    assert len(files) == 20 and truncated
    files, truncated = _list(tmp_path, limit=51)
    assert len(files) == 51 and not truncated


# --- over HTTP -----------------------------------------------------------------------------


async def raw_get(client: TestClient, path: str, **kw):
    """GET a path sent exactly as written (no client-side dot-segment normalising)."""
    url = URL(str(client.make_url("")).rstrip("/") + path, encoded=True)
    return await client.session.get(url, **kw)


async def test_listing_over_http(tree, start):
    client, done = await start({"type": "File", "path": str(tree)})
    for path in ("/public", "/public/"):
        resp = await client.get(path)
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
        body = await resp.read()
        listing = json.loads(body)
        assert listing["truncated"] is False
        assert [f["path"] for f in listing["files"]][:2] == ["a.csv", "b.json"]
    assert done[-1] == (len(body), hashlib.sha256(body).hexdigest())
    resp = await client.get("/public/sub/deeper/")
    assert [f["path"] for f in (await resp.json())["files"]] == ["sub/deeper/d.txt"]
    resp = await client.head("/public/sub")
    assert resp.status == 200 and int(resp.headers["Content-Length"]) > 0


async def test_file_in_a_sub_folder(tree, start):
    data = (tree / "sub" / "c.csv").read_bytes()
    client, done = await start({"type": "File", "path": str(tree), "contentType": "x/ignored"})
    resp = await client.get("/public/sub/c.csv")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv"
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["Content-Length"] == str(len(data))
    assert await resp.read() == data
    assert done == [(len(data), hashlib.sha256(data).hexdigest())]
    resp = await client.get("/public/inside.csv")
    assert await resp.read() == b"id,x\n1,2\n"


async def test_range_resume_in_a_folder(tree, start):
    data = (tree / "sub" / "c.csv").read_bytes()
    client, _ = await start({"type": "File", "path": str(tree)})
    head = await client.head("/public/sub/c.csv")
    etag = head.headers["ETag"]
    first = await (await client.get("/public/sub/c.csv", headers={"Range": "bytes=0-99999"})).read()
    resp = await client.get(
        "/public/sub/c.csv", headers={"Range": f"bytes={len(first)}-", "If-Range": etag}
    )
    assert resp.status == 206
    assert resp.headers["Content-Range"] == f"bytes 100000-{len(data) - 1}/{len(data)}"
    assert first + await resp.read() == data
    resp = await client.get("/public/sub/c.csv", headers={"Range": "bytes=5-", "If-Range": '"x"'})
    assert resp.status == 200 and await resp.read() == data


@pytest.mark.parametrize(
    ("raw_path", "status"),
    [
        ("/public/%2E%2E/outside/secret.txt", 403),
        ("/public/sub/%2e%2e/%2e%2e/outside/secret.txt", 403),
        ("/public/..%2Foutside%2Fsecret.txt", 403),
        ("/public//etc/passwd", 403),
        ("/public/sub%5C..%5C..%5Coutside%5Csecret.txt", 403),
        ("/public/a.csv%00.png", 403),
        ("/public/.env", 403),
        ("/public/.git/config", 403),
        ("/public/to-hidden", 403),
        ("/public/escape.txt", 403),
        ("/public/escape-dir/secret.txt", 403),
        ("/public/escape-dir/", 403),
        ("/public/missing.csv", 404),
        ("/public/a.csv/", 404),
    ],
)
async def test_refusals_over_http(tree, start, raw_path, status):
    client, done = await start({"type": "File", "path": str(tree)})
    resp = await raw_get(client, raw_path)
    body = await resp.read()
    assert resp.status == status, body
    assert SECRET not in body and b"PASSWORD" not in body
    assert str(tree.parent).encode() not in body
    assert json.loads(body)["errors"][0]
    assert done == []


async def test_single_file_keeps_its_behaviour_and_refuses_a_sub_path(tree, start):
    client, _ = await start({"type": "File", "path": str(tree / "a.csv")})
    assert await (await client.get("/public")).read() == b"id,x\n1,2\n"
    assert await (await client.get("/public/")).read() == b"id,x\n1,2\n"
    resp = await client.get("/public/other.csv")
    assert resp.status == 404
    assert "single file" in (await resp.json())["errors"][0]


async def test_only_get_and_head_on_folders(tree, start):
    client, _ = await start({"type": "File", "path": str(tree)})
    assert (await client.post("/public/a.csv", data=b"x")).status == 400
    assert (await client.delete("/public/a.csv")).status == 400
