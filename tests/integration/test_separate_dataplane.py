"""A data plane in its own process (``karez dataplane``), registered with the provider's control
plane: consumers pull from it; access is decided by the control plane that signed the token,
for each download and while it runs; signals stop a download at once."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import time
import tomllib

import pytest

from connector.client import EDC_CONTEXT
from connector.config import load_settings
from connector.dataplane.tokens import AccessTokenService
from connector.dataspace import wait_healthy
from connector.identity.keyring import KeyRing
from connector.identity.keys import public_jwk
from tests.integration.helpers import negotiate, offer_openly, provider_digest, publish, pull
from tests.integration.test_access_ends import SlowDownload
from tests.integration.test_push import push_transfer, receiver  # noqa: F401 - the fixture

KAREZ = [sys.executable, "-m", "connector"]


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    from tests.integration.conftest import Dataspace

    ds = Dataspace(
        tmp_path_factory.mktemp("split"),
        3,
        ["provider", "consumer", "provider2"],
        configure={"provider": {"dataplane_resignal_s": 0.5}},
    )
    dp_dir = ds.folder / "dataplane"
    for control_plane in ("provider", "provider2"):  # one data plane serving two providers
        result = subprocess.run(
            [*KAREZ, "dataplane", "init", "--dir", str(dp_dir), "--control-plane",
             str(ds[control_plane].config)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    ds.start()
    config = tomllib.loads((dp_dir / "dataplane.toml").read_text())
    log = open(dp_dir / "dataplane.log", "ab")  # noqa: SIM115

    def start_dataplane() -> None:
        ds.dp_proc = subprocess.Popen(
            [*KAREZ, "dataplane", "run", "--config", str(dp_dir / "dataplane.toml")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_healthy(f"http://127.0.0.1:{config['signaling_port']}/check/health", ds.dp_proc)

    start_dataplane()
    ds.start_dataplane = start_dataplane
    ds.dataplane = config
    yield ds
    ds.dp_proc.terminate()
    ds.dp_proc.wait(timeout=10)
    log.close()
    ds.stop()


async def stream_into_folder(consumer, ds, agreement_id: str, inbox) -> str:
    """Start an HttpData-STREAM of the provider's asset into ``inbox``; the transfer's id."""
    body = {
        "@context": EDC_CONTEXT,
        "counterPartyAddress": ds["provider"].protocol_url,
        "contractId": agreement_id,
        "transferType": "HttpData-STREAM",
        "dataDestination": {"type": "File", "folder": str(inbox)},
    }
    return (await consumer.call("POST", "/v3/transferprocesses", body))["@id"]


async def arrives(path, timeout_s: float = 15) -> None:
    """Wait until ``path`` exists (a streamed file reached the consumer)."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} did not arrive"
        await asyncio.sleep(0.1)


def provider_settings(ds):
    return load_settings(ds["provider"].config, env={})


async def test_pull_through_the_separate_data_plane(split, http, tmp_path):
    provider, consumer = split.client(http, "provider"), split.client(http, "consumer")
    sha = await publish(provider, tmp_path, "split-pull", size=2 * 1024 * 1024)
    n = await negotiate(consumer, split["provider"], "split-pull")
    _, edr = await pull(consumer, split["provider"], n["contractAgreementId"])
    assert edr is not None
    assert edr["endpoint"] == provider_settings(split).dataplane_public_url
    assert f":{split.dataplane['public_port']}/" in edr["endpoint"]
    listed = await provider.call("GET", "/v3/dataplanes")
    assert [d["@id"] for d in listed] == ["embedded", "separate"]
    assert listed[1]["url"] == edr["endpoint"]
    assert listed[1]["state"] == "AVAILABLE"  # it answered the signaling status call
    assert set(listed[1]["allowedTransferTypes"]) >= {"HttpData-PUSH", "HttpData-STREAM"}
    async with http.get(edr["endpoint"], headers={"Authorization": edr["authorization"]}) as r:
        assert r.status == 200
        assert hashlib.sha256(await r.read()).hexdigest() == sha
    # the data plane reported what it served; the provider keeps it with the transfer
    assert await provider_digest(provider, n["contractAgreementId"]) == sha


