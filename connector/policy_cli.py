"""``karez policy evaluate``: try an ODRL policy on one request before publishing it.

    karez policy evaluate --policy P --request R [--state S] [--report]

Files are Turtle (``.ttl``, ``.nt``) or JSON. A JSON file with an ``@context`` is JSON-LD: it
is expanded offline with the bundled contexts (``--context URL=FILE`` serves further ones from
local files; nothing is fetched) and read as RDF, like Turtle. A JSON policy without one is
the DSP compact form Karez stores. A JSON request or state without one is a plain object:

    {"participantId": "did:web:...", "action": "use", "target": "urn:...", "purpose": "...",
     "jurisdiction": "DE", "claims": {...}, "agreementTime": "...", "useCount": 3,
     "scope": "negotiation", "now": "...", "values": {"odrl:resolution": 1200},
     "partOf": {"did:web:...": ["urn:group"]}, "dutyStates": {"urn:duty": "fulfilled"}}

The evaluation time is the request's or the state's, else ``--now``, else the clock. Prints
the decision with its explanation as JSON, or with ``--report`` the compliance report (FORCE
vocabulary). Exit status: 0 permitted, 1 denied, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.errors import KarezError, ValidationFailure

if TYPE_CHECKING:  # the command imports its machinery only when it runs
    from rdflib import Graph

    from connector.jsonld import JsonLdProcessor
    from connector.policy import Decision, DutyMode, OperandRegistry, Policy, RequestContext
    from connector.policy.actions import ActionTree
    from connector.policy.model import RightOperand
    from connector.policy.rdf import EvaluationRequest, World


@dataclass(frozen=True)
class Inputs:
    """A policy, a request in its state of the world, and what evaluation needs besides."""

    policy: Policy
    context: RequestContext
    policies: Mapping[str, Policy]  # for inheritFrom
    references: Mapping[str, RightOperand]  # for rightOperandReference
    request_uid: str | None = None
    rule_request_uid: str | None = None


def add_policy_commands(subparsers: Any) -> None:
    """Register ``policy evaluate`` on the ``karez`` command's subparsers."""
    policy = subparsers.add_parser("policy", help="try ODRL policies")
    sub = policy.add_subparsers(dest="policy_command", required=True)
    ev = sub.add_parser(
        "evaluate",
        help="evaluate one policy for one request and explain the decision",
        description=__doc__.split("\n\n", 2)[2] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ev.add_argument("--policy", required=True, help="the policy (Turtle, JSON-LD or DSP JSON)")
    ev.add_argument("--request", required=True, help="the request (Turtle, JSON-LD or JSON)")
    ev.add_argument("--state", help="the state of the world (Turtle, JSON-LD or JSON)")
    ev.add_argument("--report", action="store_true", help="print a compliance report instead")
    ev.add_argument(
        "--duties",
        choices=("after", "before"),
        default="after",
        help="duties may be fulfilled after acting (default) or are preconditions",
    )
    ev.add_argument("--now", help="evaluation time when the request and state give none")
    ev.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="URL=FILE",
        help="serve the JSON-LD context URL from a local file (repeatable)",
    )
    ev.set_defaults(func=cmd_policy_evaluate)


def cmd_policy_evaluate(args: argparse.Namespace) -> int:
    from connector.policy.operators import parse_datetime

    contexts = dict(_pair(item) for item in args.context)
    now = parse_datetime(args.now) if args.now else datetime.now(UTC)
    inputs = load_inputs(args.policy, args.request, args.state, contexts=contexts, now=now)
    from connector.controlplane.profile_operands import profile_actions, profile_registry

    # the node's own operands and actions: the Karez profile on top of ODRL's
    decision = evaluate_inputs(
        inputs, registry=profile_registry(), actions=profile_actions(), duty_mode=args.duties
    )
    print(json.dumps(render(decision, inputs, report=args.report), indent=2, ensure_ascii=False))
    return 0 if decision.permitted else 1


def load_inputs(
    policy: str | Path,
    request: str | Path,
    state: str | Path | None = None,
    *,
    contexts: Mapping[str, str | Path] | None = None,
    now: datetime,
) -> Inputs:
    """Read the three files; ``now`` is the time when neither request nor state gives one."""
    from connector.jsonld import BundledLoader, JsonLdProcessor
    from connector.policy.rdf import (
        World,
        read_policies,
        read_references,
        read_request,
        read_world,
        request_context,
    )

    processor = JsonLdProcessor(BundledLoader(contexts))
    world, state_graph, plain_state = World(), None, None
    if state is not None:
        plain_state, state_graph = _read(Path(state), processor)
        world = _plain_world(plain_state) if plain_state is not None else read_world(state_graph)
    plain_policy, policy_graph = _read(Path(policy), processor)
    policies: dict[str, Policy] = {}
    references: dict[str, RightOperand] = dict(world.references)
    if plain_policy is not None:
        chosen = _parse_plain(plain_policy, Path(policy))
    else:
        assert policy_graph is not None
        policies = read_policies(policy_graph + state_graph if state_graph else policy_graph)
        chosen = _choose(policies, read_policies(policy_graph), Path(policy))
        references = {**read_references(policy_graph), **references}
    plain_request, request_graph = _read(Path(request), processor)
    if plain_request is not None:
        parsed, extra = _plain_request(plain_request)
    else:
        assert request_graph is not None
        parsed, extra = read_request(request_graph), {}
    ctx = request_context(parsed, world, now=now)
    for key in ("part_of", "duty_states"):  # a plain request adds to the state's
        if key in extra:
            extra[key] = {**getattr(ctx, key), **extra[key]}
    if extra:
        ctx = replace(ctx, **extra)
    return Inputs(chosen, ctx, policies, references, parsed.uid, parsed.rule_uid)


