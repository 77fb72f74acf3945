"""The node's signing key and the keys it used before (rotation).

The current private key lives in ``key_file`` (PEM). Rotating moves its public half to
``<key folder>/previous/<thumbprint>.jwk`` and writes a fresh key; the DID document keeps
listing the previous keys, so tokens and credentials they signed still verify. Each key is
listed under its RFC 7638 thumbprint, so its DID URL never changes across restarts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from connector.errors import ValidationFailure
from connector.identity.did import DidDocument
from connector.identity.keys import (
    EDDSA,
    PrivateKey,
    PublicKey,
    generate_key,
    load_private_key,
    public_jwk,
    public_key_from_jwk,
    save_private_key,
)

PREVIOUS_FOLDER = "previous"


def fragment_of(key: PrivateKey | PublicKey) -> str:
    """The DID URL fragment a key is listed under: its JWK thumbprint."""
    return public_jwk(key)["kid"]


def _previous_folder(key_file: Path) -> Path:
    return key_file.parent / PREVIOUS_FOLDER


@dataclass
class KeyRing:
    """The current key and the public halves of retired ones (oldest first)."""

    current: PrivateKey
    previous: list[PublicKey] = field(default_factory=list)

    @classmethod
    def load(cls, key_file: str | os.PathLike[str]) -> KeyRing:
        path = Path(key_file)
        try:
            current = load_private_key(path)
        except FileNotFoundError:
            raise ValidationFailure(
                f"key file {path} not found (run `karez init`)", path="key_file"
            ) from None
        previous = []
        folder = _previous_folder(path)
        if folder.is_dir():
            files = sorted(folder.glob("*.jwk"), key=lambda f: (f.stat().st_mtime, f.name))
            for file in files:
                try:
                    previous.append(public_key_from_jwk(json.loads(file.read_text("utf-8"))))
                except (ValueError, ValidationFailure) as exc:
                    raise ValidationFailure(f"{file}: not a public JWK ({exc})") from None
        return cls(current, previous)

    def kid(self, did: str) -> str:
        """The DID URL of the current key."""
        return f"{did}#{fragment_of(self.current)}"

    def did_document(self, did: str) -> DidDocument:
        """A DID document listing every key; the current one signs."""
        document = DidDocument(did)
        for key in self.previous:
            document.add_key(key, fragment_of(key))
        document.rotate(self.current, fragment_of(self.current))
        return document


def rotate(key_file: str | os.PathLike[str], alg: str = EDDSA) -> tuple[str, str]:
    """Retire the current key (its public half kept) and write a new one.

    Returns ``(old fragment, new fragment)``.
    """
    path = Path(key_file)
    old = load_private_key(path)
    folder = _previous_folder(path)
    folder.mkdir(parents=True, exist_ok=True)
    old_jwk = {k: v for k, v in public_jwk(old).items() if k != "use"}
    target = folder / f"{old_jwk['kid']}.jwk"
    target.write_text(json.dumps(old_jwk, indent=2) + "\n", encoding="utf-8")
    new = generate_key(alg)
    tmp = path.with_name(f".{path.name}.new")
    save_private_key(new, tmp)
    os.replace(tmp, path)
    return old_jwk["kid"], fragment_of(new)
