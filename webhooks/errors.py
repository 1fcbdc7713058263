"""Why an attempt failed: one vocabulary for the client (``webhooks.net``), the engine's retry
rule (``webhooks.services``), the stored ``Attempt.error_kind`` and the words shown to operators.

A failure is stored as a kind (``ErrorKind``) and a ``Reason``: a message code and its
parameters, kept as JSON (``Attempt.error_params``, ``Delivery.last_error_params``) and
rendered through gettext when a page shows it, so an operator reads it in their own
language whatever language the worker ran in. The English text is stored beside it
(``error_message``, ``last_error``) for the admin, logs and rows older than the codes.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _

from console.tenancy.inputs import storable


class ErrorKind(models.TextChoices):
    NONE = "", _("None")
    TIMEOUT = "timeout", _("Timeout")
    REFUSED = "refused", _("Connection refused")
    DNS = "dns", _("DNS")
    TLS = "tls", _("TLS")
    BLOCKED = "blocked", _("Blocked address")
    REDIRECT = "redirect", _("Redirect")
    HTTP_STATUS = "http_status", _("Non-2xx answer")
    CONNECTION = "connection", _("Connection error")
    HEADERS = "headers", _("Headers too large")


# Worth another try later: the network, not the receiver's answer or our own URL rules.
RETRYABLE = frozenset({ErrorKind.TIMEOUT, ErrorKind.REFUSED, ErrorKind.DNS, ErrorKind.TLS,
                       ErrorKind.CONNECTION})

# Every message an operator may read about a webhook URL or a send, by code. The templates are
# English msgids (marked for makemessages), translated when shown. A parameter named
# ``seconds`` is also offered as ``duration`` ("1 second", "0.5 seconds"), a parameter that is
# itself a reason (``{"code": ...}``) is rendered first.
MESSAGES: dict[str, str] = {
    # The URL's shape (webhooks.net.rules), before any DNS.
    "url.empty": gettext_noop("The webhook URL is empty."),
    "url.too_long": gettext_noop(
        "The URL is too long (%(length)s characters); webhook URLs can be at most %(max)s "
        "characters."
    ),
    "url.spaces": gettext_noop("The URL contains spaces or control characters."),
    "url.unreadable": gettext_noop("The URL could not be read; check the host part."),
    "url.scheme": gettext_noop(
        'The URL uses "%(scheme)s"; webhooks can only use http:// or https://.'
    ),
    "url.no_scheme": gettext_noop("The URL has no scheme; start it with https:// (or http://)."),
    "url.userinfo": gettext_noop(
        "The URL contains a user name or password before the host; put credentials in a "
        "header or the signing secret instead."
    ),
    "url.no_host": gettext_noop("The URL has no host name."),
    "url.port": gettext_noop("The URL's port is not valid; it must be a number from 1 to 65535."),
    "url.zone": gettext_noop("IPv6 addresses with a zone index are not allowed."),
    "url.bad_ipv6": gettext_noop("[%(host)s] is not a valid IPv6 address."),
    "url.bad_host": gettext_noop("%(host)s is not a valid host name."),
    "url.numeric": gettext_noop(
        '"%(host)s" is an unusual way of writing an address. Write the host name, or the '
        'address in the usual form (for example 203.0.113.10).'
    ),
    "url.inconsistent": gettext_noop("The URL's host could not be read consistently."),
    "url.unusable": gettext_noop("The URL could not be used (%(error)s)."),
    # Resolving the host (webhooks.net.addresses).
    "dns.failed": gettext_noop("%(host)s could not be resolved (%(error)s)."),
    "dns.no_address": gettext_noop("%(host)s could not be resolved (no IPv4 or IPv6 address)."),
    "dns.timeout": gettext_noop("%(host)s could not be resolved in %(duration)s."),
    "dns.receiver": gettext_noop("The receiver's host name could not be resolved."),
    # Addresses a webhook may not reach: "<subject>, <why>."
    "blocked.literal": gettext_noop("%(ip)s is %(why)s. Webhooks can only go to public addresses."),
    "blocked.resolved": gettext_noop(
        "%(host)s resolves to %(ip)s, %(why)s. Webhooks can only go to public addresses."
    ),
    "blocked.resolved_one_of": gettext_noop(
        "%(host)s resolves to %(ip)s (one of its %(count)s addresses), %(why)s. Webhooks can "
        "only go to public addresses."
    ),
    "why.unspecified": gettext_noop(
        "an unspecified address (0.0.0.0/8 or ::, which can mean this machine)"
    ),
    "why.loopback": gettext_noop("a loopback address"),
    "why.metadata": gettext_noop(
        "a link-local address (169.254.0.0/16, including the cloud metadata address "
        "169.254.169.254)"
    ),
    "why.link_local": gettext_noop("a link-local address"),
    "why.cgnat": gettext_noop("a carrier-grade NAT (CG-NAT) address"),
    "why.multicast": gettext_noop("a multicast address"),
    "why.private": gettext_noop("a private network address"),
    "why.range": gettext_noop("an address in %(range)s (%(net)s)"),
    "why.reserved": gettext_noop("a reserved address"),
    "why.not_global": gettext_noop("a special-purpose address that is not publicly routable"),
    "why.mapped": gettext_noop("an IPv4-mapped IPv6 address for %(v4)s, %(inner)s"),
    "why.6to4": gettext_noop("a 6to4 IPv6 address embedding %(v4)s, %(inner)s"),
    "why.nat64": gettext_noop("a NAT64 IPv6 address embedding %(v4)s, %(inner)s"),
    "why.compat": gettext_noop("an IPv4-compatible IPv6 address embedding %(v4)s, %(inner)s"),
    "range.6to4_relay": gettext_noop("the 6to4 relay anycast range"),
    "range.cgnat": gettext_noop("the carrier-grade NAT (CG-NAT) range"),
    "range.srv6": gettext_noop("the IPv6 segment routing range"),
    "range.nat64": gettext_noop("the NAT64 translation range"),
    "range.orchid": gettext_noop("the ORCHIDv2 range"),
    "range.ietf": gettext_noop("the IETF protocol assignments range"),
    "range.nat64_local": gettext_noop("the local-use NAT64 translation range"),
    "range.6to4": gettext_noop("the 6to4 range"),
    "range.doc6": gettext_noop("the IPv6 documentation range"),
    "range.other": gettext_noop("a blocked special-purpose range"),
    # The send (webhooks.net.client) and the engine.
    "send.refused": gettext_noop(
        "The receiver refused the connection (nothing listens on that port?)."
    ),
    "send.connect_timeout": gettext_noop(
        "The receiver did not accept the connection within %(duration)s."
    ),
    "send.read_timeout": gettext_noop("The receiver did not answer within %(duration)s."),
    "send.deadline": gettext_noop(
        "The receiver did not finish answering within %(duration)s, the most one send may "
        "take."
    ),
    "send.worker_limit": gettext_noop(
        "The send was stopped by the worker's time limit (%(duration)s)."
    ),
    "send.tls": gettext_noop("The secure (TLS) connection to the receiver failed."),
    "send.tls_reason": gettext_noop(
        "The secure (TLS) connection to the receiver failed: %(reason)s."
    ),
    "send.closed": gettext_noop(
        "The receiver closed the connection before the answer was complete."
    ),
    "send.failed": gettext_noop("The connection to the receiver failed (%(error)s)."),
    "send.redirect": gettext_noop(
        "Redirects are not followed: the receiver answered %(status)s to %(location)s."
    ),
    "send.redirect_nowhere": gettext_noop(
        "Redirects are not followed: the receiver answered %(status)s without a Location."
    ),
    "send.status": gettext_noop("The receiver answered %(status)s."),
    "send.headers_too_large": gettext_noop(
        "The receiver's answer headers are larger than %(kib)s KiB, more than a webhook "
        "answer may have."
    ),
    "send.headers_unreadable": gettext_noop(
        "The receiver's answer headers could not be read (%(error)s)."
    ),
    "engine.endpoint_disabled": gettext_noop("The endpoint is disabled; nothing was sent."),
    "engine.endpoint_no_url": gettext_noop("The endpoint has no URL now; nothing was sent."),
}

# Parameters are short: an exception's text or a host name, never a body.
_MAX_PARAM_CHARS = 200

@dataclass(frozen=True)
class Reason:
    """A message code and its parameters: stored with ``as_json``, shown with ``str`` (in the
    active language) or ``english``. A parameter may itself be a ``Reason``."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"code": self.code, **{k: _json_param(v) for k, v in self.params.items()}}

    def english(self) -> str:
        return render(self.as_json(), translate=False)

    def __str__(self) -> str:
        return render(self.as_json())


