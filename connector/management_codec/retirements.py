"""Agreement retirements (Tractus-X): ``POST /v3/contractagreements/retirements`` bodies and
the entries ``POST /v3/contractagreements/retirements/request`` lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connector.domain import EDC_NS, AgreementRetirement
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.base import RESPONSE_CONTEXT, TX_NS, Fields, expand_body


def parse_retirement(body: Any, *, processor: JsonLdProcessor | None = None) -> AgreementRetirement:
    """``agreementId`` (EDC namespace, required) and ``tx:reason`` (a plain ``reason`` is read
    too)."""
    fields = Fields(expand_body(body, processor), fallback=(TX_NS,))
    agreement_id = fields.text("agreementId", required=True) or ""
    reason = Fields(fields.node, ns=TX_NS, fallback=(EDC_NS,)).text("reason")
    return AgreementRetirement(id=agreement_id, reason=reason or "no reason given")


def render_retirement(entry: AgreementRetirement) -> dict[str, Any]:
    """One ``AgreementsRetirementEntry`` (Tractus-X terms under ``tx:``); the date is RFC 3339
    UTC."""
    retired = datetime.fromtimestamp(entry.retired_at / 1000, UTC)
    return {
        "@context": {**RESPONSE_CONTEXT, "tx": TX_NS},
        "@id": entry.id,
        "@type": "tx:AgreementsRetirementEntry",
        "agreementId": entry.id,
        "tx:reason": entry.reason,
        "tx:agreementRetirementDate": retired.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"
        ),
    }
