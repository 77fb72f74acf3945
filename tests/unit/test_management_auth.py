"""The Management API's authentication: API key, OAuth2 bearer JWTs, scopes, failures."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
import time
import warnings
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from connector.api.management import auth as auth_module
from connector.api.management.auth import AuthFailure, ManagementAuth, load_jwks
from connector.errors import ValidationFailure

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import ECKey, JsonWebSignature, OKPKey, RSAKey

ISSUER = "https://idp.example/realms/karez"
AUDIENCE = "karez-management"
READ, WRITE = "management:read", "management:write"
NOW = 1_760_000_000

_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_EC = ec.generate_private_key(ec.SECP256R1())
_ED = ed25519.Ed25519PrivateKey.generate()
_OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)

#: alg -> (kid, authlib private key)
SIGNERS = {
    "RS256": ("rsa-1", RSAKey.import_key(_RSA)),
    "ES256": ("ec-1", ECKey.import_key(_EC)),
    "EdDSA": ("ed-1", OKPKey.import_key(_ED)),
}


def public_jwk(kid: str, key: Any) -> dict[str, Any]:
    return {**key.as_dict(is_private=False), "kid": kid, "use": "sig"}


JWKS = {"keys": [public_jwk(kid, key) for kid, key in SIGNERS.values()]}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(
    claims: dict[str, Any],
    alg: str = "RS256",
    *,
    kid: str | None = "default",
    key: Any = None,
) -> str:
    default_kid, default_key = SIGNERS[alg]
    header: dict[str, Any] = {"alg": alg, "typ": "at+jwt"}
    if kid is not None:
        header["kid"] = default_kid if kid == "default" else kid
    payload = json.dumps(claims).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        jws = JsonWebSignature(algorithms=[alg])
        return jws.serialize_compact(header, payload, key or default_key).decode()


def claims(scope: str | None = READ, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "operator",
        "aud": AUDIENCE,
        "iat": NOW - 10,
        "exp": NOW + 300,
    }
    if scope is not None:
        out["scope"] = scope
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


def make(mode: str = "oauth2", audience: str = AUDIENCE, jwks: Any = JWKS) -> ManagementAuth:
    return ManagementAuth(
        api_key="secret-key",
        mode=mode,
        issuer=ISSUER,
        audience=audience,
        jwks=jwks,
        read_scope=READ,
        write_scope=WRITE,
        clock=lambda: NOW,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ASSETS = "/management/v3/assets"


# --- tokens that pass -------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_a_read_token_may_get_and_query(alg):
    auth = make()
    token = sign(claims(READ), alg)
    assert auth.check("GET", ASSETS + "/a1", bearer(token)) is None
    assert auth.check("POST", ASSETS + "/request", bearer(token)) is None


def test_a_read_token_may_not_create():
    failure = make().check("POST", ASSETS, bearer(sign(claims(READ))))
    assert failure is not None and failure.status == 403
    assert failure.error_type == "NotAuthorized"
    assert failure.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="insufficient_scope"' in failure.headers["WWW-Authenticate"]
    assert f'scope="{WRITE}"' in failure.headers["WWW-Authenticate"]


def test_a_write_token_may_do_everything():
    auth = make()
    token = sign(claims(f"openid {WRITE}"))
    for method, path in [
        ("POST", ASSETS),
        ("PUT", ASSETS),
        ("DELETE", ASSETS + "/a1"),
        ("GET", ASSETS + "/a1"),
        ("POST", ASSETS + "/request"),
        ("GET", "/management/v3/secrets/s1"),
    ]:
        assert auth.check(method, path, bearer(token)) is None, (method, path)


def test_scopes_from_scp_list_and_a_list_audience():
    auth = make()
    token = sign(claims(None, scp=[WRITE], aud=["other", AUDIENCE]))
    assert auth.check("POST", ASSETS, bearer(token)) is None


def test_no_audience_configured_means_none_checked():
    token = sign(claims(READ, aud="someone-else"))
    assert make(audience="").check("GET", ASSETS + "/a1", bearer(token)) is None


def test_the_scheme_is_case_insensitive_and_a_lone_key_needs_no_kid():
    auth = make(jwks={"keys": [public_jwk("rsa-1", SIGNERS["RS256"][1])]})
    token = sign(claims(READ), kid=None)
    assert auth.check("GET", ASSETS + "/a1", {"Authorization": f"bearer {token}"}) is None


def test_clock_skew_within_the_leeway_is_accepted():
    token = sign(claims(READ, exp=NOW - 20, nbf=NOW + 20, iat=NOW + 20))
    assert make().check("GET", ASSETS + "/a1", bearer(token)) is None


# --- which calls only read ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/management/v3/contractnegotiations/n1/state", READ),
        ("POST", "/management/v3/contractnegotiations/request", READ),
        ("POST", "/management/v3/catalog/request", READ),
        ("POST", "/management/v3/catalog/dataset/request", READ),
        ("POST", "/management/v3/edrs/request", READ),
        ("POST", "/management/v4alpha/protocol-versions/request", READ),
        ("POST", "/management/v3/policydefinitions/p1/validate", READ),
        ("GET", "/management/v3/edrs/e1/dataaddress", READ),
        ("GET", "/management/v3/secrets/s1", WRITE),
        ("POST", "/management/v3/secrets/request", WRITE),
        ("POST", "/management/v3/contractnegotiations", WRITE),
        ("POST", "/management/v3/contractnegotiations/n1/terminate", WRITE),
        ("POST", "/management/v3/edrs", WRITE),
        ("POST", "/management/v3/edrs/e1/refresh", WRITE),
        ("POST", "/management/v3/transferprocesses/t1/start", WRITE),
        ("DELETE", "/management/v3/assets/a1", WRITE),
        ("PUT", "/management/v3/policydefinitions/p1", WRITE),
    ],
)
def test_required_scope(method, path, scope):
    assert make().required_scope(method, path) == scope


# --- tokens that fail ---------------------------------------------------------------------------


def refused(auth: ManagementAuth, token: str, method: str = "GET") -> str:
    failure = auth.check(method, ASSETS + "/a1", bearer(token))
    assert failure is not None and failure.status == 401, failure
    assert failure.error_type == "AuthenticationFailed"
    challenge = failure.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer") and 'error="invalid_token"' in challenge
    assert token not in failure.message and token not in challenge
    for part in token.split("."):
        if len(part) >= 8:  # short parts ("a", "") occur in any text
            assert part not in failure.message and part not in challenge
    return failure.message


def test_expired():
    assert "expired" in refused(make(), sign(claims(READ, exp=NOW - 31)))


def test_exp_is_required():
    assert "exp" in refused(make(), sign(claims(READ, exp=None)))


def test_not_yet_valid_and_issued_in_the_future():
    assert "not yet valid" in refused(make(), sign(claims(READ, nbf=NOW + 60)))
    assert "future" in refused(make(), sign(claims(READ, iat=NOW + 60)))


def test_wrong_issuer():
    assert "iss" in refused(make(), sign(claims(READ, iss="https://evil.example")))
    assert "iss" in refused(make(), sign(claims(READ, iss=None)))


def test_wrong_or_missing_audience():
    assert "aud" in refused(make(), sign(claims(READ, aud="someone-else")))
    assert "aud" in refused(make(), sign(claims(READ, aud=["a", "b"])))
    assert "aud" in refused(make(), sign(claims(READ, aud=None)))


def test_bad_signature():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        forged_key = RSAKey.import_key(_OTHER_RSA)
    assert "signature" in refused(make(), sign(claims(WRITE), key=forged_key))
    # a changed payload under the issuer's signature
    header, _, signature = sign(claims(READ)).split(".")
    payload = b64(json.dumps(claims(WRITE)).encode())
    assert "signature" in refused(make(), f"{header}.{payload}.{signature}")


def test_unknown_kid():
    assert "unknown key" in refused(make(), sign(claims(READ), kid="rotated-away"))


def test_a_key_of_the_wrong_type_for_the_alg_is_not_used():
    # an ES256 token naming the RSA key's kid
    assert "unknown key" in refused(make(), sign(claims(READ), "ES256", kid="rsa-1"))


def test_no_kid_with_several_keys():
    # the JWKS has one key per type, so a kid-less token still finds its RSA key...
    assert make().check("GET", ASSETS + "/a1", bearer(sign(claims(READ), kid=None))) is None
    # ...but not when two keys could match
    two = {"keys": [*JWKS["keys"], public_jwk("rsa-2", RSAKey.import_key(_OTHER_RSA))]}
    assert "kid" in refused(make(jwks=two), sign(claims(READ), kid=None))


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512", None])
def test_unsupported_algorithms(alg):
    header = {"alg": alg, "kid": "rsa-1"} if alg else {"kid": "rsa-1"}
    unsigned = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims(WRITE)).encode())}."
    assert "malformed" in refused(make(), unsigned)
    signed = unsigned + "c2lnbmF0dXJl"
    assert "algorithm" in refused(make(), signed, "POST")


def test_hs256_with_the_public_key_as_secret_is_refused():
    """The classic confusion: a MAC keyed with the issuer's public JWK."""
    import hashlib
    import hmac

    header = b64(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode())
    payload = b64(json.dumps(claims(WRITE)).encode())
    secret = json.dumps(JWKS["keys"][0]).encode()
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert "algorithm" in refused(make(), f"{header}.{payload}.{b64(mac)}")


