"""Fixtures that start real Karez nodes as processes on free loopback ports."""

from __future__ import annotations

import signal
import subprocess
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connector.client import ManagementClient
from connector.config import TrustedPeer, dump_settings
from connector.dataspace import init_dataspace, start_node_process, wait_healthy


@dataclass
class RunningNode:
    info: dict[str, Any]
    folder: Path
    config: Path
    proc: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

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
        wait_healthy(self.info["healthUrl"], self.proc)

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


class Dataspace:
    def __init__(
        self,
        folder: Path,
        count: int,
        names: list[str] | None = None,
        configure: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.folder = folder
        self.description = init_dataspace(folder, count, names)
        self.nodes = {
            n["name"]: RunningNode(n, folder / n["name"], folder / n["config"])
            for n in self.description["nodes"]
        }
        for name, values in (configure or {}).items():
            config = self.nodes[name].config
            with config.open("a", encoding="utf-8") as fh:
                fh.write("\n")
            text = config.read_text(encoding="utf-8")
            head, sep, tail = text.partition("\n[[trusted]]")
            extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in values.items())
            config.write_text(head.rstrip("\n") + "\n" + extra + sep + tail, encoding="utf-8")

    def set_claims(self, node: str, claims: dict[str, dict[str, Any]]) -> None:
        """Write profile claims about peers (by name) into ``node``'s participant list."""
        config = self.nodes[node].config
        data = tomllib.loads(config.read_text(encoding="utf-8"))
        trusted = [
            TrustedPeer(
                p["participant_id"],
                p["keys"],
                p.get("protocol_url"),
                p.get("name"),
                claims.get(p.get("name"), p.get("claims", {})),
            )
            for p in data.pop("trusted", [])
        ]
        config.write_text(dump_settings(data, trusted), encoding="utf-8")

    def __getitem__(self, name: str) -> RunningNode:
        return self.nodes[name]

    def start(self, *names: str) -> None:
        for name in names or list(self.nodes):
            self.nodes[name].start()

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()

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
    ) -> Dataspace:
        ds = Dataspace(tmp_path / f"ds{len(made)}", count, names, configure)
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
