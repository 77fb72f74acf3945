"""``karez policy evaluate``: files in, decision or compliance report out."""

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from connector.policy_cli import add_policy_commands, main

TTL = """@prefix odrl: <http://www.w3.org/ns/odrl/2/> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dct: <http://purl.org/dc/terms/> .
"""
POLICY_TTL = (
    TTL
    + """
ex:base a odrl:Set ; odrl:prohibition [ odrl:action odrl:distribute ] .
ex:p a odrl:Set ; odrl:inheritFrom ex:base ; odrl:permission ex:perm .
ex:perm odrl:assignee ex:team ; odrl:action odrl:read ; odrl:target ex:x ;
    odrl:constraint ex:c .
ex:team a odrl:PartyCollection .
ex:c odrl:leftOperand odrl:dateTime ; odrl:operator odrl:lt ;
    odrl:rightOperand "2025-01-01T00:00:00Z"^^xsd:dateTime .
"""
)
REQUEST_TTL = (
    TTL
    + """
ex:r a odrl:Request ; odrl:permission ex:rp .
ex:rp odrl:assignee ex:alice ; odrl:action odrl:read ; odrl:target ex:x .
"""
)
STATE_TTL = (
    TTL
    + """
<http://example.com/request/currentTime> dct:issued "2024-06-01T00:00:00Z"^^xsd:dateTime .
ex:alice odrl:partOf ex:team .
"""
)


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["policy", "evaluate", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else err)


def test_turtle_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = write(tmp_path, "p.ttl", POLICY_TTL)
    request = write(tmp_path, "r.ttl", REQUEST_TTL)
    state = write(tmp_path, "s.ttl", STATE_TTL)
    code, out = run(capsys, "--policy", policy, "--request", request, "--state", state)
    assert code == 0 and out["permitted"] is True and out["rule"] == "permission[0]"
    assert out["ruleId"] == "http://example.org/perm"
    assert out["evaluatedAt"] == "2024-06-01T00:00:00Z"
    assert [r["path"] for r in out["rules"]] == ["permission[0]", "prohibition[0]"]
    code, out = run(capsys, "--policy", policy, "--request", request)  # no state: no membership
    assert code == 1 and out["permitted"] is False
    assert (
        "its assignee party collection http://example.org/team is not the requester"
        in out["explanation"][1]
    )


def test_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "--policy", write(tmp_path, "p.ttl", POLICY_TTL),
        "--request", write(tmp_path, "r.ttl", REQUEST_TTL),
        "--state", write(tmp_path, "s.ttl", STATE_TTL),
        "--report",
    ]  # fmt: skip
    code, report = run(capsys, *args)
    assert code == 0 and report["@type"] == "report:PolicyReport"
    [permission, prohibition] = report["report:ruleReport"]
    assert permission["report:rule"] == {"@id": "http://example.org/perm"}
    assert permission["report:ruleRequest"] == {"@id": "http://example.org/rp"}
    assert permission["report:activationState"] == {"@id": "report:Active"}
    assert prohibition["report:activationState"] == {"@id": "report:Inactive"}


def test_dsp_policy_and_plain_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = write(
        tmp_path,
        "p.json",
        {
            "@type": "Offer",
            "permission": [
                {
                    "action": "use",
                    "constraint": [
                        {
                            "leftOperand": "karez:claim/tier",
                            "operator": "eq",
                            "rightOperand": "gold",
                        },
                        {
                            "leftOperand": "purpose",
                            "operator": "isAnyOf",
                            "rightOperand": ["research", "teaching"],
                        },
                    ],
                    "duty": [{"action": "attribute"}],
                }
            ],
        },
    )
    request = {
        "participantId": "did:web:c",
        "claims": {"tier": "gold"},
        "purpose": "research",
        "now": "2026-01-01T00:00:00Z",
    }
    code, out = run(capsys, "--policy", policy, "--request", write(tmp_path, "r.json", request))
    assert code == 0 and out["duties"][0]["path"] == "permission[0].duty[0]"
    request["purpose"] = "marketing"
    code, out = run(capsys, "--policy", policy, "--request", write(tmp_path, "r.json", request))
    assert code == 1
    assert (
        "odrl:purpose isAnyOf [research, teaching] failed: saw marketing" in out["explanation"][1]
    )


def test_json_ld_policy_and_duties_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write(
        tmp_path,
        "p.jsonld",
        {
            "@context": "http://www.w3.org/ns/odrl.jsonld",
            "@type": "Set",
            "uid": "http://example.com/p",
            "permission": [
                {
                    "@id": "http://example.com/r",
                    "action": "play",
                    "duty": [{"@id": "http://example.com/d", "action": "compensate"}],
                }
            ],
        },
    )
    request = write(tmp_path, "r.json", {"action": "odrl:play", "now": "2026-01-01T00:00:00Z"})
    state = write(tmp_path, "s.json", {"dutyStates": {"http://example.com/d": "fulfilled"}})
    assert run(capsys, "--policy", policy, "--request", request)[0] == 0
    assert run(capsys, "--policy", policy, "--request", request, "--duties", "before")[0] == 1
    code, _ = run(
        capsys, "--policy", policy, "--request", request, "--state", state, "--duties", "before"
    )
    assert code == 0


def test_local_contexts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    context = write(
        tmp_path,
        "ctx.json",
        {"@context": {"ex": "http://example.org/", "odrl": "http://www.w3.org/ns/odrl/2/"}},
    )
    policy = write(
        tmp_path,
        "p.jsonld",
        {
            "@context": "https://example.org/my-context.jsonld",
            "@id": "ex:p",
            "@type": "odrl:Set",
            "odrl:permission": {"odrl:action": {"@id": "odrl:read"}},
        },
    )
    request = write(tmp_path, "r.json", {"action": "read", "now": "2026-01-01T00:00:00Z"})
    code, err = run(capsys, "--policy", policy, "--request", request)
    assert code == 2 and "Unknown JSON-LD context" in err
    mapping = f"https://example.org/my-context.jsonld={context}"
    code, out = run(capsys, "--policy", policy, "--request", request, "--context", mapping)
    assert code == 0 and out["policy"]["@id"] == "http://example.org/p"


@pytest.mark.parametrize(
    "policy,needle",
    [
        ({"permission": [{"constraint": []}]}, "permission[0].action: missing"),
        ("not turtle at all", "cannot be read"),
    ],
)
def test_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: Any, needle: str
) -> None:
    path = write(tmp_path, "p.json" if isinstance(policy, dict) else "p.ttl", policy)
    request = write(tmp_path, "r.json", {"action": "use"})
    code, err = run(capsys, "--policy", path, "--request", request)
    assert code == 2 and needle in err
    code, err = run(capsys, "--policy", str(tmp_path / "missing.ttl"), "--request", request)
    assert code == 2 and "missing.ttl" in err


def test_registers_on_the_karez_parser() -> None:
    parser = argparse.ArgumentParser(prog="karez")
    add_policy_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["policy", "evaluate", "--policy", "p", "--request", "r", "--report"])
    assert args.report and args.state is None and args.duties == "after" and callable(args.func)
