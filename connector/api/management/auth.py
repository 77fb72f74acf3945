"""Who may call the Management API: the node's API key, OAuth2 bearer tokens (JWT), or either.

The decision is pure: the middleware hands over the method, path and headers and gets back
``None`` (allowed) or an :class:`AuthFailure` to render. The issuer's keys come either from a
JWKS file, read once in :meth:`ManagementAuth.from_settings`, or from a JWKS URL, fetched at
start, every ``oauth2_jwks_refresh_s`` and again (at most every 30 s) when a token names a key
id not yet known, so that the identity provider can rotate its keys; the middleware awaits
:meth:`ManagementAuth.ensure_keys` before :meth:`ManagementAuth.check`. Bearer tokens are
JWTs signed by the configured issuer with one of the keys in its JWKS (RS256, ES256 or EdDSA);
a token carries scopes in ``scope`` (a space separated string) or ``scp`` (a list). The read
scope covers every call that only reads, the write scope covers everything (and implies read).
No reason ever echoes a token.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import re
import time
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import authlib.deprecate  # noqa: F401  (installs authlib's warning filter before ours)

from connector.errors import ValidationFailure

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken
    from authlib.jose.errors import ExpiredTokenError, JoseError

if TYPE_CHECKING:
    import ssl

    from aiohttp import web

    from connector.config import Settings

log = logging.getLogger(__name__)

MODES = ("api_key", "oauth2", "api_key+oauth2")
#: Signature algorithms accepted on bearer tokens, with the key type (and curves) each needs.
#: Never ``none``, never a MAC (``HS*``): a public JWKS must not double as a shared secret.
ALGORITHMS: dict[str, tuple[str, frozenset[str] | None]] = {
    "RS256": ("RSA", None),
    "ES256": ("EC", frozenset({"P-256"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}
LEEWAY_S = 30
MAX_TOKEN_CHARS = 8192
#: Fetching a JWKS from ``oauth2_jwks_url``: the whole exchange's time limit, the largest body
#: read, the default refresh period and the least time between two fetches for an unknown kid.
JWKS_FETCH_TIMEOUT_S = 5.0
MAX_JWKS_BYTES = 1 << 20
JWKS_REFRESH_S = 600.0
JWKS_MIN_REFETCH_S = 30.0
#: Hosts a JWKS may be fetched from over plain HTTP; any other host needs HTTPS.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

#: Calls that only read although they are POSTs: EDC's ``…/request`` queries (including the
#: catalog, dataset, EDR and protocol-version requests, which ask a peer but change nothing
#: here) and the static validation of a stored policy.
_READ_POSTS = re.compile(r"/request$|/v3/policydefinitions/[^/]+/validate$")
#: Reads that hand out secret values (``GET /v3/secrets/{id}``): they need the write scope.
_SECRET_READS = re.compile(r"/v3/secrets/")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class AuthFailure:
    """Why a call was refused: an HTTP status, an EDC error type, a message, the challenge."""

    status: int  # 401 (no or bad credentials) or 403 (a valid token without the scope)
    error_type: str  # "AuthenticationFailed" or "NotAuthorized"
    message: str
    path: str | None  # the header at fault, as the ``path`` of the EDC error entry
    www_authenticate: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.www_authenticate} if self.www_authenticate else {}


class _InvalidToken(Exception):
    """A bearer token was given but cannot be accepted; the message is safe to return."""


def load_jwks(path: Any, field: str = "oauth2_jwks_file") -> dict[str, Any]:
    """Read a JWKS file; any problem is a :class:`ValidationFailure` naming ``field``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ValidationFailure(f"{field}: cannot read {path}: {reason}", path=field) from None
    try:
        data = json.loads(text)
    except ValueError:
        raise ValidationFailure(f"{field}: {path} is not JSON", path=field) from None
    return data


@dataclass(frozen=True)
class _Jwk:
    kid: str | None
    kty: str
    crv: str | None
    alg: str | None
    key: Any  # the authlib key, its public key loaded


