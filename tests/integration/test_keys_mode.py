"""The configured-key-list mode (``identity = "keys"``) still shares a dataset end to end."""

from __future__ import annotations

from tests.integration.helpers import share


async def test_share_a_dataset_with_configured_keys(dataspace_factory, http, tmp_path):
    ds = dataspace_factory(2, identity="keys")
    assert "authority" not in ds.description
    assert ds["provider"].id == "urn:karez:participant:provider"
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    await share(http, provider, consumer, ds["provider"], tmp_path, "keys-asset")
