"""Stale edits: two tabs editing one thing must not silently undo each other.

An edit form carries the version of what it showed, in a hidden field (``FIELD``): per field, a
keyed digest of the value (``version_of``), signed. The service that saves takes
``expected_version`` and, with the row locked, hands it to ``check_version`` with the values
stored now and the values the operator submitted. When a field changed since the form's
version, ``StaleEdit`` is raised, naming those fields and their values now (a secret's by name
only), and nothing is written. The form (``console.tenancy.forms.StaleEditMixin``) then says
what changed, puts the values stored now into the fields its operator did not touch, keeps the
ones they did, and carries the new version: a second Save writes what the form shows, on
purpose. ``expected_version=None`` (the admin, the REST API, the demo seed, a form posted
without the field) saves as before.

Why digests of the form's own fields rather than ``updated_at``: ``updated_at`` also moves when
something the form does not show changes (a channel enabled or made the default, a merchant's
other settings), which would refuse a save that undoes nothing; and it cannot say which field
changed, or whether a secret did. A digest is an HMAC under the site's secret key, so the page
holds nothing a secret could be read or guessed from.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from .audit import json_safe

FIELD = "edit_version"  # the hidden field's name in every edit form
SALT = "console.tenancy.stale"
DIGEST_CHARS = 20  # 80 bits: two values telling apart is all a digest does here


def digest(value: Any) -> str:
    text = json.dumps(json_safe(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return salted_hmac(SALT, text, algorithm="sha256").hexdigest()[:DIGEST_CHARS]


def version_of(values: Mapping[str, Any]) -> str:
    """The version of what a form shows: ``values`` maps each field to its value, as the
    service compares it (a secret's stored value included: only its digest leaves)."""
    return signing.dumps({name: digest(value) for name, value in values.items()}, salt=SALT,
                         compress=True)


def _read(token: str) -> dict[str, str] | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Change:
    """A field someone else changed: its value now (``None`` for a secret), and whether the
    operator changed it too (``conflict``: then their value stays in the form)."""

    field: str
    value: Any
    secret: bool = False
    conflict: bool = False


class StaleEdit(ValidationError):
    """The form was filled in from an older version than the one stored: nothing was saved.

    ``changes`` are the fields changed since (empty when the form's version could not be read),
    ``refresh`` the values now stored for the fields the operator left as they were, and
    ``version`` the version of what is stored now, for the form's second Save."""

    def __init__(self, *, changes: list[Change], refresh: dict[str, Any], version: str):
        super().__init__(_("Someone changed this while you were editing, and nothing was saved. "
                           "Review the form and save again."), code="stale")
        self.changes, self.refresh, self.version = changes, refresh, version


def check_version(
    *, expected: str | None, current: Mapping[str, Any], submitted: Mapping[str, Any],
    secret: Iterable[str] = (),
) -> None:
    """Raise ``StaleEdit`` if what is stored (``current``) is not what the form started from
    (``expected``). Call it with the row locked, before writing anything. ``submitted`` holds
    the operator's values under the same names, normalised as ``current`` is; a secret left
    blank ("keep the stored one") is no change of theirs."""
    if not expected:
        return
    secret = set(secret)
    seen = _read(expected)
    now = {name: digest(value) for name, value in current.items()}
    version = version_of(current)
    if seen is None:  # not a version this site made (tampered, or the secret key changed)
        raise StaleEdit(changes=[], refresh={}, version=version)
    changed = [name for name in current if seen.get(name) != now[name]]
    if not changed:
        return
    changes, refresh = [], {}
    for name in changed:
        value = submitted.get(name)
        if name in secret:
            mine = bool(value) and digest(value) != seen.get(name)
        else:
            mine = name in submitted and digest(value) != seen.get(name)
        if not mine and name not in secret:
            refresh[name] = current[name]
        changes.append(Change(field=name, value=None if name in secret else current[name],
                              secret=name in secret, conflict=mine))
    raise StaleEdit(changes=changes, refresh=refresh, version=version)


# --- what the operator reads ---

def change_text(label: str, change: Change, shown: str | None = None) -> str:
    """One change in words: "MID is now “T0001”", "Sign key was changed". ``shown`` is the
    value as the operator reads it (a choice's label), ``None`` for no value."""
    if change.secret:
        return _("%(field)s was changed") % {"field": label}
    if isinstance(change.value, bool):
        text = _("%(field)s is now on") if change.value else _("%(field)s is now off")
        return text % {"field": label}
    if not shown:
        return _("%(field)s is now empty") % {"field": label}
    return _("%(field)s is now “%(value)s”") % {"field": label, "value": shown}


def stale_message(lead: str, texts: list[str]) -> str:
    """``lead`` has one placeholder, ``%(changes)s``, for the changes in words, e.g. "Someone
    changed this channel while you were editing: %(changes)s." Without a change to name (the
    form's version could not be read), a general sentence stands in."""
    tail = _("Your changes are still in the form and nothing was saved. Review them and save again.")
    if not texts:
        head = _("Someone may have changed this while you were editing.")
    else:
        head = lead % {"changes": ", ".join(texts)}
    return f"{head} {tail}"
