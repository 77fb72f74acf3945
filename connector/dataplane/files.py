"""The ``File`` data source (Karez's own type): a file or a folder on the provider.

Address properties: ``path`` (absolute), optional ``contentType`` (single files only). Supports
``HEAD``, a single ``Range`` and ``If-Range``; reads happen in a worker thread, one chunk at a
time, so memory use does not depend on the file's size.

When ``path`` names a directory, the consumer's request path below the public endpoint names a
file inside it (served like a single file, its content type guessed from its name), and an
empty path or a sub-folder answers a JSON listing ``{"files": [{"path", "size", "modified"}],
"truncated": false}``; see :mod:`connector.dataplane.folders` for what is refused. A single
file is only served with an empty request path.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import stat
from email.utils import formatdate

from aiohttp import web

from connector.dataplane.address import Address, text
from connector.dataplane.folders import MAX_LISTING, list_folder, open_in_folder
from connector.dataplane.ranges import ByteRange, Unsatisfiable, if_range_matches, parse_range
from connector.dataplane.streaming import Meter, OnComplete, TransferInterrupted
from connector.errors import KarezError, NotFound, ValidationFailure

FILE_TYPE = "File"
#: Response header marking a folder listing (the body is ``{"files": [...]}``).
LISTING_HEADER = "X-Karez-Listing"
#: Files are read in larger pieces than proxied bodies: fewer thread hops per byte.
FILE_CHUNK_SIZE = 1024 * 1024
_NOT_AVAILABLE = "The requested data is not available"


async def serve_file(
    request: web.Request,
    address: Address,
    *,
    sub_path: str = "",
    on_complete: OnComplete | None = None,
) -> web.StreamResponse:
    """Answer ``request`` (GET or HEAD) with the file, or the folder entry under ``sub_path``,
    named by ``address``."""
    if request.method not in ("GET", "HEAD"):
        raise ValidationFailure(f"method {request.method} is not supported for file data")
    path = text(address, "path")
    if path is None or not os.path.isabs(path):
        raise KarezError("The data address of this asset is misconfigured")
    loop = asyncio.get_running_loop()
    fd, info = await loop.run_in_executor(None, _open_root, path)
    try:
        if stat.S_ISREG(info.st_mode):
            if sub_path:
                raise NotFound(
                    "This asset is a single file: request it without a path below the endpoint"
                )
            content_type = text(address, "contentType") or _guess_type(path)
            return await _respond(request, content_type, fd, info, on_complete)
        return await _serve_in_folder(request, fd, path, sub_path, on_complete)
    finally:
        os.close(fd)


def _open_root(path: str) -> tuple[int, os.stat_result]:
    """Open the address's ``path``: a regular file or a directory."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(_NOT_AVAILABLE) from None
    except PermissionError:
        raise KarezError("The requested data cannot be read") from None
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
        return fd, info
    os.close(fd)
    raise KarezError("The data address does not name a regular file or a directory")


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


async def _serve_in_folder(
    request: web.Request,
    root_fd: int,
    root: str,
    sub_path: str,
    on_complete: OnComplete | None,
) -> web.StreamResponse:
    loop = asyncio.get_running_loop()
    opened = await loop.run_in_executor(None, open_in_folder, root_fd, root, sub_path)
    try:
        if stat.S_ISREG(opened.info.st_mode):
            if sub_path.endswith("/"):
                raise NotFound(_NOT_AVAILABLE)
            return await _respond(
                request, _guess_type(opened.name), opened.fd, opened.info, on_complete
            )
        files, truncated = await loop.run_in_executor(
            None, list_folder, opened.fd, root, opened.segments, MAX_LISTING
        )
    finally:
        os.close(opened.fd)
    body = json.dumps({"files": files, "truncated": truncated}, separators=(",", ":")).encode()
    response = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": "application/json",
            "Cache-Control": "no-cache",
            LISTING_HEADER: "folder",  # tells a fetching consumer this is a folder's listing
        },
    )
    response.content_length = len(body)
    await response.prepare(request)
    meter = Meter(whole_body=request.method == "GET" and on_complete is not None)
    if request.method == "GET":
        meter.update(body)
        await response.write(body)
    await response.write_eof()
    await meter.report(on_complete)
    return response


async def _respond(
    request: web.Request,
    content_type: str,
    fd: int,
    info: os.stat_result,
    on_complete: OnComplete | None,
) -> web.StreamResponse:
    size = info.st_size
    etag = f'"{info.st_mtime_ns:x}-{size:x}"'
    last_modified = int(info.st_mtime)
    headers = {
        "Content-Type": content_type,
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": formatdate(last_modified, usegmt=True),
    }
    byte_range: ByteRange | None = None
    if if_range_matches(request.headers.get("If-Range"), etag, last_modified):
        try:
            byte_range = parse_range(request.headers.get("Range"), size)
        except Unsatisfiable:
            headers["Content-Range"] = f"bytes */{size}"
            response = web.Response(status=416, headers=headers)
            await response.prepare(request)
            await response.write_eof()
            await Meter(whole_body=False).report(on_complete)
            return response

    response = web.StreamResponse(status=200 if byte_range is None else 206, headers=headers)
    if byte_range is None:
        byte_range = ByteRange(0, size - 1)
    else:
        response.headers["Content-Range"] = byte_range.content_range(size)
    response.content_length = byte_range.length
    await response.prepare(request)

    # hashing costs CPU at these rates: only when someone asked for the digest
    meter = Meter(
        whole_body=response.status == 200 and request.method == "GET" and on_complete is not None
    )
    if request.method == "GET":
        await _copy(response, fd, byte_range, meter)
    await response.write_eof()
    await meter.report(on_complete)
    return response


async def _copy(response: web.StreamResponse, fd: int, byte_range: ByteRange, meter: Meter) -> None:
    loop = asyncio.get_running_loop()
    offset, remaining = byte_range.start, byte_range.length
    while remaining > 0:
        chunk = await loop.run_in_executor(
            None, _read, fd, min(FILE_CHUNK_SIZE, remaining), offset, meter
        )
        if not chunk:
            response.force_close()
            raise TransferInterrupted("the file shrank while it was being sent")
        await response.write(chunk)
        offset += len(chunk)
        remaining -= len(chunk)


def _read(fd: int, size: int, offset: int, meter: Meter) -> bytes:
    """Read and account for one chunk, in the worker thread (hashing releases the GIL)."""
    chunk = os.pread(fd, size, offset)
    meter.update(chunk)
    return chunk
