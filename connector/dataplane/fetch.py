"""Consumer side of a pull, done by Karez: download what an EDR grants into a local folder.

A folder listing (marked by the provider's ``X-Karez-Listing`` header) is fetched file by file;
anything else is one file named after the asset. Each file is written beneath the folder with
the inbox's rules (the provider's paths are checked like a consumer's request paths; nothing is
written through a symlink) to a temporary name, resumed with a Range request when the
connection breaks, and moved into place once complete.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import aiohttp

from connector.dataplane.files import LISTING_HEADER
from connector.dataplane.inbox import Written, incoming, safe_name
from connector.dataplane.push import PUSH_CHUNK, PUSH_TIMEOUT
from connector.errors import PeerError

log = logging.getLogger(__name__)

#: Tries per file (the first and the resumptions after a broken connection).
ATTEMPTS = 5
#: ``() -> Authorization value``: the EDR's token, refreshed when it has expired.
Authorization = Callable[[], Awaitable[str]]


async def fetch_into(
    http: aiohttp.ClientSession,
    endpoint: str,
    authorization: Authorization,
    folder: str,
    default_name: str,
) -> list[Written]:
    """Download what ``endpoint`` serves into ``folder``; the files written."""
    auth = {"Authorization": await authorization()}
    try:
        async with http.get(endpoint, headers=auth, timeout=PUSH_TIMEOUT) as resp:
            if resp.status != 200:
                raise PeerError(
                    f"the provider answered HTTP {resp.status}", peer_status=resp.status
                )
            if resp.headers.get(LISTING_HEADER) != "folder":  # one file: keep this response
                name = safe_name(default_name)
                return [await fetch_file(http, endpoint, authorization, folder, name, resp)]
            listing = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise PeerError(f"the provider could not be read ({type(exc).__name__})") from None
    if listing.get("truncated"):
        raise PeerError("the provider's folder lists more files than one listing holds")
    paths = [str(f["path"]) for f in listing.get("files", []) if "path" in f]
    written = []
    for path in paths:
        url = f"{endpoint.rstrip('/')}/{quote(path, safe='/')}"
        written.append(await fetch_file(http, url, authorization, folder, path))
    return written


async def fetch_file(
    http: aiohttp.ClientSession,
    url: str,
    authorization: Authorization,
    folder: str,
    relative: str,
    first: aiohttp.ClientResponse | None = None,
) -> Written:
    """One file, resumed with Range after a broken connection; ``first`` is a response
    already open on ``url`` (read instead of asking again)."""
    loop = asyncio.get_running_loop()
    size = 0
    # the provider's path obeys the same rules as a consumer's request path
    async with incoming(folder, relative) as (fd, segments):
        for attempt in range(1, ATTEMPTS + 1):
            size = os.fstat(fd).st_size  # what arrived before a break, too
            try:
                if first is not None:
                    response, first = first, None
                    size = await _receive(response, fd, size)
                else:
                    headers = {"Authorization": await authorization()}
                    if size:
                        headers["Range"] = f"bytes={size}-"
                    async with http.get(url, headers=headers, timeout=PUSH_TIMEOUT) as response:
                        size = await _receive(response, fd, size)
                break
            except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, TimeoutError):
                if attempt == ATTEMPTS:
                    raise PeerError("the download broke off too often") from None
                log.info("download of %s broke off at %d bytes; resuming", relative, size)
                await asyncio.sleep(min(2.0, 0.2 * attempt))
        digest = await loop.run_in_executor(None, _hash_fd, fd)
    return Written("/".join(segments), size, digest)


async def _receive(response: aiohttp.ClientResponse, fd: int, size: int) -> int:
    """Append ``response``'s body to ``fd`` (which holds ``size`` bytes); the new size."""
    loop = asyncio.get_running_loop()
    if response.status == 200 and size:
        os.ftruncate(fd, 0)  # the server ignored the Range: start over
        size = 0
    elif response.status not in (200, 206):
        raise PeerError(
            f"the provider answered HTTP {response.status}", peer_status=response.status
        )
    async for chunk in response.content.iter_chunked(PUSH_CHUNK):
        await loop.run_in_executor(None, os.pwrite, fd, chunk, size)
        size += len(chunk)
    return size


def _hash_fd(fd: int) -> str:
    digest = hashlib.sha256()
    offset = 0
    while chunk := os.pread(fd, 1024 * 1024, offset):
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()
