"""Sends DSP requests to other connectors, each authenticated as this node (DCP or keys)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from connector.controlplane.participant_auth import ProtocolAuth
from connector.errors import PeerError

log = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/dspace-version"


@dataclass
class PeerResponse:
    status: int
    body: Any  # parsed JSON, or None


class PeerClient:
    def __init__(self, session: aiohttp.ClientSession, auth: ProtocolAuth) -> None:
        self._session = session
        self._auth = auth

    async def _headers(self, audience: str) -> dict[str, str]:
        return {
            "Authorization": await self._auth.authorization(audience),
            "Content-Type": "application/json",
        }

    async def request(self, method: str, url: str, audience: str, body: Any = None) -> PeerResponse:
        """Send one request; any answer (2xx or not) is returned, transport failures raise."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = await self._headers(audience)
        try:
            async with self._session.request(method, url, data=data, headers=headers) as resp:
                raw = await resp.read()
                parsed: Any = None
                if raw:
                    try:
                        parsed = json.loads(raw)
                    except ValueError:
                        parsed = raw[:500].decode("utf-8", "replace")
                return PeerResponse(resp.status, parsed)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise PeerError(f"could not reach {url}: {type(exc).__name__}: {exc}") from exc

    async def call(self, method: str, url: str, audience: str, body: Any = None) -> Any:
        """Like :meth:`request` but raises ``PeerError`` (with the peer's reasons) on non-2xx."""
        resp = await self.request(method, url, audience, body)
        if resp.status >= 300:
            raise PeerError(
                f"{url} answered {resp.status}: {describe_error(resp.body)}",
                peer_status=resp.status,
                reasons=error_reasons(resp.body),
            )
        return resp.body

    async def versions(self, address: str) -> Any:
        """A peer's version metadata (unauthenticated, as the spec requires): tried under its
        DSP address first, then at its root."""
        parts = urlsplit(address)
        candidates = [
            address.rstrip("/") + WELL_KNOWN,
            f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}",
        ]
        last: PeerError | None = None
        for url in dict.fromkeys(candidates):
            try:
                async with self._session.get(url) as resp:
                    if resp.status == 200:
                        return await resp.json(content_type=None)
                    last = PeerError(f"{url} answered {resp.status}", peer_status=resp.status)
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                last = PeerError(f"could not read {url}: {type(exc).__name__}")
        assert last is not None
        raise last


def error_reasons(body: Any) -> list[str]:
    """The ``reason`` list of a DSP error body (or the EDC-style message list)."""
    if isinstance(body, dict):
        reason = body.get("reason")
        if isinstance(reason, list):
            return [str(r) if not isinstance(r, dict) else json.dumps(r) for r in reason]
        if reason is not None:
            return [str(reason)]
        if "message" in body:
            return [str(body["message"])]
    if isinstance(body, list):
        return [
            str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in body
        ]
    if isinstance(body, str) and body:
        return [body]
    return []


def describe_error(body: Any) -> str:
    reasons = error_reasons(body)
    code = body.get("code") if isinstance(body, dict) else None
    text = "; ".join(reasons) if reasons else "no reason given"
    return f"[{code}] {text}" if code else text