@pytest.mark.parametrize(
    "token",
    ["abc", "a.b", "a.b.c.d.e", "....", "!!!.???.###", "x" * 9000, "e30.e30.e30"],
)
def test_malformed_tokens(token):
    assert "malformed" in refused(make(), token) or "algorithm" in refused(make(), token)


def test_a_payload_that_is_not_an_object():
    header = b64(json.dumps({"alg": "RS256", "kid": "rsa-1"}).encode())
    assert refused(make(), f"{header}.{b64(b'[1,2]')}.c2ln")


@pytest.mark.parametrize(
    "value", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "bearer\tabc"]
)
def test_malformed_or_missing_authorization_header(value):
    failure = make().check("GET", ASSETS + "/a1", {"Authorization": value})
    assert failure is not None and failure.status == 401
    assert failure.error_type == "AuthenticationFailed"
    assert failure.headers["WWW-Authenticate"].startswith("Bearer")
    assert "dXNlcjpwYXNz" not in failure.message


def test_no_credentials_at_all():
    failure = make().check("GET", ASSETS + "/a1", {})
    assert failure is not None and failure.status == 401
    assert failure.headers == {"WWW-Authenticate": 'Bearer realm="management"'}


def test_a_token_without_scopes_is_a_403():
    auth = make()
    for token in (sign(claims(None)), sign(claims("openid profile")), sign(claims(None, scp=7))):
        failure = auth.check("GET", ASSETS + "/a1", bearer(token))
        assert failure is not None and failure.status == 403
        assert f'scope="{READ}"' in failure.headers["WWW-Authenticate"]


