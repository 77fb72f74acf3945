"""The Dataspace Protocol 2025-1 HTTPS binding (protocol port): thin handlers.

Every endpoint but version discovery needs a valid protocol token; the caller's verified
participant id goes to the services, which show it only its own processes. Errors are DSP
error messages (``CatalogError``, ``ContractNegotiationError``, ``TransferError``) with a
``code`` and ``reason``s; nothing here is a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from connector.api.body import json_response, read_json
from connector.api.vocab import build_vocab_app
from connector.controlplane.catalog import CatalogService, parse_filter
from connector.controlplane.negotiations import NegotiationManager
from connector.controlplane.participant_auth import ProtocolAuth
from connector.controlplane.transfers import TransferManager
from connector.errors import KarezError, PayloadTooLarge, ValidationFailure
from connector.logs import bind_process
from connector.protocol import messages as m
from connector.protocol import negotiation as nsm
from connector.protocol import transfer as tsm

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CATALOG = "catalog"
NEGOTIATION = "negotiation"
TRANSFER = "transfer"


def _area(path: str) -> str:
    if "/negotiations" in path:
        return NEGOTIATION
    if "/transfers" in path:
        return TRANSFER
    return CATALOG


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def error_response(area: str, exc: KarezError, request: web.Request) -> web.Response:
    # the error schemas require both pids: an unknown one (e.g. before the provider chose its
    # pid) is sent as an empty string rather than left out
    pids = {k: v or "" for k, v in request.get("pids", {}).items()}
    pid = request.match_info.get("pid")
    if pid and not pids.get("providerPid") and not pids.get("consumerPid"):
        pids = {"providerPid": pid, "consumerPid": ""}
    reasons = exc.reasons or [exc.message]
    if exc.path and exc.path not in " ".join(reasons):
        reasons = [f"{exc.path}: {r}" for r in reasons]
    if area == NEGOTIATION:
        body = m.negotiation_error(
            exc.code, reasons, pids.get("consumerPid", ""), pids.get("providerPid", "")
        )
    elif area == TRANSFER:
        body = m.transfer_error(
            exc.code, reasons, pids.get("consumerPid", ""), pids.get("providerPid", "")
        )
    else:
        body = m.catalog_error(exc.code, reasons)
    status = exc.status if exc.status < 500 else 502 if exc.status == 502 else 500
    return json_response(body, status=status)


def build_dsp_app(
    *,
    auth: ProtocolAuth,
    catalog: CatalogService,
    negotiations: NegotiationManager,
    transfers: TransferManager,
    max_body: int,
) -> web.Application:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        area = _area(request.path)
        try:
            request["caller"] = await auth.verify(request.headers.get("Authorization"))
            return await handler(request)
        except KarezError as exc:
            if exc.status >= 500 and exc.status != 502:
                log.exception("protocol request failed")
            elif exc.status == 401:
                log.info("protocol request to %s refused: %s", request.path, exc.message)
            return error_response(area, exc, request)
        except web.HTTPException:
            raise
        except Exception:  # never a bare 500 with a stack trace
            log.exception("unexpected error on %s", request.path)
            err = KarezError("internal error")
            return error_response(area, err, request)

    app = web.Application(middlewares=[guard], client_max_size=max_body + 1)

    async def body_of(request: web.Request, expected: str) -> dict:
        try:
            raw = await read_json(request, max_body)
        except PayloadTooLarge:
            raise
        msg = m.parse(expected, raw)
        callback = msg.get("callbackAddress")
        if callback is not None and not _is_http_url(callback):
            # the spec: an address that is not understood is an unrecoverable error
            raise ValidationFailure(
                "callbackAddress must be an absolute http(s) URL",
                path="callbackAddress",
                invalid_value=callback,
            )
        request["pids"] = {k: msg.get(k) for k in ("consumerPid", "providerPid")}
        bind_process(msg.get("consumerPid"), msg.get("providerPid"))
        return msg

    # --- catalog ---------------------------------------------------------------------
    async def catalog_request(request: web.Request) -> web.Response:
        msg = await body_of(request, "CatalogRequestMessage")
        criteria = parse_filter(msg.get("filter"))
        return json_response(await catalog.catalog(request["caller"], criteria))

    async def dataset_get(request: web.Request) -> web.Response:
        return json_response(await catalog.dataset(request["caller"], request.match_info["id"]))

    # --- negotiations ----------------------------------------------------------------
    def negotiation_ack(n, state: str, status: int = 200) -> web.Response:  # noqa: ANN001
        return json_response(
            m.negotiation_ack(n.consumer_pid, n.provider_pid, state), status=status
        )

    async def negotiation_get(request: web.Request) -> web.Response:
        n = await negotiations.get_for_peer(request["caller"], request.match_info["pid"])
        return negotiation_ack(n, nsm.dsp_state(n.state))

    async def negotiation_initial_request(request: web.Request) -> web.Response:
        msg = await body_of(request, "ContractRequestMessage")
        if msg.get("providerPid"):
            return await _negotiation_message(
                request, msg, msg["providerPid"], "ContractRequestMessage"
            )
        n, state = await negotiations.on_initial_request(request["caller"], msg)
        return negotiation_ack(n, state, status=201)

    async def negotiation_initial_offer(request: web.Request) -> web.Response:
        msg = await body_of(request, "ContractOfferMessage")
        if msg.get("consumerPid"):
            return await _negotiation_message(
                request, msg, msg["consumerPid"], "ContractOfferMessage"
            )
        n, state = await negotiations.on_initial_offer(request["caller"], msg)
        return negotiation_ack(n, state, status=201)

    async def _negotiation_message(
        request: web.Request, msg: dict, pid: str, message_type: str
    ) -> web.Response:
        n, state = await negotiations.on_message(request["caller"], pid, message_type, msg)
        return negotiation_ack(n, state)

    def negotiation_route(message_type: str) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            msg = await body_of(request, message_type)
            return await _negotiation_message(request, msg, request.match_info["pid"], message_type)

        return handle

    async def negotiation_events(request: web.Request) -> web.Response:
        return await negotiation_route("ContractNegotiationEventMessage")(request)

    # --- transfers -------------------------------------------------------------------
    def transfer_ack(t, state: str, status: int = 200) -> web.Response:  # noqa: ANN001
        return json_response(m.transfer_ack(t.consumer_pid, t.provider_pid, state), status=status)

    async def transfer_get(request: web.Request) -> web.Response:
        t = await transfers.get_for_peer(request["caller"], request.match_info["pid"])
        return transfer_ack(t, tsm.dsp_state(t.state))

    async def transfer_request(request: web.Request) -> web.Response:
        msg = await body_of(request, "TransferRequestMessage")
        t, state = await transfers.on_request(request["caller"], msg)
        return transfer_ack(t, state, status=201)

    def transfer_route(message_type: str) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            msg = await body_of(request, message_type)
            t, state = await transfers.on_message(
                request["caller"], request.match_info["pid"], message_type, msg
            )
            return transfer_ack(t, state)

        return handle

    app.add_routes(
        [
            web.post("/catalog/request", catalog_request),
            web.get("/catalog/datasets/{id}", dataset_get),
            web.post("/negotiations/request", negotiation_initial_request),
            web.post("/negotiations/offers", negotiation_initial_offer),
            web.get("/negotiations/{pid}", negotiation_get),
            web.post("/negotiations/{pid}/request", negotiation_route("ContractRequestMessage")),
            web.post("/negotiations/{pid}/offers", negotiation_route("ContractOfferMessage")),
            web.post(
                "/negotiations/{pid}/agreement", negotiation_route("ContractAgreementMessage")
            ),
            web.post(
                "/negotiations/{pid}/agreement/verification",
                negotiation_route("ContractAgreementVerificationMessage"),
            ),
            web.post("/negotiations/{pid}/events", negotiation_events),
            web.post(
                "/negotiations/{pid}/termination",
                negotiation_route("ContractNegotiationTerminationMessage"),
            ),
            web.post("/transfers/request", transfer_request),
            web.get("/transfers/{pid}", transfer_get),
            web.post("/transfers/{pid}/start", transfer_route("TransferStartMessage")),
            web.post("/transfers/{pid}/completion", transfer_route("TransferCompletionMessage")),
            web.post("/transfers/{pid}/suspension", transfer_route("TransferSuspensionMessage")),
            web.post("/transfers/{pid}/termination", transfer_route("TransferTerminationMessage")),
        ]
    )
    return app


def build_protocol_root(
    dsp_app: web.Application,
    protocol_path: str,
    *,
    did_document: dict[str, Any] | None = None,
    did_path: str | None = None,
    credential_service: tuple[str, web.Application] | None = None,
) -> web.Application:
    """The protocol port: version discovery, the DID document and the profile files (open),
    the DSP app under its path and, with DCP, the credential service (DCP-authenticated)."""
    root = web.Application()
    dcp = did_document is not None
    version_body = m.version_response(
        protocol_path,
        service_id=f"{did_document['id']}#dsp" if dcp else None,
        identifier_type="did:web" if dcp else None,
        auth={"protocol": "DCP", "version": "1.0"} if dcp else None,
    )

    async def versions(request: web.Request) -> web.Response:
        return json_response(version_body)

    root.router.add_get("/.well-known/dspace-version", versions)
    if did_document is not None and did_path is not None:
        body = json.dumps(did_document, indent=2).encode()

        async def did_json(request: web.Request) -> web.Response:
            return web.Response(
                body=body,
                content_type="application/did+json",
                headers={"Cache-Control": "max-age=300"},
            )

        root.router.add_get(did_path, did_json)
    root.add_subapp(protocol_path, dsp_app)
    if credential_service is not None:
        root.add_subapp(*credential_service)
    # the Karez profile (context, ontology, SKOS schemes, shapes): open, like version discovery
    root.add_subapp("/ns", build_vocab_app())
    return root
