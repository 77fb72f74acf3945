"""The authority folder: init, issue, verify, revoke, and the list its app serves."""

from __future__ import annotations

import argparse
import json
import stat
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from connector.api.authority import VC_JWT_MEDIA_TYPE, build_authority_app
from connector.errors import Conflict, NotFound, Unauthorized, ValidationFailure
from connector.identity import status_list as sl
from connector.identity import vc
from connector.issuer import KEY_FILE, STATE_FILE, Authority, default_status_list_url
from connector.issuer_cli import add_issuer_commands, parse_when

DID = "did:web:authority.example"
MEMBER = "did:web:member.example"
USCC = "91350100M000100Y43"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def authority(tmp_path):
    return Authority.init(tmp_path / "auth", DID)


def issue(authority: Authority, **kw) -> str:
    return authority.issue_membership(
        MEMBER,
        "Kashgar Cotton Co.",
        USCC,
        ["cluster10:cotton-textiles"],
        "jurisdiction:CN-XJ",
        "orgtype:data-merchant",
        now=T0,
        **kw,
    )


def test_init_writes_key_and_state(tmp_path, authority):
    folder = tmp_path / "auth"
    assert stat.S_IMODE((folder / KEY_FILE).stat().st_mode) == 0o600
    state = json.loads((folder / STATE_FILE).read_text())
    assert state["did"] == DID and state["issued"] == {} and state["revoked"] == []
    assert state["statusListUrl"] == "https://authority.example/status/1"
    again = Authority.open(folder)
    assert again.did == DID and again.kid == f"{DID}#key-1"
    assert again.key_lookup(DID, again.kid) is not None
    with pytest.raises(Conflict):
        Authority.init(folder, DID)
    with pytest.raises(ValidationFailure):
        Authority.init(tmp_path / "x", "did:key:z6Mk")
    with pytest.raises(NotFound):
        Authority.open(tmp_path / "nothing")


def test_status_list_url_follows_the_did():
    assert default_status_list_url("did:web:a.example:org:x") == "https://a.example/status/1"
    assert default_status_list_url("did:web:127.0.0.1%3A8383") == "http://127.0.0.1:8383/status/1"


def test_membership_verifies_with_the_authority_key(authority):
    token = issue(authority)
    credential = vc.verify_credential(token, authority.key_lookup, T0 + timedelta(days=1))
    assert credential.issuer == DID and credential.subject == MEMBER
    assert vc.MEMBERSHIP_TYPE in credential.types
    assert credential.claims["uscc"] == USCC
    assert credential.claims["legalName"] == "Kashgar Cotton Co."
    assert credential.valid_until == T0 + timedelta(days=365)
    entry = credential.status_entry
    assert entry is not None and entry["type"] == sl.ENTRY_TYPE
    assert entry["statusListCredential"] == authority.status_list_url
    assert entry["statusPurpose"] == "revocation"
    # the state on disk knows the credential and its index
    reopened = Authority.open(authority.folder)
    assert reopened.issued[credential.id] == int(entry["statusListIndex"])
    # another key does not verify it
    other = Authority.init(authority.folder.parent / "other", DID)
    with pytest.raises(Unauthorized):
        vc.verify_credential(token, other.key_lookup, T0)


def test_certification_has_its_validity(authority):
    end = T0 + timedelta(days=3 * 365)
    token = authority.issue_certification(
        MEMBER, "cert:export-security-assessment", end, reference="XJ-2025-001", now=T0
    )
    credential = vc.verify_credential(token, authority.key_lookup, T0)
    assert vc.CERTIFICATION_TYPE in credential.types
    assert credential.valid_until == end
    assert credential.claims["certification"].endswith("certification/export-security-assessment")
    assert credential.claims["reference"] == "XJ-2025-001"
    with pytest.raises(Unauthorized, match="expired"):
        vc.verify_credential(token, authority.key_lookup, end + timedelta(seconds=1))
    with pytest.raises(ValidationFailure):
        authority.issue_certification(MEMBER, "cert:x", T0 - timedelta(days=1), now=T0)


def test_indexes_are_distinct(authority):
    tokens = [issue(authority) for _ in range(20)]
    indexes = {
        vc.verify_credential(t, authority.key_lookup, T0).status_entry["statusListIndex"]
        for t in tokens
    }
    assert len(indexes) == 20


def test_revoke_unknown_is_not_found(authority):
    with pytest.raises(NotFound):
        authority.revoke("urn:uuid:00000000-0000-0000-0000-000000000000")


async def test_revocation_flips_the_served_list(authority):
    token = issue(authority)
    kept = issue(authority)
    credential = vc.verify_credential(token, authority.key_lookup, T0)
    other = vc.verify_credential(kept, authority.key_lookup, T0)
    path = urlsplit(authority.status_list_url).path
    async with TestClient(TestServer(build_authority_app(authority))) as client:

        async def fetch(url: str) -> str:
            assert url == authority.status_list_url
            resp = await client.get(path)
            assert resp.status == 200
            assert resp.headers["Content-Type"] == VC_JWT_MEDIA_TYPE
            return await resp.text()

        async def revoked(entry) -> bool:
            now = datetime.now(UTC)
            return await sl.check_status(
                entry,
                fetch,
                sl.StatusListCache(),
                now,
                key_lookup=authority.key_lookup,
                expected_issuer=DID,
            )

        assert not await revoked(credential.status_entry)
        # revoked through another handle on the folder, as the CLI does
        Authority.open(authority.folder).revoke(credential.id)
        Authority.open(authority.folder).revoke(credential.id)  # idempotent
        assert await revoked(credential.status_entry)
        assert not await revoked(other.status_entry)
        did_doc = await (await client.get("/.well-known/did.json")).json(content_type=None)
        assert did_doc["id"] == DID


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_issuer_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_init_issue_revoke(tmp_path, capsys):
    folder = str(tmp_path / "cli")
    assert run_cli(["issuer", "init", folder, "--did", DID]) == 0
    capsys.readouterr()
    argv = ["issuer", "issue-membership", folder, "--subject", MEMBER, "--legal-name", "A Co."]
    argv += ["--uscc", USCC, "--cluster", "cluster10:cotton-textiles", "--cluster", "cluster:x"]
    argv += ["--jurisdiction", "jurisdiction:CN-XJ", "--organisation-type", "orgtype:x"]
    assert run_cli(argv) == 0
    out, err = capsys.readouterr()
    authority = Authority.open(folder)
    credential = vc.verify_credential(out.strip(), authority.key_lookup, datetime.now(UTC))
    assert len(credential.claims["clusters"]) == 2
    assert err.strip() == f"issued {credential.id}"
    argv = ["issuer", "issue-certification", folder, "--subject", MEMBER]
    assert run_cli([*argv, "--kind", "cert:x", "--valid-until", "2099-06-30"]) == 0
    out, _ = capsys.readouterr()
    cert = vc.verify_credential(out.strip(), authority.key_lookup, datetime.now(UTC))
    assert cert.valid_until == datetime(2099, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert run_cli(["issuer", "revoke", folder, "--id", credential.id]) == 0
    assert Authority.open(folder).is_revoked(credential.id)
    assert not Authority.open(folder).is_revoked(cert.id)


def test_parse_when():
    assert parse_when("2030-01-02T03:04:05Z") == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    for bad in ("2030-01-02T03:04:05", "soon"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_when(bad)
