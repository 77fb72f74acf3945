"""The data-space authority (issuer role): a folder with a key and a small JSON state.

The authority issues membership and certification credentials (W3C VC 2.0 as ``vc+jwt``),
each with a ``BitstringStatusListEntry`` at a randomly chosen index of one revocation list,
and signs that list afresh whenever it is served. Files in the folder:

- ``authority-key.pem``: the signing key (mode 0600);
- ``authority.json``: the DID, the status list URL, issued credential ids -> status index,
  and the revoked ids.

Every change re-reads the state under a file lock and writes it atomically, so that the CLI
may issue or revoke while ``karez issuer serve`` runs on the same folder. No network I/O.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.errors import Conflict, NotFound, ValidationFailure
from connector.identity import status_list as sl
from connector.identity import vc
from connector.identity.did import DidDocument, did_web_to_url
from connector.identity.keys import (
    EDDSA,
    PrivateKey,
    PublicKey,
    generate_key,
    load_private_key,
    save_private_key,
)

KEY_FILE = "authority-key.pem"
STATE_FILE = "authority.json"
LOCK_FILE = ".authority.lock"
STATUS_PATH = "/status/1"
PURPOSE = "revocation"
MEMBERSHIP_VALIDITY = timedelta(days=365)
#: How long a verifier may cache the served status list (its ``ttl``).
LIST_TTL_MS = 300_000
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


def did_document_url(did: str) -> str:
    """Where ``did``'s document is served (plain HTTP for loopback hosts only)."""
    return did_web_to_url(did, _LOOPBACK)


def default_status_list_url(did: str) -> str:
    """``<origin of the DID document>/status/1``."""
    parts = urlsplit(did_document_url(did))
    return f"{parts.scheme}://{parts.netloc}{STATUS_PATH}"


