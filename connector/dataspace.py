"""A local data space: N nodes that trust each other, described in ``dataspace.json``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from connector.config import TrustAnchor, load_settings
from connector.identity.jose import decode_unverified
from connector.identity.keyring import KeyRing
from connector.identity.tokens import ProtocolTokenSigner
from connector.identity.vc import complete_uscc
from connector.identity.verifier import caller_token
from connector.identity.wallet import type_scope
from connector.issuer import STATUS_PATH, Authority, did_document_url
from connector.setup_node import AUTHORITY_TYPES, did_for, free_ports, plan_node, write_config
from connector.tls import write_self_signed

DESCRIPTION = "dataspace.json"
AUTHORITY_FOLDER = "authority"


def default_names(count: int) -> list[str]:
    if count == 2:
        return ["provider", "consumer"]
    return [f"node{i + 1}" for i in range(count)]


#: Membership claims of the nodes of a local data space, unless given per node.
DEFAULT_MEMBERSHIP = {
    "clusters": [],
    "jurisdiction": "jurisdiction:CN-XJ",
    "organisation_type": "orgtype:data-merchant",
}


def demo_uscc(index: int) -> str:
    """A well-formed credit code (valid check character) for the ``index``-th local node."""
    return complete_uscc(f"91650100MA7{index:06d}")


def init_dataspace(
    folder: Path,
    count: int,
    names: list[str] | None = None,
    *,
    identity: str = "dcp",
    tls: bool = False,
) -> dict[str, Any]:
    """Write ``count`` node configurations and ``dataspace.json``; return the description.

    With ``identity = "dcp"`` (the default) the folder also holds a data-space authority
    (``authority/``) that issued each node a membership credential, and the nodes trust it.
    With ``tls``, a private CA (``tls/``) certifies ``localhost``; every node serves HTTPS as
    ``localhost``, the authority too, and every DID resolves over HTTPS.
    """
    if count < 1:
        raise ValueError("a data space needs at least one node")
    if identity not in ("dcp", "keys"):
        raise ValueError("identity must be 'dcp' or 'keys'")
    names = names or default_names(count)
    if len(names) != count or len(set(names)) != count:
        raise ValueError("give one distinct name per node")
    if "authority" in names:
        raise ValueError("'authority' is the authority's folder; choose another node name")
    folder.mkdir(parents=True, exist_ok=True)
    ports = free_ports(4 * count + 1)
    extra: dict[str, Any] = {}
    if tls:
        cert, key, ca = write_self_signed(folder / "tls", ("localhost", "127.0.0.1"))
        extra = {
            "tls_cert_file": str(cert.resolve()),
            "tls_key_file": str(key.resolve()),
            "tls_ca_file": str(ca.resolve()),
            "did_http_hosts": [],  # every DID, the authority's too, resolves over HTTPS
        }
    plans = []
    for i, name in enumerate(names):
        p = ports[4 * i : 4 * i + 4]
        plans.append(
            plan_node(
                folder / name,
                name,
                {
                    "management_port": p[0],
                    "protocol_port": p[1],
                    "public_port": p[2],
                    "observability_port": p[3],
                },
                identity=identity,
                host="localhost" if tls else "127.0.0.1",
                scheme="https" if tls else "http",
            )
        )
    description: dict[str, Any] = {
        "description": "A local Karez data space (written by `karez dataspace init`).",
        "identity": identity,
    }
    if tls:
        description["tls"] = {"caFile": extra["tls_ca_file"]}
    anchors = []
    if identity == "dcp":
        port = ports[-1]
        host = "localhost" if tls else "127.0.0.1"
        did = did_for(host, port)
        origin = f"https://{host}:{port}" if tls else None
        authority = Authority.init(
            folder / AUTHORITY_FOLDER,
            did,
            status_list_url=f"{origin}{STATUS_PATH}" if origin else None,
        )
        anchors = [TrustAnchor(authority.did, list(AUTHORITY_TYPES))]
        description["authority"] = {
            "did": authority.did,
            "folder": AUTHORITY_FOLDER,
            "host": host,
            "port": port,
            "didDocumentUrl": f"{origin}/.well-known/did.json"
            if origin
            else did_document_url(authority.did),
            "statusListUrl": authority.status_list_url,
        }
        if tls:
            description["authority"]["tls"] = {
                "cert": extra["tls_cert_file"],
                "key": extra["tls_key_file"],
            }
        for i, plan in enumerate(plans):
            issue_membership(folder, plan.participant_id, plan.credentials_folder, i, plan.name)
    for plan in plans:
        peers = [other.as_peer() for other in plans if other is not plan]
        write_config(plan, peers, anchors, **extra)
    description["nodes"] = [
        {
            "name": plan.name,
            "participantId": plan.participant_id,
            "managementUrl": plan.management_url,
            "apiKey": plan.api_key,
            "protocolUrl": plan.protocol_url,
            "publicUrl": plan.public_url,
            "healthUrl": plan.health_url,
            "config": str(plan.config_file.relative_to(folder)),
        }
        for plan in plans
    ]
    path = folder / DESCRIPTION
    path.write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return description


def issue_membership(
    folder: Path,
    participant_id: str,
    credentials: Path,
    index: int,
    name: str,
    *,
    clusters: list[str] | None = None,
    jurisdiction: str | None = None,
    organisation_type: str | None = None,
    valid_until: datetime | None = None,
    valid_from: datetime | None = None,
) -> str:
    """Have the data space's authority issue a membership credential into ``credentials``
    (``membership.jwt``, replacing an earlier one); returns the credential's id."""
    authority = Authority.open(folder / AUTHORITY_FOLDER)
    token = authority.issue_membership(
        participant_id,
        f"{name} (local data space member)",
        demo_uscc(index),
        DEFAULT_MEMBERSHIP["clusters"] if clusters is None else clusters,
        jurisdiction or str(DEFAULT_MEMBERSHIP["jurisdiction"]),
        organisation_type or str(DEFAULT_MEMBERSHIP["organisation_type"]),
        valid_until=valid_until,
        now=valid_from,
    )
    return _store_credential(credentials, "membership", token)


