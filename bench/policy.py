"""Policy decisions per second for policies of 1, 5 and 20 constraints, beside the cost of
parsing the same policy, in one run.

    .venv/bin/python bench/policy.py [--seconds S]

Each policy is one permission in the DSP compact form whose constraints all hold (so every one
is evaluated): dateTime, a verified claim, purpose isAnyOf, use count and an ``or`` over claims,
repeated. "decide" evaluates an already parsed policy; "parse" is ``parse_policy`` of its JSON;
"parse+decide" is ``evaluate`` of the JSON, what a node does with a stored policy.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.policy import RequestContext, evaluate, parse_policy  # noqa: E402

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
CTX = RequestContext(
    now=NOW,
    participant_id="did:web:consumer.example",
    claims={"tier": "gold", "region": "EU", "certified": True},
    purpose="research",
    use_count=3,
    asset_id="urn:uuid:asset-1",
)
KINDS: list[dict[str, Any]] = [
    {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2027-12-31T00:00:00Z"},
    {"leftOperand": "karez:claim/tier", "operator": "eq", "rightOperand": "gold"},
    {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["research", "teaching"]},
    {"leftOperand": "count", "operator": "lt", "rightOperand": 10},
    {
        "or": [
            {"leftOperand": "karez:claim/region", "operator": "eq", "rightOperand": "US"},
            {"leftOperand": "karez:claim/certified", "operator": "eq", "rightOperand": True},
        ]
    },
]


def policy_json(n: int) -> dict[str, Any]:
    constraints = [KINDS[i % len(KINDS)] for i in range(n)]
    return {
        "@id": f"urn:uuid:policy-{n}",
        "@type": "Offer",
        "target": "urn:uuid:asset-1",
        "permission": [{"action": "use", "constraint": constraints}],
    }


def rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls per second: the best of three runs of about ``seconds`` / 3 each."""
    batch, best = 1, 0.0
    while True:  # size a batch to about 10 ms
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        if time.perf_counter() - t0 > 0.01:
            break
        batch *= 2
    for _ in range(3):
        calls, t0 = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds / 3:
            for _ in range(batch):
                fn()
            calls += batch
        best = max(best, calls / elapsed)
    return best


def main(seconds: float) -> None:
    print(f"{'constraints':>11} {'decide/s':>10} {'us':>7} {'parse/s':>10} {'us':>7}"
          f" {'parse+decide/s':>15} {'us':>7}")  # fmt: skip
    for n in (1, 5, 20):
        data = policy_json(n)
        parsed = parse_policy(data)
        assert evaluate(parsed, CTX).permitted, evaluate(parsed, CTX).explain()
        decide = rate(lambda p=parsed: evaluate(p, CTX), seconds)
        parse = rate(lambda d=data: parse_policy(d), seconds)
        both = rate(lambda d=data: evaluate(d, CTX), seconds)
        print(
            f"{n:>11} {decide:>10,.0f} {1e6 / decide:>7.1f} {parse:>10,.0f} {1e6 / parse:>7.1f}"
            f" {both:>15,.0f} {1e6 / both:>7.1f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    main(parser.parse_args().seconds)