@dataclass
class Authority:
    """An authority folder loaded in memory; use :meth:`init` or :meth:`open`."""

    folder: Path
    did: str
    key: PrivateKey
    status_list_url: str
    issued: dict[str, int] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    list_size: int = sl.MIN_ENTRIES

    @classmethod
    def init(
        cls,
        folder: str | os.PathLike[str],
        did: str,
        *,
        status_list_url: str | None = None,
        alg: str = EDDSA,
    ) -> Authority:
        """Create a new authority in ``folder`` (refuses to overwrite an existing one)."""
        did_document_url(did)  # a valid did:web, or ValidationFailure
        path = Path(folder)
        if (path / STATE_FILE).exists() or (path / KEY_FILE).exists():
            raise Conflict(f"{path} already holds an authority")
        path.mkdir(parents=True, exist_ok=True)
        key = generate_key(alg)
        save_private_key(key, path / KEY_FILE)
        authority = cls(path, did, key, status_list_url or default_status_list_url(did))
        authority._save()
        return authority

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> Authority:
        """Load the authority written by :meth:`init`."""
        path = Path(folder)
        if not (path / STATE_FILE).exists():
            raise NotFound(f"{path} holds no authority (run 'karez issuer init')")
        key = load_private_key(path / KEY_FILE)
        authority = cls(path, "", key, "")
        authority.reload()
        return authority

    # --- identity -----------------------------------------------------------------------

    @property
    def kid(self) -> str:
        return f"{self.did}#key-1"

    def did_document(self) -> DidDocument:
        """The authority's DID document: its one key as ``#key-1``."""
        doc = DidDocument(self.did)
        doc.add_key(self.key)
        return doc

    def key_lookup(self, issuer: str, kid: str) -> PublicKey | None:
        """A ``vc.KeyLookup`` that knows only this authority's key."""
        return self.key.public_key() if (issuer, kid) == (self.did, self.kid) else None

    # --- issuing ------------------------------------------------------------------------

    def issue_membership(
        self,
        subject: str,
        legal_name: str,
        uscc: str,
        clusters: Sequence[str],
        jurisdiction: str,
        organisation_type: str,
        *,
        valid_until: datetime | None = None,
        now: datetime | None = None,
    ) -> str:
        """A ``KarezMembershipCredential`` for participant ``subject`` (default: one year)."""
        claims = vc.membership_subject(
            subject, legal_name, uscc, clusters, jurisdiction, organisation_type
        )
        start = now or datetime.now(UTC)
        end = valid_until or start + MEMBERSHIP_VALIDITY
        return self._issue(subject, vc.MEMBERSHIP_TYPE, claims, start, end)

    def issue_certification(
        self,
        subject: str,
        kind: str,
        valid_until: datetime,
        *,
        reference: str | None = None,
        now: datetime | None = None,
    ) -> str:
        """A ``KarezCertificationCredential`` (``kind`` e.g. ``cert:export-security-assessment``),
        valid as long as the certification itself."""
        claims = vc.certification_subject(kind, valid_until, reference=reference)
        start = now or datetime.now(UTC)
        return self._issue(subject, vc.CERTIFICATION_TYPE, claims, start, valid_until)

    def _issue(
        self,
        subject: str,
        credential_type: str,
        claims: dict[str, Any],
        valid_from: datetime,
        valid_until: datetime,
    ) -> str:
        if not subject.startswith("did:"):
            raise ValidationFailure("subject must be a DID", invalid_value=subject)
        if valid_until < valid_from:
            raise ValidationFailure("validUntil is before validFrom")
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        with self._update():
            index = self._free_index()
            self.issued[credential_id] = index
        entry = sl.status_entry(self.status_list_url, index, PURPOSE)
        return vc.issue_credential(
            self.key,
            self.did,
            self.kid,
            subject,
            [credential_type],
            {k: v for k, v in claims.items() if k != "id"},
            valid_from,
            valid_until,
            entry,
            credential_id,
        )

    def _free_index(self) -> int:
        """A random unused index (random, so that indexes reveal nothing of issuance order)."""
        used = set(self.issued.values())
        if len(used) >= self.list_size:
            raise Conflict("the status list is full")
        while True:
            index = secrets.randbelow(self.list_size)
            if index not in used:
                return index

    # --- revocation and the status list -------------------------------------------------

    def revoke(self, credential_id: str) -> None:
        """Set the credential's revocation bit (idempotent); ``NotFound`` if never issued here."""
        with self._update():
            if credential_id not in self.issued:
                raise NotFound(f"no credential '{credential_id}' was issued by this authority")
            self.revoked.add(credential_id)

    def is_revoked(self, credential_id: str) -> bool:
        return credential_id in self.revoked

    def status_list(self) -> sl.StatusList:
        """The current revocation bitstring."""
        bits = sl.StatusList(self.list_size)
        for credential_id in self.revoked:
            bits.set(self.issued[credential_id])
        return bits

    def status_list_jwt(self, now: datetime | None = None) -> str:
        """The current list as a ``BitstringStatusListCredential`` (``vc+jwt``), signed now."""
        return sl.status_list_credential(
            self.key,
            self.did,
            self.kid,
            self.status_list_url,
            PURPOSE,
            self.status_list().encode(),
            now or datetime.now(UTC),
            ttl_ms=LIST_TTL_MS,
        )

    # --- persistence --------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the state file (another process may have issued or revoked)."""
        state = json.loads((self.folder / STATE_FILE).read_text(encoding="utf-8"))
        self.did = state["did"]
        self.status_list_url = state["statusListUrl"]
        self.list_size = int(state.get("listSize", sl.MIN_ENTRIES))
        self.issued = {str(k): int(v) for k, v in state["issued"].items()}
        self.revoked = set(state["revoked"]) & set(self.issued)

    @contextmanager
    def _update(self) -> Iterator[None]:
        """Read-modify-write of the state under an exclusive lock."""
        with open(self.folder / LOCK_FILE, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self.reload()
                yield
                self._save()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _save(self) -> None:
        state = {
            "did": self.did,
            "kid": self.kid,
            "statusListUrl": self.status_list_url,
            "listSize": self.list_size,
            "issued": self.issued,
            "revoked": sorted(self.revoked),
        }
        target = self.folder / STATE_FILE
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, target)
