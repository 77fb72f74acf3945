"""Shared pieces of the benchmarks: a data space of real node processes, a plain aiohttp
baseline server, percentiles and peak memory."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from connector.config import set_config_values
from connector.dataspace import (
    init_dataspace,
    start_authority_process,
    start_node_process,
    wait_healthy,
)
from connector.setup_node import free_ports

BASELINE_SERVER = textwrap.dedent(
    """
    import sys
    from aiohttp import web

    async def echo(request):
        return web.json_response(await request.json())

    async def file(request):
        return web.FileResponse(sys.argv[2], chunk_size=256 * 1024)

    app = web.Application()
    app.router.add_post("/echo", echo)
    app.router.add_get("/file", file)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
    """
)


class Baseline:
    """A plain aiohttp server in its own process: JSON echo and a file download."""

    def __init__(self, file: Path | None = None) -> None:
        self.port, self.url, self.proc = start_server_script(BASELINE_SERVER, str(file or ""))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def start_server_script(script: str, *args: str) -> tuple[int, str, subprocess.Popen]:
    """Run ``script`` (an HTTP server taking its port as the first argument, then ``args``) in
    its own process; returns ``(port, url, process)`` once it answers."""
    import time
    import urllib.error
    import urllib.request

    port = free_ports(1)[0]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-c", script, str(port), *args])
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/none", timeout=1)  # noqa: S310
        except urllib.error.HTTPError:
            return port, url, proc
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("the server process did not start")


class BenchDataspace:
    """Nodes (and, with DCP, the authority) as processes in a temporary folder."""

    def __init__(self, count: int = 2, identity: str = "dcp", settings: dict | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="karez-bench-"))
        self.description = init_dataspace(self.folder, count, identity=identity)
        for node in self.description["nodes"]:  # extra settings for every node
            if settings:
                set_config_values(self.folder / node["config"], **settings)
        self.nodes = self.description["nodes"]
        self.procs = []
        self.authority = None
        if "authority" in self.description:
            self.authority = start_authority_process(
                self.folder, self.description, self.folder / "authority" / "authority.log"
            )
            wait_healthy(self.description["authority"]["didDocumentUrl"], self.authority)
        for node in self.nodes:
            proc = start_node_process(
                self.folder / node["config"], self.folder / node["name"] / "node.log"
            )
            self.procs.append(proc)
        for node, proc in zip(self.nodes, self.procs, strict=True):
            wait_healthy(node["healthUrl"], proc)

    def peak_rss_mb(self) -> dict[str, float]:
        return {
            node["name"]: peak_rss_mb(proc.pid)
            for node, proc in zip(self.nodes, self.procs, strict=True)
        }

    def stop(self) -> None:
        procs = [*self.procs, *([self.authority] if self.authority else [])]
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p90": float("nan"), "p99": float("nan")}
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    return {"p50": q[49], "p90": q[89], "p99": q[98]}
