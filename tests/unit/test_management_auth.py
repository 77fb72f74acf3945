"""The Management API's authentication: API key, OAuth2 bearer JWTs, scopes, failures."""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from connector.api.management.auth import ManagementAuth, load_jwks
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
