"""The DCP verifier: from a caller's ``Authorization`` header to verified policy claims.

Steps, each failure an ``Unauthorized`` whose reason starts with the step's name:
``self-issued token`` (signature, audience, expiry, replay) -> ``DID resolution`` (the caller's
``CredentialService`` endpoint) -> ``credential service`` (the presentation query, sent with our
own self-issued token carrying the caller's access token) -> ``presentation`` (holder, audience,
expiry, signature) -> ``credentials`` (issuer trusted for each type, validity window, status,
required types present). :func:`caller_token` is the other side: what a node sends when calling.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from connector.errors import Unauthorized, ValidationFailure
from connector.identity import dcp, jose
from connector.identity.did import DidResolver, ResolvedDid
from connector.identity.keys import PrivateKey
from connector.identity.presentation import verify_presentation
from connector.identity.replay import ReplayCache
from connector.identity.status_list import CLOCK_LEEWAY
from connector.identity.trust_anchors import MAX_CREDENTIALS, StatusCheck, TrustAnchors
from connector.identity.trust_anchors import verify_claims as merge_claims
from connector.identity.vc import VC_TYPE, CredentialCache
from connector.identity.wallet import parse_scope

#: ``(url, headers, JSON body) -> (HTTP status, parsed JSON or None)``.
HttpPost = Callable[[str, dict[str, str], Any], Awaitable[tuple[int, Any]]]
QUERY_PATH = "/presentations/query"
MAX_PRESENTATIONS = 4
#: Callers whose recent claims are kept (with ``claims_ttl_s`` > 0).
MAX_RECENT = 10_000
#: Relationship an issuer's key must have to sign credentials and status lists.
ISSUER_RELATIONSHIP = "assertionMethod"


def caller_token(
    own_key: PrivateKey,
    own_did: str,
    own_kid: str,
    audience_did: str,
    scopes: Iterable[str],
    *,
    now: float | None = None,
    ttl_s: int = 60,
) -> str:
    """The ``Authorization`` value (``Bearer ...``) for a call to ``audience_did``.

    A self-issued token to ``audience_did`` whose ``token`` claim is an access token letting
    ``audience_did`` read ``scopes`` from our credential service.
    """
    access = dcp.issue_access_token(
        own_key,
        own_did,
        audience_did,
        scopes,
        ttl_s=min(ttl_s + 60, dcp.MAX_ACCESS_LIFETIME_S),
        kid=own_kid,
        now=now,
    )
    token = dcp.issue_self_issued_token(
        own_key, own_did, own_kid, audience_did, access, ttl_s, now=now
    )
    return f"Bearer {token}"


class IssuerKeys:
    """A synchronous ``(issuer, kid) -> key`` lookup over issuer DID documents loaded first.

    :meth:`load` resolves an issuer (through the resolver's bounded cache); only issuers some
    trust anchor names are ever loaded, so this stays as small as the anchor list. Share one
    instance between :class:`DcpVerifier` and ``status_list.status_checker``.
    """

    def __init__(self, resolver: DidResolver) -> None:
        self._resolver = resolver
        self._documents: dict[str, ResolvedDid] = {}

    async def load(self, issuer: str, kid: str | None = None) -> None:
        document = await self._resolver.resolve(issuer)
        if kid is not None and kid not in document.keys:
            document = await self._resolver.resolve(issuer, refresh=True)
        self._documents[issuer] = document

    def __call__(self, issuer: str, kid: str) -> Any:
        document = self._documents.get(issuer)
        if document is None:
            return None
        try:
            return document.key(kid, ISSUER_RELATIONSHIP)
        except Unauthorized:
            return None


@contextmanager
def _step(name: str) -> Iterator[None]:
    try:
        yield
    except Unauthorized as exc:
        message = exc.message
        if not message.startswith(name + ":"):
            message = f"{name}: {message}"
        raise Unauthorized(message) from None
    except ValidationFailure as exc:
        raise Unauthorized(f"{name}: {exc.message}") from None


def _peek(jwt: str) -> tuple[str, str | None, list[str]]:
    """``(issuer, kid, specific types)`` of a credential JWT, unverified."""
    header_b64, payload_b64 = jwt.split(".")[:2]
    try:
        header = json.loads(jose.b64url_decode(header_b64))
        payload = json.loads(jose.b64url_decode(payload_b64))
    except ValueError:
        raise Unauthorized("malformed credential") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise Unauthorized("malformed credential")
    issuer = payload.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    types = payload.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(issuer, str) or not isinstance(types, list):
        raise Unauthorized("malformed credential")
    kid = header.get("kid")
    specific = [t for t in types if isinstance(t, str) and t != VC_TYPE]
    return issuer, kid if isinstance(kid, str) else None, specific


class DcpVerifier:
    """Verifies DCP-authenticated callers and returns their claims for the policy engine."""

    def __init__(
        self,
        own_did: str,
        resolver: DidResolver,
        replay_cache: ReplayCache,
        anchors: TrustAnchors,
        status_check: StatusCheck | None,
        http_post: HttpPost,
        own_key: PrivateKey,
        own_kid: str,
        required_scopes: Iterable[str],
        clock: Callable[[], float] = time.time,
        *,
        issuer_keys: IssuerKeys | None = None,
        optional_scopes: Iterable[str] = (),
        claims_ttl_s: float = 0.0,
    ) -> None:
        self.own_did = own_did
        self.resolver = resolver
        self.replay_cache = replay_cache
        self.anchors = anchors
        self.status_check = status_check
        self.http_post = http_post
        self.own_key = own_key
        self.own_kid = own_kid
        self.required_scopes = list(required_scopes)
        #: what is queried (and what our own access tokens grant): required, then optional
        self.query_scopes = list(dict.fromkeys([*self.required_scopes, *optional_scopes]))
        self.required_types = [
            d for a, d in map(parse_scope, self.required_scopes) if a == dcp.SCOPE_VC_TYPE
        ]
        self.clock = clock
        self.issuer_keys = issuer_keys or IssuerKeys(resolver)
        #: signatures of credentials seen before (validity and status are checked each time)
        self.credential_cache = CredentialCache()
        #: reuse a caller's verified claims this long (0: query its presentation every time);
        #: the self-issued token is still checked on every request
        self.claims_ttl_s = claims_ttl_s
        self._recent: dict[str, tuple[float, dict[str, Any]]] = {}

    async def caller_token(self, audience_did: str, scopes: Iterable[str] | None = None) -> str:
        """Our ``Authorization`` value for a call to ``audience_did`` (default: the scopes we
        query of others, required and optional)."""
        return caller_token(
            self.own_key,
            self.own_did,
            self.own_kid,
            audience_did,
            self.query_scopes if scopes is None else scopes,
            now=self.clock(),
        )

    async def verify(self, authorization: str | None) -> tuple[str, dict[str, Any]]:
        """``(caller DID, claims)``; ``Unauthorized`` whose reason names the failed step."""
        now = self.clock()
        with _step("self-issued token"):
            caller, access_token = await dcp.verify_self_issued_token(
                authorization, self.own_did, self.resolver, self.replay_cache, now
            )
            if access_token is None:
                raise Unauthorized("no access token ('token' claim) for the credential service")
        recent = self._recent.get(caller)
        if recent is not None and now - recent[0] < self.claims_ttl_s:
            return caller, recent[1]  # verified moments ago (only with claims_ttl_s > 0)
        with _step("DID resolution"):
            endpoint = (await self.resolver.resolve(caller)).service_endpoint("CredentialService")
            self.resolver.check_endpoint(endpoint)
        presentations = await self._query(caller, access_token, endpoint, now)
        credentials: list[str] = []
        with _step("presentation"):
            for vp in presentations:
                credentials += await verify_presentation(
                    vp, caller, self.own_did, self.resolver, now=now
                )
        with _step("credentials"):
            claims = await self._claims(credentials, caller, now)
        if self.claims_ttl_s > 0:
            self._recent[caller] = (now, claims)
            while len(self._recent) > MAX_RECENT:
                self._recent.pop(next(iter(self._recent)))
        return caller, claims

    async def _query(self, caller: str, access_token: str, endpoint: str, now: float) -> list[str]:
        with _step("credential service"):
            token = dcp.issue_self_issued_token(
                self.own_key, self.own_did, self.own_kid, caller, access_token, now=now
            )
            body = dcp.presentation_query_message(self.query_scopes)
            headers = {"Authorization": f"Bearer {token}"}
            try:
                status, answer = await self.http_post(endpoint + QUERY_PATH, headers, body)
            except Exception:
                raise Unauthorized("unreachable") from None
            if status != 200:
                raise Unauthorized(f"query refused (HTTP {status})")
            presentations = dcp.validate_presentation_response(answer)
            if not 0 < len(presentations) <= MAX_PRESENTATIONS:
                raise Unauthorized(f"expected 1 to {MAX_PRESENTATIONS} presentations")
            if not all(isinstance(p, str) for p in presentations):
                raise Unauthorized("only JWT presentations are supported")
            return [p for p in presentations if isinstance(p, str)]

    async def _claims(self, credentials: list[str], caller: str, now: float) -> dict[str, Any]:
        if len(credentials) > MAX_CREDENTIALS:
            raise Unauthorized(f"too many credentials (at most {MAX_CREDENTIALS})")
        presented: set[str] = set()
        for position, jwt in enumerate(credentials):
            issuer, kid, types = _peek(jwt)
            if not types:
                raise Unauthorized(f"credential {position}: credential has no specific type")
            for credential_type in types:
                if not self.anchors.is_trusted(issuer, credential_type):
                    raise Unauthorized(
                        f"credential {position}: untrusted issuer {issuer} "
                        f"for type {credential_type}"
                    )
            await self.issuer_keys.load(issuer, kid)
            presented.update(types)
        for credential_type in self.required_types:
            if credential_type not in presented:
                raise Unauthorized(f"missing required credential {credential_type}")
        at = datetime.fromtimestamp(now, UTC)
        return await merge_claims(
            credentials,
            caller,
            self.anchors,
            self.issuer_keys,
            self.status_check,
            at,
            leeway=CLOCK_LEEWAY,
            cache=self.credential_cache,
        )
