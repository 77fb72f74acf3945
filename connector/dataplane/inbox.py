"""The consumer's local-folder sink: a pushed body is written below a folder, safely.

The relative path follows the folder rules of :mod:`connector.dataplane.folders` (no ``..``,
no absolute path, no hidden names). Directories are created and opened one component at a time
from the folder's own descriptor with ``O_NOFOLLOW``, so neither an existing symlink nor one
swapped in meanwhile leads outside. The body goes to a temporary file that replaces the target
only once complete; a failed or cut-off push leaves nothing half-written behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass

from connector.dataplane.folders import folder_segments
from connector.errors import Forbidden, KarezError, PayloadTooLarge

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Written:
    path: str
    size: int
    sha256: str


def safe_name(name: str) -> str:
    """A file name made from ``name`` (an asset id) that the folder rules accept."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return cleaned[:200] or "data"


@contextlib.asynccontextmanager
async def incoming(folder: str, relative: str) -> AsyncIterator[tuple[int, list[str]]]:
    """A temporary file beneath ``folder`` for ``relative``: yields ``(fd, segments)``; moved
    into place (after ``fsync``) when the block ends, discarded if it raises.
    :class:`Forbidden` for a refused path."""
    segments = folder_segments(relative)
    if not segments:
        raise Forbidden("A received file needs a name")
    loop = asyncio.get_running_loop()
    dir_fd, tmp_name = await loop.run_in_executor(None, prepare_target, folder, segments)
    fd = -1
    try:
        fd = await loop.run_in_executor(None, create_temp, dir_fd, tmp_name)
        yield fd, segments
        await loop.run_in_executor(None, os.fsync, fd)
        os.close(fd)
        fd = -1
        await loop.run_in_executor(None, commit_target, dir_fd, tmp_name, segments[-1])
    except BaseException:
        if fd >= 0:
            os.close(fd)
        discard(dir_fd, tmp_name)
        raise
    finally:
        os.close(dir_fd)


async def write_into(
    folder: str, relative: str, chunks: AsyncIterator[bytes], max_bytes: int | None = None
) -> Written:
    """Write ``chunks`` to ``folder/relative``; :class:`Forbidden` for a refused path."""
    loop = asyncio.get_running_loop()
    digest = hashlib.sha256()
    size = 0
    async with incoming(folder, relative) as (fd, segments):
        async for chunk in chunks:
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise PayloadTooLarge(f"a pushed body may have at most {max_bytes} bytes")
            digest.update(chunk)
            await loop.run_in_executor(None, write_all, fd, chunk)
    return Written("/".join(segments), size, digest.hexdigest())


def prepare_target(folder: str, segments: list[str]) -> tuple[int, str]:
    """Open (creating) the target's directory beneath ``folder``; returns its fd and a fresh
    temporary name in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    except OSError:
        raise KarezError("The destination folder cannot be opened") from None
    try:
        for name in segments[:-1]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o750, dir_fd=fd)
            try:
                child = os.open(
                    name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=fd
                )
            except OSError:
                raise Forbidden("The path leads through something that is not a folder") from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd, f".karez-incoming-{secrets.token_hex(8)}"


def create_temp(dir_fd: int, name: str) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
    return os.open(name, flags, 0o640, dir_fd=dir_fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def commit_target(dir_fd: int, tmp_name: str, final: str) -> None:
    """Move the complete body into place; an existing target must be a regular file (a
    symlink or folder there is refused, never written through)."""
    try:
        info = os.stat(final, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise Forbidden("The target exists and is not a regular file")
    os.replace(tmp_name, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def discard(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        return
