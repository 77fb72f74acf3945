"""Management API: EDC v3 shapes, QuerySpec, and errors that name the field."""

from __future__ import annotations

import pytest

from connector.client import EDC_CONTEXT, ManagementError

pytestmark = pytest.mark.asyncio(loop_scope="function")


async def expect_error(client, method, path, body, status):
    with pytest.raises(ManagementError) as err:
        await client.call(method, path, body)
    assert err.value.status == status, err.value.body
    assert isinstance(err.value.body, list) and err.value.body, err.value.body
    return err.value.body[0]


async def test_api_key_is_required(shared_dataspace, http):
    info = shared_dataspace["provider"].info
    async with http.post(info["managementUrl"] + "/v3/assets/request", json={}) as resp:
        assert resp.status == 401
    async with http.post(
        info["managementUrl"] + "/v3/assets/request", json={}, headers={"X-Api-Key": "wrong"}
    ) as resp:
        assert resp.status == 401
    # the Management API is not on the protocol port
    base = shared_dataspace["provider"].protocol_url.rsplit("/protocol", 1)[0]
    async with http.post(
        base + "/management/v3/assets/request", json={}, headers={"X-Api-Key": info["apiKey"]}
    ) as resp:
        assert resp.status == 404


async def test_asset_crud_and_query(shared_dataspace, http):
    p = shared_dataspace.client(http, "provider")
    created = await p.create_asset(
        "crud-1",
        {"type": "HttpData", "baseUrl": "http://127.0.0.1:9/x"},
        {"name": "first", "version": "1"},
    )
    assert created["@type"] == "IdResponse" and created["@id"] == "crud-1"
    assert isinstance(created["createdAt"], int)
    await p.create_asset("crud-2", {"type": "File", "path": "/tmp/x"}, {"name": "second"})
    got = await p.call("GET", "/v3/assets/crud-1")
    assert got["@id"] == "crud-1" and got["properties"]["name"] == "first"
    assert got["dataAddress"]["type"] == "HttpData"
    # EDC-style edc: prefixed body
    await p.call(
        "PUT",
        "/v3/assets",
        {
            "@context": {"edc": "https://w3id.org/edc/v0.0.1/ns/"},
            "@id": "crud-1",
            "edc:properties": {"edc:name": "renamed"},
            "edc:dataAddress": {"edc:type": "HttpData", "edc:baseUrl": "http://127.0.0.1:9/y"},
        },
    )
    assert (await p.call("GET", "/v3/assets/crud-1"))["properties"]["name"] == "renamed"
    found = await p.call(
        "POST",
        "/v3/assets/request",
        {
            "@context": EDC_CONTEXT,
            "@type": "QuerySpec",
            "filterExpression": [
                {"operandLeft": "properties.name", "operator": "like", "operandRight": "renam%"}
            ],
        },
    )
    assert [a["@id"] for a in found] == ["crud-1"]
    page = await p.call(
        "POST",
        "/v3/assets/request",
        {"@context": EDC_CONTEXT, "offset": 0, "limit": 1, "sortField": "id", "sortOrder": "DESC"},
    )
    assert len(page) == 1
    await p.call("DELETE", "/v3/assets/crud-2")
    await expect_error(p, "GET", "/v3/assets/crud-2", None, 404)


async def test_errors_name_the_field(shared_dataspace, http):
    p = shared_dataspace.client(http, "provider")
    await p.create_asset("dup", {"type": "File", "path": "/tmp/x"})
    err = await expect_error(
        p,
        "POST",
        "/v3/assets",
        {"@context": EDC_CONTEXT, "@id": "dup", "dataAddress": {"type": "File", "path": "/x"}},
        409,
    )
    assert err["type"] == "ObjectConflict"
    err = await expect_error(
        p, "POST", "/v3/assets", {"@context": EDC_CONTEXT, "@id": "nodata"}, 400
    )
    assert "dataAddress" in (err["path"] or "")
    err = await expect_error(
        p,
        "POST",
        "/v3/assets/request",
        {
            "@context": EDC_CONTEXT,
            "filterExpression": [{"operandLeft": "id", "operator": "~~", "operandRight": 1}],
        },
        400,
    )
    assert "operator" in (err["path"] or "")
    err = await expect_error(
        p,
        "POST",
        "/v3/assets",
        {"@context": "https://evil.example/context.jsonld", "@id": "x"},
        400,
    )
    assert "evil.example" in err["message"]
    with pytest.raises(ManagementError) as bad:
        async with http.post(p.base + "/v3/assets", data=b"{nope", headers=p.headers) as r:
            raise ManagementError(r.status, await r.json(content_type=None))
    assert bad.value.status == 400
    await expect_error(p, "GET", "/v3/contractnegotiations/urn:uuid:none", None, 404)
    await expect_error(p, "POST", "/v3/transferprocesses/urn:uuid:none/suspend", None, 404)


async def test_policy_in_use_cannot_be_deleted(shared_dataspace, http):
    p = shared_dataspace.client(http, "provider")
    await p.create_policy("in-use", [{"action": "use"}])
    await p.create_contract_definition("uses-it", "in-use", "in-use")
    err = await expect_error(p, "DELETE", "/v3/policydefinitions/in-use", None, 409)
    assert "uses-it" in err["message"]
    policy = await p.call("GET", "/v3/policydefinitions/in-use")
    assert policy["@id"] == "in-use"
    await p.call("DELETE", "/v3/contractdefinitions/uses-it")
    await p.call("DELETE", "/v3/policydefinitions/in-use")


