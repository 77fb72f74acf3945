"""The control plane's side of the signaling API of a separate data plane."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

SIGNAL_TIMEOUT = aiohttp.ClientTimeout(total=5)


class DataPlaneClient:
    def __init__(self, http: aiohttp.ClientSession, signaling_url: str, key: str) -> None:
        self._http = http
        self._url = signaling_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {key}"}

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        try:
            async with self._http.post(
                self._url + path, json=body or {}, headers=self._headers, timeout=SIGNAL_TIMEOUT
            ) as resp:
                if resp.status != 200:
                    log.warning("data plane answered %s to %s", resp.status, path)
                    return None
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # the data plane asks for access on every request and re-checks 4 times a second,
            # so a lost signal delays nothing by more than that
            log.warning("data plane not reached for %s (%s)", path, type(exc).__name__)
            return None

    async def start(self, transfer_id: str, push: dict[str, Any] | None = None) -> None:
        """A started transfer; for a push or stream, ``push`` tells the data plane to move the
        data (where to, and what the source is)."""
        await self._post(f"/transfers/{transfer_id}/start", {"push": push} if push else None)

    async def stop(self, transfer_id: str, reason: str) -> None:
        action = "suspend" if "SUSPEND" in reason.upper() else "terminate"
        await self._post(f"/transfers/{transfer_id}/{action}", {"reason": reason})

    async def status(self, transfer_id: str | None = None) -> dict[str, Any] | None:
        """The data plane's status, or one transfer's (``activeDownloads``, ``pushing``)."""
        path = f"/transfers/{transfer_id}" if transfer_id else "/"
        try:
            async with self._http.get(
                self._url + path, headers=self._headers, timeout=SIGNAL_TIMEOUT
            ) as resp:
                return await resp.json(content_type=None) if resp.status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None
