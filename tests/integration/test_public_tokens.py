"""The provider's public data plane refuses tokens for another agreement, another asset or
another consumer, even when correctly signed, and tokens of another kind."""

from __future__ import annotations

from connector.config import load_settings
from connector.dataplane.tokens import AccessTokenService
from connector.identity.keyring import KeyRing
from connector.identity.keys import public_jwk
from tests.integration.helpers import negotiate, publish, pull
from tests.integration.test_access_ends import provider_transfer_id


async def test_tokens_bound_to_agreement_asset_and_consumer(shared_dataspace, http, tmp_path):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    await publish(provider, tmp_path, "bound", size=1000)
    n = await negotiate(consumer, ds["provider"], "bound")
    agreement_id = n["contractAgreementId"]
    _, edr = await pull(consumer, ds["provider"], agreement_id)
    assert edr is not None
    tid = await provider_transfer_id(provider, agreement_id)
    # tokens signed with the provider's own key: only the claims differ
    settings = load_settings(ds["provider"].config, env={})
    key = KeyRing.load(settings.resolve(settings.key_file)).current
    tokens = AccessTokenService(key, public_jwk(key), settings.participant_id)
    consumer_id = ds["consumer"].id

    async def status_with(token: str) -> tuple[int, str]:
        async with http.get(edr["endpoint"], headers={"Authorization": token}) as resp:
            return resp.status, (await resp.read()).decode("utf-8", "replace")

    good, _ = tokens.issue(tid, agreement_id, "bound", consumer_id)
    assert (await status_with(good))[0] == 200
    cases = {
        "another agreement": tokens.issue(tid, "urn:uuid:other-agreement", "bound", consumer_id),
        "another asset": tokens.issue(tid, agreement_id, "other-asset", consumer_id),
        "no transfer of this consumer": tokens.issue(tid, agreement_id, "bound", "did:web:x"),
    }
    for reason, (token, _) in cases.items():
        status, text = await status_with(token)
        assert status == 403 and reason in text, (reason, status, text)
    # a refresh token is not an access token
    refresh, _ = tokens.issue_refresh(tid, consumer_id)
    assert (await status_with(refresh))[0] == 401


async def test_oversized_or_unsized_request_bodies_are_refused(shared_dataspace, http, tmp_path):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    await publish(provider, tmp_path, "sized", size=1000)
    n = await negotiate(consumer, ds["provider"], "sized")
    _, edr = await pull(consumer, ds["provider"], n["contractAgreementId"])
    assert edr is not None
    auth = {"Authorization": edr["authorization"]}
    big = b"x" * (10 * 1024 * 1024 + 1)
    async with http.post(edr["endpoint"], data=big, headers=auth) as r:
        assert r.status == 413

    async def chunked():
        yield b"x" * 1000

    async with http.post(edr["endpoint"], data=chunked(), headers=auth) as r:
        assert r.status == 411
