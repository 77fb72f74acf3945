"""Compliance reports (FORCE vocabulary) built from traced decisions."""

import json
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rdflib import RDF, Graph, Literal, URIRef

from connector.domain import KAREZ_NS
from connector.policy import Quantity, RequestContext, evaluate
from connector.policy.model import XSD_NS
from connector.policy.report import REPORT_NS, compliance_report

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
R = {n: URIRef(REPORT_NS + n) for n in ("rule", "activationState", "satisfactionState")}

POLICY: dict[str, Any] = {
    "@id": "urn:policy",
    "permission": [
        {
            "@id": "urn:perm",
            "action": {
                "rdf:value": {"@id": "odrl:print"},
                "refinement": [
                    {
                        "@id": "urn:dpi",
                        "leftOperand": "resolution",
                        "operator": "lteq",
                        "rightOperand": 1200,
                    }
                ],
            },
            "target": "urn:doc",
            "constraint": [
                {
                    "@id": "urn:window",
                    "and": [
                        {
                            "@id": "urn:after",
                            "leftOperand": "dateTime",
                            "operator": "gt",
                            "rightOperand": {"@value": "2026-01-01", "@type": "xsd:date"},
                        },
                        {
                            "@id": "urn:tier",
                            "leftOperand": KAREZ_NS + "claim/tier",
                            "operator": "eq",
                            "rightOperand": "gold",
                        },
                    ],
                }
            ],
            "duty": [{"@id": "urn:pay", "action": "compensate"}],
        }
    ],
    "prohibition": [{"@id": "urn:ban", "action": "distribute"}],
    "obligation": [{"@id": "urn:attr", "action": "attribute"}],
}


def report_for(**kw: Any) -> tuple[Any, dict[str, Any]]:
    ctx = RequestContext(
        now=NOW, participant_id="did:web:c", action="print", asset_id="urn:doc", **kw
    )
    decision = evaluate(POLICY, ctx, trace=True)
    return decision, compliance_report(decision, request_uid="urn:req", rule_request_uid="urn:rr")


def graph(report: dict[str, Any]) -> Graph:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return Graph().parse(data=json.dumps(report), format="json-ld")


def state_of(g: Graph, rule: str, prop: str = "activationState") -> str:
    node = g.value(None, R["rule"], URIRef(rule))
    if node is None:
        node = g.value(None, URIRef(REPORT_NS + "constraint"), URIRef(rule))
    return str(g.value(node, URIRef(REPORT_NS + prop))).removeprefix(REPORT_NS)


def test_permitted_report() -> None:
    decision, report = report_for(
        claims={"tier": "gold"}, values={"resolution": Quantity(600, "urn:dpi")}
    )
    assert decision.permitted and report["karez:permitted"] is True
    assert report["karez:decidedBy"] == "permission[0]"
    g = graph(report)
    assert (None, RDF.type, URIRef(REPORT_NS + "PolicyReport")) in g
    assert state_of(g, "urn:perm") == "Active"
    assert state_of(g, "urn:ban") == "Inactive"
    assert state_of(g, "urn:window", "satisfactionState") == "Satisfied"
    assert state_of(g, "urn:dpi", "satisfactionState") == "Satisfied"
    assert state_of(g, "urn:pay") == "Active" and state_of(g, "urn:pay", "deonticState") == "NonSet"
    assert state_of(g, "urn:attr") == "Active"
    seen = g.value(
        g.value(None, URIRef(REPORT_NS + "constraint"), URIRef("urn:after")),
        URIRef(REPORT_NS + "constraintLeftOperand"),
    )
    assert seen == Literal("2026-11-25T10:00:00Z", datatype=URIRef(XSD_NS + "dateTime"))
    assert list(g.objects(None, URIRef(REPORT_NS + "policyRequest"))) == [URIRef("urn:req")]


def test_denied_report_explains() -> None:
    decision, report = report_for(values={"resolution": 1300})
    assert not decision.permitted
    g = graph(report)
    assert state_of(g, "urn:perm") == "Inactive"
    assert state_of(g, "urn:dpi", "satisfactionState") == "Unsatisfied"
    assert state_of(g, "urn:tier", "satisfactionState") == "Unsatisfied"  # not known
    tier = g.value(None, URIRef(REPORT_NS + "constraint"), URIRef("urn:tier"))
    assert "no value for karez:claim/tier" in str(g.value(tier, URIRef(KAREZ_NS + "reason")))
    premise_types = {
        str(t).removeprefix(REPORT_NS)
        for p in g.objects(
            g.value(None, R["rule"], URIRef("urn:perm")), URIRef(REPORT_NS + "premiseReport")
        )
        for t in g.objects(p, RDF.type)
    }
    assert premise_types == {"TargetReport", "ActionReport", "ConstraintReport"}
    assert report["karez:explanation"] == decision.explain()


def test_values_become_typed_literals() -> None:
    policy = {
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {
                        "@id": "urn:c",
                        "leftOperand": "payAmount",
                        "operator": "gteq",
                        "rightOperand": 1,
                    }
                ],
            }
        ]
    }
    ctx = RequestContext(now=NOW, values={"payAmount": Decimal("2.50")})
    g = graph(compliance_report(evaluate(policy, ctx, trace=True)))
    node = g.value(None, URIRef(REPORT_NS + "constraint"), URIRef("urn:c"))
    assert g.value(node, URIRef(REPORT_NS + "constraintLeftOperand")) == Literal(
        "2.5", datatype=URIRef(XSD_NS + "decimal")
    )
    assert g.value(node, URIRef(REPORT_NS + "constraintRightOperand")) == Literal(1)


def test_report_needs_a_trace() -> None:
    decision = evaluate(POLICY, RequestContext(now=NOW))
    with pytest.raises(ValueError, match="trace=True"):
        compliance_report(decision)
