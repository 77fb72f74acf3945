"""Authentication of protocol requests between nodes, until full DCP lands.

The caller signs a short-lived JWT naming itself (``iss`` = ``sub``) and the callee (``aud``);
the callee checks it against the keys it trusts for that participant and refuses a token id it
has already seen.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from connector.errors import Unauthorized
from connector.identity import jose
from connector.identity.keys import PrivateKey, algorithm_of, public_jwk
from connector.identity.replay import ReplayCache
from connector.identity.trust import TrustedParticipants

#: ``typ`` header of protocol tokens; data-plane tokens carry other types and are refused here.
PROTOCOL_TOKEN_TYP = "JWT"
#: Longest lifetime (``exp - iat``) a verifier accepts.
MAX_LIFETIME_S = 600


class ProtocolTokenSigner:
    """Signs tokens that authenticate this node to a peer."""

    def __init__(
        self, participant_id: str, private_key: PrivateKey, kid: str | None = None
    ) -> None:
        self.participant_id = participant_id
        self.alg = algorithm_of(private_key)
        self.kid = kid or public_jwk(private_key)["kid"]
        self._key = jose.jose_key(private_key)

    def sign(self, audience: str, ttl_s: int = 60) -> str:
        """A compact JWT for a request to ``audience`` (the callee's participant id)."""
        if not 0 < ttl_s <= MAX_LIFETIME_S:
            raise ValueError(f"ttl_s must be in 1..{MAX_LIFETIME_S}")
        now = int(time.time())
        claims = {
            "iss": self.participant_id,
            "sub": self.participant_id,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_s,
            "jti": str(uuid.uuid4()),
        }
        header = {"alg": self.alg, "kid": self.kid, "typ": PROTOCOL_TOKEN_TYP}
        return jose.sign(header, claims, self._key)


class ProtocolTokenVerifier:
    """Checks protocol tokens addressed to this node; see :meth:`verify`."""

    def __init__(
        self,
        own_participant_id: str,
        trusted: TrustedParticipants,
        leeway_s: float = 5,
        replay_cache_size: int = 100_000,
        *,
        max_lifetime_s: float = MAX_LIFETIME_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.own_participant_id = own_participant_id
        self.trusted = trusted
        self.leeway_s = leeway_s
        self.max_lifetime_s = max_lifetime_s
        self._clock = clock
        self._replay = ReplayCache(replay_cache_size)

    def verify(self, authorization_header_value: str | None) -> str:
        """The caller's participant id, or ``Unauthorized`` naming the failed check.

        Accepts the raw token or ``Bearer <token>``.
        """
        token = jose.bearer_token(authorization_header_value)
        header, claims = jose.decode_unverified(token)
        if header.get("typ", PROTOCOL_TOKEN_TYP) != PROTOCOL_TOKEN_TYP:
            raise Unauthorized("wrong token type")
        issuer = jose.str_claim(claims, "iss")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("malformed token: missing 'kid'")
        if issuer not in self.trusted:
            raise Unauthorized("unknown issuer")
        key = self.trusted.lookup(issuer, kid)
        if key is None:
            raise Unauthorized("unknown signing key for issuer")
        if header["alg"] != key.alg:
            raise Unauthorized("token algorithm does not match the issuer's key")
        jose.verify_signature(token, key.alg, key.verifier)

        if claims.get("sub") != issuer:
            raise Unauthorized("subject does not match issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.own_participant_id not in audiences:
            raise Unauthorized("wrong audience")
        now = self._clock()
        exp = jose.check_times(claims, now, self.leeway_s, self.max_lifetime_s)
        jti = jose.str_claim(claims, "jti", max_len=256)
        if not self._replay.add((issuer, jti), exp + self.leeway_s, now):
            if self._replay.seen((issuer, jti), now):
                raise Unauthorized("token replayed")
            raise Unauthorized("too many live tokens; retry later")
        return issuer