def _keys(jwks: Any, field: str) -> tuple[_Jwk, ...]:
    """The signature keys of a JWKS, loaded now so that a bad key stops the node at start."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValidationFailure(f'{field}: a JWKS needs a non-empty "keys" array', path=field)
    out = []
    for i, jwk in enumerate(jwks["keys"]):
        if not isinstance(jwk, dict):
            raise ValidationFailure(f"{field}: key {i} is not a JSON object", path=field)
        if jwk.get("kty") not in {kty for kty, _ in ALGORITHMS.values()}:
            raise ValidationFailure(
                f"{field}: key {i} has kty {jwk.get('kty')!r}; RSA, EC or OKP expected",
                path=field,
            )
        if "d" in jwk:
            raise ValidationFailure(
                f"{field}: key {i} holds private key material; give the public keys only",
                path=field,
            )
        if jwk.get("use", "sig") != "sig":
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                key = JsonWebKey.import_key(jwk)
                public = key.get_public_key()
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ValidationFailure(f"{field}: key {i} is invalid ({exc})", path=field) from None
        if jwk["kty"] == "RSA" and public.key_size < 2048:
            raise ValidationFailure(f"{field}: key {i} is an RSA key under 2048 bits", path=field)
        kid = jwk.get("kid")
        out.append(
            _Jwk(
                kid if isinstance(kid, str) else None,
                jwk["kty"],
                jwk.get("crv"),
                jwk.get("alg"),
                key,
            )
        )
    if not out:
        raise ValidationFailure(f"{field}: the JWKS has no signature key", path=field)
    return tuple(out)


def check_jwks_url(url: str, field: str = "oauth2_jwks_url") -> str:
    """``url`` if a JWKS may be fetched from it: HTTPS, or HTTP to a loopback host only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise ValidationFailure(f"{field}: {url!r} is not a valid URL", path=field) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise ValidationFailure(f"{field}: {url!r} is not an https URL", path=field)
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValidationFailure(
            f"{field}: {url!r} must use https (plain http only to 127.0.0.1, localhost or ::1)",
            path=field,
        )
    return url


class _FetchError(Exception):
    """A JWKS could not be fetched or is not acceptable; the message is safe to log."""


