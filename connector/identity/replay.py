"""A bounded memory of token ids seen, each kept until its token can no longer be accepted."""

from __future__ import annotations

import heapq


class ReplayCache:
    """Remembers ``(issuer, jti)`` pairs until their expiry.

    Expired entries are evicted as new ones arrive. When the cache is full of unexpired
    entries it refuses new ones (fails closed) rather than forgetting live ids.
    """

    def __init__(self, max_size: int = 100_000) -> None:
        if max_size < 1:
            raise ValueError("max_size must be positive")
        self._max_size = max_size
        self._until: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, tuple[str, str]]] = []

    def __len__(self) -> int:
        return len(self._until)

    def seen(self, key: tuple[str, str], now: float) -> bool:
        """Whether ``key`` is remembered and still live."""
        until = self._until.get(key)
        return until is not None and until >= now

    def add(self, key: tuple[str, str], until: float, now: float) -> bool:
        """Remember ``key`` until ``until``; ``False`` if it was already live or no room is left."""
        self._evict(now)
        if self.seen(key, now):
            return False
        if len(self._until) >= self._max_size:
            return False
        self._until[key] = until
        heapq.heappush(self._heap, (until, key))
        return True

    def _evict(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] < now:
            until, key = heapq.heappop(heap)
            if self._until.get(key) == until:
                del self._until[key]
