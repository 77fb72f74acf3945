"""The JSON codec shared by the SQL backends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from connector.domain import (
    Asset,
    CallbackAddress,
    ContractDefinition,
    ContractNegotiation,
    Criterion,
    OutboxMessage,
    TransferProcess,
)
from connector.store import codec


def test_round_trip_nested_lists() -> None:
    definition = ContractDefinition(
        id="cd-1",
        access_policy_id="p-a",
        contract_policy_id="p-c",
        assets_selector=[
            Criterion("https://w3id.org/edc/v0.0.1/ns/id", "=", "asset-1"),
            Criterion("category", "in", ["a", "b"]),
        ],
        private_properties={"note": "核心数据"},
        created_at=5,
    )
    back = codec.decode(ContractDefinition, codec.encode(definition))
    assert back == definition
    assert back is not definition
    assert isinstance(back.assets_selector[0], Criterion)


def test_round_trip_callback_addresses() -> None:
    cb = CallbackAddress("https://cb", ["contract.negotiation"], True, "k", "c")
    neg = ContractNegotiation(
        id="n", role="CONSUMER", state="REQUESTED", counter_party_id="did:web:p",
        counter_party_address="https://p/protocol", callback_addresses=[cb],
    )  # fmt: skip
    back = codec.decode(ContractNegotiation, codec.encode(neg))
    assert back == neg
    assert back.callback_addresses[0] is not cb


def test_overrides_and_fresh_instances() -> None:
    asset = Asset(id="a", properties={"name": "x"})
    back = codec.decode(Asset, codec.encode(asset, created_at=7))
    assert back.created_at == 7
    back.properties["name"] = "changed"
    assert asset.properties["name"] == "x"


def test_unknown_keys_are_ignored() -> None:
    text = json.dumps({"id": "a", "properties": {}, "future_field": 1})
    assert codec.decode(Asset, text).id == "a"


def test_optional_nested_dataclass() -> None:
    @dataclass
    class Holder:
        cb: CallbackAddress | None = None
        items: list[CallbackAddress] = field(default_factory=list)

    holder = Holder(CallbackAddress("u"), [CallbackAddress("v", ["e"])])
    assert codec.decode(Holder, codec.encode(holder)) == holder
    assert codec.decode(Holder, codec.encode(Holder())) == Holder()


def test_not_an_entity() -> None:
    with pytest.raises(TypeError):
        codec.kind_of(dict)
    with pytest.raises(TypeError):
        codec.dumps({"x": object()})


def test_process_values_follow_columns() -> None:
    tp = TransferProcess(
        id="t", role="PROVIDER", state="STARTED", counter_party_id="did:web:c",
        counter_party_address="https://c", agreement_id="ag", transfer_type="HttpData-PULL",
        consumer_pid="cp", provider_pid="pp", version=4,
    )  # fmt: skip
    table, columns = codec.PROCESS_TABLES[TransferProcess]
    assert table == "transfers"
    row = dict(zip(columns, codec.process_values(tp, columns, 5), strict=True))
    assert row["agreement_id"] == "ag" and row["consumer_pid"] == "cp"
    assert row["version"] == 5
    assert json.loads(row["body"])["version"] == 5
    assert tp.version == 4


def test_outbox_row_round_trip() -> None:
    msg = OutboxMessage(
        id="m", process_id="n", process_kind="negotiation", message_type="ContractRequestMessage",
        url="https://p/negotiations/request", body={"@type": "x", "n": [1, 2]},
        counter_party_id="did:web:p", attempts=2, next_attempt_at=10, created_at=3,
        last_error="boom", lease_owner="w", lease_until=20,
    )  # fmt: skip
    assert codec.outbox_from_row(codec.outbox_values(msg)) == msg