# --- modes --------------------------------------------------------------------------------------


def test_api_key_mode_keeps_the_old_answers():
    auth = ManagementAuth(api_key="secret-key")
    assert auth.check("POST", ASSETS, {"X-Api-Key": "secret-key"}) is None
    for headers in ({}, {"X-Api-Key": "wrong"}, {"X-Api-Key": ""}, bearer(sign(claims(WRITE)))):
        failure = auth.check("POST", ASSETS, headers)
        assert failure is not None and failure.status == 401
        assert (failure.message, failure.error_type, failure.path) == (
            "missing or wrong X-Api-Key",
            "AuthenticationFailed",
            "X-Api-Key",
        )
        assert failure.headers == {}


def test_oauth2_mode_ignores_the_api_key():
    auth = make("oauth2")
    failure = auth.check("GET", ASSETS + "/a1", {"X-Api-Key": "secret-key"})
    assert failure is not None and failure.status == 401
    token = sign(claims(READ))
    assert auth.check("GET", ASSETS + "/a1", {"X-Api-Key": "wrong", **bearer(token)}) is None


def test_combined_mode_takes_either():
    auth = make("api_key+oauth2")
    assert auth.check("POST", ASSETS, {"X-Api-Key": "secret-key"}) is None
    assert auth.check("POST", ASSETS, bearer(sign(claims(WRITE)))) is None
    read = bearer(sign(claims(READ)))
    assert auth.check("POST", ASSETS, read).status == 403  # type: ignore[union-attr]
    # a key that is present is checked as the key, even beside a good token
    failure = auth.check("POST", ASSETS, {"X-Api-Key": "wrong", **bearer(sign(claims(WRITE)))})
    assert failure is not None and failure.status == 401 and failure.path == "X-Api-Key"
    failure = auth.check("POST", ASSETS, {})
    assert failure is not None and failure.status == 401
    assert "WWW-Authenticate" in failure.headers


