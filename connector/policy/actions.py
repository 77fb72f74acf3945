"""Which requested actions a rule's action covers: ODRL 2.2's ``includedIn`` hierarchy.

In the ODRL 2.2 vocabulary every common action is included in ``use``, except ``give`` and
``sell`` (in ``transfer``) and ``extract`` (in ``reproduce``, itself in ``use``). Deprecated
actions with an exact match (``write`` is ``modify``, ``copy`` is ``reproduce``, ...) are read
as that match. An action no vocabulary places (a profile's own, say) is read as a kind of
``use``; a profile that means otherwise adds its action with :meth:`ActionTree.add`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from connector.domain import ODRL_NS
from connector.policy.model import ACTIONS, expand

USE = ODRL_NS + "use"
TRANSFER = ODRL_NS + "transfer"

_IN_USE = """grantUse compensate acceptTracking aggregate annotate anonymize archive attribute
    concurrentUse delete derive digitize display distribute ensureExclusivity execute include
    index inform install modify move nextPolicy obtainConsent play present print read reproduce
    reviewPolicy stream synchronize textToSpeech transform translate uninstall watermark
    lease lend preview secondaryUse adHocShare attachPolicy attachSource shareAlike
    commercialize share"""
_ELSEWHERE = {"give": "transfer", "sell": "transfer", "extract": "reproduce"}
_EXACT_MATCH = {
    "append": "modify",
    "appendTo": "modify",
    "write": "modify",
    "writeTo": "modify",
    "copy": "reproduce",
    "export": "transform",
    "license": "grantUse",
    "pay": "compensate",
    "extractChar": "extract",
    "extractPage": "extract",
    "extractWord": "extract",
}
_MEMO_LIMIT = 4096


class ActionTree:
    """Parents (``includedIn``) and aliases (exact matches) of action IRIs."""

    def __init__(
        self,
        parents: Mapping[str, Iterable[str]] | None = None,
        aliases: Mapping[str, str] | None = None,
        roots: Iterable[str] = (USE, TRANSFER),
    ) -> None:
        self._parents = {a: frozenset(p) for a, p in (parents or {}).items()}
        self._aliases = dict(aliases or {})
        self._roots = frozenset(roots)
        self._memo: dict[tuple[str, str], bool] = {}

    def add(self, action: str, included_in: str) -> None:
        """Place ``action`` under ``included_in`` (both IRIs or short ODRL names)."""
        action, parent = expand(action, ACTIONS), expand(included_in, ACTIONS)
        self._parents[action] = self._parents.get(action, frozenset()) | {parent}
        self._memo.clear()

    def alias(self, action: str, same_as: str) -> None:
        """Read ``action`` as ``same_as`` (ODRL's ``skos:exactMatch`` of deprecated terms)."""
        self._aliases[expand(action, ACTIONS)] = expand(same_as, ACTIONS)
        self._memo.clear()

    def copy(self) -> ActionTree:
        return ActionTree(self._parents, self._aliases, self._roots)

    def canonical(self, action: str) -> str:
        action = expand(action, ACTIONS)
        return self._aliases.get(action, action)

    def ancestors(self, action: str) -> set[str]:
        """``action`` and every action it is included in."""
        seen: set[str] = set()
        todo = [self.canonical(action)]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            parents = self._parents.get(current)
            if parents is None and current not in self._roots:
                parents = frozenset({USE})  # placed nowhere: a kind of use
            todo.extend(parents or ())
        return seen

    def includes(self, granted: str, requested: str) -> bool:
        """Whether a rule on ``granted`` covers a request for ``requested``."""
        key = (granted, requested)
        hit = self._memo.get(key)
        if hit is None:
            hit = self.canonical(granted) in self.ancestors(requested)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = hit
        return hit


def odrl_actions() -> ActionTree:
    """A fresh tree with the ODRL 2.2 vocabulary; add a profile's actions to your copy."""
    parents = {ODRL_NS + name: [USE] for name in _IN_USE.split()}
    parents |= {ODRL_NS + a: [ODRL_NS + p] for a, p in _ELSEWHERE.items()}
    aliases = {ODRL_NS + a: ODRL_NS + b for a, b in _EXACT_MATCH.items()}
    return ActionTree(parents, aliases)


#: The tree ``evaluate`` uses when given none. Do not add to it: copy it first.
ODRL_ACTIONS = odrl_actions()
