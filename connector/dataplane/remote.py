"""A separate data plane asks the control plane that signed a token whether data may flow.

Each control plane this data plane serves is configured with its id (the tokens' issuer), its
control API and the key to call it with. Nothing about transfers is kept here: every download
starts with a question to the control plane, and the access watch asks again while it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from connector.dataplane.http_request import SecretResolver
from connector.dataplane.tokens import AccessClaims
from connector.errors import Forbidden, KarezError, PeerError, Unauthorized

log = logging.getLogger(__name__)

CONTROL_TIMEOUT = aiohttp.ClientTimeout(total=5)


@dataclass(frozen=True)
class ControlPlane:
    id: str  # the participant id that signs its tokens
    control_url: str  # e.g. http://127.0.0.1:8183/control/v1
    key: str  # the bearer it accepts from this data plane


class RemoteData:
    """``DataSource`` for the public app of a separate data plane."""

    def __init__(
        self, http: aiohttp.ClientSession, control_planes: Mapping[str, ControlPlane]
    ) -> None:
        self._http = http
        self._planes = dict(control_planes)

    async def _ask(self, claims: AccessClaims) -> dict[str, Any]:
        plane = self._planes.get(claims.issuer)
        if plane is None:
            raise Unauthorized("token of a control plane this data plane does not serve")
        query = urlencode(
            {
                "agreement": claims.agreement_id,
                "consumer": claims.consumer_id,
                "asset": claims.asset_id,
            }
        )
        url = f"{plane.control_url.rstrip('/')}/transfers/{claims.transfer_id}/access?{query}"
        try:
            async with self._http.get(
                url, headers={"Authorization": f"Bearer {plane.key}"}, timeout=CONTROL_TIMEOUT
            ) as resp:
                body = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise PeerError("the control plane could not be asked") from None
        if status == 200 and isinstance(body, dict):
            return body
        reason = body.get("reason") if isinstance(body, dict) else None
        if status in (403, 404):
            raise Forbidden(str(reason or "access refused by the control plane"))
        log.warning("control plane %s answered %s", plane.id, status)
        raise PeerError(f"the control plane answered {status}")

    async def resolve(self, claims: AccessClaims) -> tuple[Any, SecretResolver | None]:
        body = await self._ask(claims)
        secrets = body.get("secrets") if isinstance(body.get("secrets"), dict) else {}

        async def resolver(name: str) -> str | None:
            value = secrets.get(name)
            return value if isinstance(value, str) else None

        return body.get("dataAddress") or {}, resolver

    async def served(self, claims: AccessClaims, byte_size: int, sha256: str | None) -> None:
        plane = self._planes.get(claims.issuer)
        if plane is None or sha256 is None:
            return
        url = f"{plane.control_url.rstrip('/')}/transfers/{claims.transfer_id}/served"
        try:
            async with self._http.post(
                url,
                json={"byteSize": byte_size, "sha256": sha256},
                headers={"Authorization": f"Bearer {plane.key}"},
                timeout=CONTROL_TIMEOUT,
            ) as resp:
                if resp.status != 204:
                    log.warning("control plane %s answered %s to served", plane.id, resp.status)
        except (aiohttp.ClientError, TimeoutError):
            log.warning("control plane %s not reached to report what was served", plane.id)

    async def still_granted(self, claims: AccessClaims) -> str | None:
        try:
            await self._ask(claims)
        except KarezError as exc:
            return exc.message
        return None
