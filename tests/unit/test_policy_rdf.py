"""Reading policies, requests and states of the world from RDF graphs."""

from datetime import UTC, datetime

import pytest
from rdflib import Graph

from connector.domain import ODRL_NS
from connector.errors import ValidationFailure
from connector.policy import Constraint, Entity, LogicalConstraint, Value, evaluate
from connector.policy.model import XSD_NS
from connector.policy.rdf import (
    read_policies,
    read_policy,
    read_references,
    read_request,
    read_world,
    request_context,
)

PREFIXES = """
@prefix odrl: <http://www.w3.org/ns/odrl/2/> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix report: <https://w3id.org/force/compliance-report#> .
@prefix sotw: <https://w3id.org/force/sotw#> .
"""

POLICY = """
ex:p a odrl:Offer ; odrl:uid ex:p ; odrl:conflict odrl:perm ; odrl:inheritFrom ex:base ;
    odrl:permission ex:perm ; odrl:prohibition ex:prohib ; odrl:obligation ex:oblig .
ex:perm a odrl:Permission ;
    odrl:action [ rdf:value odrl:print ; odrl:refinement ex:dpi ] ;
    odrl:target ex:catalog ;
    odrl:assignee ex:alice ;
    odrl:constraint ex:seq , ex:both ;
    odrl:duty ex:pay .
ex:catalog a odrl:AssetCollection ; odrl:source ex:all ; odrl:refinement ex:csv .
ex:dpi odrl:leftOperand odrl:resolution ; odrl:operator odrl:lteq ;
    odrl:rightOperand "1200"^^xsd:integer ; odrl:unit ex:dotsPerInch .
ex:csv odrl:leftOperand odrl:fileFormat ; odrl:operator odrl:eq ; odrl:rightOperand "text/csv" .
ex:seq odrl:andSequence ( ex:c2 ex:c1 ) .
ex:both a odrl:LogicalConstraint ; odrl:and ex:c1 , ex:c2 .
ex:c1 odrl:leftOperand odrl:dateTime ; odrl:operator odrl:lt ;
    odrl:rightOperand "2030-01-01"^^xsd:date .
ex:c2 odrl:leftOperand odrl:purpose ; odrl:operator odrl:isAnyOf ;
    odrl:rightOperandReference ex:purposes .
ex:purposes rdf:value ex:research , ex:teaching .
ex:pay odrl:action odrl:compensate ; odrl:consequence ex:fine .
ex:fine odrl:action odrl:compensate .
ex:prohib odrl:action odrl:distribute ; odrl:remedy [ odrl:action odrl:delete ] .
ex:oblig odrl:action odrl:attribute .
ex:base a odrl:Set ; odrl:permission [ odrl:action odrl:read ] .
"""


