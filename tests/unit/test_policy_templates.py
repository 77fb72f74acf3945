"""The policy templates in ``policies/``: each parses, is a valid DSP 2025-1 offer, names only
known profile terms, and decides every case of its ``cases.json`` as the case expects, with the
explanation the case names. The claims are the ones the integration test gives its consumers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector import profile
from connector.controlplane.decisions import ConfiguredClaims, PolicyDecider, explanation
from connector.controlplane.profile_operands import profile_actions, profile_registry
from connector.domain import KAREZ_NS, ODRL_NS, Asset
from connector.management_codec.odrl import odrl_terms
from connector.management_codec.policies import parse_policy_definition
from connector.policy import RequestContext, evaluate, parse_policy
from connector.protocol.validation import validate

ROOT = Path(__file__).resolve().parents[2] / "policies"
TEMPLATES = sorted(p.name for p in ROOT.iterdir() if (p / "policy.json").is_file())
EXPECTED = {
    "cluster-open",
    "research-90-days",
    "public-data-operation",
    "cross-border",
    "pi-masking",
    "compute-only",
    "paid-access",
}
# Fixed, so that the dated template (public-data-operation) decides the same in any year.
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
XSD = "http://www.w3.org/2001/XMLSchema#"
DCAT_DATASET = "http://www.w3.org/ns/dcat#Dataset"
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"


CONSUMERS = json.loads((ROOT / "consumers.json").read_text(encoding="utf-8"))["consumers"]
CLAIMS: dict[str, dict[str, Any]] = {name: c["claims"] for name, c in CONSUMERS.items()}
PARTICIPANTS = {name: c["participantId"] for name, c in CONSUMERS.items()}


def decider(claims: dict[str, dict[str, Any]] = CLAIMS) -> PolicyDecider:
    ids = {PARTICIPANTS[n]: c for n, c in claims.items()}
    return PolicyDecider(ConfiguredClaims({p: n for n, p in PARTICIPANTS.items()}, ids))


def policy_of(name: str) -> dict[str, Any]:
    return json.loads((ROOT / name / "policy.json").read_text(encoding="utf-8"))


def cases_of(name: str) -> list[dict[str, Any]]:
    return json.loads((ROOT / name / "cases.json").read_text(encoding="utf-8"))


ALL_CASES = [
    pytest.param(name, case, id=f"{name}: {case['name']}")
    for name in TEMPLATES
    for case in cases_of(name)
]


def asset_for(case: dict[str, Any], index: int = 0) -> Asset:
    return Asset(id=f"urn:karez:asset:case-{index}", properties=case["asset"])


def said(decision: Any) -> str:
    """The explanation as the node writes it into a refusal (``errorDetail``)."""
    return "; ".join(explanation(decision))


# -- the templates as documents ------------------------------------------------------------------


def test_the_issue_templates_are_all_there() -> None:
    assert set(TEMPLATES) == EXPECTED
    for name in TEMPLATES:
        assert (ROOT / name / "README.md").is_file(), name


def test_the_index_lists_every_template() -> None:
    index = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in TEMPLATES:
        assert f"({name}/)" in index, name


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_parses_and_is_a_dsp_offer(name: str) -> None:
    policy = policy_of(name)
    parsed = parse_policy(policy)
    assert parsed.permissions, "every template grants something"
    validate("Offer", {**policy, "@id": "urn:x", "@type": "Offer"})


def _walk(node: Any, key: str = "") -> Any:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)
    else:
        yield key, node


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_terms_are_short_odrl_names_or_full_karez_iris(name: str) -> None:
    for key, value in _walk(policy_of(name)):
        assert not isinstance(value, bool | int | float), f"{key}: bare JSON literal {value!r}"
        if key in ("action", "leftOperand"):
            # a short name must be one the W3C ODRL context defines, or the Management API
            # would read it as an EDC term
            assert value in odrl_terms() or value.startswith(KAREZ_NS), value
        elif key == "rightOperand" and isinstance(value, str) and value.startswith(KAREZ_NS):
            assert profile.concept(value) is not None, f"{value} is no concept of the profile"
        elif isinstance(value, str):
            assert not value.startswith(("karez:", "odrl:")), f"{key}: prefixed {value}"


@pytest.mark.parametrize("name", TEMPLATES)
def test_cases_are_well_formed_and_cover_both_outcomes(name: str) -> None:
    cases = cases_of(name)
    allowed = forbidden = 0
    for case in cases:
        assert case["consumer"] in PARTICIPANTS
        assert case["expect"] in ("FINALIZED", "TERMINATED")
        assert isinstance(case["explain"], list)
        refused = case["expect"] == "TERMINATED" or case.get("expect_transfer") == "TERMINATED"
        if refused:
            assert case["explain"], f"{case['name']}: a refusal names its explanation"
        if case.get("transfers"):
            assert case["expect"] == "FINALIZED"
            assert case.get("expect_transfer") in ("STARTED", "TERMINATED")
        forbidden += refused
        allowed += case["expect"] == "FINALIZED"
    assert allowed and forbidden


@pytest.mark.parametrize(("name", "case"), ALL_CASES)
def test_case_asset_is_a_valid_karez_dataset(name: str, case: dict[str, Any]) -> None:
    """A node with the default `asset_validation` checks created assets against the shapes."""
    node = {"@id": "urn:karez:asset:case", "@type": DCAT_DATASET, **case["asset"]}
    assert profile.validate_dataset(node) == []


def stored(name: str) -> dict[str, Any]:
    """The template as ``POST /v3/policydefinitions`` stores it."""
    body = {
        "@context": [{"@vocab": "https://w3id.org/edc/v0.0.1/ns/"}, ODRL_CONTEXT],
        "@id": name,
        "policy": policy_of(name),
    }
    return parse_policy_definition(body).policy


@pytest.mark.parametrize(("name", "case"), ALL_CASES)
def test_case_decides_the_same_when_stored_through_the_management_api(
    name: str, case: dict[str, Any]
) -> None:
    decide = decider().decide
    who, asset = PARTICIPANTS[case["consumer"]], asset_for(case)
    here = decide(policy_of(name), who, "negotiation", asset=asset, now=NOW)
    there = decide(stored(name), who, "negotiation", asset=asset, now=NOW)
    assert here is not None and there is not None
    assert there.permitted is here.permitted
    assert [d.rule.action_iri for d in there.duties] == [d.rule.action_iri for d in here.duties]


# -- the cases, decided as the provider node decides ---------------------------------------------


@pytest.mark.parametrize(("name", "case"), ALL_CASES)
def test_case_negotiation(name: str, case: dict[str, Any]) -> None:
    decision = decider().decide(
        policy_of(name),
        PARTICIPANTS[case["consumer"]],
        "negotiation",
        asset=asset_for(case),
        now=NOW,
    )
    text = said(decision)
    assert decision is not None
    assert decision.permitted is (case["expect"] == "FINALIZED"), text
    if case["expect"] == "TERMINATED":
        for part in case["explain"]:
            assert part in text, f"{part!r} not in: {text}"


@pytest.mark.parametrize(("name", "case"), [p for p in ALL_CASES if p.values[1].get("transfers")])
def test_case_transfers(name: str, case: dict[str, Any]) -> None:
    """The n-th transfer start counts n uses (``odrl:count``) of an agreement made just now."""
    outcomes = []
    for uses in range(1, case["transfers"] + 1):
        decision = decider().decide(
            policy_of(name),
            PARTICIPANTS[case["consumer"]],
            "transfer",
            asset=asset_for(case),
            agreement_time=NOW,
            use_count=uses,
            now=NOW + timedelta(minutes=uses),
        )
        assert decision is not None
        outcomes.append(decision)
    *earlier, last = outcomes
    assert all(d.permitted for d in earlier), [said(d) for d in earlier]
    assert last.permitted is (case["expect_transfer"] == "STARTED"), said(last)
    if case["expect_transfer"] == "TERMINATED":
        for part in case["explain"]:
            assert part in said(last), f"{part!r} not in: {said(last)}"


# -- what the cases cannot show between live nodes (time, revocation, other actions) -------------

COTTON = next(c for c in cases_of("cluster-open") if c["expect"] == "FINALIZED")


def later(name: str, who: str, *, days: int, uses: int = 1, claims: Any = CLAIMS) -> Any:
    """A transfer decision ``days`` after the agreement was signed at ``NOW``."""
    return decider(claims).decide(
        policy_of(name),
        PARTICIPANTS[who],
        "transfer",
        asset=asset_for(COTTON),
        agreement_time=NOW,
        use_count=uses,
        now=NOW + timedelta(days=days),
    )


def test_research_use_ends_after_90_days() -> None:
    assert later("research-90-days", "alpha", days=90).permitted
    refused = later("research-90-days", "alpha", days=91)
    assert not refused.permitted
    assert "elapsedTime lteq P90D failed: saw P91D" in said(refused)


def test_paid_access_ends_after_a_year() -> None:
    assert later("paid-access", "beta", days=365).permitted
    refused = later("paid-access", "beta", days=366)
    assert not refused.permitted and "elapsedTime" in said(refused)


def test_public_data_operation_ends_with_its_term() -> None:
    case = cases_of("public-data-operation")[0]
    for moment, ok in (
        (datetime(2025, 12, 31, 23, 59, tzinfo=UTC), False),
        (datetime(2030, 12, 31, 23, 59, tzinfo=UTC), True),
        (datetime(2031, 1, 1, tzinfo=UTC), False),
    ):
        d = decider().decide(
            policy_of("public-data-operation"),
            PARTICIPANTS["alpha"],
            "negotiation",
            asset=asset_for(case),
            now=moment,
        )
        assert d is not None and d.permitted is ok, said(d)
        if not ok:
            assert "dateTime" in said(d)


def test_public_data_operation_is_revoked_with_the_operator_claim() -> None:
    """Transfers re-check the policy against the claims of the moment: once the implementing
    body withdraws the operator's status, the next transfer is refused."""
    revoked = {**CLAIMS, "alpha": {**CLAIMS["alpha"], "organisationType": []}}
    assert later("public-data-operation", "alpha", days=1).permitted
    refused = later("public-data-operation", "alpha", days=1, claims=revoked)
    assert not refused.permitted
    assert "organisationType" in said(refused) and "no value" in said(refused)


