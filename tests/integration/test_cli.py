"""The `karez` command as a new user runs it: init, dataspace init/up/token, demo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

KAREZ = [sys.executable, "-m", "connector"]


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*KAREZ, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_init_writes_a_working_configuration(tmp_path):
    result = run("init", "--dir", str(tmp_path / "node"), "--name", "acme")
    assert result.returncode == 0, result.stderr
    config = (tmp_path / "node" / "karez.toml").read_text()
    assert 'participant_id = "did:web:127.0.0.1%3A8282"' in config
    assert 'identity = "dcp"' in config
    key = tmp_path / "node" / "keys" / "node.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    again = run("init", "--dir", str(tmp_path / "node"))
    assert again.returncode == 1 and "exists" in again.stderr
    keys_mode = run("init", "--dir", str(tmp_path / "k"), "--name", "acme", "--identity", "keys")
    assert keys_mode.returncode == 0, keys_mode.stderr
    assert (
        'participant_id = "urn:karez:participant:acme"' in (tmp_path / "k/karez.toml").read_text()
    )


def test_keys_rotate_keeps_the_old_key_listed(tmp_path):
    from connector.config import load_settings
    from connector.identity.keyring import KeyRing

    anchor = "did:web:127.0.0.1%3A9999"
    assert run("init", "--dir", str(tmp_path), "--trust-anchor", anchor).returncode == 0
    settings = load_settings(tmp_path / "karez.toml")
    assert [a.issuer for a in settings.trust_anchors] == [anchor]
    did = settings.participant_id
    before = KeyRing.load(tmp_path / "keys/node.pem")
    rotated = run("keys", "rotate", "--config", str(tmp_path / "karez.toml"), "--alg", "ES256")
    assert rotated.returncode == 0, rotated.stderr
    after = KeyRing.load(tmp_path / "keys/node.pem")
    assert after.kid(did) != before.kid(did)
    document = after.did_document(did).to_json()
    listed = [m["id"] for m in document["verificationMethod"]]
    assert listed == [before.kid(did), after.kid(did)]
    assert document["verificationMethod"][1]["publicKeyJwk"]["crv"] == "P-256"


def test_dataspace_up_and_token(tmp_path):
    folder = tmp_path / "ds"
    assert run("dataspace", "init", str(folder), "--nodes", "3").returncode == 0
    desc = json.loads((folder / "dataspace.json").read_text())
    assert [n["name"] for n in desc["nodes"]] == ["node1", "node2", "node3"]
    for node in desc["nodes"]:
        assert set(node) >= {
            "name",
            "participantId",
            "managementUrl",
            "apiKey",
            "protocolUrl",
            "publicUrl",
            "healthUrl",
        }
    proc = subprocess.Popen(
        [*KAREZ, "dataspace", "up", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "data space running" in line:
                break
        else:
            raise AssertionError("".join(lines))
        token = run("dataspace", "token", str(folder), "--from", "node2", "--to", "node1")
        assert token.returncode == 0, token.stderr
        body = json.dumps(
            {
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
                "@type": "CatalogRequestMessage",
            }
        ).encode()
        req = urllib.request.Request(
            desc["nodes"][0]["protocolUrl"] + "/catalog/request",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": token.stdout.strip()},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - loopback
            catalog = json.loads(resp.read())
        assert catalog["@type"] == "Catalog"
        assert catalog["participantId"] == desc["nodes"][0]["participantId"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert out.count("stopped") == 4  # the authority and three nodes
    for node in desc["nodes"]:
        assert "stopping karez node" in (folder / node["name"] / "node.log").read_text()


def test_demo_ends_with_matching_sha256():
    result = run("demo", timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MATCH" in result.stdout
    source = next(line for line in result.stdout.splitlines() if "sha256 source" in line)
    received = next(line for line in result.stdout.splitlines() if "sha256 received" in line)
    assert source.split()[-1] == received.split()[-1]


def test_run_init_starts_a_node(tmp_path):
    config = tmp_path / "karez.toml"
    from connector.setup_node import free_ports

    ports = free_ports(4)
    env = dict(
        os.environ,
        KAREZ_MANAGEMENT_PORT=str(ports[0]),
        KAREZ_PROTOCOL_PORT=str(ports[1]),
        KAREZ_PUBLIC_PORT=str(ports[2]),
        KAREZ_OBSERVABILITY_PORT=str(ports[3]),
    )
    proc = subprocess.Popen(
        [*KAREZ, "run", "--init", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        text = ""
        while time.monotonic() < deadline and "up:" not in text:
            text += proc.stdout.readline()
        assert "karez node" in text and config.exists(), text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0
