"""Push: copy a transfer's data from where the provider serves it to the consumer's endpoint.

The provider reads its own public data plane (with an access token for the transfer), so every
source type, every check and the access watch apply to a push exactly as to a pull: when access
ends, the read is cut off and the push stops. Each body is streamed through (bounded memory)
and hashed on the way. A folder is pushed file by file to ``<endpoint>/<relative path>``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import aiohttp

from connector.errors import KarezError, PeerError

log = logging.getLogger(__name__)

#: Read and write in pieces of this size.
PUSH_CHUNK = 256 * 1024
#: No overall limit (bodies may be large); limits on connecting and on silence.
PUSH_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
#: Content types passed on from the source.
_PASSED_HEADERS = ("Content-Type",)


class PushFailed(KarezError):
    """The push could not be completed; the message names the step, never a credential."""

    status = 502
    error_type = "PushFailed"


@dataclass(frozen=True)
class Destination:
    """Where a push goes: an HTTP endpoint and the headers that authorise it."""

    endpoint: str
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"


@dataclass
class PushResult:
    bytes: int = 0
    files: list[dict[str, object]] = field(default_factory=list)  # path, size, sha256
    sha256: str | None = None  # of the single body, or of a folder's manifest


async def push(
    http: aiohttp.ClientSession,
    source_url: str,
    source_token: str,
    destination: Destination,
    *,
    folder: bool = False,
) -> PushResult:
    """Copy the data served at ``source_url`` to ``destination``.

    With ``folder``, the source answers a listing (``{"files": [{"path": ...}]}``) and each file
    is pushed to ``<endpoint>/<path>``.
    """
    result = PushResult()
    auth = {"Authorization": source_token}
    if not folder:
        size, digest = await _copy(http, source_url, auth, destination, destination.endpoint)
        result.bytes, result.sha256 = size, digest
        return result
    for path in await _listing(http, source_url, auth):
        quoted = quote(path, safe="/")
        size, digest = await _copy(
            http,
            f"{source_url.rstrip('/')}/{quoted}",
            auth,
            destination,
            f"{destination.endpoint.rstrip('/')}/{quoted}",
        )
        result.bytes += size
        result.files.append({"path": path, "size": size, "sha256": digest})
    result.sha256 = manifest_sha256(result.files)
    return result


def manifest_sha256(files: list[dict[str, object]]) -> str:
    """The SHA-256 a folder push reports: over ``<sha256>  <path>\n`` per file, sorted by path
    (the format of ``sha256sum``, so ``sha256sum`` output of the received folder checks it)."""
    lines = sorted(f"{f['sha256']}  {f['path']}\n" for f in files)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


async def _listing(http: aiohttp.ClientSession, url: str, auth: dict[str, str]) -> list[str]:
    return [str(entry["path"]) for entry in await _listing_entries(http, url, auth)]


async def _listing_entries(
    http: aiohttp.ClientSession, url: str, auth: dict[str, str]
) -> list[dict[str, object]]:
    """The files a folder source lists (``path``, ``size``, ``modified``)."""
    try:
        async with http.get(url, headers=auth, timeout=PUSH_TIMEOUT) as resp:
            if resp.status != 200:
                raise PushFailed(f"reading the source failed (HTTP {resp.status})")
            listing = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise PushFailed(f"reading the source failed ({type(exc).__name__})") from None
    files = listing.get("files") if isinstance(listing, dict) else None
    if not isinstance(files, list):
        raise PushFailed("the source did not list a folder")
    if listing.get("truncated"):
        raise PushFailed(f"the folder lists more than {len(files)} files; share sub-folders")
    return [f for f in files if isinstance(f, dict) and "path" in f]


class BodyObserver(Protocol):
    """Sees a body as it is copied (the streaming type tracks the last row's key with it)."""

    def feed(self, chunk: bytes) -> None: ...

    @property
    def has_content(self) -> bool: ...


@dataclass(frozen=True)
class Copied:
    bytes: int
    sha256: str


async def _copy(
    http: aiohttp.ClientSession,
    source_url: str,
    auth: dict[str, str],
    destination: Destination,
    target_url: str,
) -> tuple[int, str]:
    """Stream one body from the source to ``target_url``; ``(bytes, sha256 hex)``."""
    copied = await copy_body(http, source_url, auth, destination, target_url)
    assert copied is not None  # only a Range request or an observer can find nothing to send
    return copied.bytes, copied.sha256


async def copy_body(
    http: aiohttp.ClientSession,
    source_url: str,
    source_headers: Mapping[str, str],
    destination: Destination,
    target_url: str,
    *,
    observer: BodyObserver | None = None,
) -> Copied | None:
    """Stream one body from the source to ``target_url``.

    ``None`` when there is nothing to send: the source answered 416 to a Range request, or the
    ``observer`` saw no content in the whole body (e.g. a CSV with only its header row).
    """
    digest = hashlib.sha256()
    sent = 0
    try:
        async with http.get(source_url, headers=source_headers, timeout=PUSH_TIMEOUT) as source:
            if source.status == 416:
                return None
            if source.status not in (200, 206):
                raise PushFailed(f"reading the source failed (HTTP {source.status})")
            chunks = source.content.iter_chunked(PUSH_CHUNK)
            prefix: list[bytes] = []
            if observer is not None:  # read until there is content, or the body ends
                async for chunk in chunks:
                    prefix.append(chunk)
                    observer.feed(chunk)
                    if observer.has_content:
                        break
                if not observer.has_content:
                    return None
            headers = dict(destination.headers)
            for name in _PASSED_HEADERS:
                if name in source.headers:
                    headers.setdefault(name, source.headers[name])

            async def body() -> AsyncIterator[bytes]:
                nonlocal sent
                for chunk in prefix:
                    digest.update(chunk)
                    sent += len(chunk)
                    yield chunk
                async for chunk in chunks:
                    if observer is not None:
                        observer.feed(chunk)
                    digest.update(chunk)
                    sent += len(chunk)
                    yield chunk

            try:
                async with http.request(
                    destination.method,
                    target_url,
                    data=body(),
                    headers=headers,
                    allow_redirects=False,
                    timeout=PUSH_TIMEOUT,
                ) as sink:
                    if not 200 <= sink.status < 300:
                        raise PushFailed(f"the destination refused the data (HTTP {sink.status})")
            except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
                raise PushFailed(
                    f"reading the source failed mid-stream ({type(exc).__name__})"
                ) from None
    except PushFailed:
        raise
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise PeerError(f"the push was interrupted ({type(exc).__name__})") from None
    return Copied(sent, digest.hexdigest())
