"""Durations in ``karez.toml`` and ``KAREZ_*``: positive, or 0 where 0 means off; a bad one is
an error naming the field (not a crash later, when the node builds its caches)."""

from __future__ import annotations

import pytest

from connector.config import load_settings
from connector.errors import ValidationFailure


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("did_cache_ttl_s", "0"),
        ("status_list_cache_ttl_s", "-5"),
        ("edr_ttl_s", "0"),
        ("peer_timeout_s", "-1"),
        ("dcp_claims_ttl_s", "-1"),
    ],
)
def test_a_bad_duration_names_its_field(field, value):
    with pytest.raises(ValidationFailure) as info:
        load_settings(env={f"KAREZ_{field.upper()}": value})
    assert info.value.path == field
    assert field in info.value.message


def test_zero_turns_claim_reuse_off_and_is_the_default():
    key = {"KAREZ_API_KEY": "k"}
    assert load_settings(env=key).dcp_claims_ttl_s == 0
    assert load_settings(env={**key, "KAREZ_DCP_CLAIMS_TTL_S": "0"}).dcp_claims_ttl_s == 0
    assert load_settings(env={**key, "KAREZ_DCP_CLAIMS_TTL_S": "30"}).dcp_claims_ttl_s == 30
