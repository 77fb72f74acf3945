"""The node's own credentials (VC JWTs) and their selection by DCP scope.

A DCP scope reads ``<alias>:<discriminator>:read``: alias ``org.eclipse.dspace.dcp.vc.type``
selects credentials by type, ``org.eclipse.dspace.dcp.vc.id`` by id. The wallet holds what the
node was issued; it checks nothing about them (verifiers do).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from connector.errors import ValidationFailure
from connector.identity import jose
from connector.identity.dcp import SCOPE_VC_ID, SCOPE_VC_TYPE
from connector.identity.vc import MAX_VC_CHARS, VC_TYPE

READ = "read"
ALIASES = (SCOPE_VC_TYPE, SCOPE_VC_ID)
#: Aliases other implementations use for the same thing (Eclipse EDC's type alias).
ALIAS_SYNONYMS = {"org.eclipse.edc.vc.type": SCOPE_VC_TYPE}


def type_scope(credential_type: str) -> str:
    """The scope that reads credentials of ``credential_type``."""
    return f"{SCOPE_VC_TYPE}:{credential_type}:{READ}"


def id_scope(credential_id: str) -> str:
    """The scope that reads the credential with id ``credential_id``."""
    return f"{SCOPE_VC_ID}:{credential_id}:{READ}"


def parse_scope(scope: str) -> tuple[str, str]:
    """``(alias, discriminator)`` of a DCP scope (EDC's ``org.eclipse.edc.vc.type`` read as the
    DCP type alias); ``ValidationFailure`` if malformed or unknown."""
    if not isinstance(scope, str):
        raise ValidationFailure("scope must be a string")
    alias, sep, rest = scope.partition(":")
    discriminator, sep2, operation = rest.rpartition(":")
    if not (sep and sep2 and discriminator) or any(c.isspace() for c in scope):
        raise ValidationFailure(f"malformed scope '{scope[:200]}'", path="scope")
    alias = ALIAS_SYNONYMS.get(alias, alias)
    if alias not in ALIASES:
        raise ValidationFailure(f"unsupported scope alias '{alias[:100]}'", path="scope")
    if operation != READ:
        raise ValidationFailure(f"unsupported scope operation '{operation[:50]}'", path="scope")
    return alias, discriminator


@dataclass(frozen=True)
class StoredCredential:
    """One credential JWT with the id and types read from its payload."""

    jwt: str
    id: str | None
    types: tuple[str, ...]


def describe(jwt: str) -> StoredCredential:
    """Read id and types from a credential JWT (unverified); ``ValidationFailure`` if malformed."""
    jwt = jwt.strip()
    parts = jwt.split(".")
    if len(jwt) > MAX_VC_CHARS or len(parts) != 3 or not all(parts):
        raise ValidationFailure("not a compact JWS credential")
    try:
        payload = json.loads(jose.b64url_decode(parts[1]))
    except ValueError:
        raise ValidationFailure("credential payload is not base64url JSON") from None
    if not isinstance(payload, dict):
        raise ValidationFailure("credential payload is not a JSON object")
    types = payload.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or VC_TYPE not in types:
        raise ValidationFailure("credential 'type' lacks VerifiableCredential")
    ident = payload.get("id")
    return StoredCredential(jwt, ident if isinstance(ident, str) else None, tuple(types))


class Wallet:
    """The node's credentials, in the order added."""

    def __init__(self, credentials: Iterable[str] = ()) -> None:
        self._items: list[StoredCredential] = []
        for jwt in credentials:
            self.add(jwt)

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str]) -> Wallet:
        """Every ``*.jwt`` file of ``folder`` (sorted by name); a missing folder is empty."""
        path = Path(folder)
        wallet = cls()
        if path.is_dir():
            for file in sorted(path.glob("*.jwt")):
                try:
                    wallet.add(file.read_text(encoding="ascii"))
                except (ValidationFailure, UnicodeDecodeError) as exc:
                    raise ValidationFailure(f"{file.name}: invalid credential ({exc})") from None
        return wallet

    def add(self, jwt: str) -> StoredCredential:
        """Store ``jwt``; a credential with the same id replaces the earlier one."""
        item = describe(jwt)
        if item.id is not None:
            self._items = [c for c in self._items if c.id != item.id]
        self._items.append(item)
        return item

    def remove(self, credential_id: str) -> None:
        self._items = [c for c in self._items if c.id != credential_id]

    def __len__(self) -> int:
        return len(self._items)

    @property
    def credentials(self) -> list[StoredCredential]:
        return list(self._items)

    def select(self, scopes: Iterable[str]) -> list[str]:
        """The JWTs that ``scopes`` allow, each once, in wallet order."""
        types: set[str] = set()
        ids: set[str] = set()
        for scope in scopes:
            alias, discriminator = parse_scope(scope)
            (types if alias == SCOPE_VC_TYPE else ids).add(discriminator)
        return [
            c.jwt
            for c in self._items
            if (c.id is not None and c.id in ids) or types.intersection(c.types)
        ]
