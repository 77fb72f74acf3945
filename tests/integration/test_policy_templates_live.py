"""Every template in policies/ between real nodes: one provider, three consumers with fixed
claims; each case negotiates (and transfers where it says so) and ends as the case expects,
a refusal carrying its explanation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.client import EDC_CONTEXT, first_offer

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CONSUMERS = json.loads((POLICIES / "consumers.json").read_text(encoding="utf-8"))["consumers"]
CLAIMS: dict[str, dict[str, Any]] = {name: c["claims"] for name, c in CONSUMERS.items()}


def template_cases() -> list[tuple[str, dict]]:
    out = []
    for folder in sorted(p for p in POLICIES.iterdir() if (p / "cases.json").exists()):
        for case in json.loads((folder / "cases.json").read_text()):
            out.append((folder.name, case))
    return out


CASES = template_cases() if POLICIES.exists() else []


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    from tests.integration.conftest import Dataspace

    ds = Dataspace(
        tmp_path_factory.mktemp("templates"),
        4,
        ["provider", "alpha", "beta", "gamma"],
        configure={"provider": {"asset_validation": "off"}},
    )
    ds.set_claims("provider", CLAIMS)
    ds.start()
    yield ds
    ds.stop()


@pytest.mark.parametrize(("template", "case"), CASES, ids=[f"{t}:{c['name']}" for t, c in CASES])
async def test_template_case(space, http, template, case, tmp_path):
    provider = space.client(http, "provider")
    consumer = space.client(http, case["consumer"])
    # the templates name participants by placeholder ids; here they are the nodes' DIDs
    ids = {f"urn:karez:participant:{name}": node.id for name, node in space.nodes.items()}

    def local(text: str) -> str:
        for placeholder, did in ids.items():
            text = text.replace(placeholder, did)
        return text

    policy = json.loads(local((POLICIES / template / "policy.json").read_text()))
    case = json.loads(local(json.dumps(case)))
    slug = f"{template}-{abs(hash(case['name'])) % 10**8}"
    data = tmp_path / "data.bin"
    data.write_bytes(b"karez" * 1000)
    await provider.create_asset(slug, {"type": "File", "path": str(data)}, case.get("asset", {}))
    body = {k: v for k, v in policy.items() if k not in ("@context", "@id")}
    await provider.call(
        "POST",
        "/v3/policydefinitions",
        {
            "@context": [EDC_CONTEXT, "http://www.w3.org/ns/odrl.jsonld"],
            "@id": f"p-{slug}",
            "policy": body,
        },
    )
    await provider.create_policy(f"open-{slug}", [{"action": "use"}])
    await provider.create_contract_definition(
        f"d-{slug}",
        f"open-{slug}",
        f"p-{slug}",
        [
            {
                "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id",
                "operator": "=",
                "operandRight": slug,
            }
        ],
    )
    p = space["provider"]
    offer = first_offer(await consumer.catalog(p.protocol_url, p.id), slug)
    nid = await consumer.negotiate(p.protocol_url, p.id, offer, slug)
    n = await consumer.wait_state("contractnegotiations", nid, {"FINALIZED", "TERMINATED"})
    assert n["state"] == case["expect"], n.get("errorDetail")
    if case["expect"] == "TERMINATED":
        for needle in case.get("explain", []):
            assert needle in n["errorDetail"], (needle, n["errorDetail"])
        return
    last = None
    for _ in range(case.get("transfers", 0)):
        tid = await consumer.transfer(p.protocol_url, n["contractAgreementId"])
        last = await consumer.wait_state("transferprocesses", tid, {"STARTED", "TERMINATED"})
    if "expect_transfer" in case:
        assert last is not None and last["state"] == case["expect_transfer"], last
        if case["expect_transfer"] == "TERMINATED":
            for needle in case.get("explain", []):
                assert needle in last["errorDetail"], (needle, last["errorDetail"])
