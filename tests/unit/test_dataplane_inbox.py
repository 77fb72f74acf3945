"""The consumer's inbox writer: safe paths, nothing written through symlinks, size limit,
no half-written file left behind."""

from __future__ import annotations

import os

import pytest

from connector.dataplane.inbox import safe_name, write_into
from connector.errors import Forbidden, PayloadTooLarge


async def chunks(*parts: bytes):
    for part in parts:
        yield part


async def test_writes_below_the_folder_atomically(tmp_path):
    written = await write_into(str(tmp_path / "in"), "a/b/c.csv", chunks(b"x,y\n", b"1,2\n"))
    assert (tmp_path / "in/a/b/c.csv").read_bytes() == b"x,y\n1,2\n"
    assert written.size == 8 and written.path == "a/b/c.csv"
    assert [p.name for p in (tmp_path / "in/a/b").iterdir()] == ["c.csv"]


@pytest.mark.parametrize("relative", ["../x", "/abs", "a/../../x", ".hidden", "a\\b", ""])
async def test_refused_paths(tmp_path, relative):
    with pytest.raises(Forbidden):
        await write_into(str(tmp_path / "in"), relative, chunks(b"x"))
    assert not (tmp_path / "x").exists()


async def test_never_through_a_symlink(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (inbox / "link").symlink_to(outside)
    with pytest.raises(Forbidden):
        await write_into(str(inbox), "link/x.csv", chunks(b"x"))
    assert not (outside / "x.csv").exists()
    target = tmp_path / "target.txt"
    target.write_bytes(b"keep")
    (inbox / "file-link").symlink_to(target)
    with pytest.raises(Forbidden):  # a symlink where the file would go is refused
        await write_into(str(inbox), "file-link", chunks(b"new"))
    assert target.read_bytes() == b"keep"
    assert sorted(p.name for p in inbox.iterdir()) == ["file-link", "link"]


async def test_size_limit_leaves_nothing_behind(tmp_path):
    with pytest.raises(PayloadTooLarge):
        await write_into(str(tmp_path), "big.bin", chunks(b"x" * 600, b"x" * 600), max_bytes=1000)
    assert os.listdir(tmp_path) == []


def test_safe_name():
    assert safe_name("cotton-yield-2026") == "cotton-yield-2026"
    assert safe_name("../etc/passwd") == "_etc_passwd"
    assert safe_name("...") == "data"
