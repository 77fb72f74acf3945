"""Two replicas of one provider over one PostgreSQL database share the work: a negotiation
started through one replica is approved through the other, which sends the agreement."""

from __future__ import annotations

import shutil
import uuid

import pytest

from connector.dataspace import start_node_process, wait_healthy
from connector.setup_node import free_ports
from tests.integration.helpers import offer_for, publish
from tests.integration.test_postgres_nodes import PG_URL, pg_available

MANUAL = {"https://w3id.org/karez/ns/approval": "manual"}


@pytest.fixture
async def replicated(dataspace_factory):
    problem = await pg_available()
    if problem:
        import os

        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {problem}")
        pytest.skip(f"no PostgreSQL at {PG_URL}: {problem}")
    schema = f"karez_replicas_{uuid.uuid4().hex[:8]}"
    sep = "&" if "?" in PG_URL else "?"
    ds = dataspace_factory(
        2, start=False, configure={"provider": {"store_url": f"{PG_URL}{sep}schema={schema}"}}
    )
    ds.start()
    # replica B: the provider's configuration and keys, its own ports, the same database
    a = ds["provider"]
    b_folder = a.folder.parent / "provider-b"
    shutil.copytree(a.folder, b_folder, ignore=shutil.ignore_patterns("data", "node.log"))
    ports = free_ports(4)
    config = (b_folder / "karez.toml").read_text()
    for key, port in zip(
        ("management_port", "protocol_port", "public_port", "observability_port"),
        ports,
        strict=True,
    ):
        config = "\n".join(
            f"{key} = {port}" if line.startswith(f"{key} =") else line
            for line in config.splitlines()
        )
    (b_folder / "karez.toml").write_text(config + "\n")
    proc = start_node_process(b_folder / "karez.toml", b_folder / "node.log")
    wait_healthy(f"http://127.0.0.1:{ports[3]}/check/health", proc)
    b_management = f"http://127.0.0.1:{ports[0]}/management"
    yield ds, b_management
    proc.terminate()
    proc.wait(timeout=10)
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


async def test_replicas_share_negotiations(replicated, http):
    from connector.client import ManagementClient

    ds, b_management = replicated
    provider_a = ds.client(http, "provider")
    provider_b = ManagementClient(http, b_management, ds["provider"].info["apiKey"])
    consumer = ds.client(http, "consumer")
    await publish(provider_a, ds["provider"].folder, "shared", definition_private=MANUAL)
    offer = await offer_for(consumer, ds["provider"], "shared")
    nid = await consumer.negotiate(ds["provider"].protocol_url, ds["provider"].id, offer, "shared")
    await consumer.wait_state("contractnegotiations", nid, "REQUESTED")
    (waiting,) = await provider_b.call(
        "POST",
        "/v3/contractnegotiations/request",
        {
            "filterExpression": [
                {"operandLeft": "karez:consumerPid", "operator": "=", "operandRight": nid}
            ]
        },
    )
    await provider_b.call("POST", f"/v3/contractnegotiations/{waiting['@id']}/agree")
    await provider_a.wait_state("contractnegotiations", waiting["@id"], "VERIFIED")
    await provider_a.call("POST", f"/v3/contractnegotiations/{waiting['@id']}/finalize")
    n = await consumer.wait_state("contractnegotiations", nid, "FINALIZED")
    assert n["contractAgreementId"]
