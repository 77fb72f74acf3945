"""A local data space: N nodes that trust each other, described in ``dataspace.json``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from connector.config import load_settings
from connector.identity.keys import load_private_key
from connector.identity.tokens import ProtocolTokenSigner
from connector.setup_node import free_ports, plan_node, write_config

DESCRIPTION = "dataspace.json"


def default_names(count: int) -> list[str]:
    if count == 2:
        return ["provider", "consumer"]
    return [f"node{i + 1}" for i in range(count)]


def init_dataspace(folder: Path, count: int, names: list[str] | None = None) -> dict[str, Any]:
    """Write ``count`` node configurations and ``dataspace.json``; return the description."""
    if count < 1:
        raise ValueError("a data space needs at least one node")
    names = names or default_names(count)
    if len(names) != count or len(set(names)) != count:
        raise ValueError("give one distinct name per node")
    folder.mkdir(parents=True, exist_ok=True)
    ports = free_ports(4 * count)
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
            )
        )
    for plan in plans:
        write_config(plan, [other.as_peer() for other in plans if other is not plan])
    description = {
        "description": "A local Karez data space (written by `karez dataspace init`).",
        "nodes": [
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
        ],
    }
    path = folder / DESCRIPTION
    path.write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return description


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
    """An ``Authorization`` value that ``receiver`` accepts as a request from ``sender``."""
    description = load_description(folder)
    src = node_entry(description, sender)
    dst = node_entry(description, receiver)
    settings = load_settings(folder / src["config"], env={})
    key = load_private_key(settings.resolve(settings.key_file))
    return ProtocolTokenSigner(settings.participant_id, key).sign(dst["participantId"], ttl_s)


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
    url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"node exited with code {proc.returncode} before it was healthy")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=1) as resp,  # noqa: S310 - loopback
        ):
            if resp.status == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not become healthy in {timeout} s")


def up(folder: Path, out=print) -> None:  # noqa: ANN001
    """Run every node of the data space until SIGINT/SIGTERM, then stop them cleanly."""
    description = load_description(folder)
    procs = []
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
            wait_healthy(node["healthUrl"], proc)
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
