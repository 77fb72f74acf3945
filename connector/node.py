"""One Karez node: wires the store, identity, services and the four HTTP apps together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from typing import Any

import aiohttp
from aiohttp import web

from connector.api.control import build_control_app
from connector.api.dsp import build_dsp_app, build_protocol_root
from connector.api.inbox import build_inbox_routes
from connector.api.management import build_management_root
from connector.api.management.auth import ManagementAuth
from connector.api.observability import build_observability_app
from connector.api.public import LocalData, build_public_app, build_refresh_route
from connector.config import Settings
from connector.controlplane.asset_validation import AssetValidator
from connector.controlplane.catalog import CatalogService
from connector.controlplane.dataplane_client import DataPlaneClient
from connector.controlplane.decisions import PolicyDecider
from connector.controlplane.definitions import DefinitionService
from connector.controlplane.edr_refresh import EdrRefresher
from connector.controlplane.negotiations import NegotiationManager
from connector.controlplane.outbox import DispatchingStore, OutboxWorker
from connector.controlplane.peer_client import PeerClient
from connector.controlplane.retirements import RetirementService
from connector.controlplane.transfers import SUPPORTED_TYPES, DataAccess, TransferManager
from connector.dataplane.access_watch import AccessWatch
from connector.dataplane.address import text
from connector.dataplane.files import FILE_TYPE
from connector.dataplane.http_request import HTTP_DATA_TYPE
from connector.dataplane.jobs import PushJobs
from connector.dataplane.tokens import AccessTokenService
from connector.domain import Asset, Json, Secret, TransferProcess
from connector.errors import ValidationFailure
from connector.fetch_jobs import FetchJobs
from connector.identity.keys import public_jwk
from connector.jsonld.processor import configure as configure_contexts
from connector.node_identity import CREDENTIAL_SERVICE_PATH, build_identity
from connector.protocol import messages as m
from connector.push_jobs import LocalPushControl
from connector.store import open_store
from connector.tls import client_context, server_context

log = logging.getLogger(__name__)

HTTP_ENDPOINT_TYPE = "https://w3id.org/idsa/v4.1/HTTP"
#: How long a provider may take to push into this node's inbox after the request.
INBOX_TOKEN_TTL_S = 7 * 24 * 3600
TX_AUTH = "https://w3id.org/tractusx/auth/"


def _norm(url: str) -> str:
    return url.rstrip("/")


class Node:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runners: list[web.AppRunner] = []
        self._worker_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._resignal: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ wiring
    async def start(self) -> None:
        st = self.settings
        st.data_path.mkdir(parents=True, exist_ok=True)
        configure_contexts(st.extra_contexts)  # operator-mapped JSON-LD contexts, never fetched
        self.store = DispatchingStore(open_store(st.effective_store_url))
        await self.store.open()
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=st.peer_timeout_s, sock_read=st.peer_timeout_s * 6
            ),
            connector=aiohttp.TCPConnector(limit=256, ssl=client_context(st)),
        )
        self.identity = build_identity(st, self.http, self.store)
        await self.identity.start()
        key = self.identity.keyring.current
        self.public_jwk = public_jwk(key)
        self.tokens = AccessTokenService(key, self.public_jwk, st.participant_id)
        self.peers = PeerClient(self.http, self.identity.auth)
        decider = PolicyDecider(self.identity.claims)
        validator = AssetValidator(st.asset_validation)
        self.entities = DefinitionService(self.store, {Asset: validator.check})
        self.catalog = CatalogService(self.store, decider, st.participant_id, st.protocol_url)
        self.watch = AccessWatch()
        self.remote_dataplane = (
            DataPlaneClient(self.http, st.dataplane_url, st.dataplane_key)
            if st.dataplane_url
            else None
        )
        self.transfers = TransferManager(
            self.store,
            decider,
            st.participant_id,
            st.protocol_url,
            self._issue_data_address,
            default_approval=st.approval,
            on_access_ended=self._access_ended,
            push_destination=self._push_destination,
            on_push_ready=self._push_ready,
        )
        self.push_control = LocalPushControl(self.store, self.transfers, self.tokens)
        self.push_jobs = PushJobs(self.push_control, self.http, st.public_url, self.watch)
        self.retirements = RetirementService(self.store, self.transfers, self.watch.stop_agreement)
        self.negotiations = NegotiationManager(
            self.store,
            decider,
            st.participant_id,
            st.protocol_url,
            default_approval=st.approval,
            on_finalized=self.transfers.pull_after_finalized,
        )
        self.worker = OutboxWorker(
            self.store,
            self.peers,
            self.http,
            {"negotiation": self.negotiations, "transfer": self.transfers},
            max_attempts=st.outbox_max_attempts,
            base_delay_ms=st.outbox_base_delay_ms,
            max_delay_ms=st.outbox_max_delay_ms,
            secrets=self.secret,
            # stable across restarts of this node, so it takes back its own leases at start
            owner=f"{socket.gethostname()}:{st.data_path.resolve()}",
        )
        self.store.worker = self.worker
        self.access = DataAccess(self.store, decider)
        self.refresher = EdrRefresher(self.store, self.peers)
        self.fetch_jobs = FetchJobs(
            self.store, self.transfers, self.http, self.refresher.refresh_if_due
        )
        await self._serve(st)
        self._worker_task = asyncio.create_task(self.worker.run())
        for transfer_id in await self.push_control.started():
            self._push_ready(transfer_id)  # pushes and streams left STARTED go on
        if self.remote_dataplane is not None:
            self._resignal = asyncio.create_task(self._resignal_pushes(st.dataplane_resignal_s))
        log.info(
            "karez node %s up: management %s, protocol %s, public %s",
            st.participant_id,
            st.management_url,
            st.protocol_url,
            st.public_url,
        )

    async def _serve(self, st: Settings) -> None:
        dsp = build_dsp_app(
            auth=self.identity.auth,
            catalog=self.catalog,
            negotiations=self.negotiations,
            transfers=self.transfers,
            max_body=st.max_body_bytes,
        )
        apps = [
            (self._protocol_root(st, dsp), st.protocol_port),
            (
                build_management_root(
                    auth=ManagementAuth.from_settings(st),
                    public_url=st.public_url,
                    transfer_types=SUPPORTED_TYPES,
                    remote_dataplane_url=st.dataplane_public_url or None,
                    remote_dataplane_status=(
                        self.remote_dataplane.status if self.remote_dataplane else None
                    ),
                    base_path=st.management_path,
                    max_body=st.max_body_bytes,
                    entities=self.entities,
                    negotiations=self.negotiations,
                    transfers=self.transfers,
                    peers=self.peers,
                    resolve_peer=self.resolve_peer,
                    refresh_edr=self.refresher.refresh,
                    refresh_edr_if_due=self.refresher.refresh_if_due,
                    retirements=self.retirements,
                    fetch_jobs=self.fetch_jobs,
                ),
                st.management_port,
            ),
            (self._public_root(st), st.public_port),
            (build_observability_app(self._ready, self._metrics), st.observability_port),
        ]
        if st.dataplane_url:
            apps.append(
                (
                    build_control_app(
                        self.access, self.secret, st.dataplane_key, self.push_control
                    ),
                    st.control_port,
                )
            )
        tls = server_context(st)
        for app, port in apps:
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, st.host, port, reuse_address=True, ssl_context=tls)
            await site.start()
            self._runners.append(runner)

    def _protocol_root(self, st: Settings, dsp: web.Application) -> web.Application:
        identity = self.identity
        return build_protocol_root(
            dsp,
            st.protocol_path,
            did_document=identity.did_document,
            did_path=identity.did_path,
            credential_service=None
            if identity.credential_service is None
            else (CREDENTIAL_SERVICE_PATH, identity.credential_service),
        )

    def _public_root(self, st: Settings) -> web.Application:
        root = web.Application()
        root.add_routes(
            [
                build_refresh_route(
                    tokens=self.tokens,
                    access=self.access,
                    auth=self.identity.auth,
                    issue=self._issue_tokens,
                ),
                *build_inbox_routes(self.tokens, self.transfers, st.inbox_max_bytes),
            ]
        )
        root.add_subapp(
            st.public_path,
            build_public_app(
                tokens=self.tokens,
                data=LocalData(self.access, self.secret),
                http=self.http,
                watch=self.watch,
                max_request_bytes=st.public_max_request_bytes,
            ),
        )
        return root

    async def stop(self) -> None:
        if self._resignal is not None:
            self._resignal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resignal
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=5)
        await self.push_jobs.close()
        await self.fetch_jobs.close()
        if self._worker_task is not None:
            await self.worker.stop()
            self._worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker_task
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        await self.http.close()
        await self.store.close()

    # ------------------------------------------------------------------ callbacks for services
    def _issue_tokens(self, t: TransferProcess) -> dict[str, Any]:
        """A fresh access token and refresh token for a started transfer (OAuth2 shape)."""
        ttl = self.settings.edr_ttl_s
        access, _ = self.tokens.issue(
            t.id, t.agreement_id, t.asset_id or "", t.counter_party_id, ttl_s=ttl
        )
        refresh, _ = self.tokens.issue_refresh(t.id, t.counter_party_id)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ttl,
            "token_type": "bearer",
        }

    def _issue_data_address(self, t: TransferProcess) -> Json:
        issued = self._issue_tokens(t)
        if self.remote_dataplane is not None:
            self._background(self.remote_dataplane.start(t.id))
        return m.data_address(
            self.settings.dataplane_public_url or self.settings.public_url,
            HTTP_ENDPOINT_TYPE,
            {
                "authorization": issued["access_token"],
                "authType": "bearer",
                TX_AUTH + "refreshToken": issued["refresh_token"],
                TX_AUTH + "refreshEndpoint": self.refresh_url,
                TX_AUTH + "refreshAudience": self.settings.participant_id,
                TX_AUTH + "expiresIn": str(issued["expires_in"]),
            },
        )

    def _access_ended(self, transfer_id: str, reason: str) -> None:
        """A provider transfer left STARTED: stop its downloads here and on a separate data
        plane (which would otherwise notice within a quarter second)."""
        self.watch.stop_transfer(transfer_id, reason)
        if self.remote_dataplane is not None:
            self._background(self.remote_dataplane.stop(transfer_id, reason))

    def _push_ready(self, transfer_id: str) -> None:
        """A push or stream transfer is STARTED: move its data here, or have the separate data
        plane do it."""
        if self.remote_dataplane is None:
            self.push_jobs.start(transfer_id)
            return

        async def signal() -> None:
            spec = await self.push_control.spec(transfer_id)
            if spec is not None and self.remote_dataplane is not None:
                await self.remote_dataplane.start(transfer_id, spec.to_json())

        self._background(signal())

    async def _resignal_pushes(self, interval_s: float) -> None:
        """Every ``interval_s``: a STARTED push or stream the separate data plane is not
        running (it restarted) is signalled again; the job goes on from the stream's cursor."""
        assert self.remote_dataplane is not None
        while True:
            await asyncio.sleep(interval_s)
            try:
                for transfer_id in await self.push_control.started():
                    status = await self.remote_dataplane.status(transfer_id)
                    if status is not None and not status.get("pushing"):
                        log.info(
                            "data plane runs no job for transfer %s: signalling again", transfer_id
                        )
                        self._push_ready(transfer_id)
            except Exception:  # the next round tries again
                log.exception("re-signalling pushes failed")

    def _background(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push_destination(self, t: TransferProcess) -> Json:
        """Consumer: the DSP DataAddress for the destination the operator gave a push.

        ``HttpData`` (``baseUrl``, optional ``path``, ``method``, ``authKey`` + ``authCode`` or
        ``secretName``): the provider pushes there with those credentials. ``File`` with a
        ``folder``: the provider pushes into this node's inbox, which writes into the folder.
        """
        destination = t.data_destination or {}
        kind = text(destination, "type")
        if kind == HTTP_DATA_TYPE:
            base = text(destination, "baseUrl") or ""
            if not base.startswith(("http://", "https://")):
                raise ValidationFailure(
                    "dataDestination.baseUrl must be an http(s) URL", path="dataDestination.baseUrl"
                )
            path = text(destination, "path")
            endpoint = base.rstrip("/") + "/" + path.lstrip("/") if path else base
            props: dict[str, str] = {}
            code = text(destination, "authCode")
            secret_name = text(destination, "secretName")
            if code is None and secret_name:
                code = await self.secret(secret_name)
                if code is None:
                    raise ValidationFailure(
                        f"no secret {secret_name!r}", path="dataDestination.secretName"
                    )
            if code:
                props["authorization"] = code
                props["authKey"] = text(destination, "authKey") or "Authorization"
            method = text(destination, "method")
            if method:
                props["method"] = method.upper()
            return m.data_address(endpoint, HTTP_ENDPOINT_TYPE, props)
        if kind == FILE_TYPE:
            folder = text(destination, "folder")
            if not folder or not os.path.isabs(folder):
                raise ValidationFailure(
                    "dataDestination.folder must be an absolute path",
                    path="dataDestination.folder",
                )
            token = self.tokens.issue_inbox(t.id, t.counter_party_id, INBOX_TOKEN_TTL_S)
            st = self.settings
            endpoint = f"{st.scheme}://{st.public_host}:{st.public_port}/inbox/{t.id}"
            return m.data_address(
                endpoint, HTTP_ENDPOINT_TYPE, {"authorization": token, "authType": "bearer"}
            )
        raise ValidationFailure(
            "dataDestination.type must be HttpData or File (with a folder)",
            path="dataDestination.type",
            invalid_value=kind,
        )

    @property
    def refresh_url(self) -> str:
        st = self.settings
        return f"{st.scheme}://{st.public_host}:{st.public_port}/token"

    async def secret(self, name: str) -> str | None:
        async with self.store.session() as s:
            found = await s.get(Secret, name)
        return None if found is None else found.value

    def resolve_peer(self, given: str | None, address: str) -> str:
        if given:
            return given
        for peer in self.settings.trusted:
            if peer.protocol_url and _norm(peer.protocol_url) == _norm(address):
                return peer.participant_id
        raise ValidationFailure(
            "counterPartyId is required for a connector not in the trusted list",
            path="counterPartyId",
            invalid_value=None,
        )

    async def _ready(self) -> bool:
        try:
            async with self.store.session() as s:
                await s.next_outbox_due()
            return True
        except Exception:  # health reports, never raises
            return False

    async def _metrics(self) -> dict[str, float]:
        async with self.store.session() as s:
            due = await s.next_outbox_due()
        return {"karez_up": 1.0, "karez_outbox_pending": 0.0 if due is None else 1.0}


async def run_node(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    node = Node(settings)
    await node.start()
    try:
        await stop.wait()
    finally:
        log.info("stopping karez node %s", settings.participant_id)
        await node.stop()
