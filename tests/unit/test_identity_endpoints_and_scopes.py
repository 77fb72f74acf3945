"""Service endpoints a verifier may call, and scope aliases other DCP implementations use."""

from __future__ import annotations

import pytest

from connector.errors import Unauthorized
from connector.identity.did import DidResolver
from connector.identity.wallet import Wallet, parse_scope, type_scope


async def _never(url: str) -> dict:
    raise AssertionError("no fetch expected")


@pytest.mark.parametrize(
    "url",
    [
        "https://wallet.example/cs",
        "https://10.0.0.5:8443/cs",
        "http://127.0.0.1:9000/cs",
        "http://localhost/cs",
    ],
)
def test_allowed_endpoints(url: str) -> None:
    resolver = DidResolver(_never, allow_http_hosts=["127.0.0.1", "localhost"])
    assert resolver.check_endpoint(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",  # plain HTTP off loopback
        "http://wallet.example/cs",
        "ftp://127.0.0.1/cs",
        "file:///etc/passwd",
        "https://user:pw@wallet.example/cs",
        "not a url",
        "http://[::1]/cs",  # loopback, but not in this resolver's list
    ],
)
def test_refused_endpoints(url: str) -> None:
    resolver = DidResolver(_never, allow_http_hosts=["127.0.0.1"])
    with pytest.raises(Unauthorized):
        resolver.check_endpoint(url)


def test_edc_type_alias_reads_as_the_dcp_alias() -> None:
    assert parse_scope("org.eclipse.edc.vc.type:MembershipCredential:read") == parse_scope(
        type_scope("MembershipCredential")
    )
    assert Wallet().select(["org.eclipse.edc.vc.type:MembershipCredential:read"]) == []
