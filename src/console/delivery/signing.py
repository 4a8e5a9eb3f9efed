"""Webhook signatures: HMAC-SHA256 over ``{timestamp}.{body}`` with the subscription's secret.

The receiver recomputes the MAC with its copy of the secret, compares in constant time and
rejects old timestamps (replay). Headers: ``X-Nengtan-Timestamp`` (epoch ms),
``X-Nengtan-Signature: sha256=<hex>``, ``X-Nengtan-Delivery`` (the ledger key, for receivers
that want to deduplicate across a crash between send and ledger update).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Nengtan-Signature"
TIMESTAMP_HEADER = "X-Nengtan-Timestamp"
DELIVERY_HEADER = "X-Nengtan-Delivery"


def sign(secret: str, ts_ms: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{ts_ms}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, ts_ms: int, body: bytes, signature: str) -> bool:
    """Constant-time check of a signature header value."""
    return hmac.compare_digest(sign(secret, ts_ms, body), signature)
