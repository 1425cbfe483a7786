"""Pairing a hub and a satellite with a shared secret: a Wyoming extension of three events.

Wyoming itself has no authentication (Home Assistant depends on that), so a satellite can
only tell its controllers by address, and a hub can only tell its satellites by what they
advertise. With the same secret on both sides (``pairing.secret_file`` on the satellite,
``conductor.secret_file`` on the hub), each proves to the other that it knows it, without
sending it, before the hub drives the satellite:

    hub        -> ``familiar-pair-hello``      {nonce: h}
    satellite  -> ``familiar-pair-challenge``  {nonce: s, proof: HMAC(secret, "satellite" h)}
    hub        -> ``familiar-pair-proof``      {proof: HMAC(secret, "controller" s)}
    satellite  -> ``familiar-paired``          {}

A peer that does not know these events ignores them (forward compatibility), so a hub with a
secret still drives a configured third-party satellite, unpaired. Nonces are fresh per
connection, so a recorded exchange cannot be replayed. Nothing is encrypted: for privacy on an
untrusted network, tunnel the connection (WireGuard, stunnel) as docs/security.md explains.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from familiar.extensions import PairChallenge, Paired, PairHello, PairProof

__all__ = ["PairChallenge", "PairHello", "PairProof", "Paired"]

FAILED_CODE = "pairing-failed"
"""``error`` code when a proof is wrong (the connection is then closed)."""
NOT_CONFIGURED_CODE = "pairing-not-configured"
"""``error`` code from a satellite that has no secret."""
NOT_AUTHORIZED_CODE = "not-authorized"
"""``error`` code for ``run-satellite`` from a peer that is neither listed nor paired."""

SATELLITE = "satellite"
CONTROLLER = "controller"


def nonce() -> str:
    return secrets.token_hex(16)


def proof(secret: str, role: str, challenge: str) -> str:
    """What ``role`` (``satellite`` or ``controller``) answers to the other side's nonce."""
    message = f"familiar-pairing:{role}:{challenge}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, role: str, challenge: str, given: object) -> bool:
    if not isinstance(given, str) or not isinstance(challenge, str):
        return False
    return hmac.compare_digest(proof(secret, role, challenge), given)