async def test_node_info_validation_and_protocol_versions(shared_dataspace, http):
    ds = shared_dataspace
    p, c = ds.client(http, "provider"), ds.client(http, "consumer")
    planes = await p.call("GET", "/v3/dataplanes")
    assert planes[0]["url"] == ds["provider"].info["publicUrl"]
    assert "HttpData-PULL" in planes[0]["allowedTransferTypes"]
    assert (await p.call("GET", "/v1/version"))["management"][0]["urlPath"] == "/v3"
    await p.create_policy("valid-one", [{"action": "use"}])
    result = await p.call("POST", "/v3/policydefinitions/valid-one/validate")
    assert result["isValid"] is True and result["errors"] == []
    versions = await c.call(
        "POST",
        "/v4alpha/protocol-versions/request",
        {"@context": EDC_CONTEXT, "counterPartyAddress": ds["provider"].protocol_url},
    )
    assert versions["protocolVersions"][0]["version"] == "2025-1"


async def test_delete_negotiation_and_deprovision_need_an_ended_process(shared_dataspace, http):
    from tests.integration.helpers import negotiate, publish

    ds = shared_dataspace
    p, c = ds.client(http, "provider"), ds.client(http, "consumer")
    await publish(p, ds["provider"].folder, "asset-delete")
    n = await negotiate(c, ds["provider"], "asset-delete")
    err = await expect_error(c, "DELETE", f"/v3/contractnegotiations/{n['@id']}", None, 409)
    assert "FINALIZED" in err["message"]
    tid = await c.transfer(ds["provider"].protocol_url, n["contractAgreementId"])
    await c.wait_state("transferprocesses", tid, "STARTED")
    await expect_error(c, "POST", f"/v3/transferprocesses/{tid}/deprovision", None, 409)
    await c.call("POST", f"/v3/transferprocesses/{tid}/complete")
    await c.wait_state("transferprocesses", tid, "COMPLETED")
    await c.call("POST", f"/v3/transferprocesses/{tid}/deprovision")


async def test_operator_mapped_context(dataspace_factory, http, tmp_path):
    """A context the operator maps to a file is used; any other remote context is refused."""
    import json

    ctx_file = tmp_path / "sector.jsonld"
    ctx_file.write_text(
        json.dumps(
            {
                "@context": {
                    "@vocab": "https://w3id.org/edc/v0.0.1/ns/",
                    "cotton": "https://example.org/cotton-association/vocab#",
                }
            }
        )
    )
    ds = dataspace_factory(1, names=["solo"], start=False)
    config = ds["solo"].config
    config.write_text(
        config.read_text() + "\n[extra_contexts]\n"
        f'"https://example.org/cotton-association/context.jsonld" = "{ctx_file}"\n'
    )
    ds.start()
    p = ds.client(http, "solo")
    await p.call(
        "POST",
        "/v3/assets",
        {
            "@context": "https://example.org/cotton-association/context.jsonld",
            "@id": "sector-asset",
            "properties": {"cotton:grade": "3128B"},
            "dataAddress": {"type": "File", "path": "/tmp/x"},
        },
    )
    asset = await p.call("GET", "/v3/assets/sector-asset")
    assert asset["properties"]["https://example.org/cotton-association/vocab#grade"] == "3128B"
    await expect_error(
        p,
        "POST",
        "/v3/assets",
        {
            "@context": "https://example.org/other/context.jsonld",
            "@id": "x",
            "dataAddress": {"type": "File", "path": "/tmp/x"},
        },
        400,
    )


DCT = "http://purl.org/dc/terms/"
KZ = "https://w3id.org/karez/ns/"


def described(**drop: bool) -> dict:
    props = {
        DCT + "title": "Cotton yield by field, 2026",
        DCT + "description": "Yields per field in southern Xinjiang",
        KZ + "classificationLevel": {"@id": KZ + "level/general"},
        KZ + "industryCluster": {"@id": KZ + "cluster10/cotton-textiles"},
        DCT + "accrualPeriodicity": {
            "@id": "http://publications.europa.eu/resource/authority/frequency/MONTHLY"
        },
        DCT + "publisher": {"@id": "urn:karez:participant:provider"},
        DCT + "license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
    }
    return {k: v for k, v in props.items() if not drop.get(k.rsplit("/", 1)[-1])}


async def test_dataset_descriptions_are_checked_against_the_profile_shapes(shared_dataspace, http):
    p = shared_dataspace.client(http, "provider")
    await p.create_asset("described", {"type": "File", "path": "/tmp/x"}, described())
    with pytest.raises(ManagementError) as err:
        await p.create_asset(
            "badly-described",
            {"type": "File", "path": "/tmp/x"},
            described(classificationLevel=True, license=True),
        )
    assert err.value.status == 400
    messages = " ".join(e["message"] for e in err.value.body)
    assert "classificationLevel" in messages and "icen" in messages, messages
    assert all(e["path"] == "properties" for e in err.value.body)
    # updates are checked too, and a refused update keeps what was stored
    await expect_error(
        p,
        "PUT",
        "/v3/assets",
        {
            "@context": EDC_CONTEXT,
            "@id": "described",
            "properties": described(classificationLevel=True),
            "dataAddress": {"type": "File", "path": "/tmp/x"},
        },
        400,
    )
    stored = await p.call("GET", "/v3/assets/described")
    assert KZ + "classificationLevel" in str(stored["properties"]) or any(
        "classificationLevel" in k for k in stored["properties"]
    )
    # an EDC-style asset without DCAT or profile properties is not a dataset description
    await p.create_asset("plain-edc", {"type": "File", "path": "/tmp/x"}, {"name": "plain"})