# --- configuration ------------------------------------------------------------------------------


def test_construction_errors():
    with pytest.raises(ValidationFailure) as err:
        ManagementAuth(api_key="k", mode="magic")
    assert err.value.path == "management_auth"
    with pytest.raises(ValidationFailure) as err:
        ManagementAuth(mode="api_key")
    assert err.value.path == "api_key"
    with pytest.raises(ValidationFailure) as err:
        ManagementAuth(mode="oauth2", jwks=JWKS)
    assert err.value.path == "oauth2_issuer"
    with pytest.raises(ValidationFailure) as err:
        ManagementAuth(mode="oauth2", issuer=ISSUER)
    assert err.value.path == "oauth2_jwks_file"
    assert ManagementAuth(mode="oauth2", issuer=ISSUER, jwks=JWKS).api_key_enabled is False


@pytest.mark.parametrize(
    "jwks",
    [
        [],
        {"keys": []},
        {"keys": "nope"},
        {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
        {"keys": [{"kty": "RSA", "n": "AQAB"}]},
        {"keys": [{**JWKS["keys"][1], "x": "!!"}]},
        {"keys": [{**JWKS["keys"][0], "d": "AQAB"}]},
        {"keys": [{**JWKS["keys"][0], "use": "enc"}]},
        {"keys": [RSAKey.import_key(rsa.generate_private_key(65537, 1024)).as_dict()]},
    ],
)
def test_bad_jwks_is_a_startup_error(jwks):
    with pytest.raises(ValidationFailure) as err:
        make(jwks=jwks)
    assert err.value.path == "oauth2_jwks_file"


def test_load_jwks_file(tmp_path):
    with pytest.raises(ValidationFailure) as err:
        load_jwks(tmp_path / "missing.json")
    assert err.value.path == "oauth2_jwks_file" and "missing.json" in err.value.message
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationFailure) as err:
        load_jwks(bad)
    assert err.value.path == "oauth2_jwks_file"
    good = tmp_path / "jwks.json"
    good.write_text(json.dumps(JWKS), encoding="utf-8")
    assert load_jwks(good) == JWKS


def test_from_settings_resolves_the_jwks_file(tmp_path):
    from connector.config import Settings

    (tmp_path / "jwks.json").write_text(json.dumps(JWKS), encoding="utf-8")
    st = Settings(
        config_dir=str(tmp_path),
        api_key="k",
        management_auth="api_key+oauth2",
        oauth2_issuer=ISSUER,
        oauth2_jwks_file="jwks.json",
    )
    auth = ManagementAuth.from_settings(st)
    assert auth.api_key_enabled and auth.oauth2_enabled and auth.audience == ""
    token = sign(claims(READ, iat=int(time.time()), exp=int(time.time()) + 60))
    assert auth.check("GET", ASSETS + "/a1", bearer(token)) is None
    st.oauth2_jwks_file = "absent.json"
    with pytest.raises(ValidationFailure) as err:
        ManagementAuth.from_settings(st)
    assert err.value.path == "oauth2_jwks_file"


