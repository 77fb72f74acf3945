"""Writing node configurations: ``karez init`` and the nodes of ``karez dataspace init``."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.config import DEFAULT_CONFIG_NAME, TrustedPeer, dump_settings, new_api_key
from connector.identity.keys import generate_key, public_jwk, save_private_key

KEY_FILE = "keys/node.pem"


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
    host: str = "127.0.0.1"

    @property
    def protocol_url(self) -> str:
        return f"http://{self.host}:{self.ports['protocol_port']}/protocol"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.ports['management_port']}/management"

    @property
    def public_url(self) -> str:
        return f"http://{self.host}:{self.ports['public_port']}/public"

    @property
    def health_url(self) -> str:
        return f"http://{self.host}:{self.ports['observability_port']}/check/health"

    @property
    def config_file(self) -> Path:
        return self.folder / DEFAULT_CONFIG_NAME

    def as_peer(self) -> TrustedPeer:
        return TrustedPeer(self.participant_id, [self.public_jwk], self.protocol_url, self.name)


def participant_id_for(name: str) -> str:
    return f"urn:karez:participant:{name}"


def plan_node(
    folder: Path, name: str, ports: dict[str, int] | None = None, participant_id: str | None = None
) -> NodePlan:
    """Create the folder and the node's key; ports default to the standard ones."""
    folder.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    (folder / KEY_FILE).parent.mkdir(parents=True, exist_ok=True)
    save_private_key(key, folder / KEY_FILE)
    return NodePlan(
        name=name,
        folder=folder,
        participant_id=participant_id or participant_id_for(name),
        api_key=new_api_key(),
        ports=ports
        or {
            "management_port": 8181,
            "protocol_port": 8282,
            "public_port": 8185,
            "observability_port": 8080,
        },
        public_jwk=public_jwk(key),
    )


def write_config(plan: NodePlan, trusted: list[TrustedPeer], **extra: Any) -> Path:
    values: dict[str, Any] = {
        "name": plan.name,
        "participant_id": plan.participant_id,
        "api_key": plan.api_key,
        "host": plan.host,
        "public_host": plan.host,
        **plan.ports,
        "data_dir": "data",
        "key_file": KEY_FILE,
        **extra,
    }
    plan.config_file.write_text(dump_settings(values, trusted), encoding="utf-8")
    plan.config_file.chmod(0o600)
    return plan.config_file
