"""Provider-side resources: assets, policy definitions, contract definitions, secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from connector.api.body import json_response
from connector.api.management.common import Body
from connector.controlplane.definitions import DefinitionService
from connector.domain import Asset, ContractDefinition, PolicyDefinition, Secret
from connector.errors import ValidationFailure
from connector.management_codec.assets import parse_asset, render_asset
from connector.management_codec.common import RESPONSE_CONTEXT, render_id_response
from connector.management_codec.contract_definitions import (
    parse_contract_definition,
    render_contract_definition,
)
from connector.management_codec.policies import parse_policy_definition, render_policy_definition
from connector.management_codec.secrets import parse_secret, render_secret
from connector.policy import parse_policy


def resource_routes(
    prefix: str,
    cls: type,
    parse: Callable[[Any], Any],
    render: Callable[[Any], dict],
    service: DefinitionService,
    body: Body,
    *,
    put_with_id: bool,
) -> list[web.RouteDef]:
    """CRUD + query routes for one kind of definition, as EDC serves them."""

    async def create(request: web.Request) -> web.Response:
        obj = await service.create(parse(await body.json(request)))
        return json_response(render_id_response(obj.id, obj.created_at))

    async def update(request: web.Request) -> web.Response:
        obj = parse(await body.json(request))
        if put_with_id and obj.id != request.match_info["id"]:
            raise ValidationFailure(
                "the body's @id differs from the id in the path",
                path="@id",
                invalid_value=obj.id,
            )
        await service.update(obj)
        return web.Response(status=204)

    async def get(request: web.Request) -> web.Response:
        return json_response(render(await service.get(cls, request.match_info["id"])))

    async def delete(request: web.Request) -> web.Response:
        await service.delete(cls, request.match_info["id"])
        return web.Response(status=204)

    async def query(request: web.Request) -> web.Response:
        items = [render(obj) for obj in await service.list(cls)]
        return json_response(await body.query(request, items))

    routes = [
        web.post(prefix, create),
        web.post(f"{prefix}/request", query),
        web.get(f"{prefix}/{{id}}", get),
        web.delete(f"{prefix}/{{id}}", delete),
    ]
    routes.append(web.put(f"{prefix}/{{id}}", update) if put_with_id else web.put(prefix, update))
    return routes


def definition_routes(service: DefinitionService, body: Body) -> list[web.RouteDef]:
    async def validate_policy(request: web.Request) -> web.Response:
        """EDC's static validation: does the stored policy parse as ODRL?"""
        definition = await service.get(PolicyDefinition, request.match_info["id"])
        errors = []
        try:
            parse_policy(definition.policy)
        except ValidationFailure as exc:
            errors.append(exc.message)
        return json_response(
            {
                "@context": RESPONSE_CONTEXT,
                "@type": "PolicyValidationResult",
                "isValid": not errors,
                "errors": errors,
            }
        )

    return [
        web.post("/v3/policydefinitions/{id}/validate", validate_policy),
        *resource_routes(
            "/v3/assets", Asset, parse_asset, render_asset, service, body, put_with_id=False
        ),
        *resource_routes(
            "/v3/policydefinitions",
            PolicyDefinition,
            parse_policy_definition,
            render_policy_definition,
            service,
            body,
            put_with_id=True,
        ),
        *resource_routes(
            "/v3/contractdefinitions",
            ContractDefinition,
            parse_contract_definition,
            render_contract_definition,
            service,
            body,
            put_with_id=False,
        ),
        *resource_routes(
            "/v3/secrets", Secret, parse_secret, render_secret, service, body, put_with_id=False
        ),
    ]