def issue_certification(
    folder: Path, participant_id: str, credentials: Path, kind: str, valid_until: datetime
) -> str:
    """Have the authority issue a certification (``kind`` e.g.
    ``cert:export-security-assessment``) into ``credentials``; returns its id."""
    authority = Authority.open(folder / AUTHORITY_FOLDER)
    token = authority.issue_certification(participant_id, kind, valid_until)
    slug = kind.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return _store_credential(credentials, f"certification-{slug}", token)


def _store_credential(credentials: Path, stem: str, token: str) -> str:
    credentials.mkdir(parents=True, exist_ok=True)
    target = credentials / f"{stem}.jwt"
    target.write_text(token + "\n", encoding="ascii")
    target.chmod(0o600)
    return decode_unverified(token)[1]["id"]


def ca_file(description: dict[str, Any]) -> str | None:
    """The private CA a TLS data space's nodes are certified by (None without TLS)."""
    return description.get("tls", {}).get("caFile")


def load_description(folder: Path) -> dict[str, Any]:
    path = folder / DESCRIPTION
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `karez dataspace init {folder}` first")
    return json.loads(path.read_text(encoding="utf-8"))


def node_entry(description: dict[str, Any], name: str) -> dict[str, Any]:
    for node in description["nodes"]:
        if name in (node["name"], node["participantId"]):
            return node
    known = ", ".join(n["name"] for n in description["nodes"])
    raise KeyError(f"no node {name!r} in the data space (nodes: {known})")


def protocol_token(folder: Path, sender: str, receiver: str, ttl_s: int = 300) -> str:
    """An ``Authorization`` value that ``receiver`` accepts as a request from ``sender``.

    With DCP, a self-issued ID token of ``sender`` whose access token lets ``receiver`` query
    ``sender``'s credential service (so ``sender`` must be running when it is used).
    """
    description = load_description(folder)
    src = node_entry(description, sender)
    dst = node_entry(description, receiver)
    settings = load_settings(folder / src["config"], env={})
    ring = KeyRing.load(settings.resolve(settings.key_file))
    audience = dst["participantId"]
    if settings.identity == "keys":
        return ProtocolTokenSigner(settings.participant_id, ring.current).sign(audience, ttl_s)
    scopes = [
        type_scope(t) for t in [*settings.required_credentials, *settings.optional_credentials]
    ]
    did = settings.participant_id
    return caller_token(ring.current, did, ring.kid(did), audience, scopes, ttl_s=min(ttl_s, 300))


def start_node_process(config: Path, log_file: Path | None = None) -> subprocess.Popen[bytes]:
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return subprocess.Popen(
        [sys.executable, "-m", "connector", "run", "--config", str(config)],
        stdout=out,
        stderr=subprocess.STDOUT if log_file else None,
        env=env,
    )


def wait_healthy(
    url: str,
    proc: subprocess.Popen[bytes] | None = None,
    timeout: float = 30,
    ca_file: str | None = None,
) -> None:
    context = ssl.create_default_context(cafile=ca_file) if url.startswith("https:") else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"node exited with code {proc.returncode} before it was healthy")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=1, context=context) as resp,  # noqa: S310
        ):
            if resp.status == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not become healthy in {timeout} s")


def start_authority_process(
    folder: Path, description: dict[str, Any], log_file: Path | None = None
) -> subprocess.Popen[bytes]:
    """``karez issuer serve`` for the data space's authority."""
    authority = description["authority"]
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connector",
            "issuer",
            "serve",
            str(folder / authority["folder"]),
            "--host",
            authority["host"],
            "--port",
            str(authority["port"]),
            *(
                ["--tls-cert", authority["tls"]["cert"], "--tls-key", authority["tls"]["key"]]
                if "tls" in authority
                else []
            ),
        ],  # fmt: skip
        stdout=out,
        stderr=subprocess.STDOUT if log_file else None,
    )


def up(folder: Path, out=print) -> None:  # noqa: ANN001
    """Run the authority and every node of the data space until SIGINT/SIGTERM, then stop
    them cleanly."""
    description = load_description(folder)
    procs = []
    if "authority" in description:
        authority = description["authority"]
        log_file = folder / authority["folder"] / "authority.log"
        proc = start_authority_process(folder, description, log_file)
        wait_healthy(authority["didDocumentUrl"], proc, ca_file=ca_file(description))
        out(f"{'authority':<10} up  {authority['did']}  (log: {log_file})")
        procs.append(({"name": "authority"}, proc))
    for node in description["nodes"]:
        log_file = folder / node["name"] / "node.log"
        procs.append((node, start_node_process(folder / node["config"], log_file)))
    stopping = {"flag": False}

    def stop(*_: object) -> None:
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for node, proc in procs:
            if "healthUrl" not in node:
                continue
            wait_healthy(node["healthUrl"], proc, ca_file=ca_file(description))
            out(
                f"{node['name']:<10} up  management {node['managementUrl']}  "
                f"protocol {node['protocolUrl']}  (log: {folder / node['name'] / 'node.log'})"
            )
        out("data space running; Ctrl-C stops it")
        while not stopping["flag"]:
            if any(p.poll() is not None for _, p in procs):
                out("a node exited; stopping the data space")
                break
            time.sleep(0.2)
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for node, proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            out(f"{node['name']:<10} stopped")
