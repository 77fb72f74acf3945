"""Consumer side of the Tractus-X token refresh: renew an EDR's access token at the provider's
``refreshEndpoint`` with its refresh token, authenticated as this participant."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from connector.controlplane.peer_client import PeerClient
from connector.domain import EndpointDataReference, now_ms
from connector.errors import PeerError, ValidationFailure
from connector.store.base import Store

TX_AUTH = "https://w3id.org/tractusx/auth/"
REFRESH_TOKEN = TX_AUTH + "refreshToken"
REFRESH_ENDPOINT = TX_AUTH + "refreshEndpoint"
REFRESH_AUDIENCE = TX_AUTH + "refreshAudience"
EXPIRES_IN = TX_AUTH + "expiresIn"
EXPIRES_AT = "https://w3id.org/karez/ns/expiresAt"  # epoch ms, kept beside the EDR

#: Refresh when less than this much lifetime is left.
MARGIN_MS = 30_000


def expires_at(edr: EndpointDataReference) -> int | None:
    value = edr.properties.get(EXPIRES_AT)
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def stamp_expiry(properties: dict[str, Any]) -> None:
    """Record when the token runs out, from ``expiresIn`` (seconds) at the time of receipt."""
    seconds = properties.get(EXPIRES_IN)
    if isinstance(seconds, int | str) and str(seconds).isdigit():
        properties[EXPIRES_AT] = now_ms() + int(seconds) * 1000


class EdrRefresher:
    def __init__(self, store: Store, peers: PeerClient) -> None:
        self._store = store
        self._peers = peers

    async def refresh_if_due(self, edr: EndpointDataReference) -> EndpointDataReference:
        """``auto_refresh=true``: refresh only a token that has run out or is about to."""
        due = expires_at(edr)
        if due is not None and due - now_ms() > MARGIN_MS:
            return edr
        return await self.refresh(edr)

    async def refresh(self, edr: EndpointDataReference) -> EndpointDataReference:
        endpoint = edr.properties.get(REFRESH_ENDPOINT)
        token = edr.properties.get(REFRESH_TOKEN)
        if not endpoint or not token:
            raise ValidationFailure(
                "this EDR has no refresh token: its provider does not offer refresh",
                path="transferProcessId",
                invalid_value=edr.transfer_process_id,
            )
        audience = str(edr.properties.get(REFRESH_AUDIENCE) or edr.provider_id)
        query = urlencode({"grant_type": "refresh_token", "refresh_token": token})
        body = await self._peers.call("POST", f"{endpoint}?{query}", audience)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise PeerError("the refresh endpoint answered without an access_token")
        edr.authorization = str(body["access_token"])
        if body.get("refresh_token"):
            edr.properties[REFRESH_TOKEN] = str(body["refresh_token"])
        if body.get("expires_in") is not None:
            edr.properties[EXPIRES_IN] = str(body["expires_in"])
            stamp_expiry(edr.properties)
        async with self._store.session() as s:
            await s.update(edr)
        return edr
