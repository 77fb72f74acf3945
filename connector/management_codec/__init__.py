"""Management API v3 codec: request bodies to domain objects, domain objects to EDC's JSON-LD.

Parsing expands a body with the offline JSON-LD processor, so every context EDC and
Tractus-X clients use works (``@vocab``, ``edc:`` prefixes, the management and Catena-X
contexts, ``odrl:`` terms, already expanded). Rendering produces EDC v3's compacted shapes with
:data:`RESPONSE_CONTEXT`; those objects are also what :mod:`connector.query` filters.
"""

from connector.management_codec.assets import parse_asset, render_asset
from connector.management_codec.catalog import (
    CatalogRequest,
    DatasetRequest,
    parse_catalog_request,
    parse_dataset_request,
    render_catalog,
)
from connector.management_codec.common import (
    RESPONSE_CONTEXT,
    parse_terminate,
    render_id_response,
)
from connector.management_codec.contract_definitions import (
    parse_contract_definition,
    render_contract_definition,
)
from connector.management_codec.edrs import render_edr_data_address, render_edr_entry
from connector.management_codec.errors import render_error, render_exception
from connector.management_codec.negotiations import (
    ContractRequest,
    parse_contract_request,
    parse_counter,
    render_agreement,
    render_negotiation,
    render_negotiation_state,
)
from connector.management_codec.policies import parse_policy_definition, render_policy_definition
from connector.management_codec.query_spec import parse_query_spec
from connector.management_codec.secrets import parse_secret, render_secret
from connector.management_codec.transfers import (
    TransferRequest,
    parse_transfer_request,
    render_transfer,
    render_transfer_state,
)

__all__ = [
    "RESPONSE_CONTEXT",
    "CatalogRequest",
    "ContractRequest",
    "DatasetRequest",
    "TransferRequest",
    "parse_asset",
    "parse_catalog_request",
    "parse_contract_definition",
    "parse_contract_request",
    "parse_counter",
    "parse_dataset_request",
    "parse_policy_definition",
    "parse_query_spec",
    "parse_secret",
    "parse_terminate",
    "parse_transfer_request",
    "render_agreement",
    "render_asset",
    "render_catalog",
    "render_contract_definition",
    "render_edr_data_address",
    "render_edr_entry",
    "render_error",
    "render_exception",
    "render_id_response",
    "render_negotiation",
    "render_negotiation_state",
    "render_policy_definition",
    "render_secret",
    "render_transfer",
    "render_transfer_state",
]
