"""Outbound network safety for webhooks: URL checks and a pinned, bounded POST.

A webhook URL is typed in by a merchant, and the console then sends requests to it
from inside our network. Without care, that is a server-side request forgery
(SSRF) hole: ``http://169.254.169.254/`` (cloud metadata), ``http://localhost:6379``,
``http://10.0.0.5/admin``, or a public host name whose DNS answer points at any of
those. This module decides which destinations are acceptable and sends the request
in a way that cannot be redirected elsewhere after the check.

Why not just use ``requests-hardened``?
    ``requests_hardened`` (already a dependency) gets the important technique right:
    an ``HTTPAdapter`` that resolves the host itself at send time, refuses private
    addresses and *pins* the connection to the address it checked (the ``Host``
    header, TLS SNI and certificate host name keep the original name), so a second
    DNS answer (DNS rebinding) cannot slip in between check and connect. But its
    policy does not fit us:

    * it only checks the *first* address ``getaddrinfo`` returns, while a name with
      one public and one private address must be refused outright (we check every
      address and connect to the first one, which was checked);
    * it can only open loopback (``allow_loopback``), while deployments need to
      open arbitrary CIDR ranges (``allowed_networks``, e.g. ``127.0.0.0/8`` and
      ``::1/128`` in local development, or a private range in a test lab);
    * its errors are exceptions, while the console needs categorised reasons to show
      to an operator in their language (``UnsafeURL.kind``/``reason``,
      ``SendResult.error_kind``/``error_params``: a message code and its parameters from
      ``webhooks.errors``, rendered through gettext when shown);
    * it has no deadline: DNS and every socket read are bounded one by one, so a
      resolver that hangs or a receiver that trickles a byte at a time holds a send.

    So we reuse its technique (``build_connection_pool_key_attributes`` override,
    see ``requests_hardened/ip_filter_adapter.py``) and its list of extra blocked
    ranges (``EXTRA_BLOCKED_NET_RANGES``: 6to4 relay, NAT64, 6to4, ORCHIDv2, ...),
    with our own policy on top.

Policy (both at save time, ``check_url``, and again at send time inside the adapter; a
payment's ``notice_url`` gets the part that needs no lookup, ``check_url_form``, and the rest at
send time):

* only ``http``/``https``; no user info; a host is required; a valid port; at most
  2000 characters;
* unusual numeric spellings of addresses (``2130706433``, ``0x7f000001``,
  ``127.1``, ``0177.0.0.1``, ``127.0.0.01`` ...) are refused before any DNS, because
  resolvers and parsers disagree about what they mean;
* every resolved address must be public (``is_global``) and outside the extra
  ranges; IPv4-mapped, IPv4-compatible, 6to4 and NAT64 IPv6 forms are unwrapped so
  that an embedded private IPv4 is named in the message;
* an address inside one of ``allowed_networks`` is allowed regardless.

``post()`` never follows redirects, keeps at most ``max_body`` bytes of the answer and
``max_headers`` bytes of its headers, ends within one total ``deadline`` whatever the
receiver does (DNS within ``dns_timeout``, in a thread the caller stops waiting for),
never raises for network problems, and disables proxies from the environment,
``.netrc`` credentials and cookies (one session is shared by many merchants).

The parts, each separately testable:

* ``rules``: what a webhook URL may look like (scheme, user info, host, port, length,
  numeric spellings), before any DNS;
* ``addresses``: which resolved addresses a webhook may reach (``check_url``), resolved
  within a timeout;
* ``deadline``: one send's total deadline, which cuts its connections when it passes;
* ``client``: the pinned, bounded POST (``post``) and why an attempt failed.
"""

from .addresses import check_url, check_url_form
from .client import PinnedAddressAdapter, SendResult, make_session, post
from .rules import MAX_URL_LENGTH, UnsafeURL

__all__ = [
    "MAX_URL_LENGTH",
    "PinnedAddressAdapter",
    "SendResult",
    "UnsafeURL",
    "check_url",
    "check_url_form",
    "make_session",
    "post",
]
