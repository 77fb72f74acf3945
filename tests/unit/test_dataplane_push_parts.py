"""The pure parts of push and stream: destinations from DSP data addresses, the row tracker that
finds a batch's last key, push specs on the wire, and the folder manifest digest."""

from __future__ import annotations

import hashlib
import json

import pytest

from connector.dataplane.jobs import STREAM_TYPE as STREAM
from connector.dataplane.jobs import PushSpec, destination_of
from connector.dataplane.push import PushFailed, manifest_sha256
from connector.dataplane.stream import RowTracker
from connector.errors import ValidationFailure
from connector.protocol import messages as m

HTTP = "https://w3id.org/idsa/v4.1/HTTP"


def test_destination_with_a_custom_header_and_method():
    address = m.data_address(
        "https://sink.example/in",
        HTTP,
        {"authorization": "k3y", "authKey": "X-Api-Key", "method": "put"},
    )
    dest = destination_of(address)
    assert dest.endpoint == "https://sink.example/in"
    assert dest.headers == {"X-Api-Key": "k3y"} and dest.method == "PUT"


def test_destination_bearer_and_defaults():
    address = m.data_address(
        "http://127.0.0.1:1/inbox/t", HTTP, {"authorization": "tok", "authType": "bearer"}
    )
    dest = destination_of(address)
    assert dest.headers == {"Authorization": "Bearer tok"} and dest.method == "POST"
    assert destination_of(m.data_address("http://x/", HTTP, {"method": "DELETE"})).method == "POST"


def feed(tracker: RowTracker, data: bytes, sizes: tuple[int, ...] = (3, 7, 1)) -> RowTracker:
    i = 0
    while i < len(data):
        for size in sizes:
            tracker.feed(data[i : i + size])
            i += size
    return tracker


def test_csv_rows_and_last_key_across_chunk_borders():
    tracker = feed(RowTracker("csv", "id"), b'id,name\n1,a\n2,"b,c"\n10,d\n')
    assert tracker.has_content and tracker.last_key == "10"


def test_csv_header_only_has_no_content():
    tracker = feed(RowTracker("csv", "id"), b"id,name\n")
    assert not tracker.has_content and tracker.last_key is None


def test_jsonl_last_key_keeps_its_type_as_text():
    body = b"".join(json.dumps({"id": i, "v": "x"}).encode() + b"\n" for i in (3, 4))
    tracker = feed(RowTracker("jsonl", "id"), body)
    assert tracker.last_key == "4"
    dated = feed(RowTracker("jsonl", "t"), b'{"t": "2026-11-25T08:00:00Z"}\n')
    assert dated.last_key == "2026-11-25T08:00:00Z"


def test_a_last_line_without_newline_counts():
    tracker = feed(RowTracker("jsonl", "id"), b'{"id": 1}\n{"id": 2}')
    assert tracker.last_key == "2"


def test_key_column_missing_from_the_rows_is_an_error():
    tracker = feed(RowTracker("csv", "id"), b"name\na\n")
    with pytest.raises(PushFailed, match="keyColumn"):
        _ = tracker.last_key


def test_push_spec_round_trip():
    spec = PushSpec(
        "urn:uuid:t",
        "HttpData-STREAM",
        {"endpoint": "http://x", "endpointType": HTTP},
        folder=False,
        stream={"kind": "rows", "name": "readings", "fmt": "jsonl", "keyColumn": "id"},
        cursor={"after": "5", "batch": 2},
    )
    assert PushSpec.from_json(spec.transfer_id, json.loads(json.dumps(spec.to_json()))) == spec


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pushAddress": {}}, "push.transferType"),
        ({"transferType": "HttpData-PUSH", "pushAddress": []}, "push.pushAddress"),
        ({"transferType": "HttpData-PUSH", "pushAddress": {}, "cursor": 3}, "push.cursor"),
        ({"transferType": STREAM, "pushAddress": {}, "stream": {"kind": "x"}}, "push.stream"),
        ({"transferType": STREAM, "pushAddress": {}, "stream": {"kind": "rows"}}, "push.stream"),
    ],
)
def test_a_malformed_push_spec_names_its_field(body, field):
    with pytest.raises(ValidationFailure) as info:
        PushSpec.from_json("urn:uuid:t", body)
    assert info.value.path == field


def test_manifest_digest_is_that_of_sorted_sha256sum_lines():
    files = [
        {"path": "b.csv", "size": 1, "sha256": "b" * 64},
        {"path": "a/c.csv", "size": 2, "sha256": "a" * 64},
    ]
    lines = f"{'a' * 64}  a/c.csv\n{'b' * 64}  b.csv\n"
    assert manifest_sha256(files) == hashlib.sha256(lines.encode()).hexdigest()
    assert manifest_sha256(list(reversed(files))) == manifest_sha256(files)
