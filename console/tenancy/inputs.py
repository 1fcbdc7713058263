"""What every reader of request input shares: a number written as text is ASCII digits.

``str.isdigit()`` is true of ``²`` and ``٣`` too, and ``int()`` reads ``٣`` as 3 but fails on
``²``; so every number the console reads from text goes through ``ascii_int`` (``[0-9]`` and
nothing else), never through ``isdigit``/``isnumeric``/``int`` on its own.
"""

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")  # not \d, which takes every script's digits


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

