"""Push and stream jobs in a separate data plane: the control plane's side, over its control API.

The control plane signals a started push with its :class:`~connector.push_jobs.PushSpec`; the
job asks the control plane for access tokens (so they stay signed there) and reports the
outcome: ``POST <control>/transfers/{id}/token``, ``/pushed`` (``byteSize``, ``sha256``),
``/push-failed`` (``reason``) and, for streams, ``/stream-progress`` (``cursor``, ``byteSize``;
answers whether to go on).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from connector.dataplane.jobs import PushSpec
from connector.dataplane.remote import CONTROL_TIMEOUT, ControlPlane
from connector.errors import KarezError, PeerError

log = logging.getLogger(__name__)


class RemotePushControl:
    def __init__(self, http: aiohttp.ClientSession, planes: dict[str, ControlPlane]) -> None:
        self._http = http
        self._planes = planes
        self._specs: dict[str, tuple[ControlPlane, PushSpec]] = {}

    def register(self, plane_id: str, spec: PushSpec) -> None:
        self._specs[spec.transfer_id] = (self._planes[plane_id], spec)

    async def _post(self, transfer_id: str, action: str, body: dict[str, Any]) -> Any:
        entry = self._specs.get(transfer_id)
        if entry is None:
            raise KarezError(f"no push {transfer_id} was signalled")
        plane = entry[0]
        url = f"{plane.control_url.rstrip('/')}/transfers/{transfer_id}/{action}"
        try:
            async with self._http.post(
                url, json=body, headers={"Authorization": f"Bearer {plane.key}"},
                timeout=CONTROL_TIMEOUT,
            ) as resp:  # fmt: skip
                answer = await resp.json(content_type=None) if resp.status != 204 else None
                if resp.status >= 300:
                    reason = answer.get("reason") if isinstance(answer, dict) else None
                    raise PeerError(f"the control plane refused {action}: {reason or resp.status}")
                return answer
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise PeerError(f"the control plane could not be reached for {action}") from None

    async def spec(self, transfer_id: str) -> PushSpec | None:
        entry = self._specs.get(transfer_id)
        return entry[1] if entry else None

    async def token(self, transfer_id: str) -> str:
        answer = await self._post(transfer_id, "token", {})
        return str(answer["token"])

    async def done(self, transfer_id: str, byte_size: int, sha256: str | None) -> None:
        await self._post(transfer_id, "pushed", {"byteSize": byte_size, "sha256": sha256})
        self._specs.pop(transfer_id, None)

    async def failed(self, transfer_id: str, reason: str) -> None:
        try:
            await self._post(transfer_id, "push-failed", {"reason": reason})
        finally:
            self._specs.pop(transfer_id, None)

    async def progress(self, transfer_id: str, cursor: dict[str, Any], byte_size: int) -> bool:
        answer = await self._post(
            transfer_id, "stream-progress", {"cursor": cursor, "byteSize": byte_size}
        )
        go_on = bool(answer.get("continue")) if isinstance(answer, dict) else False
        if not go_on:
            self._specs.pop(transfer_id, None)
        return go_on
