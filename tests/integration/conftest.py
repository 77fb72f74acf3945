"""Fixtures that start real Karez nodes as processes on free loopback ports."""

from __future__ import annotations

import signal
import subprocess
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connector.client import ManagementClient
from connector.config import dump_settings, pop_tables
from connector.dataspace import (
    ca_file,
    init_dataspace,
    issue_certification,
    issue_membership,
    start_authority_process,
    start_node_process,
    wait_healthy,
)
from connector.issuer import Authority


@dataclass
class RunningNode:
    info: dict[str, Any]
    folder: Path
    config: Path
    proc: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    ca_file: str | None = None  # a TLS data space's private CA

    @property
    def name(self) -> str:
        return self.info["name"]

    @property
    def id(self) -> str:
        return self.info["participantId"]

    @property
    def protocol_url(self) -> str:
        return self.info["protocolUrl"]

    @property
    def log(self) -> Path:
        return self.folder / "node.log"

    def start(self) -> None:
        self.proc = start_node_process(self.config, self.log)
        wait_healthy(self.info["healthUrl"], self.proc, ca_file=self.ca_file)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as a crash."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


#: Claims that come from credentials in DCP mode (the rest stay configured claims).
MEMBERSHIP_CLAIMS = ("clusters", "jurisdiction", "organisationType")


class Dataspace:
    def __init__(
        self,
        folder: Path,
        count: int,
        names: list[str] | None = None,
        configure: dict[str, dict[str, Any]] | None = None,
        identity: str = "dcp",
        tls: bool = False,
    ) -> None:
        self.folder = folder
        self.description = init_dataspace(folder, count, names, identity=identity, tls=tls)
        self.identity = identity
        self.ca_file = ca_file(self.description)
        self.authority_proc: subprocess.Popen[bytes] | None = None
        self.nodes = {
            n["name"]: RunningNode(
                n, folder / n["name"], folder / n["config"], ca_file=self.ca_file
            )
            for n in self.description["nodes"]
        }
        for name, values in (configure or {}).items():
            self.configure(name, values)

    def configure(self, name: str, values: dict[str, Any]) -> None:
        """Set top-level fields of ``name``'s karez.toml (before its tables)."""
        config = self.nodes[name].config
        text = config.read_text(encoding="utf-8")
        head, sep, tail = text.partition("\n[[")
        extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in values.items())
        config.write_text(head.rstrip("\n") + "\n" + extra + sep + tail, encoding="utf-8")

    @property
    def authority(self) -> Authority:
        return Authority.open(self.folder / self.description["authority"]["folder"])

    def issue_membership(self, name: str, **claims: Any) -> str:
        """A fresh membership credential for node ``name`` (replacing its earlier one)."""
        node = self.nodes[name]
        index = list(self.nodes).index(name)
        return issue_membership(
            self.folder, node.id, node.folder / "credentials", index, name, **claims
        )

    def issue_certification(self, name: str, kind: str, valid_until: datetime) -> str:
        node = self.nodes[name]
        return issue_certification(
            self.folder, node.id, node.folder / "credentials", kind, valid_until
        )

    def set_claims(self, node: str, claims: dict[str, dict[str, Any]]) -> None:
        """Give peers (by name) profile claims as ``node`` sees them.

        With DCP, membership claims (clusters, jurisdiction, organisation type) and
        certifications are issued to each peer as credentials by the authority; other claims
        (declared purposes) are written into ``node``'s participant list.
        """
        config = self.nodes[node].config
        data = tomllib.loads(config.read_text(encoding="utf-8"))
        trusted, anchors = pop_tables(data)
        if self.identity == "dcp":
            for name, wanted in claims.items():
                self._issue_claims(name, wanted)
            claims = {
                name: {
                    k: v
                    for k, v in wanted.items()
                    if k not in (*MEMBERSHIP_CLAIMS, "certifications")
                }
                for name, wanted in claims.items()
            }
        for peer in trusted:
            peer.claims = claims.get(peer.name or "", peer.claims)
        config.write_text(dump_settings(data, trusted, anchors), encoding="utf-8")

    def _issue_claims(self, name: str, wanted: dict[str, Any]) -> None:
        if any(k in wanted for k in MEMBERSHIP_CLAIMS):
            self.issue_membership(
                name,
                clusters=list(wanted.get("clusters", [])),
                jurisdiction=wanted.get("jurisdiction"),
                organisation_type=wanted.get("organisationType"),
            )
        folder = self.nodes[name].folder / "credentials"
        for old in folder.glob("certification-*.jwt"):
            old.unlink()
        for kind in wanted.get("certifications", []):
            self.issue_certification(name, kind, datetime.now(UTC) + timedelta(days=365))

    def __getitem__(self, name: str) -> RunningNode:
        return self.nodes[name]

    def start_authority(self) -> None:
        if "authority" not in self.description or self.authority_proc is not None:
            return
        log = self.folder / "authority" / "authority.log"
        self.authority_proc = start_authority_process(self.folder, self.description, log)
        wait_healthy(
            self.description["authority"]["didDocumentUrl"],
            self.authority_proc,
            ca_file=self.ca_file,
        )

    def start(self, *names: str) -> None:
        try:
            self.start_authority()
            for name in names or list(self.nodes):
                self.nodes[name].start()
        except BaseException:
            self.stop()  # a fixture that fails here never reaches its teardown
            raise

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
        if self.authority_proc is not None:
            self.authority_proc.terminate()
            try:
                self.authority_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.authority_proc.kill()
            self.authority_proc = None

    def client(self, session: aiohttp.ClientSession, name: str) -> ManagementClient:
        info = self.nodes[name].info
        return ManagementClient(session, info["managementUrl"], info["apiKey"])


@pytest.fixture
def dataspace_factory(tmp_path: Path) -> Iterator[Any]:
    made: list[Dataspace] = []

    def make(
        count: int = 2,
        names: list[str] | None = None,
        start: bool = True,
        configure: dict[str, dict[str, Any]] | None = None,
        identity: str = "dcp",
        tls: bool = False,
    ) -> Dataspace:
        ds = Dataspace(tmp_path / f"ds{len(made)}", count, names, configure, identity, tls)
        made.append(ds)
        if start:
            ds.start()
        return ds

    yield make
    for ds in made:
        ds.stop()


@pytest.fixture(scope="module")
def shared_dataspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dataspace]:
    """One provider and one consumer, shared by the tests of a module."""
    ds = Dataspace(tmp_path_factory.mktemp("ds"), 2)
    ds.start()
    yield ds
    ds.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
