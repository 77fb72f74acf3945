"""``did:web`` identifiers, this node's DID document, and resolution of peers' documents.

did:web maps ``did:web:host%3Aport:a:b`` to ``https://host:port/a/b/did.json`` and a bare host to
``https://host/.well-known/did.json``. Plain HTTP is allowed only for loopback hosts named in
``allow_http_hosts``. Fetching is a callable passed in; this module does no network I/O.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from connector.errors import Unauthorized, ValidationFailure
from connector.identity.jose import jose_key
from connector.identity.keys import (
    PrivateKey,
    PublicKey,
    algorithm_of,
    public_jwk,
    public_key_from_jwk,
)
from connector.identity.trust import TrustedKey

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"
JWK_CONTEXT = "https://www.w3.org/ns/cid/v1"
DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
DCP_CONTEXT = "https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"

KEY_TYPES = {"JsonWebKey2020": JWS_2020_CONTEXT, "JsonWebKey": JWK_CONTEXT}
RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityInvocation")
LOOPBACK_NAMES = frozenset({"localhost"})

Fetch = Callable[[str], Awaitable[dict[str, Any]]]


# --- did:web <-> URL ------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _check_http_hosts(hosts: Iterable[str]) -> frozenset[str]:
    result = frozenset(h.lower() for h in hosts)
    for host in result:
        if not _is_loopback(host):
            raise ValueError(f"plain HTTP is allowed for loopback hosts only, not '{host}'")
    return result


def did_web_to_url(did: str, allow_http_hosts: Iterable[str] = ()) -> str:
    """The URL of the DID document for ``did``; ``ValidationFailure`` if it is no valid did:web."""
    http_hosts = _check_http_hosts(allow_http_hosts)
    if not did.startswith("did:web:") or "#" in did or "?" in did or "/" in did:
        raise ValidationFailure(f"not a did:web DID: '{did}'")
    authority, *segments = did[len("did:web:") :].split(":")
    authority = unquote(authority)
    try:
        parsed = urlsplit(f"//{authority}")
        host, port = parsed.hostname, parsed.port
    except ValueError:
        raise ValidationFailure(f"invalid host or port in '{did}'") from None
    if not host or parsed.username or parsed.password or parsed.path:
        raise ValidationFailure(f"invalid host in '{did}'")
    if any(not s or s in (".", "..") for s in segments):
        raise ValidationFailure(f"invalid path in '{did}'")
    bracketed = f"[{host}]" if ":" in host else host
    use_http = host in http_hosts or bracketed in http_hosts
    if _is_ip(host) and not use_http:
        raise ValidationFailure(f"did:web must name a domain, not an IP address: '{did}'")
    scheme = "http" if use_http else "https"
    netloc = bracketed if port is None else f"{bracketed}:{port}"
    path = "/".join(segments) if segments else ".well-known"
    return f"{scheme}://{netloc}/{path}/did.json"


def did_web_from_url(url: str) -> str:
    """The did:web DID whose document is served at (or under) ``url``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailure(f"not an HTTP(S) URL: '{url}'")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationFailure(f"URL must have no query, fragment or credentials: '{url}'")
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    authority = host if parts.port is None else f"{host}%3A{parts.port}"
    path = parts.path
    for suffix in ("/.well-known/did.json", "/did.json"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    segments = [s for s in path.split("/") if s]
    if any(s in (".", "..") for s in segments):
        raise ValidationFailure(f"invalid path in '{url}'")
    return ":".join(["did:web", authority, *(quote(unquote(s), safe="") for s in segments)])


# --- this node's DID document ---------------------------------------------------------------


class DidDocument:
    """Builds this node's DID document: keys as ``#key-N``, DSP and DCP service entries.

    :meth:`rotate` adds a new signing key; earlier keys stay listed so that what they signed
    still verifies, until :meth:`retire_key` drops one.
    """

    def __init__(self, did: str, key_type: str = "JsonWebKey2020") -> None:
        if not did.startswith("did:"):
            raise ValidationFailure(f"not a DID: '{did}'")
        if key_type not in KEY_TYPES:
            raise ValidationFailure(f"unsupported verification method type '{key_type}'")
        self.did = did
        self.key_type = key_type
        self._keys: dict[str, dict[str, str]] = {}
        self._next = 1
        self._current: str | None = None
        self._services: list[dict[str, Any]] = []

    @property
    def current_kid(self) -> str:
        """The DID URL of the key that signs now."""
        if self._current is None:
            raise ValidationFailure("DID document has no key")
        return self._current

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    def add_key(self, key: PrivateKey | PublicKey, fragment: str | None = None) -> str:
        """List ``key`` (public half only) as ``#fragment`` (default: the next ``#key-N``);
        returns its DID URL."""
        jwk = {k: v for k, v in public_jwk(key).items() if k not in ("kid", "use")}
        if fragment is None:
            fragment = f"key-{self._next}"
            self._next += 1
        kid = f"{self.did}#{fragment}"
        self._keys[kid] = jwk
        if self._current is None:
            self._current = kid
        return kid

    def rotate(self, new_key: PrivateKey | PublicKey, fragment: str | None = None) -> str:
        """Make ``new_key`` the signing key; the old ones stay for verification."""
        kid = self.add_key(new_key, fragment)
        self._current = kid
        return kid

    def retire_key(self, kid: str) -> None:
        """Stop publishing an old key (never the current one)."""
        if kid == self._current:
            raise ValidationFailure("cannot retire the current signing key")
        self._keys.pop(kid, None)

    def add_service(self, fragment: str, service_type: str, endpoint: str) -> dict[str, Any]:
        entry = {"id": f"{self.did}#{fragment}", "type": service_type, "serviceEndpoint": endpoint}
        self._services = [s for s in self._services if s["id"] != entry["id"]] + [entry]
        return entry

    def add_dsp_service(self, dsp_base_url: str) -> dict[str, Any]:
        """The DSP ``DataService`` entry; its endpoint is the catalog URL (``.../catalog``)."""
        endpoint = dsp_base_url.rstrip("/")
        if not endpoint.endswith("/catalog"):
            endpoint += "/catalog"
        return self.add_service("dsp", "DataService", endpoint)

    def add_credential_service(self, url: str) -> dict[str, Any]:
        """The DCP ``CredentialService`` entry; ``url`` is the credential service's base URL."""
        return self.add_service("credential-service", "CredentialService", url.rstrip("/"))

    def to_json(self) -> dict[str, Any]:
        methods = [
            {"id": kid, "type": self.key_type, "controller": self.did, "publicKeyJwk": dict(jwk)}
            for kid, jwk in self._keys.items()
        ]
        doc: dict[str, Any] = {
            "@context": [DID_CONTEXT, KEY_TYPES[self.key_type], DSP_CONTEXT, DCP_CONTEXT],
            "id": self.did,
            "verificationMethod": methods,
        }
        for relationship in RELATIONSHIPS:
            doc[relationship] = list(self._keys)
        doc["service"] = [dict(s) for s in self._services]
        return doc

    def resolved(self) -> ResolvedDid:
        """This document as a verifier sees it (for checking tokens this node signed)."""
        return parse_did_document(self.to_json(), self.did)


# --- a parsed, validated DID document -------------------------------------------------------


@dataclass(frozen=True)
class ResolvedDid:
    """A validated DID document: keys by DID URL, relationships, services."""

    did: str
    keys: Mapping[str, TrustedKey]
    relationships: Mapping[str, frozenset[str]]
    services: tuple[Mapping[str, Any], ...] = field(default=())

    def key(self, kid: str | None, relationship: str) -> TrustedKey:
        """The key ``kid`` (a DID URL or ``#fragment``) if it has ``relationship``.

        Without ``kid``, the document's only key, if it has ``relationship``.
        """
        allowed = self.relationships.get(relationship, frozenset())
        if kid is None:
            if len(self.keys) != 1:
                raise Unauthorized("token has no 'kid' and the DID document has several keys")
            kid = next(iter(self.keys))
        elif kid.startswith("#"):
            kid = self.did + kid
        entry = self.keys.get(kid)
        if entry is None:
            raise Unauthorized("signing key not found in the DID document")
        if kid not in allowed:
            raise Unauthorized(f"signing key is not listed under '{relationship}'")
        return entry

    def service_endpoint(self, service_type: str) -> str:
        for service in self.services:
            if service.get("type") == service_type and isinstance(
                service.get("serviceEndpoint"), str
            ):
                return service["serviceEndpoint"]
        raise Unauthorized(f"DID document has no '{service_type}' service")


def parse_did_document(doc: Any, did: str) -> ResolvedDid:
    """Validate ``doc`` as the document of ``did``; ``Unauthorized`` naming what is wrong."""
    if not isinstance(doc, Mapping):
        raise Unauthorized("invalid DID document: not a JSON object")
    if doc.get("id") != did:
        raise Unauthorized("invalid DID document: 'id' does not match the DID")
    methods = doc.get("verificationMethod", [])
    if not isinstance(methods, list):
        raise Unauthorized("invalid DID document: 'verificationMethod' must be a list")
    keys: dict[str, TrustedKey] = {}
    for method in methods:
        _add_method(keys, method, did)
    relationships: dict[str, frozenset[str]] = {}
    for relationship in RELATIONSHIPS:
        refs = doc.get(relationship, [])
        if not isinstance(refs, list):
            raise Unauthorized(f"invalid DID document: '{relationship}' must be a list")
        ids = set()
        for ref in refs:
            if isinstance(ref, Mapping):
                ids.add(_add_method(keys, ref, did))
            elif isinstance(ref, str):
                ids.add(did + ref if ref.startswith("#") else ref)
            else:
                raise Unauthorized(f"invalid DID document: bad entry in '{relationship}'")
        relationships[relationship] = frozenset(ids)
    services = doc.get("service", [])
    if not isinstance(services, list) or not all(isinstance(s, Mapping) for s in services):
        raise Unauthorized("invalid DID document: 'service' must be a list of objects")
    return ResolvedDid(did, keys, relationships, tuple(services))


def _add_method(keys: dict[str, TrustedKey], method: Any, did: str) -> str:
    if not isinstance(method, Mapping) or not isinstance(method.get("id"), str):
        raise Unauthorized("invalid DID document: verification method without 'id'")
    kid = method["id"]
    kid = did + kid if kid.startswith("#") else kid
    if not kid.startswith(did + "#"):
        raise Unauthorized("invalid DID document: verification method of another DID")
    if method.get("type") not in KEY_TYPES:
        return kid  # not a key type Karez verifies with; ignored
    jwk = method.get("publicKeyJwk")
    if not isinstance(jwk, Mapping):
        raise Unauthorized("invalid DID document: verification method without 'publicKeyJwk'")
    try:
        public_key = public_key_from_jwk(dict(jwk))
        alg = algorithm_of(public_key)
    except ValidationFailure as exc:
        raise Unauthorized(f"invalid DID document: {exc.message}") from None
    if jwk.get("alg", alg) != alg:
        raise Unauthorized("invalid DID document: JWK 'alg' does not fit its key")
    keys[kid] = TrustedKey(did, kid, alg, public_key, dict(jwk), jose_key(public_key))
    return kid


# --- resolution with a bounded cache --------------------------------------------------------


class DidResolver:
    """Resolves did:web DIDs through ``fetch(url)``, caching documents for ``ttl_s`` seconds.

    At most ``max_entries`` documents are kept (least recently used go first). ``resolve(...,
    refresh=True)`` refetches, but not more often than every ``min_refresh_s`` per DID, so that
    a peer's freshly rotated key is found without letting callers force a fetch per request.
    """

    def __init__(
        self,
        fetch: Fetch,
        ttl_s: float = 300,
        max_entries: int = 1000,
        *,
        allow_http_hosts: Iterable[str] = (),
        min_refresh_s: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0 or max_entries < 1:
            raise ValueError("ttl_s and max_entries must be positive")
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._http_hosts = _check_http_hosts(allow_http_hosts)
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, ResolvedDid]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cache)

    def check_endpoint(self, url: str) -> str:
        """``url`` if a DID document's service endpoint may be called: HTTPS, or plain HTTP to
        one of the loopback hosts this resolver allows; ``Unauthorized`` otherwise."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError:
            raise Unauthorized("service endpoint is not a URL") from None
        if parts.username or parts.password or not host:
            raise Unauthorized("service endpoint is not a plain absolute URL")
        if parts.scheme == "https":
            return url
        bracketed = f"[{host}]" if ":" in host else host
        if parts.scheme == "http" and (host in self._http_hosts or bracketed in self._http_hosts):
            return url
        raise Unauthorized("service endpoint must use HTTPS (plain HTTP only on loopback)")

    def invalidate(self, did: str) -> None:
        self._cache.pop(did, None)

    async def resolve(self, did: str, *, refresh: bool = False) -> ResolvedDid:
        """The validated document of ``did``; ``Unauthorized`` if it cannot be had."""
        now = self._clock()
        cached = self._cache.get(did)
        if cached is not None:
            fetched_at, resolved = cached
            fresh = now - fetched_at < self._ttl_s
            may_refresh = now - fetched_at >= self._min_refresh_s
            if fresh and not (refresh and may_refresh):
                self._cache.move_to_end(did)
                return resolved
        try:
            url = did_web_to_url(did, self._http_hosts)
        except ValidationFailure as exc:
            raise Unauthorized(f"cannot resolve DID: {exc.message}") from None
        try:
            doc = await self._fetch(url)
        except Exception:
            raise Unauthorized(f"cannot resolve DID '{did}': document not retrievable") from None
        resolved = parse_did_document(doc, did)
        self._cache[did] = (now, resolved)
        self._cache.move_to_end(did)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)
        return resolved
