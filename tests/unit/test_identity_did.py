"""did:web mapping, the DID document builder, parsing and the caching resolver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.errors import Unauthorized, ValidationFailure
from connector.identity.did import (
    DCP_CONTEXT,
    DID_CONTEXT,
    DSP_CONTEXT,
    DidDocument,
    DidResolver,
    did_web_from_url,
    did_web_to_url,
    parse_did_document,
)
from connector.identity.keys import generate_key

DID = "did:web:example.com"
SCHEMA_DIR = Path("/work/shared/dsp/2025-1/schemas/common")


class FakeWeb:
    """In-memory ``fetch``: URL -> document; counts calls."""

    def __init__(self, docs: dict[str, Any] | None = None) -> None:
        self.docs = docs or {}
        self.calls: list[str] = []

    async def __call__(self, url: str) -> dict[str, Any]:
        self.calls.append(url)
        if url not in self.docs:
            raise OSError(f"404 {url} secret-internal-detail")
        return self.docs[url]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


# --- did:web <-> URL


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:Example.COM", "https://example.com/.well-known/did.json"),
    ],
)
def test_did_to_url(did: str, url: str) -> None:
    assert did_web_to_url(did) == url


def test_loopback_over_http_only_when_allowed() -> None:
    did = "did:web:localhost%3A8282"
    assert did_web_to_url(did) == "https://localhost:8282/.well-known/did.json"
    assert did_web_to_url(did, {"localhost"}) == "http://localhost:8282/.well-known/did.json"
    ip_did = "did:web:127.0.0.1%3A8282:node"
    assert did_web_to_url(ip_did, {"127.0.0.1"}) == "http://127.0.0.1:8282/node/did.json"
    ipv6 = "did:web:%5B%3A%3A1%5D%3A9"
    assert did_web_to_url(ipv6, {"::1"}) == "http://[::1]:9/.well-known/did.json"


def test_http_hosts_must_be_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        did_web_to_url(DID, {"example.com"})
    with pytest.raises(ValueError, match="loopback"):
        DidResolver(FakeWeb(), allow_http_hosts={"10.0.0.1"})


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6Mk",
        "did:web:",
        "did:web:example.com#key-1",
        "did:web:example.com::a",
        "did:web:example.com:..:a",
        "did:web:example.com%3Aabc",
        "did:web:user@example.com",
        "did:web:127.0.0.1",
        "did:web:example.com/a",
        "did:web:%5B::1%5D",
    ],
)
def test_invalid_did_web(did: str) -> None:
    with pytest.raises(ValidationFailure):
        did_web_to_url(did)


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("https://example.com", "did:web:example.com"),
        ("https://example.com/", "did:web:example.com"),
        ("https://example.com/.well-known/did.json", "did:web:example.com"),
        ("https://example.com:3000/user/alice", "did:web:example.com%3A3000:user:alice"),
        ("https://example.com:3000/user/alice/did.json", "did:web:example.com%3A3000:user:alice"),
        ("http://localhost:8282", "did:web:localhost%3A8282"),
    ],
)
def test_url_to_did(url: str, did: str) -> None:
    assert did_web_from_url(url) == did


@pytest.mark.parametrize(
    "url", ["ftp://example.com", "https://example.com/?q=1", "https://u:p@example.com", "x"]
)
def test_invalid_url_to_did(url: str) -> None:
    with pytest.raises(ValidationFailure):
        did_web_from_url(url)


def test_round_trip_with_port_and_path() -> None:
    did = did_web_from_url("http://localhost:9000/nodes/a")
    assert did_web_to_url(did, {"localhost"}) == "http://localhost:9000/nodes/a/did.json"


# --- DidDocument builder


def _document(key_type: str = "JsonWebKey2020") -> DidDocument:
    doc = DidDocument(DID, key_type)
    doc.add_key(generate_key("EdDSA"))
    doc.add_dsp_service("https://example.com/protocol")
    doc.add_credential_service("https://example.com/cs/")
    return doc


def test_document_shape() -> None:
    doc = _document().to_json()
    assert doc["id"] == DID
    assert doc["@context"][0] == DID_CONTEXT
    assert DSP_CONTEXT in doc["@context"] and DCP_CONTEXT in doc["@context"]
    (method,) = doc["verificationMethod"]
    assert method["id"] == f"{DID}#key-1"
    assert method["type"] == "JsonWebKey2020"
    assert method["controller"] == DID
    assert method["publicKeyJwk"]["kty"] == "OKP" and "d" not in method["publicKeyJwk"]
    for rel in ("authentication", "assertionMethod", "capabilityInvocation"):
        assert doc[rel] == [f"{DID}#key-1"]
    services = {s["type"]: s for s in doc["service"]}
    assert services["DataService"]["serviceEndpoint"] == "https://example.com/protocol/catalog"
    assert services["CredentialService"] == {
        "id": f"{DID}#credential-service",
        "type": "CredentialService",
        "serviceEndpoint": "https://example.com/cs",
    }
    json.dumps(doc)


def test_document_json_web_key_type_and_p256() -> None:
    doc = DidDocument(DID, "JsonWebKey")
    doc.add_key(generate_key("ES256"))
    data = doc.to_json()
    assert data["verificationMethod"][0]["type"] == "JsonWebKey"
    assert data["verificationMethod"][0]["publicKeyJwk"]["crv"] == "P-256"
    assert doc.resolved().key(f"{DID}#key-1", "authentication").alg == "ES256"


def test_document_rejects_bad_input() -> None:
    with pytest.raises(ValidationFailure):
        DidDocument("example.com")
    with pytest.raises(ValidationFailure):
        DidDocument(DID, "Ed25519VerificationKey2018")
    with pytest.raises(ValidationFailure):
        _ = DidDocument(DID).current_kid


def test_service_replaced_by_id() -> None:
    doc = _document()
    doc.add_dsp_service("https://example.com/v2/catalog")
    dsp = [s for s in doc.to_json()["service"] if s["type"] == "DataService"]
    assert [s["serviceEndpoint"] for s in dsp] == ["https://example.com/v2/catalog"]


def test_rotation_keeps_old_keys_until_retired() -> None:
    doc = DidDocument(DID)
    first = doc.add_key(generate_key())
    assert doc.current_kid == first
    second = doc.rotate(generate_key("ES256"))
    assert second == f"{DID}#key-2" and doc.current_kid == second
    resolved = doc.resolved()
    assert resolved.key(first, "capabilityInvocation").alg == "EdDSA"
    assert resolved.key(second, "capabilityInvocation").alg == "ES256"
    with pytest.raises(ValidationFailure):
        doc.retire_key(second)
    doc.retire_key(first)
    assert doc.kids == [second]
    third = doc.rotate(generate_key())
    assert third == f"{DID}#key-3"  # ids are never reused


def test_dsp_data_service_entry_matches_dsp_schema() -> None:
    schema_path = SCHEMA_DIR / "did-service-schema.json"
    if not schema_path.exists():
        pytest.skip("DSP schemas in /work/shared are absent")
    jsonschema = pytest.importorskip("jsonschema")
    from referencing import Registry, Resource

    schemas = [json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.json")]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    schema = json.loads(schema_path.read_text())
    validator = jsonschema.Draft201909Validator(schema, registry=registry)
    entry = next(s for s in _document().to_json()["service"] if s["type"] == "DataService")
    validator.validate(entry)
    with_context = {**entry, "@context": [DID_CONTEXT, DSP_CONTEXT]}
    validator.validate(with_context)
    bad = {**entry, "serviceEndpoint": "https://example.com/protocol"}
    assert list(validator.iter_errors(bad))


# --- parsing and key lookup


def test_lookup_by_full_and_relative_kid() -> None:
    resolved = _document().resolved()
    key = resolved.key(f"{DID}#key-1", "capabilityInvocation")
    assert key.kid == f"{DID}#key-1" and key.participant_id == DID
    assert resolved.key("#key-1", "authentication") is key
    assert resolved.key(None, "authentication") is key
    assert resolved.service_endpoint("CredentialService") == "https://example.com/cs"


def test_lookup_failures() -> None:
    doc = _document()
    with pytest.raises(Unauthorized, match="not found"):
        doc.resolved().key(f"{DID}#key-9", "authentication")
    with pytest.raises(Unauthorized, match="no 'Other' service"):
        doc.resolved().service_endpoint("Other")
    data = doc.to_json()
    data["capabilityInvocation"] = []
    with pytest.raises(Unauthorized, match="capabilityInvocation"):
        parse_did_document(data, DID).key(f"{DID}#key-1", "capabilityInvocation")
    doc.rotate(generate_key())
    with pytest.raises(Unauthorized, match="several keys"):
        doc.resolved().key(None, "authentication")


def test_parse_relative_and_embedded_methods() -> None:
    data = _document().to_json()
    method = data["verificationMethod"][0]
    data["verificationMethod"] = [{**method, "id": "#key-1"}]
    data["authentication"] = ["#key-1"]
    data["assertionMethod"] = [{**method, "id": f"{DID}#key-2"}]
    data["capabilityInvocation"] = [f"{DID}#key-1"]
    resolved = parse_did_document(data, DID)
    assert resolved.key("#key-1", "authentication").kid == f"{DID}#key-1"
    assert resolved.key(f"{DID}#key-2", "assertionMethod").alg == "EdDSA"


def test_unknown_method_types_are_ignored() -> None:
    data = _document().to_json()
    data["verificationMethod"].append(
        {"id": f"{DID}#mb", "type": "Multikey", "controller": DID, "publicKeyMultibase": "z6M"}
    )
    resolved = parse_did_document(data, DID)
    assert list(resolved.keys) == [f"{DID}#key-1"]


def _with_method(d: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**d, "verificationMethod": [{**d["verificationMethod"][0], **changes}]}


def _with_jwk(doc: dict[str, Any], /, **changes: Any) -> dict[str, Any]:
    jwk = {**doc["verificationMethod"][0]["publicKeyJwk"], **changes}
    return _with_method(doc, publicKeyJwk=jwk)


def _mutations() -> list[tuple[str, Any]]:
    return [
        ("not a JSON object", lambda d: [d]),
        ("'id' does not match", lambda d: {**d, "id": "did:web:other.com"}),
        ("'verificationMethod' must be a list", lambda d: {**d, "verificationMethod": {}}),
        ("without 'id'", lambda d: {**d, "verificationMethod": [{"type": "JsonWebKey2020"}]}),
        ("another DID", lambda d: _with_method(d, id="did:x#1")),
        ("without 'publicKeyJwk'", lambda d: _with_method(d, publicKeyJwk=None)),
        ("private key material", lambda d: _with_jwk(d, **{"d": "x"})),
        ("'alg' does not fit", lambda d: _with_jwk(d, alg="ES256")),
        ("unsupported JWK", lambda d: _with_jwk(d, crv="X25519")),
        ("'authentication' must be a list", lambda d: {**d, "authentication": "#key-1"}),
        ("bad entry in 'assertionMethod'", lambda d: {**d, "assertionMethod": [7]}),
        ("'service' must be a list", lambda d: {**d, "service": ["x"]}),
    ]


@pytest.mark.parametrize(("reason", "mutate"), _mutations())
def test_invalid_documents(reason: str, mutate: Any) -> None:
    data = mutate(_document().to_json())
    with pytest.raises(Unauthorized, match="invalid DID document") as exc:
        parse_did_document(data, DID)
    assert reason in exc.value.message


# --- resolver


def _web_for(doc: DidDocument) -> FakeWeb:
    return FakeWeb({did_web_to_url(doc.did): doc.to_json()})


async def test_resolver_fetches_and_caches() -> None:
    doc = _document()
    web, clock = _web_for(doc), Clock()
    resolver = DidResolver(web, ttl_s=60, max_entries=10, clock=clock)
    first = await resolver.resolve(DID)
    assert first.key(f"{DID}#key-1", "authentication").alg == "EdDSA"
    assert await resolver.resolve(DID) is first
    assert web.calls == ["https://example.com/.well-known/did.json"]
    clock.t += 61
    assert await resolver.resolve(DID) is not first
    assert len(web.calls) == 2


async def test_resolver_loopback_http() -> None:
    doc = DidDocument("did:web:localhost%3A8282")
    doc.add_key(generate_key())
    web = FakeWeb({"http://localhost:8282/.well-known/did.json": doc.to_json()})
    resolver = DidResolver(web, allow_http_hosts={"localhost"})
    assert (await resolver.resolve(doc.did)).did == doc.did
    strict = DidResolver(web)
    with pytest.raises(Unauthorized, match="not retrievable"):
        await strict.resolve(doc.did)
    assert web.calls[-1].startswith("https://")


async def test_resolver_bounded_lru() -> None:
    docs = []
    for name in ("a", "b", "c"):
        d = DidDocument(f"did:web:{name}.example")
        d.add_key(generate_key())
        docs.append(d)
    web = FakeWeb({did_web_to_url(d.did): d.to_json() for d in docs})
    resolver = DidResolver(web, ttl_s=60, max_entries=2)
    await resolver.resolve(docs[0].did)
    await resolver.resolve(docs[1].did)
    await resolver.resolve(docs[0].did)  # a is now most recent
    await resolver.resolve(docs[2].did)  # evicts b
    assert len(resolver) == 2
    calls = len(web.calls)
    await resolver.resolve(docs[0].did)
    assert len(web.calls) == calls
    await resolver.resolve(docs[1].did)
    assert len(web.calls) == calls + 1


async def test_resolver_refresh_is_rate_limited() -> None:
    doc = _document()
    web, clock = _web_for(doc), Clock()
    resolver = DidResolver(web, ttl_s=300, min_refresh_s=30, clock=clock)
    await resolver.resolve(DID)
    await resolver.resolve(DID, refresh=True)
    assert len(web.calls) == 1
    new_kid = doc.rotate(generate_key())
    web.docs[did_web_to_url(DID)] = doc.to_json()
    clock.t += 31
    resolved = await resolver.resolve(DID, refresh=True)
    assert new_kid in resolved.keys and len(web.calls) == 2
    resolver.invalidate(DID)
    await resolver.resolve(DID)
    assert len(web.calls) == 3


async def test_resolver_errors_do_not_leak() -> None:
    resolver = DidResolver(FakeWeb())
    with pytest.raises(Unauthorized) as exc:
        await resolver.resolve(DID)
    assert "not retrievable" in exc.value.message
    assert "secret" not in exc.value.message
    with pytest.raises(Unauthorized, match="cannot resolve DID: not a did:web"):
        await resolver.resolve("did:key:z6Mk")
    bad = FakeWeb({did_web_to_url(DID): {"id": "did:web:evil.example"}})
    with pytest.raises(Unauthorized, match="'id' does not match"):
        await DidResolver(bad).resolve(DID)
    assert len(DidResolver(bad)) == 0


def test_resolver_arguments() -> None:
    with pytest.raises(ValueError):
        DidResolver(FakeWeb(), ttl_s=0)
    with pytest.raises(ValueError):
        DidResolver(FakeWeb(), max_entries=0)
