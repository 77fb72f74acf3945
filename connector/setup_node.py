"""Writing node configurations: ``karez init`` and the nodes of ``karez dataspace init``."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.config import (
    DEFAULT_CONFIG_NAME,
    TrustAnchor,
    TrustedPeer,
    dump_settings,
    new_api_key,
)
from connector.identity.keys import EDDSA, generate_key, public_jwk, save_private_key
from connector.identity.vc import CERTIFICATION_TYPE, MEMBERSHIP_TYPE

KEY_FILE = "keys/node.pem"
CREDENTIALS_DIR = "credentials"
#: What a data-space authority is trusted to issue, by default.
AUTHORITY_TYPES = [MEMBERSHIP_TYPE, CERTIFICATION_TYPE]
DEFAULT_PORTS = {
    "management_port": 8181,
    "protocol_port": 8282,
    "public_port": 8185,
    "observability_port": 8080,
}


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports free right now (bound and released together, so they are distinct)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class NodePlan:
    name: str
    folder: Path
    participant_id: str
    api_key: str
    ports: dict[str, int]
    public_jwk: dict[str, Any]
    host: str = "127.0.0.1"  # the host name peers use (and the DID's host)
    identity: str = "dcp"
    scheme: str = "http"  # "https" when the node serves TLS
    bind_host: str = "127.0.0.1"

    @property
    def protocol_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.ports['protocol_port']}/protocol"

    @property
    def management_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.ports['management_port']}/management"

    @property
    def public_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.ports['public_port']}/public"

    @property
    def health_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.ports['observability_port']}/check/health"

    @property
    def config_file(self) -> Path:
        return self.folder / DEFAULT_CONFIG_NAME

    @property
    def credentials_folder(self) -> Path:
        return self.folder / CREDENTIALS_DIR

    def as_peer(self) -> TrustedPeer:
        """How other nodes list this one: in DCP mode its DID, name and address only (keys
        and claims come from its DID document and credentials)."""
        keys = [self.public_jwk] if self.identity == "keys" else []
        return TrustedPeer(self.participant_id, keys, self.protocol_url, self.name)


def participant_id_for(name: str) -> str:
    """A participant id for ``identity = "keys"`` nodes."""
    return f"urn:karez:participant:{name}"


def did_for(host: str, port: int, path: str = "") -> str:
    """The did:web DID whose document a node serves on its protocol port."""
    segments = [s for s in path.split("/") if s]
    return ":".join([f"did:web:{host}%3A{port}", *segments])


def plan_node(
    folder: Path,
    name: str,
    ports: dict[str, int] | None = None,
    participant_id: str | None = None,
    *,
    identity: str = "dcp",
    alg: str = EDDSA,
    host: str = "127.0.0.1",
    scheme: str = "http",
) -> NodePlan:
    """Create the folder and the node's key; ports default to the standard ones."""
    folder.mkdir(parents=True, exist_ok=True)
    key = generate_key(alg)
    (folder / KEY_FILE).parent.mkdir(parents=True, exist_ok=True)
    save_private_key(key, folder / KEY_FILE)
    ports = ports or dict(DEFAULT_PORTS)
    if participant_id is None:
        participant_id = (
            did_for(host, ports["protocol_port"]) if identity == "dcp" else participant_id_for(name)
        )
    return NodePlan(
        name=name,
        folder=folder,
        participant_id=participant_id,
        api_key=new_api_key(),
        ports=ports,
        public_jwk=public_jwk(key),
        host=host,
        identity=identity,
        scheme=scheme,
    )


def write_config(
    plan: NodePlan,
    trusted: list[TrustedPeer],
    anchors: list[TrustAnchor] | None = None,
    **extra: Any,
) -> Path:
    values: dict[str, Any] = {
        "name": plan.name,
        "participant_id": plan.participant_id,
        "identity": plan.identity,
        "api_key": plan.api_key,
        "host": plan.bind_host,
        "public_host": plan.host,
        **plan.ports,
        "data_dir": "data",
        "key_file": KEY_FILE,
        "credentials_dir": CREDENTIALS_DIR,
        **extra,
    }
    text = dump_settings(values, trusted, anchors)
    plan.config_file.write_text(text, encoding="utf-8")
    plan.config_file.chmod(0o600)
    return plan.config_file
