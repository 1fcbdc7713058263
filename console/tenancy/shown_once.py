"""Post/redirect/get for what is shown once (a new API secret, new recovery codes): the POST
keeps it in the session, encrypted, and redirects; the next GET takes it out and shows it,
so a reload shows it no more and repeats nothing. A value not taken within a few minutes
(a redirect never followed) is dropped."""

import time

from .crypto import InvalidToken, decrypt_json, encrypt_json

SHOWN_FOR_SECONDS = 600


def keep(request, key: str, data: dict) -> None:
    request.session[key] = encrypt_json({**data, "at": time.time()})


def take(request, key: str) -> dict | None:
    """What ``keep`` left under ``key``, taken out of the session (None: nothing, or too old)."""
    kept = request.session.pop(key, None)
    if not kept:
        return None
    try:
        data = decrypt_json(kept)
    except InvalidToken:
        return None
    if time.time() - data.get("at", 0) > SHOWN_FOR_SECONDS:
        return None
    return data
