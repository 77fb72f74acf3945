"""A node with ``management_auth = "api_key+oauth2"``: bearer JWTs and the API key side by side."""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import ec
from yarl import URL

from connector.api.management.app import build_management_root
from connector.api.management.auth import ManagementAuth
from connector.client import EDC_CONTEXT

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import ECKey, JsonWebSignature

pytestmark = pytest.mark.asyncio(loop_scope="function")

ISSUER = "https://idp.example/realms/karez"
AUDIENCE = "karez-management"
KID = "idp-key-1"


def token(key: Any, scope: str) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "ops",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "scope": scope,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        jws = JsonWebSignature(algorithms=["ES256"])
        header = {"alg": "ES256", "kid": KID, "typ": "at+jwt"}
        return jws.serialize_compact(header, json.dumps(claims).encode(), key).decode()


async def test_bearer_tokens_and_the_api_key(dataspace_factory, tmp_path, http):
    key = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
    jwks_file = tmp_path / "issuer-jwks.json"
    jwks = {"keys": [{**key.as_dict(is_private=False), "kid": KID, "use": "sig"}]}
    jwks_file.write_text(json.dumps(jwks), encoding="utf-8")
    ds = dataspace_factory(
        1,
        names=["provider"],
        configure={
            "provider": {
                "management_auth": "api_key+oauth2",
                "oauth2_issuer": ISSUER,
                "oauth2_audience": AUDIENCE,
                "oauth2_jwks_file": str(jwks_file.resolve()),
            }
        },
    )
    info = ds["provider"].info
    url = info["managementUrl"]
    read = {"Authorization": "Bearer " + token(key, "management:read")}
    write = {"Authorization": "Bearer " + token(key, "openid management:write")}
    query = {"@context": EDC_CONTEXT, "@type": "QuerySpec"}

    def asset(asset_id: str) -> dict[str, Any]:
        return {
            "@context": EDC_CONTEXT,
            "@id": asset_id,
            "properties": {"name": asset_id},
            "dataAddress": {"type": "HttpData", "baseUrl": "http://127.0.0.1:9/x"},
        }

    async with http.post(url + "/v3/assets/request", json=query, headers=read) as resp:
        assert resp.status == 200, await resp.text()
        assert await resp.json() == []

    async with http.post(url + "/v3/assets", json=asset("by-reader"), headers=read) as resp:
        assert resp.status == 403
        assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
        errors = await resp.json()
        assert errors[0]["type"] == "NotAuthorized"

    async with http.post(url + "/v3/assets", json=asset("by-writer"), headers=write) as resp:
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["@id"] == "by-writer"

    async with http.get(url + "/v3/assets/by-writer", headers=read) as resp:
        assert resp.status == 200

    async with http.post(url + "/v3/assets/request", json=query) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await resp.json())[0]["type"] == "AuthenticationFailed"

    bad = read["Authorization"][:-4] + "AAAA"
    async with http.get(url + "/v3/assets/by-writer", headers={"Authorization": bad}) as resp:
        assert resp.status == 401
        assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
        assert bad.split()[1] not in await resp.text()

    async with http.post(
        url + "/v3/assets", json=asset("by-key"), headers={"X-Api-Key": info["apiKey"]}
    ) as resp:
        assert resp.status == 200, await resp.text()

    async with http.get(url + "/openapi.json") as resp:
        assert resp.status == 200


async def test_the_open_document_is_matched_by_route_not_by_decoded_path():
    """``/v3/assets/x%2Fopenapi.json`` is the asset ``x/openapi.json``: it needs credentials."""
    key = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
    jwks = {"keys": [{**key.as_dict(is_private=False), "kid": KID}]}
    auth = ManagementAuth(mode="oauth2", issuer=ISSUER, audience=AUDIENCE, jwks=jwks)
    app = build_management_root(
        auth=auth,
        base_path="/management",
        max_body=1 << 20,
        public_url="http://127.0.0.1:8185/public",
        transfer_types=("HttpData-PULL",),
        entities=None,
        negotiations=None,
        transfers=None,
        peers=None,
        resolve_peer=lambda given, address: given or "",
    )
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/management/openapi.json")).status == 200
        for method in ("GET", "DELETE"):
            resp = await client.request(
                method, URL("/management/v3/assets/x%2Fopenapi.json", encoded=True)
            )
            assert resp.status == 401, method
            assert resp.headers["WWW-Authenticate"] == 'Bearer realm="management"'
        # a read token may not read secret values, however the id is spelled
        read = {"Authorization": "Bearer " + token(key, "management:read")}
        resp = await client.get(URL("/management/v3/secrets/a%2Fb", encoded=True), headers=read)
        assert resp.status == 403
        assert (await resp.json())[0]["type"] == "NotAuthorized"
        resp = await client.get("/management/v3/dataplanes", headers=read)
        assert resp.status == 200


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A JWKS endpoint on 127.0.0.1 (a free port), in a thread so a blocking node start is fine.

    Yields its URL and a dict: ``state["jwks"]`` is what it serves, ``state["hits"]`` counts.
    """
    state: dict[str, Any] = {"jwks": {"keys": []}, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state["hits"] += 1
            body = json.dumps(state["jwks"]).encode()
            self.send_response(200 if self.path == "/certs" else 404)
            self.send_header("Content-Type", "application/jwk-set+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/certs", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_bearer_tokens_with_keys_from_a_jwks_url(dataspace_factory, jwks_server, http):
    url, state = jwks_server
    key = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
    state["jwks"] = {"keys": [{**key.as_dict(is_private=False), "kid": KID, "use": "sig"}]}
    ds = dataspace_factory(
        1,
        names=["provider"],
        configure={
            "provider": {
                "management_auth": "oauth2",
                "oauth2_issuer": ISSUER,
                "oauth2_audience": AUDIENCE,
                "oauth2_jwks_url": url,
            }
        },
    )
    assert state["hits"] == 1  # fetched once, when the node started
    info = ds["provider"].info
    mgmt = info["managementUrl"]
    query = {"@context": EDC_CONTEXT, "@type": "QuerySpec"}
    read = {"Authorization": "Bearer " + token(key, "management:read")}
    async with http.post(mgmt + "/v3/assets/request", json=query, headers=read) as resp:
        assert resp.status == 200, await resp.text()
        assert await resp.json() == []
    async with http.post(mgmt + "/v3/assets/request", json=query) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    async with http.post(
        mgmt + "/v3/assets/request", json=query, headers={"X-Api-Key": info["apiKey"]}
    ) as resp:
        assert resp.status == 401  # "oauth2" alone: the API key does not count
    assert state["hits"] == 1
    assert read["Authorization"].split()[1] not in ds["provider"].log.read_text("utf-8")