async def test_terminating_stops_a_download_on_the_data_plane(split, http, tmp_path):
    provider, consumer = split.client(http, "provider"), split.client(http, "consumer")
    await publish(provider, tmp_path, "split-stop", size=48 * 1024 * 1024)
    n = await negotiate(consumer, split["provider"], "split-stop")
    transfer, edr = await pull(consumer, split["provider"], n["contractAgreementId"])
    assert edr is not None
    download = SlowDownload(http, edr)
    await download.started()
    await consumer.call(
        "POST",
        f"/v3/transferprocesses/{transfer['@id']}/terminate",
        {"@context": EDC_CONTEXT, "reason": "enough"},
    )
    await asyncio.wait_for(download.task, timeout=10)
    assert download.error is not None and download.received < 48 * 1024 * 1024
    async with http.get(edr["endpoint"], headers={"Authorization": edr["authorization"]}) as r:
        assert r.status == 403


async def test_only_tokens_of_a_served_control_plane(split, http, tmp_path):
    provider, consumer = split.client(http, "provider"), split.client(http, "consumer")
    await publish(provider, tmp_path, "split-tokens", size=1000)
    n = await negotiate(consumer, split["provider"], "split-tokens")
    _, edr = await pull(consumer, split["provider"], n["contractAgreementId"])
    assert edr is not None
    # a token signed by another node (the consumer's key) for the same ids
    consumer_settings = load_settings(split["consumer"].config, env={})
    other_key = KeyRing.load(consumer_settings.resolve(consumer_settings.key_file)).current
    forged = AccessTokenService(other_key, public_jwk(other_key), split["provider"].id)
    token, _ = forged.issue("urn:uuid:x", n["contractAgreementId"], "split-tokens", "did:web:x")
    async with http.get(edr["endpoint"], headers={"Authorization": token}) as r:
        assert r.status == 401
    # a token of the served control plane, for a transfer it does not know: it says no
    st = provider_settings(split)
    own_key = KeyRing.load(st.resolve(st.key_file)).current
    tokens = AccessTokenService(own_key, public_jwk(own_key), st.participant_id)
    token, _ = tokens.issue("urn:uuid:unknown", n["contractAgreementId"], "x", split["consumer"].id)
    async with http.get(edr["endpoint"], headers={"Authorization": token}) as r:
        assert r.status == 403 and "no transfer" in await r.text()


async def test_signaling_api_needs_the_key(split, http):
    base = f"http://127.0.0.1:{split.dataplane['signaling_port']}/signaling/v1"
    async with http.get(base + "/") as r:
        assert r.status == 401
    key = split.dataplane["control_planes"][0]["key"]
    async with http.get(base + "/", headers={"Authorization": f"Bearer {key}"}) as r:
        body = await r.json()
    assert body["state"] == "AVAILABLE"
    assert body["controlPlanes"] == sorted([split["provider"].id, split["provider2"].id])
    async with http.post(
        base + "/transfers/urn:uuid:x/terminate", headers={"Authorization": f"Bearer {key}"}
    ) as r:
        assert r.status == 200 and (await r.json())["stopped"] == 0
    # the control API of the control plane needs the same key
    st = provider_settings(split)
    url = f"http://127.0.0.1:{st.control_port}/control/v1/transfers/urn:uuid:x/access"
    async with http.get(url) as r:
        assert r.status == 401


