"""A separate data plane process (``karez dataplane run``): the public API consumers pull from
and the signaling API control planes call. It keeps no transfer state: the control plane that
signed a token decides, for each download and while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import aiohttp
from aiohttp import web

from connector.api.public import build_public_app
from connector.api.signaling import build_signaling_app
from connector.dataplane.access_watch import AccessWatch
from connector.dataplane.jobs import PushJobs, PushSpec
from connector.dataplane.remote import RemoteData
from connector.dataplane.remote_push import RemotePushControl
from connector.dataplane.tokens import IssuerTokens
from connector.dataplane_config import DataPlaneSettings
from connector.tls import client_context, server_context

log = logging.getLogger(__name__)


class DataPlaneNode:
    def __init__(self, settings: DataPlaneSettings) -> None:
        self.settings = settings
        self._runners: list[web.AppRunner] = []

    async def start(self) -> None:
        st = self.settings
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, ssl=client_context(st)),  # type: ignore[arg-type]
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60),
        )
        planes = {p.id: p for p in st.control_planes}
        self.watch = AccessWatch()
        public = web.Application()
        public.add_subapp(
            st.public_path,
            build_public_app(
                tokens=IssuerTokens(st.public_jwks),
                data=RemoteData(self.http, planes),
                http=self.http,
                watch=self.watch,
            ),
        )
        control = web.Application()

        async def health(request: web.Request) -> web.Response:
            return web.json_response({"status": "UP", "name": st.name})

        control.router.add_get("/check/health", health)
        self.pushes = RemotePushControl(self.http, planes)
        self.push_jobs = PushJobs(self.pushes, self.http, st.public_url, self.watch)

        def start_push(plane_id: str, transfer_id: str, body: dict) -> None:
            self.pushes.register(plane_id, PushSpec.from_json(transfer_id, body))
            self.push_jobs.start(transfer_id)

        control.add_subapp(
            "/signaling/v1",
            build_signaling_app(
                planes, self.watch, st.public_url, start_push, self.push_jobs.running
            ),
        )
        tls = server_context(st)  # type: ignore[arg-type]
        for app, port in ((public, st.public_port), (control, st.signaling_port)):
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            await web.TCPSite(runner, st.host, port, reuse_address=True, ssl_context=tls).start()
            self._runners.append(runner)
        log.info(
            "karez data plane %s up: public %s, signaling %s, serving %s",
            st.name,
            st.public_url,
            st.signaling_url,
            ", ".join(sorted(planes)),
        )

    async def stop(self) -> None:
        await self.push_jobs.close()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        await self.http.close()


async def run_dataplane(settings: DataPlaneSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    node = DataPlaneNode(settings)
    await node.start()
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await node.stop()