def test_a_consumer_of_unknown_jurisdiction_counts_as_abroad() -> None:
    """A consumer without a jurisdiction claim is taken to be abroad (fail closed)."""
    case = next(c for c in cases_of("cross-border") if c["consumer"] == "alpha")
    unknown = {**CLAIMS, "alpha": {k: v for k, v in CLAIMS["alpha"].items() if k != "jurisdiction"}}
    d = decider(unknown).decide(
        policy_of("cross-border"), PARTICIPANTS["alpha"], "negotiation", asset=asset_for(case)
    )
    assert d is not None and not d.permitted
    assert "consumerJurisdiction" in said(d)


def _request(name: str, who: str, action: str, case: dict[str, Any]) -> Any:
    ctx = RequestContext(
        now=NOW,
        participant_id=PARTICIPANTS[who],
        claims=CLAIMS[who],
        action=action,
        asset_id="urn:karez:asset:case-0",
        agreement_time=NOW,
        use_count=0,
        values={k: v for k, v in case["asset"].items() if k.startswith(KAREZ_NS)},
    )
    return evaluate(
        parse_policy(policy_of(name)), ctx, profile_registry(), actions=profile_actions()
    )


@pytest.mark.parametrize(
    ("name", "who", "action"),
    [
        ("compute-only", "gamma", "reproduce"),
        ("compute-only", "gamma", "distribute"),
        ("public-data-operation", "alpha", "ensureExclusivity"),
        ("public-data-operation", "alpha", "derive"),
        ("public-data-operation", "alpha", "grantUse"),
        ("public-data-operation", "alpha", "distribute"),
        ("paid-access", "beta", "distribute"),
    ],
)
def test_prohibited_actions_are_refused_when_asked_for(name: str, who: str, action: str) -> None:
    """The node asks for ``use`` today; once the data plane asks for these, they are refused."""
    case = next(c for c in cases_of(name) if c["consumer"] == who and c["expect"] == "FINALIZED")
    assert _request(name, who, "use", case).permitted
    refused = _request(name, who, action, case)
    assert not refused.permitted
    assert refused.rule is not None and refused.rule.startswith("prohibition[")


@pytest.mark.parametrize(
    ("name", "duty", "words"),
    [
        ("pi-masking", KAREZ_NS + "anonymize", "karez:anonymize"),
        ("compute-only", KAREZ_NS + "compute", "karez:compute"),
        ("paid-access", ODRL_NS + "compensate", "payAmount eq 500.00"),
    ],
)
def test_duties_are_listed_in_the_decision(name: str, duty: str, words: str) -> None:
    case = next(c for c in cases_of(name) if c["expect"] == "FINALIZED")
    d = decider().decide(
        policy_of(name), PARTICIPANTS[case["consumer"]], "negotiation", asset=asset_for(case)
    )
    assert d is not None and d.permitted
    assert [p.rule.action_iri for p in d.duties] == [duty]
    assert words in said(d)


def test_paid_access_names_its_currency() -> None:
    [duty] = parse_policy(policy_of("paid-access")).permissions[0].duties
    [amount] = duty.constraints
    assert amount.left_operand == ODRL_NS + "payAmount"
    assert amount.right_operand.datatype == XSD + "decimal"
    assert amount.unit == "http://dbpedia.org/resource/Renminbi"
