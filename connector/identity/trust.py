"""Which participants this node trusts, and with which public keys.

Keys are parsed once, when added, so that token checks only do a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ValidationFailure
from connector.identity.jose import jose_key
from connector.identity.keys import PublicKey, algorithm_of, jwk_thumbprint, public_key_from_jwk


@dataclass(frozen=True)
class TrustedKey:
    """One verified-at-load public key of a participant."""

    participant_id: str
    kid: str
    alg: str
    public_key: PublicKey
    jwk: Mapping[str, Any]
    #: The key in the form the JOSE layer verifies with (built once).
    verifier: Any = field(repr=False, compare=False)


class TrustedParticipants:
    """Participant id -> public JWKs; lookup by ``(participant id, kid)``."""

    def __init__(self) -> None:
        self._keys: dict[str, dict[str, TrustedKey]] = {}

    @classmethod
    def from_config(
        cls, config: Mapping[str, Iterable[Mapping[str, Any]]] | Iterable[Mapping[str, Any]]
    ) -> TrustedParticipants:
        """Build from ``{participant_id: [jwk, ...]}`` or ``[{"id": ..., "keys": [jwk, ...]}]``."""
        trusted = cls()
        if isinstance(config, Mapping):
            entries: Iterable[tuple[Any, Any]] = config.items()
        else:
            entries = ((_entry_id(item), item.get("keys")) for item in config)
        for participant_id, jwks in entries:
            if not isinstance(participant_id, str) or not participant_id:
                raise ValidationFailure("trusted participant without an id")
            if isinstance(jwks, Mapping) or not isinstance(jwks, Iterable):
                raise ValidationFailure(
                    f"trusted participant {participant_id}: 'keys' must be a list"
                )
            for jwk in jwks:
                trusted.add(participant_id, jwk)
        return trusted

    def add(self, participant_id: str, jwk: Mapping[str, Any]) -> TrustedKey:
        """Trust ``jwk`` for ``participant_id``; ``kid`` defaults to the RFC 7638 thumbprint."""
        if not isinstance(jwk, Mapping):
            raise ValidationFailure(f"trusted participant {participant_id}: a key must be a JWK")
        public_key = public_key_from_jwk(dict(jwk))
        alg = algorithm_of(public_key)
        if jwk.get("alg", alg) != alg:
            raise ValidationFailure(
                f"trusted participant {participant_id}: JWK 'alg' does not fit its key"
            )
        kid = jwk.get("kid") or jwk_thumbprint(dict(jwk))
        if not isinstance(kid, str):
            raise ValidationFailure(f"trusted participant {participant_id}: 'kid' must be a string")
        keys = self._keys.setdefault(participant_id, {})
        existing = keys.get(kid)
        if existing is not None:
            if jwk_thumbprint(dict(existing.jwk)) != jwk_thumbprint(dict(jwk)):
                raise ValidationFailure(
                    f"trusted participant {participant_id}: two different keys with kid '{kid}'"
                )
            return existing
        entry = TrustedKey(participant_id, kid, alg, public_key, dict(jwk), jose_key(public_key))
        keys[kid] = entry
        return entry

    def remove(self, participant_id: str) -> None:
        """Stop trusting a participant altogether."""
        self._keys.pop(participant_id, None)

    def lookup(self, participant_id: str, kid: str) -> TrustedKey | None:
        """The trusted key ``kid`` of ``participant_id``, or ``None``."""
        keys = self._keys.get(participant_id)
        return keys.get(kid) if keys is not None else None

    def keys_of(self, participant_id: str) -> list[TrustedKey]:
        return list(self._keys.get(participant_id, {}).values())

    def participants(self) -> list[str]:
        return list(self._keys)

    def __contains__(self, participant_id: object) -> bool:
        return participant_id in self._keys


def _entry_id(item: Mapping[str, Any]) -> Any:
    if not isinstance(item, Mapping):
        raise ValidationFailure("a trusted participant entry must be a table")
    return item.get("id") or item.get("participantId")