def _b64url_json(segment: str) -> Any:
    if "=" in segment:
        raise ValueError("padded")
    try:
        raw = base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise ValueError("invalid base64url") from exc
    return json.loads(raw)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class ManagementAuth:
    """The Management API's authentication and authorization, one object per node.

    ``check(method, path, headers)`` answers ``None`` when the call may proceed, else an
    :class:`AuthFailure`. In mode ``"api_key"`` only ``X-Api-Key`` counts; in ``"oauth2"`` only
    ``Authorization: Bearer <jwt>``; in ``"api_key+oauth2"`` an ``X-Api-Key`` header, when
    present, is checked as the key, otherwise the bearer token is.

    The keys are ``jwks`` (given, e.g. read from a file) or fetched from ``jwks_url``: then
    :meth:`start` fetches them (a failure is logged; bearer tokens are refused until a fetch
    succeeds) and refreshes them every ``jwks_refresh_s``, :meth:`ensure_keys` refetches them
    for a token whose ``kid`` is unknown (at most once every ``jwks_min_refetch_s``), and
    :meth:`close` stops the refresh and closes the HTTP session.
    """

    def __init__(
        self,
        *,
        api_key: str = "",
        mode: str = "api_key",
        issuer: str = "",
        audience: str = "",
        jwks: Mapping[str, Any] | None = None,
        jwks_url: str = "",
        jwks_refresh_s: float = JWKS_REFRESH_S,
        jwks_min_refetch_s: float = JWKS_MIN_REFETCH_S,
        tls: ssl.SSLContext | bool = True,
        read_scope: str = "management:read",
        write_scope: str = "management:write",
        leeway_s: float = LEEWAY_S,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in MODES:
            raise ValidationFailure(
                f"management_auth must be one of {', '.join(MODES)}", path="management_auth"
            )
        self.mode = mode
        self.api_key_enabled = "api_key" in mode
        self.oauth2_enabled = "oauth2" in mode
        if self.api_key_enabled and not api_key:
            raise ValidationFailure("management_auth with api_key needs api_key", path="api_key")
        self._api_key = api_key.encode()
        self.issuer = issuer
        self.audience = audience
        self.read_scope = read_scope
        self.write_scope = write_scope
        self.leeway_s = leeway_s
        self._clock = clock
        self._monotonic = monotonic
        self._keys: tuple[_Jwk, ...] = ()
        self.jwks_url = ""
        self.jwks_refresh_s = jwks_refresh_s
        self.jwks_min_refetch_s = jwks_min_refetch_s
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._fetch_lock = asyncio.Lock()
        self._last_fetch: float | None = None  # monotonic time of the last fetch attempt
        self._last_fetch_ok = False
        if self.oauth2_enabled:
            if not issuer:
                raise ValidationFailure(
                    "management_auth with oauth2 needs oauth2_issuer", path="oauth2_issuer"
                )
            if jwks is not None and jwks_url:
                raise ValidationFailure(
                    "set oauth2_jwks_file or oauth2_jwks_url, not both", path="oauth2_jwks_url"
                )
            if jwks_url:
                self.jwks_url = check_jwks_url(jwks_url)
                if not jwks_refresh_s > 0 or jwks_refresh_s == float("inf"):
                    raise ValidationFailure(
                        "oauth2_jwks_refresh_s must be a positive number of seconds",
                        path="oauth2_jwks_refresh_s",
                    )
            elif jwks is None:
                raise ValidationFailure(
                    "management_auth with oauth2 needs oauth2_jwks_file or oauth2_jwks_url",
                    path="oauth2_jwks_file",
                )
            else:
                self._keys = _keys(dict(jwks), "oauth2_jwks_file")
        self._jwt = JsonWebToken(list(ALGORITHMS))
        self._challenge = 'Bearer realm="management"'

    @classmethod
    def from_settings(cls, settings: Settings) -> ManagementAuth:
        """The node's auth from its settings; reads the JWKS file (once) in the oauth2 modes.

        With ``oauth2_jwks_url`` instead, nothing is fetched yet: :meth:`start` does that.
        """
        jwks = None
        jwks_url = ""
        tls: ssl.SSLContext | bool = True
        if "oauth2" in settings.management_auth:
            jwks_url = settings.oauth2_jwks_url
            if jwks_url and settings.oauth2_jwks_file:
                raise ValidationFailure(
                    "set oauth2_jwks_file or oauth2_jwks_url, not both", path="oauth2_jwks_url"
                )
            if jwks_url:
                from connector.tls import client_context

                tls = client_context(settings)  # trusts tls_ca_file, like every outgoing call
            elif settings.oauth2_jwks_file:
                jwks = load_jwks(settings.resolve(settings.oauth2_jwks_file))
            else:
                raise ValidationFailure(
                    "management_auth with oauth2 needs oauth2_jwks_file or oauth2_jwks_url",
                    path="oauth2_jwks_file",
                )
        return cls(
            api_key=settings.api_key,
            mode=settings.management_auth,
            issuer=settings.oauth2_issuer,
            audience=settings.oauth2_audience,
            jwks=jwks,
            jwks_url=jwks_url,
            jwks_refresh_s=settings.oauth2_jwks_refresh_s,
            tls=tls,
            read_scope=settings.oauth2_read_scope,
            write_scope=settings.oauth2_write_scope,
        )

    # --- keys from a JWKS URL -----------------------------------------------------------------

    async def start(self) -> None:
        """Fetch the keys from the JWKS URL and refresh them from now on (no-op without one).

        A failed fetch is logged, not raised: the node starts, and refuses bearer tokens (401)
        until the keys can be fetched.
        """
        if not self.jwks_url or self._refresher is not None:
            return
        async with self._fetch_lock:
            await self._fetch()
        self._refresher = asyncio.create_task(self._refresh_forever())

    async def close(self) -> None:
        """Stop refreshing and close the HTTP session; :meth:`start` may be called again."""
        task, self._refresher = self._refresher, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        """For ``app.cleanup_ctx``: :meth:`start` with the app, :meth:`close` after it."""
        await self.start()
        try:
            yield
        finally:
            await self.close()

    async def ensure_keys(self, headers: Mapping[str, str]) -> None:
        """Refetch the keys first if the bearer token to check names a ``kid`` not known yet.

        Also when no keys could be fetched so far. Rate-limited: no fetch if one was attempted
        within ``jwks_min_refetch_s``; concurrent calls share one fetch. Never raises.
        """
        if not self.jwks_url or not self._bearer_applies(headers):
            return
        scheme, _, token = (headers.get("Authorization") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return
        kid = _token_kid(token)
        if kid is _MALFORMED:
            return  # check() refuses it as it is
        keys = self._keys
        if keys and (kid is None or any(k.kid == kid for k in keys)):
            return
        async with self._fetch_lock:
            if keys is not self._keys:
                return  # another call fetched them while this one waited
            last = self._last_fetch
            if last is not None and self._monotonic() - last < self.jwks_min_refetch_s:
                return
            await self._fetch()

    async def _refresh_forever(self) -> None:
        while True:
            delay = self.jwks_refresh_s
            if not self._last_fetch_ok:  # retry a failed fetch sooner
                delay = min(delay, self.jwks_min_refetch_s)
            await asyncio.sleep(delay)
            async with self._fetch_lock:
                await self._fetch()

    async def _fetch(self) -> None:
        """Fetch and install the keys (the caller holds the lock); log, never raise, a failure."""
        self._last_fetch = self._monotonic()
        try:
            keys = await self._download()
        except Exception as exc:
            if not isinstance(exc, _FetchError):  # a bug: keep the refresh and requests going
                log.exception("management oauth2: unexpected error fetching the JWKS")
            self._last_fetch_ok = False
            if self._keys:
                log.warning(
                    "management oauth2: cannot refresh the JWKS from %s: %s; keeping the keys"
                    " fetched before",
                    self.jwks_url,
                    exc,
                )
            else:
                log.warning(
                    "management oauth2: cannot fetch the JWKS from %s: %s; bearer tokens are"
                    " refused until it can be fetched",
                    self.jwks_url,
                    exc,
                )
            return
        self._last_fetch_ok = True
        before = {k.kid for k in self._keys}
        self._keys = keys
        after = {k.kid for k in keys}
        if after != before:
            log.info(
                "management oauth2: %d signature key(s) from %s (kid %s)",
                len(keys),
                self.jwks_url,
                ", ".join(sorted(str(kid) for kid in after)),
            )

    async def _download(self) -> tuple[_Jwk, ...]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._tls), trust_env=False
            )
        timeout = aiohttp.ClientTimeout(total=JWKS_FETCH_TIMEOUT_S)
        try:
            async with self._session.get(
                self.jwks_url,
                allow_redirects=False,
                timeout=timeout,
                headers={"Accept": "application/jwk-set+json, application/json"},
            ) as resp:
                if resp.status != 200:
                    moved = " (redirects are not followed)" if 300 <= resp.status < 400 else ""
                    raise _FetchError(f"HTTP status {resp.status}{moved}")
                if (resp.content_length or 0) > MAX_JWKS_BYTES:
                    raise _FetchError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
                body = bytearray()
                async for chunk in resp.content.iter_any():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise _FetchError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
        except (aiohttp.ClientError, OSError) as exc:
            raise _FetchError(str(exc) or type(exc).__name__) from None
        except TimeoutError:
            raise _FetchError(f"no answer within {JWKS_FETCH_TIMEOUT_S:g} s") from None
        try:
            data = json.loads(bytes(body).decode("utf-8"))
        except (ValueError, RecursionError):
            raise _FetchError("the answer is not JSON") from None
        try:
            return _keys(data, "oauth2_jwks_url")
        except ValidationFailure as exc:
            raise _FetchError(exc.message) from None

    # --- the decision -----------------------------------------------------------------------

    def required_scope(self, method: str, path: str) -> str:
        """The scope a bearer token needs for ``method`` on ``path``.

        ``path`` is best the matched route's template (``/management/v3/assets/{id}``), which no
        percent-encoding in the request can disguise; the request path works too.
        """
        method = method.upper()
        if method in _READ_METHODS:
            return self.write_scope if _SECRET_READS.search(path) else self.read_scope
        if method == "POST" and _READ_POSTS.search(path):
            return self.write_scope if path.endswith("/v3/secrets/request") else self.read_scope
        return self.write_scope

    def check(self, method: str, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        """``None`` if the call is allowed, else why not."""
        given_key = headers.get("X-Api-Key")
        if not self._bearer_applies(headers):
            if given_key and hmac.compare_digest(given_key.encode(), self._api_key):
                return None
            if not self.oauth2_enabled:
                return AuthFailure(
                    401, "AuthenticationFailed", "missing or wrong X-Api-Key", "X-Api-Key"
                )
            return AuthFailure(
                401, "AuthenticationFailed", "wrong X-Api-Key", "X-Api-Key", self._challenge
            )
        return self._check_bearer(method, path, headers.get("Authorization"))

    def _bearer_applies(self, headers: Mapping[str, str]) -> bool:
        """Whether the call is judged by its bearer token (else by its ``X-Api-Key``)."""
        if not self.api_key_enabled:
            return True
        return self.oauth2_enabled and headers.get("X-Api-Key") is None

    def _check_bearer(self, method: str, path: str, header: str | None) -> AuthFailure | None:
        scheme, _, token = (header or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            message = (
                "missing credentials: X-Api-Key or Authorization: Bearer"
                if self.api_key_enabled
                else "missing bearer token in Authorization"
            )
            return AuthFailure(
                401, "AuthenticationFailed", message, "Authorization", self._challenge
            )
        if not self._keys:  # only with a JWKS URL that could not be fetched yet
            return AuthFailure(
                401,
                "AuthenticationFailed",
                "bearer tokens cannot be verified now: the issuer's keys could not be fetched"
                " from oauth2_jwks_url",
                "Authorization",
                self._challenge,
            )
        try:
            claims = self._verify(token)
        except _InvalidToken as exc:
            reason = str(exc)
            log.info("management bearer token refused: %s", reason)
            return AuthFailure(
                401,
                "AuthenticationFailed",
                f"invalid bearer token: {reason}",
                "Authorization",
                f'{self._challenge}, error="invalid_token", error_description="{_quote(reason)}"',
            )
        needed = self.required_scope(method, path)
        granted = self.scopes(claims)
        if needed in granted or self.write_scope in granted:
            return None
        return AuthFailure(
            403,
            "NotAuthorized",
            f"the token lacks the scope {needed}",
            "Authorization",
            f'{self._challenge}, error="insufficient_scope", scope="{_quote(needed)}"',
        )

    # --- tokens -------------------------------------------------------------------------------

    @staticmethod
    def scopes(claims: Mapping[str, Any]) -> frozenset[str]:
        """The scopes a token grants: ``scope`` (space separated) or ``scp`` (a list)."""
        scope = claims.get("scope")
        if isinstance(scope, str):
            return frozenset(scope.split())
        scp = claims.get("scp")
        if isinstance(scp, str):
            return frozenset(scp.split())
        if isinstance(scp, list):
            return frozenset(s for s in scp if isinstance(s, str))
        return frozenset()

    def _verify(self, token: str) -> dict[str, Any]:
        """The claims of a token signed by the issuer and valid now; ``_InvalidToken`` if not."""
        if len(token) > MAX_TOKEN_CHARS:
            raise _InvalidToken("malformed token")
        parts = token.split(".")
        if len(parts) != 3 or not all(parts):
            raise _InvalidToken("malformed token")
        try:
            header = _b64url_json(parts[0])
        except (ValueError, RecursionError):
            raise _InvalidToken("malformed token") from None
        if not isinstance(header, dict):
            raise _InvalidToken("malformed token")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            raise _InvalidToken("unsupported token algorithm")
        if "crit" in header:
            raise _InvalidToken("unsupported critical header")
        key = self._key_for(alg, header.get("kid"))
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "exp": {"essential": True},
        }
        if self.audience:
            options["aud"] = {"essential": True, "value": self.audience}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                claims = self._jwt.decode(token, key, claims_options=options)
                claims.validate(now=int(self._clock()), leeway=int(self.leeway_s))
        except ExpiredTokenError:
            raise _InvalidToken("token expired") from None
        except JoseError as exc:
            raise _InvalidToken(_reason(exc)) from None
        except (ValueError, TypeError, RecursionError):
            raise _InvalidToken("malformed token") from None
        return dict(claims)

    def _key_for(self, alg: str, kid: Any) -> Any:
        kty, curves = ALGORITHMS[alg]
        candidates = [
            k.key
            for k in self._keys
            if (kid is None or k.kid == kid)
            and k.kty == kty
            and (curves is None or k.crv in curves)
            and k.alg in (None, alg)
        ]
        if not candidates:
            raise _InvalidToken("unknown key id" if kid is not None else "no key for the token")
        if len(candidates) > 1:
            raise _InvalidToken("ambiguous key: the token needs a kid")
        return candidates[0]


_MALFORMED = object()


def _token_kid(token: str) -> Any:
    """The ``kid`` in a token's header (``None`` if absent), or ``_MALFORMED``."""
    if len(token) > MAX_TOKEN_CHARS:
        return _MALFORMED
    try:
        header = _b64url_json(token.partition(".")[0])
    except (ValueError, RecursionError):
        return _MALFORMED
    if not isinstance(header, dict):
        return _MALFORMED
    kid = header.get("kid")
    return kid if kid is None or isinstance(kid, str) else _MALFORMED


def _reason(exc: Any) -> str:
    """A short, token-free reason for an authlib error."""
    error = getattr(exc, "error", "")
    claim = getattr(exc, "claim_name", None)
    if error == "bad_signature":
        return "bad signature"
    if error == "missing_claim":
        return str(getattr(exc, "description", "") or "missing claim")
    if error == "invalid_claim" and claim:
        return f"invalid claim {claim}"
    if error == "invalid_token":
        return "token not yet valid or issued in the future"
    if error in ("unsupported_algorithm", "missing_algorithm"):
        return "unsupported token algorithm"
    return "malformed token"