def _json_param(value: Any) -> Any:
    if isinstance(value, Reason):
        return value.as_json()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 5.0 seconds reads "5 seconds"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return storable(str(value)[:_MAX_PARAM_CHARS])


def _plural_count(value: Any) -> int:
    # gettext chooses plural forms by integer; a fraction (0.5, 1.5) reads as a plural.
    number = float(value)
    return int(number) if number.is_integer() else 2


def render(detail: Mapping | None, *, fallback: str = "", translate: bool = True) -> str:
    """The message of a stored reason (``Reason.as_json``), translated unless told not to;
    ``fallback`` (the stored English text of an older row) when there is no known code."""
    if not isinstance(detail, Mapping) or detail.get("code") not in MESSAGES:
        return fallback
    params: dict[str, Any] = {}
    for key, value in detail.items():
        if key == "code":
            continue
        params[key] = render(value, translate=translate) if isinstance(value, Mapping) else value
    if "seconds" in params:
        count = _plural_count(params["seconds"])
        if translate:
            unit = ngettext("%(n)s second", "%(n)s seconds", count)
        else:
            unit = "%(n)s second" if count == 1 else "%(n)s seconds"
        params["duration"] = unit % {"n": params["seconds"]}
    template = MESSAGES[detail["code"]]
    try:
        return (gettext(template) if translate else template) % params
    except (KeyError, TypeError, ValueError):  # a translation or an old row that does not fit
        return fallback or template
