"""Consumer and operator resources: catalog requests, negotiations, agreements, transfers,
EDRs, and the Karez approval commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from connector.api.body import json_response
from connector.api.management.common import Body
from connector.controlplane.definitions import DefinitionService
from connector.controlplane.negotiations import NegotiationManager
from connector.controlplane.peer_client import PeerClient
from connector.controlplane.transfers import TransferManager
from connector.domain import (
    CONSUMER,
    ContractAgreement,
    ContractNegotiation,
    EndpointDataReference,
    TransferProcess,
)
from connector.errors import NotFound, ValidationFailure
from connector.management_codec.base import peer_address
from connector.management_codec.catalog import (
    parse_catalog_request,
    parse_dataset_request,
    render_catalog,
)
from connector.management_codec.common import render_id_response
from connector.management_codec.edrs import render_edr_data_address, render_edr_entry
from connector.management_codec.negotiations import (
    parse_contract_request,
    parse_counter,
    parse_terminate,
    render_agreement,
    render_negotiation,
    render_negotiation_state,
)
from connector.management_codec.transfers import (
    parse_transfer_request,
    render_transfer,
    render_transfer_state,
)
from connector.protocol import messages as m
from connector.protocol.binding import join_url

#: (participant id given or None, DSP address) -> participant id to address tokens to
PeerIdResolver = Callable[[str | None, str], str]
EdrRefresher = Callable[[EndpointDataReference], Awaitable[EndpointDataReference]]

NEGOTIATION_COMMANDS = ("counter", "agree", "accept", "verify", "finalize", "terminate")
TRANSFER_COMMANDS = {
    "start": "start",
    "complete": "complete",
    "suspend": "suspend",
    "terminate": "terminate",
    "resume": None,  # consumer: resume; provider: start
}


def process_routes(
    *,
    entities: DefinitionService,
    negotiations: NegotiationManager,
    transfers: TransferManager,
    peers: PeerClient,
    resolve_peer: PeerIdResolver,
    body: Body,
    refresh_edr: EdrRefresher | None = None,
    refresh_edr_if_due: EdrRefresher | None = None,
) -> list[web.RouteDef]:
    # --- catalog -------------------------------------------------------------------------
    async def catalog_request(request: web.Request) -> web.Response:
        req = parse_catalog_request(await body.json(request))
        audience = resolve_peer(req.counter_party_id, req.counter_party_address)
        criteria = req.query_spec.filter_expression
        message = m.catalog_request(
            [
                {
                    "operandLeft": c.operand_left,
                    "operator": c.operator,
                    "operandRight": c.operand_right,
                }
                for c in criteria
            ]
            or None
        )
        url = join_url(req.counter_party_address, "catalog/request")
        catalog = await peers.call("POST", url, audience, message)
        return json_response(render_catalog(catalog))

    async def dataset_request(request: web.Request) -> web.Response:
        req = parse_dataset_request(await body.json(request))
        audience = resolve_peer(req.counter_party_id, req.counter_party_address)
        url = join_url(req.counter_party_address, f"catalog/datasets/{req.dataset_id}")
        dataset = await peers.call("GET", url, audience)
        return json_response(render_catalog(dataset))

    # --- negotiations --------------------------------------------------------------------
    async def start_negotiation(request: web.Request, *, edr: bool) -> web.Response:
        req = parse_contract_request(await body.json(request))
        counter_party_id = resolve_peer(req.counter_party_id, req.counter_party_address)
        n = await negotiations.initiate(
            counter_party_address=req.counter_party_address,
            counter_party_id=counter_party_id,
            offer=req.policy,
            callback_addresses=req.callback_addresses,
            private_properties=req.private_properties,
            protocol=req.protocol,
            edr=edr,
        )
        return json_response(render_id_response(n.id, n.created_at))

    async def negotiation_create(request: web.Request) -> web.Response:
        return await start_negotiation(request, edr=False)

    async def negotiation_get(request: web.Request) -> web.Response:
        return json_response(render_negotiation(await _negotiation(request)))

    async def negotiation_state(request: web.Request) -> web.Response:
        return json_response(render_negotiation_state(await _negotiation(request)))

    async def negotiation_agreement(request: web.Request) -> web.Response:
        n = await _negotiation(request)
        if not n.agreement_id:
            raise NotFound(f"contract negotiation {n.id} has no agreement yet", path="id")
        return json_response(
            render_agreement(await entities.get(ContractAgreement, n.agreement_id))
        )

    async def negotiation_query(request: web.Request) -> web.Response:
        items = [render_negotiation(n) for n in await entities.list(ContractNegotiation)]
        return json_response(await body.query(request, items))

    async def _negotiation(request: web.Request) -> ContractNegotiation:
        return await entities.get(ContractNegotiation, request.match_info["id"])

    def negotiation_command(name: str) -> Any:
        async def handle(request: web.Request) -> web.Response:
            raw = await body.json(request, optional=True)
            policy = parse_counter(raw) if name == "counter" else None
            reason = parse_terminate(raw) if name == "terminate" and raw else None
            await negotiations.command(request.match_info["id"], name, policy=policy, reason=reason)
            return web.Response(status=204)

        return handle

    # --- agreements ----------------------------------------------------------------------
    async def agreement_get(request: web.Request) -> web.Response:
        return json_response(
            render_agreement(await entities.get(ContractAgreement, request.match_info["id"]))
        )

    async def agreement_negotiation(request: web.Request) -> web.Response:
        agreement = await entities.get(ContractAgreement, request.match_info["id"])
        if not agreement.negotiation_id:
            raise NotFound("agreement has no negotiation", path="id")
        return json_response(
            render_negotiation(await entities.get(ContractNegotiation, agreement.negotiation_id))
        )

    async def agreement_query(request: web.Request) -> web.Response:
        items = [render_agreement(a) for a in await entities.list(ContractAgreement)]
        return json_response(await body.query(request, items))

    # --- transfers -----------------------------------------------------------------------
    async def transfer_create(request: web.Request) -> web.Response:
        req = parse_transfer_request(await body.json(request))
        t = await transfers.initiate(
            counter_party_address=req.counter_party_address,
            contract_id=req.contract_id,
            transfer_type=req.transfer_type,
            data_destination=req.data_destination,
            callback_addresses=req.callback_addresses,
            private_properties=req.private_properties,
            protocol=req.protocol,
        )
        return json_response(render_id_response(t.id, t.created_at))

    async def transfer_get(request: web.Request) -> web.Response:
        return json_response(render_transfer(await _transfer(request)))

    async def transfer_state(request: web.Request) -> web.Response:
        return json_response(render_transfer_state(await _transfer(request)))

    async def transfer_query(request: web.Request) -> web.Response:
        items = [render_transfer(t) for t in await entities.list(TransferProcess)]
        return json_response(await body.query(request, items))

    async def _transfer(request: web.Request) -> TransferProcess:
        return await entities.get(TransferProcess, request.match_info["id"])

    def transfer_command(path_name: str) -> Any:
        async def handle(request: web.Request) -> web.Response:
            raw = await body.json(request, optional=True)
            reason = parse_terminate(raw) if raw else None
            name = TRANSFER_COMMANDS[path_name]
            if name is None:
                t = await _transfer(request)
                name = "resume" if t.role == CONSUMER else "start"
            await transfers.command(request.match_info["id"], name, reason=reason)
            return web.Response(status=204)

        return handle

    # --- EDRs ----------------------------------------------------------------------------
    async def edr_create(request: web.Request) -> web.Response:
        return await start_negotiation(request, edr=True)

    async def edr_query(request: web.Request) -> web.Response:
        items = [render_edr_entry(e) for e in await entities.list(EndpointDataReference)]
        return json_response(await body.query(request, items))

    async def edr_data_address(request: web.Request) -> web.Response:
        edr = await entities.get(EndpointDataReference, request.match_info["id"])
        auto = request.query.get("auto_refresh", "false").lower() == "true"
        if auto and refresh_edr_if_due is not None:
            edr = await refresh_edr_if_due(edr)
        return json_response(render_edr_data_address(edr))

    async def edr_refresh(request: web.Request) -> web.Response:
        if refresh_edr is None:
            raise ValidationFailure("this node cannot refresh EDRs", path="id")
        edr = await entities.get(EndpointDataReference, request.match_info["id"])
        return json_response(render_edr_data_address(await refresh_edr(edr)))

    async def edr_delete(request: web.Request) -> web.Response:
        await entities.delete(EndpointDataReference, request.match_info["id"])
        return web.Response(status=204)

    async def negotiation_delete(request: web.Request) -> web.Response:
        await negotiations.delete(request.match_info["id"])
        return web.Response(status=204)

    async def transfer_deprovision(request: web.Request) -> web.Response:
        await transfers.deprovision(request.match_info["id"])
        return web.Response(status=204)

    async def protocol_versions(request: web.Request) -> web.Response:
        raw = await body.json(request)
        address = raw.get("counterPartyAddress") if isinstance(raw, dict) else None
        return json_response(
            await peers.versions(peer_address(address if isinstance(address, str) else None))
        )

    routes = [
        web.delete("/v3/contractnegotiations/{id}", negotiation_delete),
        web.post("/v3/transferprocesses/{id}/deprovision", transfer_deprovision),
        web.post("/v4alpha/protocol-versions/request", protocol_versions),
        web.post("/v3/catalog/request", catalog_request),
        web.post("/v3/catalog/dataset/request", dataset_request),
        web.post("/v3/contractnegotiations", negotiation_create),
        web.post("/v3/contractnegotiations/request", negotiation_query),
        web.get("/v3/contractnegotiations/{id}", negotiation_get),
        web.get("/v3/contractnegotiations/{id}/state", negotiation_state),
        web.get("/v3/contractnegotiations/{id}/agreement", negotiation_agreement),
        web.post("/v3/contractagreements/request", agreement_query),
        web.get("/v3/contractagreements/{id}", agreement_get),
        web.get("/v3/contractagreements/{id}/negotiation", agreement_negotiation),
        web.post("/v3/transferprocesses", transfer_create),
        web.post("/v3/transferprocesses/request", transfer_query),
        web.get("/v3/transferprocesses/{id}", transfer_get),
        web.get("/v3/transferprocesses/{id}/state", transfer_state),
        web.post("/v3/edrs", edr_create),
        web.post("/v3/edrs/request", edr_query),
        web.get("/v3/edrs/{id}/dataaddress", edr_data_address),
        web.post("/v3/edrs/{id}/refresh", edr_refresh),
        web.delete("/v3/edrs/{id}", edr_delete),
    ]
    routes += [
        web.post(f"/v3/contractnegotiations/{{id}}/{name}", negotiation_command(name))
        for name in NEGOTIATION_COMMANDS
    ]
    routes += [
        web.post(f"/v3/transferprocesses/{{id}}/{name}", transfer_command(name))
        for name in TRANSFER_COMMANDS
    ]
    return routes
