"""QuerySpec bodies (``POST …/request``) and criteria (filters, asset selectors)."""

from __future__ import annotations

from typing import Any

from connector.domain import Criterion
from connector.errors import ValidationFailure
from connector.jsonld.expanded import is_list
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.base import EDC_NS, Fields, document, expand_body, join, plain
from connector.query import QuerySpec, validate_criteria


def parse_criterion(fields: Fields) -> Criterion:
    """``{operandLeft, operator, operandRight}``; ``in`` always gets a list on the right."""
    left = fields.text("operandLeft", required=True) or ""
    operator = fields.text("operator", required=True) or ""
    found = fields.items("operandRight")
    right: Any = None
    if len(found) == 1 and not is_list(found[0]):
        right = plain(found[0])
    elif found:
        members = [m for item in found for m in (item["@list"] if is_list(item) else [item])]
        right = [plain(m) for m in members]
    if operator.lower() == "in" and right is not None and not isinstance(right, list):
        right = [right]
    return Criterion(operand_left=left, operator=operator, operand_right=right)


def parse_criteria(fields: Fields, name: str) -> list[Criterion]:
    """The criteria listed under ``name``, validated (errors name ``name[i].operator``...)."""
    criteria = [parse_criterion(c) for c in fields.children(name)]
    validate_criteria(criteria, fields.at(name))
    return criteria


def query_spec_from(fields: Fields) -> QuerySpec:
    """A QuerySpec read from an expanded node (the body, or a nested ``querySpec``)."""
    offset = fields.integer("offset")
    limit = fields.integer("limit")
    sort_order = fields.text("sortOrder")
    sort_field = fields.text("sortField")
    criteria = parse_criteria(fields, "filterExpression")
    try:
        return QuerySpec(
            offset=0 if offset is None else offset,
            limit=50 if limit is None else limit,
            sort_order=sort_order or "ASC",
            sort_field=sort_field or None,
            filter_expression=criteria,
        )
    except ValidationFailure as exc:
        raise ValidationFailure(
            exc.message, path=join(fields.path, exc.path or ""), invalid_value=exc.invalid_value
        ) from None


def parse_query_spec(body: Any, *, processor: JsonLdProcessor | None = None) -> QuerySpec:
    """The QuerySpec of a ``…/request`` body; an absent or empty body means the defaults."""
    if not body:
        return QuerySpec()
    return query_spec_from(Fields(expand_body(body, processor)))


def criterion_node(criterion: Criterion) -> dict[str, Any]:
    """A criterion as EDC renders it (IRI-keyed)."""
    return {
        "@type": [EDC_NS + "Criterion"],
        EDC_NS + "operandLeft": criterion.operand_left,
        EDC_NS + "operator": criterion.operator,
        EDC_NS + "operandRight": criterion.operand_right,
    }


def render_query_spec(spec: QuerySpec) -> dict[str, Any]:
    """A QuerySpec as JSON-LD (used when a query is forwarded, e.g. in a catalog request)."""
    node: dict[str, Any] = {
        "@type": [EDC_NS + "QuerySpec"],
        EDC_NS + "offset": spec.offset,
        EDC_NS + "limit": spec.limit,
        EDC_NS + "sortOrder": spec.sort_order,
        EDC_NS + "sortField": spec.sort_field,
        EDC_NS + "filterExpression": [criterion_node(c) for c in spec.filter_expression],
    }
    return document(node)
