"""URL path converters for the console's own vocabulary."""

from console.models import Mode


class ModeConverter:
    """``<mode:mode>``: ``live`` or ``test``; any other value is not a URL here (404)."""

    regex = "|".join(Mode.values)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)
