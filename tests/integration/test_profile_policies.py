"""Policies over the Karez profile, enforced between real nodes: cluster membership across the
nine- and ten-cluster schemes, use counts at transfer time, and explanations of refusals."""

from __future__ import annotations

import pytest

from connector.client import ManagementError
from tests.integration.helpers import negotiate, publish

K = "https://w3id.org/karez/ns/"
COTTON_10 = K + "cluster10/cotton-textiles"


@pytest.fixture(scope="module")
def cluster_ds(tmp_path_factory):
    from tests.integration.conftest import Dataspace

    ds = Dataspace(tmp_path_factory.mktemp("profile"), 3, ["provider", "cotton", "oil"])
    ds.set_claims(
        "provider",
        {
            # a nine-cluster sub-sector claim; policies below are written for the ten clusters
            "cotton": {"clusters": ["cluster:cotton"], "jurisdiction": "jurisdiction:CN-XJ"},
            "oil": {"clusters": ["cluster10:oil-gas"], "jurisdiction": "KZ"},
        },
    )
    ds.start()
    yield ds
    ds.stop()


IN_COTTON = [
    {
        "action": "use",
        "constraint": [
            {
                "leftOperand": K + "clusterMembership",
                "operator": "isAnyOf",
                "rightOperand": [COTTON_10],
            }
        ],
    }
]


async def test_cluster_policy_across_schemes(cluster_ds, http):
    ds = cluster_ds
    provider = ds.client(http, "provider")
    cotton, oil = ds.client(http, "cotton"), ds.client(http, "oil")
    await publish(provider, ds["provider"].folder, "cotton-yields", contract_permissions=IN_COTTON)
    n = await negotiate(cotton, ds["provider"], "cotton-yields")
    assert n["state"] == "FINALIZED", n
    refused = await negotiate(oil, ds["provider"], "cotton-yields")
    assert refused["state"] == "TERMINATED"
    assert "clusterMembership" in refused["errorDetail"], refused["errorDetail"]
    assert "cluster10/oil-gas" in refused["errorDetail"], refused["errorDetail"]


async def test_access_policy_by_cluster_hides_dataset(cluster_ds, http):
    ds = cluster_ds
    provider = ds.client(http, "provider")
    await publish(provider, ds["provider"].folder, "cotton-private", permissions=IN_COTTON)
    for name, visible in (("cotton", True), ("oil", False)):
        catalog = await ds.client(http, name).catalog(
            ds["provider"].protocol_url, ds["provider"].id
        )
        datasets = catalog.get("dcat:dataset", [])
        datasets = [datasets] if isinstance(datasets, dict) else datasets
        assert ("cotton-private" in [d["@id"] for d in datasets]) is visible, name


async def test_use_count_is_enforced_at_transfer_start(cluster_ds, http):
    ds = cluster_ds
    provider, cotton = ds.client(http, "provider"), ds.client(http, "cotton")
    twice = [
        {
            "action": "use",
            "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 2}],
        }
    ]
    await publish(provider, ds["provider"].folder, "twice", contract_permissions=twice)
    n = await negotiate(cotton, ds["provider"], "twice")
    assert n["state"] == "FINALIZED", n
    states = []
    for _ in range(3):
        tid = await cotton.transfer(ds["provider"].protocol_url, n["contractAgreementId"])
        t = await cotton.wait_state("transferprocesses", tid, {"STARTED", "TERMINATED"})
        states.append(t["state"])
        if t["state"] == "TERMINATED":
            assert "count" in t["errorDetail"], t["errorDetail"]
    assert states == ["STARTED", "STARTED", "TERMINATED"]


async def test_unknown_operand_fails_closed(cluster_ds, http):
    ds = cluster_ds
    provider, cotton = ds.client(http, "provider"), ds.client(http, "cotton")
    odd = [
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "https://example.org/nobody-resolves-this",
                    "operator": "eq",
                    "rightOperand": "x",
                }
            ],
        }
    ]
    await publish(provider, ds["provider"].folder, "odd", contract_permissions=odd)
    n = await negotiate(cotton, ds["provider"], "odd")
    assert n["state"] == "TERMINATED"
    assert "nobody-resolves-this" in n["errorDetail"]
    with pytest.raises(ManagementError):
        await cotton.call("GET", f"/v3/contractnegotiations/{n['@id']}/agreement")


async def test_concepts_as_references_survive_the_round_trip(cluster_ds, http):
    """An offer whose right operand is a reference ({"@id": concept}) comes back unchanged
    through the consumer's Management API (the catalog's prefixes travel with it)."""
    ds = cluster_ds
    provider, cotton = ds.client(http, "provider"), ds.client(http, "cotton")
    as_reference = [
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": K + "clusterMembership",
                    "operator": "isAnyOf",
                    "rightOperand": [{"@id": COTTON_10}],
                }
            ],
        }
    ]
    await publish(provider, ds["provider"].folder, "cotton-ref", contract_permissions=as_reference)
    n = await negotiate(cotton, ds["provider"], "cotton-ref")
    assert n["state"] == "FINALIZED", n.get("errorDetail")


async def test_inherited_rules_are_offered_and_enforced(cluster_ds, http):
    """A contract policy that inherits from another (inheritFrom names a policy definition) is
    offered with the inherited rules merged in (ODRL: the rules add up), and all are enforced."""
    ds = cluster_ds
    provider = ds.client(http, "provider")
    cotton, oil = ds.client(http, "cotton"), ds.client(http, "oil")
    # the parent forbids the oil and gas cluster; the child grants use until 2099
    await provider.create_policy(
        "cotton-members",
        [],
        prohibitions=[
            {
                "action": "use",
                "constraint": [
                    {
                        "leftOperand": K + "clusterMembership",
                        "operator": "isAnyOf",
                        "rightOperand": [K + "cluster10/oil-gas"],
                    }
                ],
            }
        ],
    )
    await provider.call(
        "POST",
        "/v3/policydefinitions",
        {
            "@context": [
                {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"},
                "http://www.w3.org/ns/odrl.jsonld",
            ],
            "@id": "cotton-until-2099",
            "policy": {
                "@type": "Set",
                "inheritFrom": "cotton-members",
                "permission": [
                    {
                        "action": "use",
                        "constraint": [
                            {
                                "leftOperand": "dateTime",
                                "operator": "lt",
                                "rightOperand": "2099-01-01T00:00:00Z",
                            }
                        ],
                    }
                ],
            },
        },
    )
    await publish(provider, ds["provider"].folder, "inherited", contract_permissions=None)
    await provider.call(
        "PUT",
        "/v3/contractdefinitions",
        {
            "@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"},
            "@id": "def-inherited",
            "accessPolicyId": "policy-inherited",
            "contractPolicyId": "cotton-until-2099",
            "assetsSelector": [
                {
                    "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id",
                    "operator": "=",
                    "operandRight": "inherited",
                }
            ],
        },
    )
    n = await negotiate(cotton, ds["provider"], "inherited")
    assert n["state"] == "FINALIZED", n.get("errorDetail")
    agreement = await cotton.call("GET", f"/v3/contractnegotiations/{n['@id']}/agreement")
    assert "clusterMembership" in str(agreement["policy"])  # the inherited rule is agreed
    refused = await negotiate(oil, ds["provider"], "inherited")
    assert refused["state"] == "TERMINATED"
    assert "clusterMembership" in refused["errorDetail"], refused["errorDetail"]
