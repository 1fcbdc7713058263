"""One way to hash a high-entropy secret for lookup: API key secrets, API tokens, invitation
nonces and recovery codes are stored only as their SHA-256 (hex).

These values are random and long, so a fast hash is enough (nothing to brute-force); passwords
are Django's business and never come here. Compare with ``hmac.compare_digest``.
"""

import hashlib


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