# --- keys from a JWKS URL -----------------------------------------------------------------------


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose answer a test can change; counts the fetches."""

    def __init__(self, jwks: Any = JWKS) -> None:
        self.jwks = jwks
        self.status = 200
        self.raw: bytes | None = None  # served instead of the JWKS when set
        self.delay_s = 0.0
        self.hits = 0
        app = web.Application()
        app.router.add_get("/jwks", self._serve)
        app.router.add_get("/moved", self._moved)
        self.server = TestServer(app, host="127.0.0.1")

    async def _serve(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.raw is not None:
            return web.Response(body=self.raw, status=self.status)
        return web.json_response(self.jwks, status=self.status)

    async def _moved(self, request: web.Request) -> web.Response:
        self.hits += 1
        raise web.HTTPFound(str(self.url))

    @property
    def url(self) -> str:
        return str(self.server.make_url("/jwks"))

    async def __aenter__(self) -> JwksServer:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def from_url(url: str, mode: str = "oauth2", **kwargs: Any) -> ManagementAuth:
    return ManagementAuth(
        api_key="secret-key",
        mode=mode,
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=url,
        read_scope=READ,
        write_scope=WRITE,
        clock=lambda: NOW,
        **kwargs,
    )


async def allowed(auth: ManagementAuth, headers: dict[str, str]) -> AuthFailure | None:
    """What the middleware does: refetch the keys if needed, then decide."""
    await auth.ensure_keys(headers)
    return auth.check("GET", ASSETS, headers)


NEW_KEY = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
ROTATED = {"keys": [public_jwk("ec-2", NEW_KEY)]}


async def test_tokens_verify_against_keys_from_a_jwks_url():
    async with JwksServer() as server:
        auth = from_url(server.url)
        try:
            await auth.start()
            for alg in SIGNERS:
                assert await allowed(auth, bearer(sign(claims(READ), alg))) is None
            assert server.hits == 1
        finally:
            await auth.close()


async def test_a_rotated_key_is_fetched_for_an_unknown_kid_at_most_every_30_s(caplog):
    caplog.set_level(logging.DEBUG)
    clock = Monotonic()
    async with JwksServer() as server:
        auth = from_url(server.url, monotonic=clock)
        try:
            await auth.start()
            assert server.hits == 1
            server.jwks = ROTATED
            new = sign(claims(READ), "ES256", kid="ec-2", key=NEW_KEY)
            clock.now += 5  # too soon after the fetch at start: no refetch
            failure = await allowed(auth, bearer(new))
            assert failure is not None and failure.status == 401
            assert "unknown key id" in failure.message
            assert server.hits == 1
            clock.now += 30
            assert await allowed(auth, bearer(new)) is None
            assert server.hits == 2
            # the old keys are gone with the rotation
            failure = await allowed(auth, bearer(sign(claims(READ))))
            assert failure is not None and "unknown key id" in failure.message
            assert server.hits == 2
        finally:
            await auth.close()
    assert new not in caplog.text


async def test_a_burst_of_unknown_kids_causes_one_fetch():
    clock = Monotonic()
    async with JwksServer() as server:
        auth = from_url(server.url, monotonic=clock)
        try:
            await auth.start()
            server.delay_s = 0.05  # the burst arrives while the refetch is under way
            clock.now += 100
            tokens = [sign(claims(READ), kid=f"unknown-{i}") for i in range(20)]
            failures = await asyncio.gather(*(allowed(auth, bearer(t)) for t in tokens))
            assert all(f is not None and f.status == 401 for f in failures)
            assert server.hits == 2
            assert await allowed(auth, bearer(sign(claims(READ), kid="another"))) is not None
            assert server.hits == 2
            # a token with a known kid never fetches
            assert await allowed(auth, bearer(sign(claims(READ)))) is None
            clock.now += 31
            assert await allowed(auth, bearer(sign(claims(READ)))) is None
            assert server.hits == 2
        finally:
            await auth.close()


async def test_an_unreachable_jwks_url_at_start_refuses_bearer_tokens_but_not_the_key(caplog):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    auth = from_url(f"http://127.0.0.1:{port}/jwks", mode="api_key+oauth2")
    token = sign(claims(READ))
    caplog.set_level(logging.DEBUG)
    try:
        await auth.start()  # not fatal
        assert "cannot fetch the JWKS" in caplog.text and f":{port}/jwks" in caplog.text
        failure = await allowed(auth, bearer(token))
        assert failure is not None and failure.status == 401
        assert failure.error_type == "AuthenticationFailed"
        assert "could not be fetched from oauth2_jwks_url" in failure.message
        assert failure.headers["WWW-Authenticate"].startswith("Bearer")
        assert await allowed(auth, {"X-Api-Key": "secret-key"}) is None
        failure = await allowed(auth, {"X-Api-Key": "wrong"})
        assert failure is not None and failure.path == "X-Api-Key"
    finally:
        await auth.close()
    assert token not in caplog.text


async def test_bearer_tokens_work_once_the_keys_can_be_fetched():
    clock = Monotonic()
    async with JwksServer() as server:
        server.status = 503
        auth = from_url(server.url, monotonic=clock)
        try:
            await auth.start()
            failure = await allowed(auth, bearer(sign(claims(READ))))
            assert failure is not None and "could not be fetched" in failure.message
            assert server.hits == 1  # rate-limited
            server.status = 200
            clock.now += 30
            assert await allowed(auth, bearer(sign(claims(READ)))) is None
            assert server.hits == 2
        finally:
            await auth.close()


async def test_the_keys_are_refreshed_periodically():
    async with JwksServer() as server:
        auth = from_url(server.url, jwks_refresh_s=0.05)
        try:
            await auth.start()
            server.jwks = ROTATED
            for _ in range(200):
                if server.hits >= 2:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.01)
            new = sign(claims(READ), "ES256", kid="ec-2", key=NEW_KEY)
            assert auth.check("GET", ASSETS, bearer(new)) is None
            # a failed refresh keeps the keys fetched before
            server.status = 500
            hits = server.hits
            for _ in range(200):
                if server.hits > hits:
                    break
                await asyncio.sleep(0.01)
            assert auth.check("GET", ASSETS, bearer(new)) is None
        finally:
            await auth.close()
        hits = server.hits
        await asyncio.sleep(0.15)
        assert server.hits == hits  # closed: no more refreshes


@pytest.mark.parametrize(
    "answer",
    ["redirect", "status", "not-json", "too-big", "private-key", "empty", "slow"],
)
async def test_unacceptable_jwks_answers_are_refused(answer, monkeypatch, caplog):
    async with JwksServer() as server:
        url = server.url
        if answer == "redirect":
            url = url.replace("/jwks", "/moved")
        elif answer == "status":
            server.status = 404
        elif answer == "not-json":
            server.raw = b"<html>"
        elif answer == "too-big":
            server.raw = json.dumps({"keys": JWKS["keys"], "pad": "x" * (1 << 20)}).encode()
        elif answer == "private-key":
            server.jwks = {"keys": [{**SIGNERS["ES256"][1].as_dict(is_private=True)}]}
        elif answer == "empty":
            server.jwks = {"keys": []}
        elif answer == "slow":
            monkeypatch.setattr(auth_module, "JWKS_FETCH_TIMEOUT_S", 0.2)
            server.delay_s = 1.0
        auth = from_url(url)
        try:
            with caplog.at_level(logging.WARNING, logger="connector.api.management.auth"):
                await auth.start()
            assert "cannot fetch the JWKS" in caplog.text
            failure = auth.check("GET", ASSETS, bearer(sign(claims(READ))))
            assert failure is not None and "could not be fetched" in failure.message
            assert server.hits == 1  # a redirect is not followed
        finally:
            await auth.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://idp.example/realms/karez/protocol/openid-connect/certs",
        "http://10.0.0.5:8080/jwks",
        "http://127.0.0.2/jwks",
        "ftp://idp.example/jwks",
        "idp.example/jwks",
        "https:///jwks",
        "http://127.0.0.1:99999/jwks",
    ],
)
def test_a_jwks_url_must_be_https_but_for_loopback(url):
    with pytest.raises(ValidationFailure) as err:
        from_url(url)
    assert err.value.path == "oauth2_jwks_url"


@pytest.mark.parametrize(
    "url",
    [
        "https://idp.example/realms/karez/protocol/openid-connect/certs",
        "http://127.0.0.1:8080/jwks",
        "http://localhost/jwks",
        "http://[::1]:9000/jwks",
    ],
)
def test_accepted_jwks_urls(url):
    assert from_url(url).jwks_url == url


def test_jwks_url_configuration_errors():
    with pytest.raises(ValidationFailure) as err:
        from_url("https://idp.example/certs", jwks=JWKS)
    assert err.value.path == "oauth2_jwks_url"
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValidationFailure) as err:
            from_url("https://idp.example/certs", jwks_refresh_s=bad)
        assert err.value.path == "oauth2_jwks_refresh_s"
    # not used in api_key mode, like the file
    assert from_url("http://idp.example/certs", mode="api_key").jwks_url == ""


def test_settings_with_a_jwks_url(tmp_path):
    from connector.config import load_settings

    config = tmp_path / "karez.toml"
    config.write_text(
        'api_key = "k"\nmanagement_auth = "oauth2"\n'
        f'oauth2_issuer = "{ISSUER}"\noauth2_jwks_url = "https://idp.example/certs"\n'
        "oauth2_jwks_refresh_s = 60\n",
        encoding="utf-8",
    )
    st = load_settings(config, env={})
    auth = ManagementAuth.from_settings(st)
    assert auth.jwks_url == "https://idp.example/certs" and auth.jwks_refresh_s == 60.0
    with pytest.raises(ValidationFailure) as err:
        load_settings(config, env={"KAREZ_OAUTH2_JWKS_URL": ""})
    assert err.value.path == "oauth2_issuer" and "oauth2_jwks_url" in err.value.message
    st = load_settings(config, env={"KAREZ_OAUTH2_JWKS_URL": "http://idp.example/certs"})
    with pytest.raises(ValidationFailure) as err:
        ManagementAuth.from_settings(st)
    assert err.value.path == "oauth2_jwks_url"
    (tmp_path / "jwks.json").write_text(json.dumps(JWKS), encoding="utf-8")
    st = load_settings(config, env={"KAREZ_OAUTH2_JWKS_FILE": "jwks.json"})
    with pytest.raises(ValidationFailure) as err:
        ManagementAuth.from_settings(st)
    assert err.value.path == "oauth2_jwks_url" and "not both" in err.value.message


async def test_the_management_app_fetches_the_keys_and_refetches_for_a_new_kid():
    """Through the app and its middleware: keys fetched at startup, refetched on a new kid."""
    from connector.api.management.app import build_management_root

    clock = Monotonic()
    async with JwksServer() as server:
        auth = from_url(server.url, monotonic=clock)
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
            assert server.hits == 1  # at startup
            resp = await client.get("/management/v3/dataplanes", headers=bearer(sign(claims())))
            assert resp.status == 200
            server.jwks = ROTATED
            clock.now += 60
            new = sign(claims(READ), "ES256", kid="ec-2", key=NEW_KEY)
            resp = await client.get("/management/v3/dataplanes", headers=bearer(new))
            assert resp.status == 200
            assert server.hits == 2
            assert (await client.get("/management/openapi.json")).status == 200
            assert server.hits == 2
        assert auth._refresher is None and auth._session is None  # closed with the app
