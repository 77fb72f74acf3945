"""Folders behind a ``File`` data address: safe path resolution and listings.

A consumer names a file below the folder by the rest of its request path (``sub_path``). The
rules, checked before anything on disk is touched and again on the resolved path:

* no ``.`` or ``..`` segments, no absolute path, no backslash, NUL or control character;
* no hidden names: a segment starting with ``.`` (``.git``, ``.env``, ``.ssh``) is refused,
  and hidden entries are left out of listings, also when a symlink leads to them;
* symlinks are followed only when the target resolves (``os.path.realpath``) inside the
  folder; the resolved path is then opened one component at a time from the folder's own
  descriptor with ``O_NOFOLLOW``, so a symlink swapped in after the check is not followed.

Listings are recursive, sorted by path and capped (:data:`MAX_LISTING`); they hold at most a
bounded number of directory entries at a time, whatever the size of a directory.
"""

from __future__ import annotations

import errno
import heapq
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter

from connector.errors import Forbidden, KarezError, NotFound

#: Most files one listing names; a longer listing ends with ``"truncated": true``.
MAX_LISTING = 10_000
#: Directory entries held in memory per directory level while listing.
_SCAN_BATCH = 1024
_NOT_AVAILABLE = "The requested data is not available"
_OUTSIDE = "The requested path leads outside the shared folder"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def folder_segments(sub_path: str) -> list[str]:
    """The path segments of a consumer's ``sub_path`` below a folder; refused ones raise
    :class:`~connector.errors.Forbidden`. ``""`` (and a trailing ``/``) name the folder."""
    if "\x00" in sub_path:
        raise Forbidden("The request path must not contain NUL characters")
    if any(ord(c) < 0x20 or c == "\x7f" for c in sub_path):
        raise Forbidden("The request path must not contain control characters")
    if "\\" in sub_path:
        raise Forbidden("The request path must not contain backslashes")
    if sub_path.startswith("/"):
        raise Forbidden("The request path must be relative to the shared folder")
    segments = [s for s in sub_path.split("/") if s]
    for segment in segments:
        if segment in (".", ".."):
            raise Forbidden("The request path must not contain '.' or '..' segments")
        if segment.startswith("."):
            raise Forbidden("Hidden files and folders are not shared")
    return segments


def contained(root_real: str, target_real: str) -> list[str] | None:
    """``target_real``'s segments below ``root_real`` (both resolved), or ``None`` outside."""
    if target_real == root_real:
        return []
    prefix = root_real.rstrip(os.sep) + os.sep
    if not target_real.startswith(prefix):
        return None
    return target_real[len(prefix) :].split(os.sep)


@dataclass
class Opened:
    """What a folder request names: an open descriptor and its ``fstat``."""

    fd: int
    info: os.stat_result
    segments: list[str]  # as the consumer wrote them (listing paths are relative to the root)
    name: str  # the resolved file name (for the content type)


def open_in_folder(root_fd: int, root: str, sub_path: str) -> Opened:
    """Open the file or directory that ``sub_path`` names below the folder ``root``.

    ``root_fd`` is the folder, already open. Runs in a worker thread (blocking calls).
    """
    segments = folder_segments(sub_path)
    root_real = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root_real, *segments))
    parts = contained(root_real, target)
    if parts is None:
        raise Forbidden(_OUTSIDE)
    if any(p.startswith(".") for p in parts):
        raise Forbidden("Hidden files and folders are not shared")
    fd = _open_beneath(root_fd, root_real, parts)
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        os.close(fd)
        raise NotFound(_NOT_AVAILABLE)
    return Opened(fd, info, segments, parts[-1] if parts else os.path.basename(root_real))


