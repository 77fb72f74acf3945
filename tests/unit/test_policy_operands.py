"""The left-operand registry and its built-in resolvers."""

from datetime import UTC, datetime, timedelta

import pytest

from connector.domain import EDC_NS, KAREZ_NS, ODRL_NS
from connector.policy import (
    BUILTIN,
    UNKNOWN,
    Elapsed,
    OperandRegistry,
    OperandUnknown,
    RequestContext,
    default_registry,
)

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
SIGNED = NOW - timedelta(days=10)


@pytest.fixture
def ctx() -> RequestContext:
    return RequestContext(
        now=NOW,
        participant_id="did:web:consumer.example",
        claims={"membership": "gold", "roles": ["a", "b"]},
        purpose="https://w3id.org/karez/ns/purpose/research",
        jurisdiction="DE",
        agreement_time=SIGNED,
        use_count=3,
    )


@pytest.mark.parametrize(
    "iri,expected",
    [
        (ODRL_NS + "dateTime", NOW),
        ("dateTime", NOW),
        ("odrl:count", 3),
        (ODRL_NS + "purpose", "https://w3id.org/karez/ns/purpose/research"),
        (ODRL_NS + "spatial", "DE"),
        (KAREZ_NS + "participant", "did:web:consumer.example"),
        (EDC_NS + "participantId", "did:web:consumer.example"),
        (KAREZ_NS + "claim/membership", "gold"),
        ("karez:claim/roles", ["a", "b"]),
        (ODRL_NS + "elapsedTime", Elapsed(SIGNED, NOW)),
    ],
)
def test_builtin_resolvers(ctx: RequestContext, iri: str, expected: object) -> None:
    resolved = BUILTIN.resolve(iri, ctx)
    assert resolved.known and resolved.value == expected


@pytest.mark.parametrize(
    "iri,needle",
    [
        ("partner", "no resolver for left operand partner"),
        ("https://example.org/sector", "no resolver for left operand https://example.org/sector"),
        (ODRL_NS + "industry", "the request has no value for odrl:industry"),
        (KAREZ_NS + "claim/missing", "no value for karez:claim/missing"),
        (KAREZ_NS + "claim/", "no resolver"),
    ],
)
def test_unknown_operands_have_reasons(ctx: RequestContext, iri: str, needle: str) -> None:
    resolved = BUILTIN.resolve(iri, ctx)
    assert not resolved.known and resolved.value is UNKNOWN
    assert needle in (resolved.reason or "")


def test_missing_context_values_are_unknown() -> None:
    bare = RequestContext(now=NOW)
    for iri in ("purpose", "spatial", "count", "elapsedTime", KAREZ_NS + "participant"):
        assert not BUILTIN.resolve(iri, bare).known
    assert "agreement time" in (BUILTIN.resolve("elapsedTime", bare).reason or "")


def test_register_and_copy_isolation(ctx: RequestContext) -> None:
    reg = default_registry()
    reg.register("https://example.org/sector", lambda c: "automotive")
    assert reg.resolve("https://example.org/sector", ctx).value == "automotive"
    assert "https://example.org/sector" in reg and "https://example.org/sector" not in BUILTIN
    clone = reg.copy()
    clone.register("https://example.org/tier", lambda c: 1)
    assert "https://example.org/tier" in clone and "https://example.org/tier" not in reg


def test_resolver_failures_are_unknown(ctx: RequestContext) -> None:
    reg = OperandRegistry()

    def refuses(c: RequestContext) -> object:
        raise OperandUnknown("the credential is not verified")

    def crashes(c: RequestContext) -> object:
        raise RuntimeError("boom")

    reg.register("urn:a", refuses)
    reg.register("urn:b", crashes)
    reg.register("urn:c", lambda c: UNKNOWN)
    assert reg.resolve("urn:a", ctx).reason == "the credential is not verified"
    assert "boom" in (reg.resolve("urn:b", ctx).reason or "")
    assert not reg.resolve("urn:c", ctx).known


def test_longest_prefix_wins(ctx: RequestContext) -> None:
    reg = OperandRegistry()
    reg.register_prefix("urn:x:", lambda name, c: f"short {name}")
    reg.register_prefix("urn:x:y:", lambda name, c: f"long {name}")
    assert reg.resolve("urn:x:y:z", ctx).value == "long z"
    assert reg.resolve("urn:x:q", ctx).value == "short q"


def test_scoped_resolvers_win_in_their_scope() -> None:
    reg = default_registry()
    reg.register("https://example.org/level", lambda c: "any")
    reg.register("https://example.org/level", lambda c: "transfer only", scope="transfer")
    base = RequestContext(now=NOW)
    assert reg.resolve("https://example.org/level", base).value == "any"
    transfer = RequestContext(now=NOW, scope="transfer")
    assert reg.resolve("https://example.org/level", transfer).value == "transfer only"


def test_an_operand_registered_for_one_scope_only() -> None:
    reg = OperandRegistry()
    reg.register("urn:catalog-only", lambda c: 1, scope="catalog")
    assert reg.resolve("urn:catalog-only", RequestContext(now=NOW, scope="catalog")).known
    missing = reg.resolve("urn:catalog-only", RequestContext(now=NOW, scope="transfer"))
    assert not missing.known and "no resolver" in (missing.reason or "")
    assert "urn:catalog-only" in reg


def test_scoped_prefix_resolver() -> None:
    reg = OperandRegistry()
    reg.register_prefix("urn:x:", lambda name, c: f"any {name}")
    reg.register_prefix("urn:x:", lambda name, c: f"negotiation {name}", scope="negotiation")
    assert reg.resolve("urn:x:a", RequestContext(now=NOW)).value == "negotiation a"
    assert reg.resolve("urn:x:a", RequestContext(now=NOW, scope="catalog")).value == "any a"


@pytest.mark.parametrize(
    "iri,values,expected",
    [
        ("resolution", {"odrl:resolution": 1200}, 1200),
        (ODRL_NS + "fileFormat", {ODRL_NS + "fileFormat": "text/csv"}, "text/csv"),
        ("purpose", {"purpose": "research"}, "research"),  # a value when the field is empty
        ("count", {"count": 2}, 2),
    ],
)
def test_values_given_with_the_request(iri: str, values: dict, expected: object) -> None:
    assert BUILTIN.resolve(iri, RequestContext(now=NOW, values=values)).value == expected
