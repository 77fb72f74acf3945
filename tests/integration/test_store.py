"""One behaviour suite for every store backend: SQLite in a temporary file and PostgreSQL.

PostgreSQL is ``postgresql://postgres@127.0.0.1:5432/test`` unless ``KAREZ_TEST_PG_URL`` says
otherwise; every test gets its own schema, dropped afterwards. When the server cannot be reached
the PostgreSQL cases are skipped, or fail if the ``CI`` environment variable is set.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import asyncpg
import pytest

from connector.domain import (
    CONSUMER,
    PROVIDER,
    Asset,
    CallbackAddress,
    ContractAgreement,
    ContractDefinition,
    ContractNegotiation,
    Criterion,
    EndpointDataReference,
    OutboxMessage,
    PolicyDefinition,
    Secret,
    TransferProcess,
)
from connector.errors import Conflict, NotFound
from connector.store import ConcurrentUpdate, Store, open_store

PG_URL = os.environ.get("KAREZ_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_pg_problem: dict[str, str | None] = {}

StoreFactory = Callable[[], Awaitable[Store]]


async def _require_postgres() -> None:
    if "reason" not in _pg_problem:
        try:
            conn = await asyncpg.connect(PG_URL, timeout=5)
            await conn.close()
            _pg_problem["reason"] = None
        except Exception as exc:  # any failure to connect means: no server to test against
            _pg_problem["reason"] = f"PostgreSQL at {PG_URL} unreachable: {exc!r}"
    reason = _pg_problem["reason"]
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


@pytest.fixture(
    params=["sqlite", "sqlite-threaded", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def new_store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[StoreFactory]:
    """Opens stores on one fresh database; several calls give several nodes/replicas on it."""
    if request.param.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/db/karez.db"
        if request.param == "sqlite-threaded":
            url += "?threaded=1"
        schema = None
    else:
        await _require_postgres()
        schema = f"karez_test_{uuid.uuid4().hex[:16]}"
        url = _with_schema(PG_URL, schema)
    opened: list[Store] = []

    async def factory() -> Store:
        store = open_store(url)
        await store.open()
        opened.append(store)
        return store

    try:
        yield factory
    finally:
        for store in opened:
            await store.close()
        if schema is not None:
            conn = await asyncpg.connect(PG_URL)
            try:
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            finally:
                await conn.close()


@pytest.fixture
async def store(new_store: StoreFactory) -> Store:
    return await new_store()


# --- sample entities -----------------------------------------------------------------------


def _callbacks() -> list[CallbackAddress]:
    return [
        CallbackAddress("https://cb.example/a", ["contract.negotiation", "transfer.process"]),
        CallbackAddress("https://cb.example/b", [], True, "X-Api-Key", "secret-1"),
    ]


def negotiation(id: str = "urn:uuid:n1", **kw) -> ContractNegotiation:
    fields = dict(
        role=CONSUMER,
        state="REQUESTED",
        counter_party_id="did:web:provider",
        counter_party_address="https://provider/protocol",
        consumer_pid=id,
        provider_pid="urn:uuid:p-" + id,
        asset_id="asset-1",
        offers=[{"@id": "offer-1", "@type": "Offer", "permission": [{"action": "use"}]}],
        last_offer_by=PROVIDER,
        agreement_id="agreement-1",
        callback_addresses=_callbacks(),
        private_properties={"k": "值"},
        error_detail="none",
        decision={"permit": True, "reasons": []},
        contract_definition_id="cd-1",
        created_at=1_000,
        updated_at=2_000,
        state_count=3,
        edr=True,
    )
    fields.update(kw)
    return ContractNegotiation(id=id, **fields)


def transfer(id: str = "urn:uuid:t1", **kw) -> TransferProcess:
    fields = dict(
        role=PROVIDER,
        state="STARTED",
        counter_party_id="did:web:consumer",
        counter_party_address="https://consumer/callback",
        agreement_id="agreement-1",
        transfer_type="HttpData-PUSH",
        consumer_pid="urn:uuid:c-" + id,
        provider_pid=id,
        asset_id="asset-1",
        data_destination={"type": "HttpData", "baseUrl": "https://sink"},
        content_data_address={"type": "HttpData", "baseUrl": "https://source"},
        callback_addresses=_callbacks(),
        private_properties={"p": 1},
        error_detail=None,
        created_at=1_000,
        updated_at=2_000,
        state_count=1,
    )
    fields.update(kw)
    return TransferProcess(id=id, **fields)


def message(id: str, **kw) -> OutboxMessage:
    fields = dict(
        process_id="urn:uuid:n1",
        process_kind="negotiation",
        message_type="ContractRequestMessage",
        url="https://provider/protocol/negotiations/request",
        body={"@type": "ContractRequestMessage", "consumerPid": "urn:uuid:n1"},
        counter_party_id="did:web:provider",
        next_attempt_at=100,
        created_at=100,
    )
    fields.update(kw)
    return OutboxMessage(id=id, **fields)


ENTITIES = [
    Asset(
        id="asset-1",
        properties={"name": "Sensor data", "https://w3id.org/karez/ns/grade": "core"},
        private_properties={"owner": "ops"},
        data_address={"type": "HttpData", "baseUrl": "https://data", "nested": {"a": [1, None]}},
        created_at=10,
    ),
    PolicyDefinition(
        id="policy-1",
        policy={"@type": "Set", "permission": [{"action": "use", "constraint": []}]},
        private_properties={"x": True},
        created_at=11,
    ),
    ContractDefinition(
        id="cd-1",
        access_policy_id="policy-1",
        contract_policy_id="policy-2",
        assets_selector=[Criterion("id", "=", "asset-1"), Criterion("tags", "in", ["a", 2])],
        private_properties={"y": 1.5},
        created_at=12,
    ),
    ContractAgreement(
        id="agreement-1",
        provider_id="did:web:provider",
        consumer_id="did:web:consumer",
        asset_id="asset-1",
        policy={"@type": "Agreement", "assigner": "did:web:provider"},
        signing_date=13,
        negotiation_id="urn:uuid:n1",
    ),
    EndpointDataReference(
        transfer_process_id="urn:uuid:t1",
        agreement_id="agreement-1",
        asset_id=None,
        provider_id="did:web:provider",
        contract_negotiation_id=None,
        endpoint="https://provider/public",
        authorization="token",
        properties={"expiresIn": 300},
        created_at=14,
    ),
    Secret(id="secret-1", value="s3cr3t", created_at=15),
    negotiation(),
    transfer(),
]


def _id(obj: object) -> str:
    return obj.transfer_process_id if isinstance(obj, EndpointDataReference) else obj.id


# --- entities ------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: type(e).__name__)
async def test_round_trip(store: Store, entity: object) -> None:
    async with store.session() as s:
        await s.insert(entity)
    async with store.session() as s:
        got = await s.get(type(entity), _id(entity))
        again = await s.get(type(entity), _id(entity))
        assert await s.list(type(entity)) == [entity]
    assert got == entity
    assert got is not entity and got is not again


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: type(e).__name__)
async def test_duplicate_insert_conflicts(store: Store, entity: object) -> None:
    async with store.session() as s:
        await s.insert(entity)
    with pytest.raises(Conflict):
        async with store.session() as s:
            await s.insert(entity)


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: type(e).__name__)
async def test_update_and_delete(store: Store, entity: object) -> None:
    cls = type(entity)
    async with store.session() as s:
        with pytest.raises(NotFound):
            await s.update(entity)
        assert await s.get(cls, _id(entity)) is None
        assert await s.delete(cls, _id(entity)) is False
        await s.insert(entity)
    attr = "signing_date" if isinstance(entity, ContractAgreement) else "created_at"
    changed = replace(entity, **{attr: 99})
    async with store.session() as s:
        await s.update(changed)
    async with store.session() as s:
        assert await s.get(cls, _id(entity)) == changed
        assert await s.delete(cls, _id(entity)) is True
        assert await s.get(cls, _id(entity)) is None


async def test_same_id_in_different_kinds(store: Store) -> None:
    async with store.session() as s:
        await s.insert(Asset(id="x"))
        await s.insert(Secret(id="x", value="v"))
    async with store.session() as s:
        assert (await s.get(Asset, "x")).id == "x"
        assert (await s.get(Secret, "x")).value == "v"
        assert await s.get(PolicyDefinition, "x") is None


async def test_list_oldest_first(store: Store) -> None:
    assets = [Asset(id="b", created_at=2), Asset(id="c", created_at=1), Asset(id="a", created_at=2)]
    negotiations = [negotiation("n-b", created_at=5), negotiation("n-a", created_at=5)]
    async with store.session() as s:
        for obj in (*assets, *negotiations):
            await s.insert(obj)
    async with store.session() as s:
        assert [a.id for a in await s.list(Asset)] == ["c", "a", "b"]
        assert [n.id for n in await s.list(ContractNegotiation)] == ["n-a", "n-b"]
        assert await s.list(TransferProcess) == []


async def test_unknown_entity_type(store: Store) -> None:
    async with store.session() as s:
        with pytest.raises(TypeError):
            await s.insert(object())
        with pytest.raises(TypeError):
            await s.get(dict, "x")


# --- optimistic locking --------------------------------------------------------------------


@pytest.mark.parametrize("make", [negotiation, transfer], ids=["negotiation", "transfer"])
async def test_optimistic_update(store: Store, make) -> None:
    async with store.session() as s:
        await s.insert(make())
    async with store.session() as s:
        first = await s.get(type(make()), make().id)
        stale = await s.get(type(make()), make().id)
    first.state = "AGREED"
    async with store.session() as s:
        await s.update(first)
    assert first.version == 1
    stale.state = "TERMINATED"
    with pytest.raises(ConcurrentUpdate):
        async with store.session() as s:
            await s.update(stale)
    assert stale.version == 0
    async with store.session() as s:
        stored = await s.get(type(first), first.id)
        assert stored.state == "AGREED" and stored.version == 1
        await s.update(stored)
        assert stored.version == 2
        assert (await s.get(type(first), first.id)).version == 2


async def test_concurrent_update_is_a_conflict(store: Store) -> None:
    assert issubclass(ConcurrentUpdate, Conflict)
    async with store.session() as s:
        await s.insert(negotiation(version=5))
        with pytest.raises(ConcurrentUpdate):
            await s.update(negotiation(version=4))
        missing = negotiation("urn:uuid:missing")
        with pytest.raises(NotFound):
            await s.update(missing)


# --- transactions --------------------------------------------------------------------------


async def test_rollback_on_exception(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with store.session() as s:
            await s.insert(Asset(id="a"))
            await s.insert(negotiation())
            await s.insert(transfer())
            await s.enqueue(message("m1"))
            raise RuntimeError("boom")
    async with store.session() as s:
        assert await s.get(Asset, "a") is None
        assert await s.list(ContractNegotiation) == []
        assert await s.list(TransferProcess) == []
        assert await s.outbox_for("urn:uuid:n1") == []
        assert await s.next_outbox_due() is None


async def test_rollback_keeps_earlier_commits(store: Store) -> None:
    async with store.session() as s:
        await s.insert(negotiation())
    with pytest.raises(ValueError):
        async with store.session() as s:
            n = await s.get(ContractNegotiation, "urn:uuid:n1")
            n.state = "TERMINATED"
            await s.update(n)
            await s.delete(Asset, "a")
            raise ValueError
    async with store.session() as s:
        stored = await s.get(ContractNegotiation, "urn:uuid:n1")
        assert (stored.state, stored.version) == ("REQUESTED", 0)


async def test_session_usable_after_conflict(store: Store) -> None:
    async with store.session() as s:
        await s.insert(Asset(id="a"))
    async with store.session() as s:
        with pytest.raises(Conflict):
            await s.insert(Asset(id="a"))
        with pytest.raises(NotFound):
            await s.update(negotiation())
    async with store.session() as s:
        with pytest.raises(Conflict):
            await s.insert(Asset(id="a"))
        await s.insert(Asset(id="b"))
    async with store.session() as s:
        assert [a.id for a in await s.list(Asset)] == ["a", "b"]


async def test_empty_and_read_only_sessions(store: Store) -> None:
    async with store.session():
        pass
    async with store.session() as s:
        assert await s.get(Asset, "none") is None


async def test_cancelled_session_rolls_back(store: Store) -> None:
    inside = asyncio.Event()

    async def slow() -> None:
        async with store.session() as s:
            await s.insert(Asset(id="a"))
            await s.enqueue(message("m"))
            inside.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(slow())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with store.session() as s:
        assert await s.get(Asset, "a") is None
        assert await s.next_outbox_due() is None
        await s.insert(Asset(id="b"))
    async with store.session() as s:
        assert [a.id for a in await s.list(Asset)] == ["b"]


async def test_concurrent_sessions(store: Store) -> None:
    async def add(i: int) -> None:
        async with store.session() as s:
            await s.insert(Asset(id=f"a{i:02}", created_at=i))
            await asyncio.sleep(0)
            await s.enqueue(message(f"m{i:02}", created_at=i))

    await asyncio.gather(*(add(i) for i in range(20)))
    async with store.session() as s:
        assert len(await s.list(Asset)) == 20
        assert len(await s.outbox_for("urn:uuid:n1")) == 20


# --- lookups -------------------------------------------------------------------------------


def _processes(make):
    return [
        make("urn:uuid:1", role=CONSUMER, counter_party_id="did:a", consumer_pid="c1",
             provider_pid="p1", created_at=1),
        make("urn:uuid:2", role=PROVIDER, counter_party_id="did:a", consumer_pid="c1",
             provider_pid="p1", created_at=2),
        make("urn:uuid:3", role=CONSUMER, counter_party_id="did:b", consumer_pid="c3",
             provider_pid=None, created_at=3),
        make("urn:uuid:4", role=CONSUMER, counter_party_id="did:a", consumer_pid="c4",
             provider_pid="p4", created_at=4),
    ]  # fmt: skip


FIND_CASES = [
    (CONSUMER, {"counter_party_id": "did:a"}, "urn:uuid:1"),
    (CONSUMER, {"counter_party_id": "did:b"}, "urn:uuid:3"),
    (CONSUMER, {"consumer_pid": "c4"}, "urn:uuid:4"),
    (CONSUMER, {"provider_pid": "p1"}, "urn:uuid:1"),
    (PROVIDER, {"provider_pid": "p1"}, "urn:uuid:2"),
    (PROVIDER, {"consumer_pid": "c1", "provider_pid": "p1"}, "urn:uuid:2"),
    (CONSUMER, {"counter_party_id": "did:a", "consumer_pid": "c4"}, "urn:uuid:4"),
    (CONSUMER, {"counter_party_id": "did:a", "provider_pid": "p4"}, "urn:uuid:4"),
    (CONSUMER, {"counter_party_id": "did:b", "consumer_pid": "c3", "provider_pid": None},
     "urn:uuid:3"),
    (CONSUMER, {"counter_party_id": "did:a", "consumer_pid": "c1", "provider_pid": "p1"},
     "urn:uuid:1"),
    (CONSUMER, {}, "urn:uuid:1"),
    (PROVIDER, {"consumer_pid": "c4"}, None),
    (CONSUMER, {"counter_party_id": "did:b", "consumer_pid": "c1"}, None),
    (CONSUMER, {"consumer_pid": "c1", "provider_pid": "p4"}, None),
    (CONSUMER, {"provider_pid": "nope"}, None),
]  # fmt: skip


@pytest.mark.parametrize(("role", "criteria", "expected"), FIND_CASES)
async def test_find_negotiation(store: Store, role, criteria, expected) -> None:
    async with store.session() as s:
        for n in _processes(negotiation):
            await s.insert(n)
        await s.insert(transfer("urn:uuid:9", role=role, **{**criteria, "created_at": 0}))
    async with store.session() as s:
        found = await s.find_negotiation(role, **criteria)
    assert (found.id if found else None) == expected
    if found:
        assert isinstance(found, ContractNegotiation)
        assert found.callback_addresses == _callbacks()


@pytest.mark.parametrize(("role", "criteria", "expected"), FIND_CASES)
async def test_find_transfer(store: Store, role, criteria, expected) -> None:
    async with store.session() as s:
        for t in _processes(transfer):
            await s.insert(t)
        await s.insert(negotiation("urn:uuid:9", role=role, **{**criteria, "created_at": 0}))
    async with store.session() as s:
        found = await s.find_transfer(role, **criteria)
    assert (found.id if found else None) == expected
    if found:
        assert isinstance(found, TransferProcess)


async def test_transfers_for_agreement(store: Store) -> None:
    async with store.session() as s:
        await s.insert(transfer("t-b", agreement_id="ag-1", created_at=2))
        await s.insert(transfer("t-c", agreement_id="ag-2", created_at=1))
        await s.insert(transfer("t-a", agreement_id="ag-1", created_at=3))
        await s.insert(transfer("t-0", agreement_id="ag-1", created_at=2))
    async with store.session() as s:
        assert [t.id for t in await s.transfers_for_agreement("ag-1")] == ["t-0", "t-b", "t-a"]
        assert [t.id for t in await s.transfers_for_agreement("ag-2")] == ["t-c"]
        assert await s.transfers_for_agreement("ag-3") == []


# --- outbox --------------------------------------------------------------------------------


async def test_enqueue_and_outbox_for(store: Store) -> None:
    msgs = [
        message("m2", created_at=5, attempts=1, last_error="x", lease_owner="w", lease_until=9),
        message("m1", created_at=5),
        message("m0", created_at=7),
        message("other", process_id="urn:uuid:other", process_kind="transfer",
                counter_party_id=None),
    ]  # fmt: skip
    async with store.session() as s:
        for m in msgs:
            await s.enqueue(m)
        with pytest.raises(Conflict):
            await s.enqueue(message("m1"))
    async with store.session() as s:
        assert await s.outbox_for("urn:uuid:n1") == [msgs[1], msgs[0], msgs[2]]
        assert await s.outbox_for("urn:uuid:other") == [msgs[3]]
        assert await s.outbox_for("urn:uuid:none") == []


async def test_claim_respects_due_time_and_order(store: Store) -> None:
    async with store.session() as s:
        await s.enqueue(message("late", next_attempt_at=200, created_at=1))
        await s.enqueue(message("b", next_attempt_at=100, created_at=20))
        await s.enqueue(message("a", next_attempt_at=150, created_at=10))
        await s.enqueue(message("c", next_attempt_at=50, created_at=30))
    async with store.session() as s:
        assert await s.claim_outbox("w1", now=40, lease_ms=1000, limit=10) == []
        claimed = await s.claim_outbox("w1", now=150, lease_ms=1000, limit=2)
    assert [m.id for m in claimed] == ["a", "b"]
    assert all(m.lease_owner == "w1" and m.lease_until == 1150 for m in claimed)
    async with store.session() as s:
        rest = await s.claim_outbox("w1", now=150, lease_ms=1000, limit=10)
        assert [m.id for m in rest] == ["c"]
        assert await s.claim_outbox("w1", now=199, lease_ms=1000, limit=10) == []
        assert [m.id for m in await s.claim_outbox("w1", 200, 1000, 10)] == ["late"]
        assert await s.claim_outbox("w1", now=10_000, lease_ms=10, limit=0) == []


async def test_lease_blocks_until_expiry(store: Store) -> None:
    async with store.session() as s:
        await s.enqueue(message("m"))
        assert [m.id for m in await s.claim_outbox("w1", 100, 500, 10)] == ["m"]
    async with store.session() as s:
        assert await s.claim_outbox("w2", 100, 500, 10) == []
        assert await s.claim_outbox("w2", 599, 500, 10) == []
        (again,) = await s.claim_outbox("w2", 600, 500, 10)
    assert (again.lease_owner, again.lease_until) == ("w2", 1100)
    async with store.session() as s:
        (stored,) = await s.outbox_for("urn:uuid:n1")
        assert (stored.lease_owner, stored.lease_until) == ("w2", 1100)


async def test_retry_outbox(store: Store) -> None:
    async with store.session() as s:
        await s.enqueue(message("m"))
        await s.claim_outbox("w1", 100, 500, 10)
        await s.retry_outbox("m", attempts=1, next_attempt_at=300, error="503 from peer")
        (stored,) = await s.outbox_for("urn:uuid:n1")
    assert (stored.attempts, stored.next_attempt_at, stored.last_error) == (1, 300, "503 from peer")
    assert stored.lease_owner is None and stored.lease_until is None
    async with store.session() as s:
        assert await s.next_outbox_due() == 300
        assert await s.claim_outbox("w2", 299, 500, 10) == []
        (again,) = await s.claim_outbox("w2", 300, 500, 10)
    assert again.attempts == 1 and again.lease_owner == "w2"


async def test_finish_outbox_and_next_due(store: Store) -> None:
    async with store.session() as s:
        assert await s.next_outbox_due() is None
        await s.enqueue(message("m1", next_attempt_at=500))
        await s.enqueue(message("m2", next_attempt_at=300))
        assert await s.next_outbox_due() == 300
        await s.finish_outbox("m2")
        assert await s.next_outbox_due() == 500
        await s.finish_outbox("m2")  # already gone: nothing happens
    async with store.session() as s:
        assert [m.id for m in await s.outbox_for("urn:uuid:n1")] == ["m1"]
        await s.finish_outbox("m1")
        assert await s.next_outbox_due() is None


async def test_release_leases_of_one_owner(store: Store) -> None:
    async with store.session() as s:
        for i in range(3):
            await s.enqueue(message(f"r{i}", created_at=i))
        mine = await s.claim_outbox("me", now=1_000, lease_ms=60_000, limit=2)
        theirs = await s.claim_outbox("them", now=1_000, lease_ms=60_000, limit=2)
    assert [m.id for m in mine] == ["r0", "r1"] and [m.id for m in theirs] == ["r2"]
    async with store.session() as s:
        assert await s.release_leases("me") == 2
        again = await s.claim_outbox("me-again", now=1_000, lease_ms=60_000, limit=5)
    assert sorted(m.id for m in again) == ["r0", "r1"]  # r2 is still leased by "them"


async def test_claims_never_overlap(new_store: StoreFactory, request) -> None:
    """Two workers (on two store instances, like two replicas) claim each message once."""
    if request.node.callspec.params["new_store"] == "sqlite":
        pytest.skip(
            "inline SQLite runs on the loop's thread: two stores on one file in one "
            "event loop would wait on each other's lock (separate processes are fine)"
        )
    first, second = await new_store(), await new_store()
    async with first.session() as s:
        for i in range(60):
            await s.enqueue(message(f"m{i:02}", created_at=i))

    async def worker(store: Store, owner: str) -> list[str]:
        got: list[str] = []
        while True:
            async with store.session() as s:
                batch = await s.claim_outbox(owner, now=1_000, lease_ms=60_000, limit=4)
                await asyncio.sleep(0.001)  # hold the claim's locks a little
            if not batch:
                return got
            got += [m.id for m in batch]
            await asyncio.sleep(0)

    results = await asyncio.gather(
        worker(first, "w1"), worker(second, "w2"), worker(first, "w3"), worker(second, "w4")
    )
    claimed = [m for r in results for m in r]
    assert len(claimed) == 60
    assert set(claimed) == {f"m{i:02}" for i in range(60)}


# --- lifecycle -----------------------------------------------------------------------------


async def test_open_is_idempotent_and_reopen_keeps_data(new_store: StoreFactory) -> None:
    store = await new_store()
    await store.open()
    async with store.session() as s:
        await s.insert(negotiation())
        await s.insert(ENTITIES[2])
        await s.enqueue(message("m"))
    await store.close()
    await store.close()
    reopened = await new_store()
    async with reopened.session() as s:
        assert await s.get(ContractNegotiation, "urn:uuid:n1") == negotiation()
        assert await s.get(ContractDefinition, "cd-1") == ENTITIES[2]
        assert [m.id for m in await s.outbox_for("urn:uuid:n1")] == ["m"]
    with pytest.raises(RuntimeError):
        async with store.session():
            pass


# --- SQLite specifics ----------------------------------------------------------------------


async def test_sqlite_file_settings(tmp_path) -> None:
    path = tmp_path / "deep" / "dir" / "karez.db"
    store = open_store(f"sqlite:///{path}")
    await store.open()
    async with store.session() as s:
        await s.insert(Asset(id="a"))
    await store.close()
    await store.open()  # a second open of the same file keeps one schema version
    await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"entities", "negotiations", "transfers", "outbox", "schema_version"} <= tables


async def test_sqlite_memory() -> None:
    store = open_store("sqlite://:memory:")
    await store.open()
    try:
        async with store.session() as s:
            await s.insert(Asset(id="a"))
        async with store.session() as s:
            assert (await s.get(Asset, "a")).id == "a"
    finally:
        await store.close()


async def test_sqlite_nested_session_and_stale_session(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/k.db")
    await store.open()
    try:
        async with store.session() as s:
            with pytest.raises(RuntimeError, match="nested"):
                async with store.session():
                    pass
            await s.insert(Asset(id="a"))
        with pytest.raises(RuntimeError):
            await s.get(Asset, "a")
        async with store.session() as s:
            assert (await s.get(Asset, "a")).id == "a"
    finally:
        await store.close()


# --- PostgreSQL specifics ------------------------------------------------------------------


@pytest.mark.postgres
async def test_postgres_schema_isolation() -> None:
    await _require_postgres()
    schema = f"karez_test_{uuid.uuid4().hex[:16]}"
    store = open_store(_with_schema(PG_URL, schema))
    await store.open()
    try:
        await store.open()
        async with store.session() as s:
            await s.insert(Asset(id="a"))
        conn = await asyncpg.connect(PG_URL)
        try:
            tables = await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
            )
            versions = await conn.fetch(f"SELECT version FROM {schema}.schema_version")
        finally:
            await conn.close()
        assert {"entities", "negotiations", "transfers", "outbox", "schema_version"} <= {
            r[0] for r in tables
        }
        assert [r[0] for r in versions] == [1]
    finally:
        await store.close()
        conn = await asyncpg.connect(PG_URL)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()
