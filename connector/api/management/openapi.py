"""The Management API's OpenAPI 3.1 document, built from one table of operations.

Each operation names its request schema and an example body; the tests check that every route
the app serves is here, that every route here is served, and that every example is accepted by
the parser its handler uses.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cache
from typing import Any

EDC = {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"}
ODRL_CTX = "http://www.w3.org/ns/odrl.jsonld"
PEER = "http://provider.example:8282/protocol"
PEER_ID = "urn:karez:participant:provider"
APPROVAL = "https://w3id.org/karez/ns/approval"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    request: str | None = None  # component schema name of the body
    example: Any = None
    response: str | None = None  # component schema of a 200 body
    status: int = 200
    array: bool = False  # the 200 body is a list of ``response``
    errors: tuple[int, ...] = (400,)
    query: tuple[str, ...] = field(default=())


QUERY_EXAMPLE = {
    "@context": EDC,
    "@type": "QuerySpec",
    "offset": 0,
    "limit": 50,
    "sortOrder": "ASC",
    "sortField": "id",
    "filterExpression": [{"operandLeft": "id", "operator": "=", "operandRight": "cotton-2026"}],
}
ASSET_EXAMPLE = {
    "@context": EDC,
    "@id": "cotton-2026",
    "properties": {"name": "Cotton yield by field, 2026", "contenttype": "text/csv"},
    "privateProperties": {"owner": "planning department"},
    "dataAddress": {"@type": "DataAddress", "type": "File", "path": "/srv/data/cotton.csv"},
}
POLICY_EXAMPLE = {
    "@context": [EDC, ODRL_CTX],
    "@id": "research-90-days",
    "policy": {
        "@type": "Set",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {
                        "leftOperand": "dateTime",
                        "operator": "lteq",
                        "rightOperand": "2027-12-31T00:00:00Z",
                    }
                ],
            }
        ],
    },
}
CONTRACT_DEFINITION_EXAMPLE = {
    "@context": EDC,
    "@id": "cotton-research",
    "accessPolicyId": "research-90-days",
    "contractPolicyId": "research-90-days",
    "assetsSelector": [
        {
            "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id",
            "operator": "=",
            "operandRight": "cotton-2026",
        }
    ],
    "privateProperties": {APPROVAL: "manual"},
}
OFFER = {
    "@context": ODRL_CTX,
    "@id": "Y290dG9uLXJlc2VhcmNo:Y290dG9uLTIwMjY:abc",
    "@type": "Offer",
    "assigner": PEER_ID,
    "target": "cotton-2026",
    "permission": [{"action": "use"}],
}
CONTRACT_REQUEST_EXAMPLE = {
    "@context": EDC,
    "@type": "ContractRequest",
    "counterPartyAddress": PEER,
    "counterPartyId": PEER_ID,
    "protocol": "dataspace-protocol-http:2025-1",
    "policy": OFFER,
    "callbackAddresses": [
        {
            "uri": "http://erp.example/karez-events",
            "events": ["contract.negotiation", "transfer.process"],
            "transactional": False,
        }
    ],
}
TRANSFER_REQUEST_EXAMPLE = {
    "@context": EDC,
    "@type": "TransferRequest",
    "counterPartyAddress": PEER,
    "contractId": "urn:uuid:5f7e0f3a-6d5b-4d8e-9a57-2f4c3b1e9d10",
    "transferType": "HttpData-PULL",
    "protocol": "dataspace-protocol-http:2025-1",
}
TERMINATE_EXAMPLE = {"@context": EDC, "@type": "TerminateNegotiation", "reason": "no longer needed"}
COUNTER_EXAMPLE = {
    "@context": EDC,
    "policy": {
        "@context": ODRL_CTX,
        "@type": "Offer",
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {
                        "leftOperand": "dateTime",
                        "operator": "lteq",
                        "rightOperand": "2027-06-30T00:00:00Z",
                    }
                ],
            }
        ],
    },
}
CATALOG_REQUEST_EXAMPLE = {
    "@context": EDC,
    "@type": "CatalogRequest",
    "counterPartyAddress": PEER,
    "counterPartyId": PEER_ID,
    "protocol": "dataspace-protocol-http:2025-1",
}
DATASET_REQUEST_EXAMPLE = {
    "@context": EDC,
    "@type": "DatasetRequest",
    "@id": "cotton-2026",
    "counterPartyAddress": PEER,
    "counterPartyId": PEER_ID,
    "protocol": "dataspace-protocol-http:2025-1",
}
SECRET_EXAMPLE = {"@context": EDC, "@id": "backend-api-key", "value": "an-api-key-for-the-backend"}


def _crud(prefix: str, name: str, schema: str, example: Any, tag: str, put_by_id: bool) -> list:
    put_path = f"{prefix}/{{id}}" if put_by_id else prefix
    return [
        Operation(
            "post",
            prefix,
            f"create{name}",
            f"Create a {tag.lower()[:-1]}",
            tag,
            schema,
            example,
            "IdResponse",
            errors=(400, 409),
        ),
        Operation(
            "put",
            put_path,
            f"update{name}",
            f"Replace a {tag.lower()[:-1]}",
            tag,
            schema,
            example,
            None,
            status=204,
            errors=(400, 404),
        ),
        Operation(
            "get",
            f"{prefix}/{{id}}",
            f"get{name}",
            f"Read a {tag.lower()[:-1]}",
            tag,
            response=schema,
            errors=(404,),
        ),
        Operation(
            "delete",
            f"{prefix}/{{id}}",
            f"delete{name}",
            f"Delete a {tag.lower()[:-1]}",
            tag,
            status=204,
            errors=(404, 409),
        ),
        Operation(
            "post",
            f"{prefix}/request",
            f"query{name}s",
            f"Query {tag.lower()}",
            tag,
            "QuerySpec",
            QUERY_EXAMPLE,
            schema,
            array=True,
        ),
    ]


def _commands(prefix: str, names: tuple[str, ...], tag: str, noun: str) -> list[Operation]:
    out = []
    for name in names:
        body = "CounterRequest" if name == "counter" else "TerminateRequest"
        example = COUNTER_EXAMPLE if name == "counter" else TERMINATE_EXAMPLE
        out.append(
            Operation(
                "post",
                f"{prefix}/{{id}}/{name}",
                f"{name}{noun}",
                f"Operator command: {name} (Karez approval; 409 if the state forbids it)",
                tag,
                body,
                example,
                None,
                status=204,
                errors=(400, 404, 409),
            )
        )
    return out


OPERATIONS: list[Operation] = [
    *_crud("/v3/assets", "Asset", "Asset", ASSET_EXAMPLE, "Assets", put_by_id=False),
    *_crud(
        "/v3/policydefinitions",
        "PolicyDefinition",
        "PolicyDefinition",
        POLICY_EXAMPLE,
        "Policydefinitions",
        put_by_id=True,
    ),
    *_crud(
        "/v3/contractdefinitions",
        "ContractDefinition",
        "ContractDefinition",
        CONTRACT_DEFINITION_EXAMPLE,
        "Contractdefinitions",
        put_by_id=False,
    ),
    *_crud("/v3/secrets", "Secret", "Secret", SECRET_EXAMPLE, "Secrets", put_by_id=False),
    Operation(
        "post",
        "/v3/policydefinitions/{id}/validate",
        "validatePolicyDefinition",
        "Check that a stored policy parses as ODRL 2.2",
        "Policydefinitions",
        response="PolicyValidationResult",
        errors=(404,),
    ),
    Operation(
        "delete",
        "/v3/contractnegotiations/{id}",
        "deleteNegotiation",
        "Forget a TERMINATED negotiation",
        "Contractnegotiations",
        status=204,
        errors=(404, 409),
    ),
    Operation(
        "post",
        "/v3/transferprocesses/{id}/deprovision",
        "deprovisionTransfer",
        "Deprovision an ended transfer (nothing to release in Karez)",
        "Transferprocesses",
        status=204,
        errors=(404, 409),
    ),
    Operation(
        "get",
        "/v3/dataplanes",
        "listDataplanes",
        "The node's data planes",
        "Dataplanes",
        response="DataPlaneInstance",
        array=True,
        errors=(),
    ),
    Operation(
        "get",
        "/v1/version",
        "getVersion",
        "API versions this node serves",
        "Version",
        response="Versions",
        errors=(),
    ),
    Operation(
        "post",
        "/v4alpha/protocol-versions/request",
        "requestProtocolVersions",
        "Ask a peer which DSP versions it speaks",
        "Protocolversions",
        "ProtocolVersionsRequest",
        {"@context": EDC, "counterPartyAddress": PEER},
        "VersionResponse",
        errors=(400, 502),
    ),
    Operation(
        "post",
        "/v3/catalog/request",
        "requestCatalog",
        "Ask a peer for its catalog over DSP",
        "Catalog",
        "CatalogRequest",
        CATALOG_REQUEST_EXAMPLE,
        "Catalog",
        errors=(400, 502),
    ),
    Operation(
        "post",
        "/v3/catalog/dataset/request",
        "requestDataset",
        "Ask a peer for one dataset over DSP",
        "Catalog",
        "DatasetRequest",
        DATASET_REQUEST_EXAMPLE,
        "Catalog",
        errors=(400, 502),
    ),
    Operation(
        "post",
        "/v3/contractnegotiations",
        "initiateNegotiation",
        "Start a negotiation as consumer",
        "Contractnegotiations",
        "ContractRequest",
        CONTRACT_REQUEST_EXAMPLE,
        "IdResponse",
    ),
    Operation(
        "post",
        "/v3/contractnegotiations/request",
        "queryNegotiations",
        "Query negotiations",
        "Contractnegotiations",
        "QuerySpec",
        QUERY_EXAMPLE,
        "ContractNegotiation",
        array=True,
    ),
    Operation(
        "get",
        "/v3/contractnegotiations/{id}",
        "getNegotiation",
        "Read a negotiation",
        "Contractnegotiations",
        response="ContractNegotiation",
        errors=(404,),
    ),
    Operation(
        "get",
        "/v3/contractnegotiations/{id}/state",
        "getNegotiationState",
        "Read a negotiation's state",
        "Contractnegotiations",
        response="NegotiationState",
        errors=(404,),
    ),
    Operation(
        "get",
        "/v3/contractnegotiations/{id}/agreement",
        "getNegotiationAgreement",
        "Read a negotiation's agreement",
        "Contractnegotiations",
        response="ContractAgreement",
        errors=(404,),
    ),
    *_commands(
        "/v3/contractnegotiations",
        ("counter", "agree", "accept", "verify", "finalize", "terminate"),
        "Contractnegotiations",
        "Negotiation",
    ),
    Operation(
        "post",
        "/v3/contractagreements/request",
        "queryAgreements",
        "Query agreements",
        "Contractagreements",
        "QuerySpec",
        QUERY_EXAMPLE,
        "ContractAgreement",
        array=True,
    ),
    Operation(
        "get",
        "/v3/contractagreements/{id}",
        "getAgreement",
        "Read an agreement",
        "Contractagreements",
        response="ContractAgreement",
        errors=(404,),
    ),
    Operation(
        "get",
        "/v3/contractagreements/{id}/negotiation",
        "getAgreementNegotiation",
        "Read the negotiation of an agreement",
        "Contractagreements",
        response="ContractNegotiation",
        errors=(404,),
    ),
    Operation(
        "post",
        "/v3/transferprocesses",
        "initiateTransfer",
        "Start a transfer as consumer",
        "Transferprocesses",
        "TransferRequest",
        TRANSFER_REQUEST_EXAMPLE,
        "IdResponse",
    ),
    Operation(
        "post",
        "/v3/transferprocesses/request",
        "queryTransfers",
        "Query transfers",
        "Transferprocesses",
        "QuerySpec",
        QUERY_EXAMPLE,
        "TransferProcess",
        array=True,
    ),
    Operation(
        "get",
        "/v3/transferprocesses/{id}",
        "getTransfer",
        "Read a transfer",
        "Transferprocesses",
        response="TransferProcess",
        errors=(404,),
    ),
    Operation(
        "get",
        "/v3/transferprocesses/{id}/state",
        "getTransferState",
        "Read a transfer's state",
        "Transferprocesses",
        response="TransferState",
        errors=(404,),
    ),
    *_commands(
        "/v3/transferprocesses",
        ("start", "complete", "suspend", "terminate", "resume"),
        "Transferprocesses",
        "Transfer",
    ),
    Operation(
        "post",
        "/v3/edrs",
        "negotiateEdr",
        "Negotiate and start an HttpData-PULL in one call (Tractus-X)",
        "Edrs",
        "ContractRequest",
        CONTRACT_REQUEST_EXAMPLE,
        "IdResponse",
    ),
    Operation(
        "post",
        "/v3/edrs/request",
        "queryEdrs",
        "Query EDR entries",
        "Edrs",
        "QuerySpec",
        QUERY_EXAMPLE,
        "EndpointDataReferenceEntry",
        array=True,
    ),
    Operation(
        "get",
        "/v3/edrs/{id}/dataaddress",
        "getEdrDataAddress",
        "The EDR's data address (endpoint and token)",
        "Edrs",
        response="EdrDataAddress",
        errors=(404, 502),
        query=("auto_refresh",),
    ),
    Operation(
        "post",
        "/v3/edrs/{id}/refresh",
        "refreshEdr",
        "Refresh the EDR's token",
        "Edrs",
        response="EdrDataAddress",
        errors=(400, 404, 502),
    ),
    Operation(
        "delete", "/v3/edrs/{id}", "deleteEdr", "Forget an EDR", "Edrs", status=204, errors=(404,)
    ),
]

_OBJ: dict[str, Any] = {"type": "object"}
_CTX = {"description": "JSON-LD context; EDC's @vocab or any bundled context"}


def _obj(required: list[str], props: dict[str, Any], desc: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": desc,
        "required": required,
        "properties": {"@context": _CTX, **props},
    }


SCHEMAS: dict[str, Any] = {
    "IdResponse": _obj(
        ["@id"],
        {
            "@type": {"const": "IdResponse"},
            "@id": {"type": "string"},
            "createdAt": {"type": "integer"},
        },
        "The id of what was created",
    ),
    "DataAddress": {
        "type": "object",
        "required": ["type"],
        "description": "Where the data is: type File (path) or HttpData (baseUrl, proxyPath, "
        "proxyQueryParams, proxyMethod, proxyBody, authKey/authCode, secretName)",
        "properties": {"type": {"type": "string"}},
    },
    "Asset": _obj(
        ["dataAddress"],
        {
            "@id": {"type": "string"},
            "properties": _OBJ,
            "privateProperties": _OBJ,
            "dataAddress": {"$ref": "#/components/schemas/DataAddress"},
        },
        "An asset (dataset)",
    ),
    "Policy": {
        "type": "object",
        "description": "An ODRL 2.2 policy (Set, Offer or Agreement)",
        "properties": {"permission": {}, "prohibition": {}, "obligation": {}},
    },
    "PolicyDefinition": _obj(
        ["policy"],
        {"@id": {"type": "string"}, "policy": {"$ref": "#/components/schemas/Policy"}},
        "A named ODRL policy",
    ),
    "Criterion": {
        "type": "object",
        "required": ["operandLeft", "operator"],
        "properties": {
            "operandLeft": {"type": "string"},
            "operator": {
                "enum": ["=", "!=", "in", "like", "ilike", "contains", "<", "<=", ">", ">="]
            },
            "operandRight": {},
        },
    },
    "ContractDefinition": _obj(
        ["accessPolicyId", "contractPolicyId"],
        {
            "@id": {"type": "string"},
            "accessPolicyId": {"type": "string"},
            "contractPolicyId": {"type": "string"},
            "assetsSelector": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Criterion"},
            },
            "privateProperties": _OBJ,
        },
        "Binds an access and a contract policy to assets; the "
        f"private property {APPROVAL} = manual makes negotiations wait for the operator",
    ),
    "QuerySpec": _obj(
        [],
        {
            "offset": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1},
            "sortOrder": {"enum": ["ASC", "DESC"]},
            "sortField": {"type": "string"},
            "filterExpression": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Criterion"},
            },
        },
        "EDC QuerySpec (defaults: offset 0, limit 50)",
    ),
    "CatalogRequest": _obj(
        ["counterPartyAddress"],
        {
            "counterPartyAddress": {"type": "string"},
            "counterPartyId": {"type": "string"},
            "protocol": {"type": "string"},
            "querySpec": {"$ref": "#/components/schemas/QuerySpec"},
        },
        "Ask a peer for its catalog",
    ),
    "DatasetRequest": _obj(
        ["@id", "counterPartyAddress"],
        {
            "@id": {"type": "string"},
            "counterPartyAddress": {"type": "string"},
            "counterPartyId": {"type": "string"},
            "protocol": {"type": "string"},
        },
        "Ask a peer for one dataset",
    ),
    "CallbackAddress": {
        "type": "object",
        "required": ["uri"],
        "properties": {
            "uri": {"type": "string"},
            "events": {"type": "array", "items": {"type": "string"}},
            "transactional": {"type": "boolean"},
            "authKey": {"type": "string"},
            "authCodeId": {"type": "string"},
        },
    },
    "ContractRequest": _obj(
        ["counterPartyAddress", "policy"],
        {
            "counterPartyAddress": {"type": "string"},
            "counterPartyId": {"type": "string"},
            "protocol": {"type": "string"},
            "policy": {"$ref": "#/components/schemas/Policy"},
            "callbackAddresses": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/CallbackAddress"},
            },
            "privateProperties": _OBJ,
        },
        "Negotiate for an offer taken from a peer's catalog",
    ),
    "TransferRequest": _obj(
        ["counterPartyAddress", "contractId"],
        {
            "counterPartyAddress": {"type": "string"},
            "contractId": {"type": "string"},
            "transferType": {"type": "string"},
            "protocol": {"type": "string"},
            "dataDestination": {"$ref": "#/components/schemas/DataAddress"},
            "privateProperties": _OBJ,
            "callbackAddresses": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/CallbackAddress"},
            },
        },
        "Start a transfer under an agreement",
    ),
    "TerminateRequest": _obj([], {"reason": {"type": "string"}}, "Why (optional)"),
    "CounterRequest": _obj(
        ["policy"],
        {"policy": {"$ref": "#/components/schemas/Policy"}},
        "The terms of a counter-offer or counter-request",
    ),
    "ContractNegotiation": _obj(
        ["@id", "state"],
        {
            "@id": {"type": "string"},
            "state": {"type": "string"},
            "type": {"enum": ["CONSUMER", "PROVIDER"]},
        },
        "A negotiation as EDC renders it, with karez: extras",
    ),
    "NegotiationState": _obj(["state"], {"state": {"type": "string"}}, "A negotiation's state"),
    "ContractAgreement": _obj(
        ["@id"],
        {
            "@id": {"type": "string"},
            "assetId": {"type": "string"},
            "policy": {"$ref": "#/components/schemas/Policy"},
        },
        "An agreement",
    ),
    "TransferProcess": _obj(
        ["@id", "state"],
        {"@id": {"type": "string"}, "state": {"type": "string"}},
        "A transfer as EDC renders it",
    ),
    "TransferState": _obj(["state"], {"state": {"type": "string"}}, "A transfer's state"),
    "EndpointDataReferenceEntry": _obj(
        ["transferProcessId"],
        {"transferProcessId": {"type": "string"}, "agreementId": {"type": "string"}},
        "An EDR entry",
    ),
    "EdrDataAddress": _obj(
        ["endpoint", "authorization"],
        {"endpoint": {"type": "string"}, "authorization": {"type": "string"}},
        "Where and with which token to pull",
    ),
    "Secret": _obj(
        ["value"],
        {"@id": {"type": "string"}, "value": {"type": "string"}},
        "A secret (backend credentials, callback keys)",
    ),
    "Catalog": {"type": "object", "description": "A peer's DCAT catalog, EDC-compacted"},
    "PolicyValidationResult": _obj(
        ["isValid"],
        {"isValid": {"type": "boolean"}, "errors": {"type": "array"}},
        "Whether a policy parses",
    ),
    "DataPlaneInstance": _obj(
        ["@id", "url"], {"@id": {"type": "string"}, "url": {"type": "string"}}, "A data plane"
    ),
    "Versions": {"type": "object", "description": "API name -> versions served"},
    "ProtocolVersionsRequest": _obj(
        ["counterPartyAddress"],
        {"counterPartyAddress": {"type": "string"}},
        "Whose versions to ask for",
    ),
    "VersionResponse": {"type": "object", "description": "The peer's dspace-version document"},
    "ApiError": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "path": {},
                "invalidValue": {},
            },
        },
    },
}

ERROR_TEXT = {
    400: "Bad input (the error names the field)",
    401: "Missing or wrong X-Api-Key",
    404: "Unknown id",
    409: "Duplicate id, object in use, or a state that forbids it",
    502: "The peer failed or could not be reached",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": {},
    }
    if "{id}" in op.path:
        out["parameters"] = [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        ]
    for q in op.query:
        out.setdefault("parameters", []).append(
            {"name": q, "in": "query", "required": False, "schema": {"type": "boolean"}}
        )
    if op.request:
        out["requestBody"] = {
            "required": op.request not in ("QuerySpec", "TerminateRequest"),
            "content": {"application/json": {"schema": _ref(op.request), "example": op.example}},
        }
    if op.status == 204:
        out["responses"]["204"] = {"description": "Done"}
    else:
        schema: dict[str, Any] = _ref(op.response) if op.response else {}
        if op.array:
            schema = {"type": "array", "items": schema}
        out["responses"]["200"] = {
            "description": "OK",
            "content": {"application/json": {"schema": schema}},
        }
    for status in (*op.errors, 401):
        out["responses"][str(status)] = {
            "description": ERROR_TEXT[status],
            "content": {"application/json": {"schema": _ref("ApiError")}},
        }
    return out


@cache
def _document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Karez Management API",
            "version": "3",
            "description": "EDC Management API v3 paths and JSON-LD shapes, plus Karez "
            "operator commands. Every call needs X-Api-Key.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
        },
        "security": [{"ApiKey": []}],
    }


def openapi_document(base_path: str) -> dict[str, Any]:
    doc = copy.deepcopy(_document())
    doc["servers"] = [{"url": base_path}]
    return doc