def _open_beneath(root_fd: int, root_real: str, parts: list[str]) -> int:
    """Open ``parts`` below ``root_fd`` one component at a time, following no symlink."""
    try:
        if os.open not in os.supports_dir_fd:  # pragma: no cover - not on Linux or macOS
            flags = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC
            return os.open(os.path.join(root_real, *parts), flags)
        fd = os.dup(root_fd)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            flags = os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | (_O_NONBLOCK if last else _O_DIRECTORY)
            try:
                child = os.open(part, flags, dir_fd=fd)
            finally:
                os.close(fd)
            fd = child
        return fd
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG):
            # ELOOP: a symlink appeared where the resolved path had none (a race): refused
            raise NotFound(_NOT_AVAILABLE) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise KarezError("The requested data cannot be read") from None
        raise


def rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_folder(
    dir_fd: int, root: str, segments: list[str], limit: int = MAX_LISTING
) -> tuple[list[dict[str, object]], bool]:
    """``(files, truncated)``: the regular files below the open directory ``dir_fd``.

    Recursive and sorted by path (``a.csv`` before ``a/b.csv``); paths are relative to the
    shared folder ``root``, as a consumer requests them. Hidden entries are skipped; a
    symlink is listed when it resolves to a regular, non-hidden file inside the folder, and a
    symlinked directory is not descended into (no cycles, no duplicates).
    """
    root_real = os.path.realpath(root)
    prefix = "".join(f"{s}/" for s in segments)
    files: list[dict[str, object]] = []
    stack: list[tuple[int, str, Iterator[tuple[str, str, str]]]] = [
        (dir_fd, prefix, _entries(dir_fd))
    ]
    try:
        while stack:
            fd, rel, entries = stack[-1]
            item = next(entries, None)
            if item is None:
                stack.pop()
                if fd != dir_fd:
                    os.close(fd)
                continue
            _key, kind, name = item
            path = rel + name
            if kind == "dir":
                try:
                    child = os.open(
                        name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=fd
                    )
                except OSError:
                    continue
                stack.append((child, path + "/", _entries(child)))
                continue
            info = _file_info(fd, name, kind, root_real, path)
            if info is None:
                continue
            if len(files) == limit:
                return files, True
            files.append({"path": path, "size": info.st_size, "modified": rfc3339(info.st_mtime)})
        return files, False
    finally:
        for fd, _, _ in stack:
            if fd != dir_fd:
                os.close(fd)


def _file_info(fd: int, name: str, kind: str, root_real: str, path: str) -> os.stat_result | None:
    try:
        if kind == "file":
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        else:
            parts = contained(root_real, os.path.realpath(os.path.join(root_real, path)))
            if not parts or any(p.startswith(".") for p in parts):
                return None
            info = os.stat(os.path.join(root_real, *parts), follow_symlinks=False)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def _entries(fd: int) -> Iterator[tuple[str, str, str]]:
    """``(sort key, kind, name)`` of the listable entries of directory ``fd``, in order.

    Reads the directory again for each batch, keeping at most :data:`_SCAN_BATCH` entries.
    The key is the name, plus ``/`` for a directory, so that walking in key order yields the
    full paths in plain string order.
    """
    last: str | None = None
    while True:
        with os.scandir(fd) as scan:
            batch = heapq.nsmallest(
                _SCAN_BATCH,
                (
                    item
                    for item in (_classify(entry) for entry in scan)
                    if item is not None and (last is None or item[0] > last)
                ),
                key=itemgetter(0),
            )
        yield from batch
        if len(batch) < _SCAN_BATCH:
            return
        last = batch[-1][0]


def _classify(entry: os.DirEntry[str]) -> tuple[str, str, str] | None:
    name = entry.name
    if name.startswith(".") or not _servable_name(name):
        return None
    try:
        if entry.is_symlink():
            return name, "link", name
        if entry.is_dir(follow_symlinks=False):
            return name + "/", "dir", name
        if entry.is_file(follow_symlinks=False):
            return name, "file", name
    except OSError:
        return None
    return None


def _servable_name(name: str) -> bool:
    """Whether a consumer could request ``name`` (listings name nothing it could not)."""
    if "\\" in name or any(ord(c) < 0x20 or c == "\x7f" for c in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the file name
        return False
    return True