async def test_two_control_planes_one_data_plane(split, http, tmp_path):
    """Each provider's consumers pull through the shared data plane; one provider's token does
    not open the other's transfer (the data plane asks the signer, who knows no such transfer)."""
    consumer = split.client(http, "consumer")
    edrs = {}
    for name in ("provider", "provider2"):
        provider = split.client(http, name)
        sha = await publish(provider, tmp_path, f"shared-{name}", size=100_000)
        n = await negotiate(consumer, split[name], f"shared-{name}")
        _, edr = await pull(consumer, split[name], n["contractAgreementId"])
        assert edr is not None
        async with http.get(edr["endpoint"], headers={"Authorization": edr["authorization"]}) as r:
            assert r.status == 200 and hashlib.sha256(await r.read()).hexdigest() == sha
        edrs[name] = (edr, n["contractAgreementId"])
    assert edrs["provider"][0]["endpoint"] == edrs["provider2"][0]["endpoint"]
    # provider2 signs a token naming provider's transfer: refused
    provider = split.client(http, "provider")
    found = await provider.call(
        "POST",
        "/v3/transferprocesses/request",
        {
            "filterExpression": [
                {"operandLeft": "contractId", "operator": "=", "operandRight": edrs["provider"][1]}
            ]
        },
    )
    st2 = load_settings(split["provider2"].config, env={})
    key2 = KeyRing.load(st2.resolve(st2.key_file)).current
    tokens2 = AccessTokenService(key2, public_jwk(key2), st2.participant_id)
    token, _ = tokens2.issue(
        found[0]["@id"], edrs["provider"][1], "shared-provider", split["consumer"].id
    )
    async with http.get(edrs["provider"][0]["endpoint"], headers={"Authorization": token}) as r:
        assert r.status == 403


async def test_push_and_stream_run_in_the_data_plane(split, http, tmp_path, receiver):  # noqa: F811
    provider, consumer = split.client(http, "provider"), split.client(http, "consumer")
    sha = await publish(provider, tmp_path, "split-push", size=1024 * 1024)
    n = await negotiate(consumer, split["provider"], "split-push")
    destination = {
        "type": "HttpData",
        "baseUrl": receiver.url,
        "authKey": "X-Sink-Key",
        "authCode": receiver.token,
    }
    tid = await push_transfer(consumer, split["provider"], n["contractAgreementId"], destination)
    t = await consumer.wait_state("transferprocesses", tid, {"COMPLETED", "TERMINATED"})
    assert t["state"] == "COMPLETED", t.get("errorDetail")
    assert hashlib.sha256(receiver.bodies["/ingest"]).hexdigest() == sha == t["karez:sha256"]
    dp_log = (split.folder / "dataplane" / "dataplane.log").read_text()
    assert "push of transfer" in dp_log and "done" in dp_log
    assert "push of transfer" not in split["provider"].log.read_text()

    # a stream of a folder, into the consumer's inbox, through the data plane
    source = tmp_path / "split-stream"
    source.mkdir()
    (source / "a.csv").write_text("x\n1\n")
    await offer_openly(provider, "split-stream", {"type": "File", "path": str(source)})
    n = await negotiate(consumer, split["provider"], "split-stream")
    inbox = tmp_path / "split-inbox"
    sid = await stream_into_folder(consumer, split, n["contractAgreementId"], inbox)
    await arrives(inbox / "a.csv")
    (source / "b.csv").write_text("x\n2\n")
    await arrives(inbox / "b.csv")
    await consumer.call("POST", f"/v3/transferprocesses/{sid}/complete")
    await consumer.wait_state("transferprocesses", sid, {"COMPLETED"})


async def test_a_restarted_data_plane_gets_its_stream_back(split, http, tmp_path):
    """The data plane is killed while it streams; once it runs again, the control plane signals
    the STARTED stream again and files added meanwhile arrive."""
    provider, consumer = split.client(http, "provider"), split.client(http, "consumer")
    source = tmp_path / "restart-stream"
    source.mkdir()
    (source / "one.csv").write_text("x\n1\n")
    await offer_openly(provider, "restart-stream", {"type": "File", "path": str(source)})
    n = await negotiate(consumer, split["provider"], "restart-stream")
    inbox = tmp_path / "restart-inbox"
    sid = await stream_into_folder(consumer, split, n["contractAgreementId"], inbox)
    await arrives(inbox / "one.csv")
    split.dp_proc.kill()
    split.dp_proc.wait()
    listed = await provider.call("GET", "/v3/dataplanes")
    assert listed[1]["state"] == "UNAVAILABLE"  # the control plane asked; nobody answered
    (source / "two.csv").write_text("x\n2\n")
    split.start_dataplane()
    await arrives(inbox / "two.csv")
    await consumer.call("POST", f"/v3/transferprocesses/{sid}/complete")
    await consumer.wait_state("transferprocesses", sid, {"COMPLETED"})