def evaluate_inputs(
    inputs: Inputs,
    *,
    registry: OperandRegistry | None = None,
    actions: ActionTree | None = None,
    duty_mode: DutyMode = "after",
) -> Decision:
    """The traced decision for ``inputs`` (the command's evaluation, for tests and tools)."""
    from connector.policy import evaluate

    return evaluate(
        inputs.policy,
        inputs.context,
        registry,
        actions=actions,
        lookup=inputs.policies.get,
        references=inputs.references.get,
        duty_mode=duty_mode,
        trace=True,
    )


def render(decision: Decision, inputs: Inputs, *, report: bool) -> dict[str, Any]:
    """What the command prints: the decision record, or the compliance report."""
    from connector.policy.report import compliance_report

    if report:
        return compliance_report(
            decision, request_uid=inputs.request_uid, rule_request_uid=inputs.rule_request_uid
        )
    return decision.to_record()


# -- reading files -----------------------------------------------------------------------------


def _read(path: Path, processor: JsonLdProcessor) -> tuple[Any, Graph | None]:
    """``(plain JSON, None)`` for JSON without ``@context``, else ``(None, graph)``."""
    from rdflib import Graph

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationFailure(f"{path}: {exc.strerror or exc}", path=str(path)) from None
    graph = Graph()
    try:
        if path.suffix in (".json", ".jsonld") or text.lstrip()[:1] in ("{", "["):
            doc = json.loads(text)
            if not _has_context(doc):
                return doc, None
            graph = jsonld_graph(processor.expand(doc), path.resolve().as_uri())
        else:
            fmt = "nt" if path.suffix == ".nt" else "turtle"
            graph.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
    except KarezError as exc:
        raise ValidationFailure(f"{path}: {exc.message}", path=str(path)) from None
    except Exception as exc:  # rdflib and json raise many kinds
        raise ValidationFailure(f"{path}: cannot be read: {exc}", path=str(path)) from None
    return None, graph


def jsonld_graph(doc: Any, base: str | None = None) -> Graph:
    """The RDF graph of a JSON-LD document that needs no remote context (expanded, or with
    inline contexts); relative IRIs are resolved against ``base``."""
    from rdflib import Graph

    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated class
        warnings.simplefilter("ignore", DeprecationWarning)
        return Graph().parse(data=json.dumps(doc), format="json-ld", publicID=base)


def _has_context(doc: Any) -> bool:
    if isinstance(doc, dict):
        return "@context" in doc
    return isinstance(doc, list) and any(isinstance(d, dict) and "@context" in d for d in doc)


def _parse_plain(doc: Any, path: Path) -> Policy:
    from connector.policy import parse_policy

    try:
        return parse_policy(doc)
    except ValidationFailure as exc:
        raise ValidationFailure(f"{path}: {exc.message}", path=exc.path) from None


def _choose(everything: Mapping[str, Policy], here: Mapping[str, Policy], path: Path) -> Policy:
    """The file's policy: its only one, or the only one no other one inherits from."""
    if len(here) == 1:
        return next(iter(here.values()))
    parents = {iri for p in here.values() for iri in p.inherit_from}
    leaves = [p for iri, p in here.items() if iri not in parents]
    if len(leaves) == 1:
        return leaves[0]
    names = ", ".join(here) or "none"
    raise ValidationFailure(f"{path}: expected one policy to evaluate, found {names}")


def _plain_request(doc: Any) -> tuple[EvaluationRequest, dict[str, Any]]:
    from connector.policy.rdf import EvaluationRequest

    if not isinstance(doc, dict):
        raise ValidationFailure("a plain JSON request must be an object")
    world = _plain_world(doc)
    request = EvaluationRequest(
        uid=doc.get("@id"),
        party=doc.get("participantId"),
        action=doc.get("action"),
        target=doc.get("target"),
        values=world.values,
        now=world.now,
    )
    extra: dict[str, Any] = {}
    for key, name in (
        ("claims", "claims"),
        ("purpose", "purpose"),
        ("jurisdiction", "jurisdiction"),
        ("useCount", "use_count"),
        ("scope", "scope"),
    ):
        if key in doc:
            extra[name] = doc[key]
    if "agreementTime" in doc:
        extra["agreement_time"] = _time(doc["agreementTime"], "agreementTime")
    if world.part_of:
        extra["part_of"] = world.part_of
    if world.duty_states:
        extra["duty_states"] = world.duty_states
    return request, extra


def _plain_world(doc: Any) -> World:
    from connector.policy.rdf import World

    if not isinstance(doc, dict):
        raise ValidationFailure("a plain JSON state must be an object")
    part_of = doc.get("partOf", {})
    return World(
        now=_time(doc["now"], "now") if "now" in doc else None,
        part_of={k: frozenset(v if isinstance(v, list) else [v]) for k, v in part_of.items()},
        duty_states=dict(doc.get("dutyStates", {})),
        values=dict(doc.get("values", {})),
    )


def _time(text: Any, key: str) -> datetime:
    from connector.policy.operators import parse_datetime

    try:
        return parse_datetime(str(text))
    except ValueError as exc:
        raise ValidationFailure(f"{key}: {exc}", path=key) from None


def _pair(item: str) -> tuple[str, str]:
    url, sep, file = item.partition("=")
    if not sep or not url or not file:
        raise ValidationFailure(f"--context {item!r}: expected URL=FILE")
    return url, file


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``policy ...`` on its own (``python -m connector.policy_cli policy evaluate ...``)."""
    parser = argparse.ArgumentParser(prog="karez")
    add_policy_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (KarezError, ValueError) as exc:
        print(f"karez: {exc.message if isinstance(exc, KarezError) else exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