def graph(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle")


def test_policy_with_everything() -> None:
    g = graph(POLICY)
    assert set(read_policies(g)) == {"http://example.org/p", "http://example.org/base"}
    policy = read_policy(g, "http://example.org/p")
    assert policy.type == "Offer" and policy.conflict == "perm"
    assert policy.inherit_from == ("http://example.org/base",)
    rule = policy.permissions[0]
    assert rule.uid == "http://example.org/perm" and rule.action is not None
    assert rule.action.iri == ODRL_NS + "print" and rule.action.uid is None
    [dpi] = rule.action.refinements
    assert isinstance(dpi, Constraint)
    assert dpi.right_operand == Value("1200", XSD_NS + "integer")
    assert dpi.unit == "http://example.org/dotsPerInch"
    assert rule.target == Entity(
        "http://example.org/catalog",
        "asset",
        True,
        "http://example.org/all",
        (
            Constraint(
                ODRL_NS + "fileFormat",
                ODRL_NS + "eq",
                Value("text/csv"),
                uid="http://example.org/csv",
            ),
        ),
    )
    assert rule.assignee == Entity("http://example.org/alice", "party")
    both, seq = rule.constraints  # sorted by node IRI
    assert isinstance(seq, LogicalConstraint) and seq.op == "andSequence"
    assert [m.uid for m in seq.members] == ["http://example.org/c2", "http://example.org/c1"]
    assert isinstance(both, LogicalConstraint) and both.op == "and" and both.uid
    c2 = seq.members[0]
    assert isinstance(c2, Constraint) and c2.right_operand is None
    assert c2.right_operand_reference == "http://example.org/purposes"
    assert rule.duties[0].consequences[0].uid == "http://example.org/fine"
    assert policy.prohibitions[0].duties[0].action is not None
    assert policy.prohibitions[0].duties[0].action.iri == ODRL_NS + "delete"
    assert policy.obligations[0].kind == "obligation"


def test_references() -> None:
    refs = read_references(graph(POLICY))
    assert refs["http://example.org/purposes"] == (
        Value("http://example.org/research", iri=True),
        Value("http://example.org/teaching", iri=True),
    )


def test_rule_without_action_covers_every_action() -> None:
    g = graph("ex:p a odrl:Set ; odrl:permission [ a odrl:Permission ] .")
    policy = read_policy(g)
    assert policy.permissions[0].action is None
    request = graph(
        "ex:r a odrl:Request ; odrl:permission [ odrl:assignee ex:bob ; odrl:action odrl:sell ] ."
    )
    ctx = request_context(read_request(request), now=datetime(2026, 1, 1, tzinfo=UTC))
    assert evaluate(policy, ctx).permitted


def test_odrl_request_and_world() -> None:
    request = read_request(
        graph(
            """ex:r a odrl:Request ; odrl:uid ex:r ; odrl:permission ex:rp .
            ex:rp odrl:assignee ex:alice ; odrl:action odrl:read ; odrl:target ex:x ;
                odrl:constraint [ odrl:leftOperand odrl:purpose ; odrl:operator odrl:eq ;
                                  odrl:rightOperand ex:research ] ."""
        )
    )
    assert (request.uid, request.rule_uid) == ("http://example.org/r", "http://example.org/rp")
    assert (request.party, request.action, request.target) == (
        "http://example.org/alice",
        ODRL_NS + "read",
        "http://example.org/x",
    )
    assert request.values == {ODRL_NS + "purpose": Value("http://example.org/research", iri=True)}
    world = read_world(
        graph(
            """<http://example.com/request/currentTime>
                dct:issued "2024-02-12T11:20:10.999Z"^^xsd:dateTime .
            ex:alice odrl:partOf ex:team . ex:x odrl:partOf ex:catalog .
            [] report:rule ex:pay ; report:deonticState report:Fulfilled .
            [] report:rule ex:fine ; report:performanceState report:Performed .
            [] report:rule ex:ban ; report:deonticState report:Violated ."""
        )
    )
    assert world.now == datetime(2024, 2, 12, 11, 20, 10, 999000, tzinfo=UTC)
    assert world.part_of["http://example.org/alice"] == frozenset({"http://example.org/team"})
    assert world.duty_states == {
        "http://example.org/pay": "fulfilled",
        "http://example.org/fine": "fulfilled",
        "http://example.org/ban": "violated",
    }
    ctx = request_context(request, world, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert ctx.now == world.now and ctx.member_of(
        "http://example.org/x", "http://example.org/catalog"
    )
    assert ctx.purpose is None and ctx.values[ODRL_NS + "purpose"].iri


def test_sotw_evaluation_request() -> None:
    request = read_request(
        graph(
            """ex:r a sotw:EvaluationRequest ; sotw:evaluatedParty ex:alice ;
                sotw:evaluatedAction odrl:play ; sotw:evaluatedTarget ex:song ;
                sotw:requestParameter [ sotw:value "2025-08-03T00:00:00"^^xsd:dateTime ;
                                        sotw:describesFeature sotw:CurrentXSDDateTime ] ,
                                      [ sotw:value "1300"^^xsd:integer ;
                                        sotw:describesFeature odrl:resolution ] ."""
        )
    )
    assert request.party == "http://example.org/alice" and request.action == ODRL_NS + "play"
    assert request.now == datetime(2025, 8, 3, tzinfo=UTC)
    assert request.values == {ODRL_NS + "resolution": Value("1300", XSD_NS + "integer")}


RULE = "ex:a a odrl:Set ; odrl:permission [ odrl:action odrl:use ; odrl:constraint [ %s ] ] ."


@pytest.mark.parametrize(
    "text,needle",
    [
        ("", "expected exactly one policy in the graph, found none"),
        ("ex:a a odrl:Set . ex:b a odrl:Set .", "found http://example.org/a, http://example.org/b"),
        (RULE % "odrl:leftOperand odrl:count", "operator: missing"),
        (RULE % "odrl:leftOperand odrl:count ; odrl:operator odrl:eq", "rightOperand: missing"),
        ("ex:a a odrl:Set ; odrl:conflict ex:maybe .", "must be odrl:perm"),
        (
            "ex:a a odrl:Set ; odrl:permission [ odrl:action odrl:use, odrl:read ] .",
            "expected one value",
        ),
    ],
)
def test_bad_policies(text: str, needle: str) -> None:
    with pytest.raises(ValidationFailure, match=needle):
        read_policy(graph(text))


def test_no_request() -> None:
    with pytest.raises(ValidationFailure, match="no odrl:Request"):
        read_request(graph("ex:a a odrl:Set ."))
