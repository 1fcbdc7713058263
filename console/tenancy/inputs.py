"""What every reader of request input shares: a number written as text is ASCII digits, and
text holds only what the database can store.

- **Numbers.** ``str.isdigit()`` is true of ``²`` and ``٣`` too, and ``int()`` reads ``٣`` as 3
  but fails on ``²``; so every number the console reads from text goes through ``ascii_int``
  (``[0-9]`` and nothing else), never through ``isdigit``/``isnumeric``/``int`` on its own.
- **Text.** PostgreSQL's text cannot hold NUL (U+0000), and no UTF-8 database or answer can
  hold half of a surrogate pair (a JSON body may spell one, ``"\\ud800"``); either one in a
  query ends in a 500. ``UnstorableInputMiddleware`` refuses them in the path, the query
  string, the headers and the cookies the console reads, and in the form body of every page
  Django's CSRF check protects; the two doors without that check read their own body and ask
  ``unstorable_field`` (the payment window, ``payments.v1.sdk``, and the REST API,
  ``console.rest.base``). Each refusal is a 400 in the door's own words: a view names how
  it answers with ``answers_unstorable_input`` (the window: i'mport's ``F400`` to the shop; the
  API: its envelope); any other view answers the 400 page.
"""

import re
from collections.abc import Callable, Mapping

from django.conf import settings
from django.http import UnreadablePostError
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

_ASCII_DIGITS = re.compile(r"[0-9]+")  # not \d, which takes every script's digits
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ANSWER_ATTR = "unstorable_input_answer"


# --- numbers -------------------------------------------------------------------------------


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits (``0``–``9``), and nothing else."""
    return isinstance(text, str) and _ASCII_DIGITS.fullmatch(text) is not None


def ascii_int(text: str, *, max_digits: int) -> int | None:
    """The number ``text`` spells in 1 to ``max_digits`` ASCII digits, or None (a sign, a space,
    ``²``, ``٣``, more digits). Strip the text first where blanks around it are allowed."""
    if not ascii_digits(text) or len(text) > max_digits:
        return None
    return int(text)


# --- text the database can store -------------------------------------------------------------


def unstorable(text: str) -> bool:
    """Whether ``text`` holds a NUL or half of a surrogate pair."""
    return _UNSTORABLE.search(text) is not None


def unstorable_field(data, name: str = "") -> str | None:
    """The name of the first value in ``data`` (text, a mapping such as a QueryDict, or a list,
    nested) whose text, or key, cannot be stored (``schedules[2].custom_data``), or None."""
    if isinstance(data, str):
        return (name or _("The value")) if unstorable(data) else None
    if isinstance(data, Mapping):
        querydict = hasattr(data, "lists")  # a key's several values go under the key's name
        for key, value in (data.lists() if querydict else data.items()):
            label = f"{name}.{_shown(str(key))}" if name else _shown(str(key))
            if unstorable(str(key)):
                return label
            for item in (value if querydict else [value]):
                found = unstorable_field(item, label)
                if found:
                    return found
        return None
    if isinstance(data, list | tuple):
        for index, item in enumerate(data):
            found = unstorable_field(item, f"{name}[{index}]")
            if found:
                return found
    return None


def storable(data):
    """``data`` (text, or mappings and lists of it) with what cannot be stored replaced by
    U+FFFD: for what the console records rather than refuses, such as a webhook receiver's
    answer."""
    if isinstance(data, str):
        return _shown(data)
    if isinstance(data, Mapping):
        return {storable(key): storable(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [storable(item) for item in data]
    return data


def _shown(text: str) -> str:
    """``text`` fit to show: what cannot be stored is replaced."""
    return _UNSTORABLE.sub("\ufffd", text)


def unstorable_message(field: str) -> str:
    return _("%(field)s contains a character that cannot be stored (a NUL, or half of a surrogate "
             "pair). Send it without control characters.") % {"field": field}


# --- the doors ---------------------------------------------------------------------------------


def answers_unstorable_input(answer: Callable) -> Callable:
    """Decorate a view with how it refuses input that cannot be stored: ``answer(request,
    message)`` returns its 400 (the window and the REST API answer in their own forms)."""
    def decorate(view):
        setattr(view, _ANSWER_ATTR, answer)
        return view
    return decorate


def _page(request, message: str):
    return render(request, "400.html", {"message": message}, status=400)


def refusal_of(view) -> Callable:
    """How ``view`` refuses input that cannot be stored (the 400 page unless it says)."""
    return getattr(view, _ANSWER_ATTR, None) or _page


def _console_cookies() -> tuple[str, ...]:
    return (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME)


def _unstorable_outside_body(request) -> str | None:
    """Where, outside the body, the request carries what cannot be stored (named for the message)."""
    if unstorable(request.path_info):
        return _("The URL's path")
    field = unstorable_field(request.GET)
    if field:
        return _("The query parameter “%(name)s”") % {"name": field}
    for header, value in request.headers.items():
        if unstorable(value):
            return _("The header “%(name)s”") % {"name": header}
    for cookie in _console_cookies():  # others are the browser's business: never read here
        if unstorable(request.COOKIES.get(cookie, "")):
            return _("The cookie “%(name)s”") % {"name": cookie}
    return None


class UnstorableInputMiddleware:
    """Refuses, with a 400, a request whose path, query string, headers or the console's cookies
    hold a NUL or half of a surrogate pair, before anything reads them (the session included),
    and the form body of a page that Django's CSRF check reads (a door exempt from that check
    reads and checks its own body). Goes right after ``LocaleMiddleware``, so the refusal is in
    the visitor's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = _unstorable_outside_body(request)
        if where is None:
            return self.get_response(request)
        try:
            view = resolve(request.path_info).func
        except Resolver404:
            view = None
        return refusal_of(view)(request, unstorable_message(where))

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        try:
            field = unstorable_field(request.POST)  # the CSRF check reads it in any case
        except UnreadablePostError:  # the client went away: the CSRF check deals with it
            return None
        return refusal_of(view_func)(request, unstorable_message(field)) if field else None
