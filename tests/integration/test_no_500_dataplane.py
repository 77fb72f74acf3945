"""Malformed input never gets a 500 from the data-plane side either: the control API and the
signaling API (with their valid keys, so the bodies are what is tested), the inbox and the
credential service (without valid tokens). A seeded fuzz, as in ``test_no_500``; a longer run:
``FUZZ_ROUNDS=200 .venv/bin/python -m pytest tests/integration/test_no_500_dataplane.py``."""

from __future__ import annotations

import json
import os
import random

from tests.integration.test_no_500 import message
from tests.integration.test_separate_dataplane import provider_settings, split  # noqa: F401

CONTROL_POSTS = ["served", "token", "pushed", "push-failed", "stream-progress"]
SIGNALING_POSTS = ["start", "suspend", "terminate"]
TRANSFER_IDS = ["urn:uuid:fuzz", "x", "%2e%2e", "urn:uuid:" + "9" * 300]


def bodies(rnd: random.Random, count: int) -> list[bytes]:
    """Junk JSON of every shape, some bodies that are not JSON, and some near-valid ones."""
    out = [json.dumps(message(rnd)).encode() for _ in range(count)]
    out += [b"", b"[]", b"null", b"7", b'"x"', b"{\x00 nope", b'{"byteSize": "1"}']
    out += [
        json.dumps({"byteSize": 1, "sha256": "a" * 64}).encode(),
        json.dumps({"cursor": [], "byteSize": 1}).encode(),
        json.dumps({"cursor": {}, "byteSize": True}).encode(),
        json.dumps({"push": {}}).encode(),
        json.dumps({"push": {"transferType": 1, "pushAddress": []}}).encode(),
        json.dumps({"reason": {"a": 1}}).encode(),
    ]
    return out


async def post_all(http, urls: list[str], headers: dict[str, str], payloads: list[bytes]):
    statuses = []
    for url in urls:
        for raw in payloads:
            async with http.post(url, data=raw, headers=headers) as resp:
                statuses.append(resp.status)
                assert resp.status < 500, (url, raw, resp.status, await resp.text())
    return statuses


async def test_control_and_signaling_apis_never_answer_500(split, http):  # noqa: F811
    rnd = random.Random(int(os.environ.get("FUZZ_SEED", "20261203")))
    payloads = bodies(rnd, int(os.environ.get("FUZZ_ROUNDS", "6")))
    st = provider_settings(split)
    control = f"http://127.0.0.1:{st.control_port}/control/v1/transfers"
    urls = [f"{control}/{tid}/{name}" for tid in TRANSFER_IDS for name in CONTROL_POSTS]
    headers = {"Authorization": f"Bearer {st.dataplane_key}", "Content-Type": "application/json"}
    statuses = await post_all(http, urls, headers, payloads)
    assert any(400 <= s < 500 for s in statuses)
    for tid in TRANSFER_IDS:
        async with http.get(f"{control}/{tid}/access", headers=headers) as resp:
            assert 400 <= resp.status < 500, await resp.text()

    signaling = f"http://127.0.0.1:{split.dataplane['signaling_port']}/signaling/v1/transfers"
    key = split.dataplane["control_planes"][0]["key"]
    urls = [f"{signaling}/{tid}/{name}" for tid in TRANSFER_IDS for name in SIGNALING_POSTS]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    await post_all(http, urls, headers, payloads)
    # the data plane still serves (no junk start left it broken)
    async with http.get(f"{signaling}/urn:uuid:fuzz", headers=headers) as resp:
        assert resp.status == 200 and (await resp.json())["pushing"] is False


async def test_inbox_and_credential_service_never_answer_500(shared_dataspace, http):
    rnd = random.Random(int(os.environ.get("FUZZ_SEED", "20261203")))
    payloads = bodies(rnd, int(os.environ.get("FUZZ_ROUNDS", "6")))
    consumer = shared_dataspace["consumer"].info
    public_root = consumer["publicUrl"].removesuffix("/public")
    protocol_root = consumer["protocolUrl"].removesuffix("/protocol")
    for authorization in ("", "Bearer x.y.z", "Bearer " + "a" * 5000):
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        inbox = [f"{public_root}/inbox/{tid}" for tid in TRANSFER_IDS]
        statuses = await post_all(http, inbox, headers, payloads[:5])
        assert all(400 <= s < 500 for s in statuses), statuses
        query = [f"{protocol_root}/cs/presentations/query"]
        statuses = await post_all(http, query, headers, payloads)
        assert all(s == 401 for s in statuses), statuses
