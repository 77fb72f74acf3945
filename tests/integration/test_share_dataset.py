"""Two real nodes share a dataset: catalog, negotiation, transfer, download."""

from __future__ import annotations

import pytest

from tests.integration.helpers import download, negotiate, offer_for, publish

pytestmark = pytest.mark.asyncio(loop_scope="function")


async def test_catalog_negotiation_transfer_download(shared_dataspace, http):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    sha = await publish(provider, ds["provider"].folder, "asset-flow", size=1024 * 1024)

    negotiation = await negotiate(consumer, ds["provider"], "asset-flow")
    assert negotiation["state"] == "FINALIZED", negotiation
    agreement_id = negotiation["contractAgreementId"]
    agreement = await consumer.call("GET", f"/v3/contractagreements/{agreement_id}")
    assert agreement["assetId"] == "asset-flow"
    assert agreement["providerId"] == ds["provider"].id
    assert agreement["consumerId"] == ds["consumer"].id
    provider_side = await provider.call(
        "POST",
        "/v3/contractnegotiations/request",
        {
            "filterExpression": [
                {
                    "operandLeft": "contractAgreementId",
                    "operator": "=",
                    "operandRight": agreement_id,
                }
            ]
        },
    )
    assert [n["state"] for n in provider_side] == ["FINALIZED"]

    tid = await consumer.transfer(ds["provider"].protocol_url, agreement_id)
    transfer = await consumer.wait_state("transferprocesses", tid, {"STARTED", "TERMINATED"})
    assert transfer["state"] == "STARTED", transfer
    edr = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")
    status, received, _ = await download(http, edr)
    assert status == 200 and received == sha
    # EDC clients send the token raw; a Bearer prefix works as well
    status, received, _ = await download(
        http, {**edr, "authorization": "Bearer " + edr["authorization"]}
    )
    assert status == 200 and received == sha

    entries = await consumer.call(
        "POST",
        "/v3/edrs/request",
        {
            "filterExpression": [
                {"operandLeft": "agreementId", "operator": "=", "operandRight": agreement_id}
            ]
        },
    )
    assert [e["transferProcessId"] for e in entries] == [tid]

    await consumer.call("POST", f"/v3/transferprocesses/{tid}/complete")
    done = await consumer.wait_state("transferprocesses", tid, "COMPLETED")
    assert done["state"] == "COMPLETED"
    status, _, _ = await download(http, edr)
    assert status == 403  # a completed transfer's token no longer opens the data


async def test_edr_flow_negotiates_and_pulls_in_one_call(shared_dataspace, http):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    sha = await publish(provider, ds["provider"].folder, "asset-edr")
    offer = await offer_for(consumer, ds["provider"], "asset-edr")
    nid = await consumer.negotiate(
        ds["provider"].protocol_url, ds["provider"].id, offer, "asset-edr", path="/v3/edrs"
    )
    negotiation = await consumer.wait_state("contractnegotiations", nid, "FINALIZED")
    import asyncio

    for _ in range(100):
        entries = await consumer.call(
            "POST",
            "/v3/edrs/request",
            {
                "filterExpression": [
                    {"operandLeft": "contractNegotiationId", "operator": "=", "operandRight": nid}
                ]
            },
        )
        if entries:
            break
        await asyncio.sleep(0.05)
    assert entries and entries[0]["agreementId"] == negotiation["contractAgreementId"]
    edr = await consumer.call(
        "GET", f"/v3/edrs/{entries[0]['transferProcessId']}/dataaddress?auto_refresh=true"
    )
    status, received, _ = await download(http, edr)
    assert (status, received) == (200, sha)


async def test_edr_refresh(dataspace_factory, http):
    ds = dataspace_factory(2, configure={"provider": {"edr_ttl_s": 40}})
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    sha = await publish(provider, ds["provider"].folder, "asset-refresh")
    n = await negotiate(consumer, ds["provider"], "asset-refresh")
    tid = await consumer.transfer(ds["provider"].protocol_url, n["contractAgreementId"])
    await consumer.wait_state("transferprocesses", tid, "STARTED")
    edr = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")
    assert edr["tx-auth:refreshEndpoint"].endswith("/token")
    assert edr["tx-auth:refreshAudience"] == ds["provider"].id
    assert edr["tx-auth:expiresIn"] == "40"
    # auto_refresh keeps a token that has more than 30 s left
    same = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress?auto_refresh=true")
    assert same["authorization"] == edr["authorization"]
    refreshed = await consumer.call("POST", f"/v3/edrs/{tid}/refresh")
    assert refreshed["authorization"] != edr["authorization"]
    assert refreshed["tx-auth:refreshToken"] != edr["tx-auth:refreshToken"]
    status, received, _ = await download(http, refreshed)
    assert (status, received) == (200, sha)
    # a refresh token is bound to its consumer: the provider itself cannot use it
    from connector.dataspace import protocol_token

    url = (
        f"{edr['tx-auth:refreshEndpoint']}?grant_type=refresh_token&refresh_token="
        f"{refreshed['tx-auth:refreshToken']}"
    )
    async with http.post(
        url, headers={"Authorization": protocol_token(ds.folder, "provider", "provider")}
    ) as resp:
        assert resp.status in (401, 403)
    # once the transfer is over, refresh is refused
    await consumer.call(
        "POST",
        f"/v3/transferprocesses/{tid}/terminate",
        {"@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"}, "reason": "finished"},
    )
    await provider.call("POST", "/v3/transferprocesses/request", {})
    await consumer.wait_state("transferprocesses", tid, "TERMINATED")
    from connector.client import ManagementError

    for _ in range(50):
        try:
            await consumer.call("POST", f"/v3/edrs/{tid}/refresh")
        except ManagementError as err:
            assert err.status == 502
            break
        import asyncio

        await asyncio.sleep(0.05)
    else:
        raise AssertionError("refresh still works after termination")


async def test_refused_negotiation_explains_why(shared_dataspace, http):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    expired = [
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "dateTime",
                    "operator": "lteq",
                    "rightOperand": "2020-01-01T00:00:00Z",
                }
            ],
        }
    ]
    await publish(provider, ds["provider"].folder, "asset-expired", contract_permissions=expired)
    n = await negotiate(consumer, ds["provider"], "asset-expired")
    assert n["state"] == "TERMINATED"
    detail = n["errorDetail"]
    assert "dateTime" in detail and "lteq" in detail and "2020-01-01" in detail, detail
    # the provider keeps the full decision record beside its copy
    (mine,) = await provider.call(
        "POST",
        "/v3/contractnegotiations/request",
        {
            "filterExpression": [
                {"operandLeft": "karez:consumerPid", "operator": "=", "operandRight": n["@id"]}
            ]
        },
    )
    assert mine["state"] == "TERMINATED"
    assert "karez:decision" in mine and "2020-01-01" in str(mine["karez:decision"])


async def test_access_policy_hides_the_dataset(shared_dataspace, http):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    only_other = [
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "https://w3id.org/karez/ns/participant",
                    "operator": "eq",
                    "rightOperand": "urn:karez:participant:someone-else",
                }
            ],
        }
    ]
    await publish(provider, ds["provider"].folder, "asset-hidden", permissions=only_other)
    catalog = await consumer.catalog(ds["provider"].protocol_url, ds["provider"].id)
    datasets = catalog.get("dcat:dataset", [])
    datasets = [datasets] if isinstance(datasets, dict) else datasets
    assert "asset-hidden" not in [d["@id"] for d in datasets]
