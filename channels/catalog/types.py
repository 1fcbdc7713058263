"""The shape of a catalog entry: kinds, modules, credential fields, PG codes, providers,
and the short constructors the data in ``providers.py`` is written with."""

import re
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

GUIDE_BASE = "https://developers.portone.io/opi/ko/integration/pg/v1/"


class Kind(models.TextChoices):
    PG = "pg", _("PG")
    SIMPLE = "simple", _("Simple payment")


class Module(models.TextChoices):
    WINDOW_GENERAL = "window_general", _("Payment window · general")
    WINDOW_SIMPLE = "window_simple", _("Payment window · simple")
    WINDOW_SUBSCRIPTION = "window_subscription", _("Payment window · subscription")
    API_KEYIN = "api_keyin", _("API · key-in")
    API_SUBSCRIPTION = "api_subscription", _("API · subscription")
    CERTIFICATION = "certification", _("Identity verification")


MODULE_LABELS = dict(Module.choices)

# The `type` that /users/pg reports for a module.
MODULE_TYPE = {
    Module.WINDOW_GENERAL: "payment",
    Module.WINDOW_SIMPLE: "payment",
    Module.WINDOW_SUBSCRIPTION: "payment",
    Module.API_KEYIN: "api_payment",
    Module.API_SUBSCRIPTION: "api_payment",
    Module.CERTIFICATION: "certification",
}

PAYMENT_METHODS = [
    ("card", _("Card")),
    ("trans", _("Bank transfer")),
    ("vbank", _("Virtual account")),
    ("phone", _("Phone")),
    ("point", _("Point")),
]

W, WS, WSUB, KEYIN, APISUB, CERT = (
    Module.WINDOW_GENERAL,
    Module.WINDOW_SIMPLE,
    Module.WINDOW_SUBSCRIPTION,
    Module.API_KEYIN,
    Module.API_SUBSCRIPTION,
    Module.CERTIFICATION,
)


@dataclass(frozen=True)
class Text:
    """A label in English and Korean, chosen by the active language."""

    en: str
    ko: str

    def __str__(self) -> str:
        return self.ko if (get_language() or "en").startswith("ko") else self.en


@dataclass(frozen=True)
class CredentialField:
    key: str
    label: Text
    required: bool = True
    secret: bool = True
    max_length: int = 200
    pattern: str | None = None  # a full-match regex, when the format is known
    pattern_hint: Text | None = None
    modules: frozenset[str] | None = None  # only for these modules (None: all)
    codes: frozenset[str] | None = None  # only for these pg codes (None: all)

    def applies(self, module: str, pg_code: str) -> bool:
        return (self.modules is None or module in self.modules) and (
            self.codes is None or pg_code in self.codes
        )

    def check(self, value: str) -> str | None:
        """The problem with ``value``, in the operator's words, or None."""
        if len(value) > self.max_length:
            return str(
                _("%(label)s is too long: at most %(max)d characters (it has %(n)d).")
                % {"label": self.label, "max": self.max_length, "n": len(value)}
            )
        if self.pattern and not re.fullmatch(self.pattern, value):
            hint = f" {self.pattern_hint}" if self.pattern_hint else ""
            return str(_("%(label)s is not in the expected format.") % {"label": self.label}) + hint
        return None


@dataclass(frozen=True)
class PgCode:
    """A value of IMP.request_pay's `pg` prefix, e.g. `kcp_billing`, and where it applies."""

    code: str
    label: Text
    modules: frozenset[str] | None = None

    def applies(self, module: str) -> bool:
        return self.modules is None or module in self.modules


@dataclass(frozen=True)
class Provider:
    key: str
    name: Text
    kind: str
    modules: tuple[str, ...]
    codes: tuple[PgCode, ...]
    mid_label: Text
    fields: tuple[CredentialField, ...]
    shared_test: bool
    guide: str
    mid_max_length: int = 80
    mid_pattern: str = r"[A-Za-z0-9_\-.@]+"
    test_mids: tuple[tuple[str, str, Text], ...] = field(default=())  # (module, mid, note)

    @property
    def guide_url(self) -> str:
        return GUIDE_BASE + self.guide

    def codes_for(self, module: str) -> list[PgCode]:
        return [c for c in self.codes if c.applies(module)]

    def default_code(self, module: str) -> str | None:
        codes = self.codes_for(module)
        return codes[0].code if codes else None

    def fields_for(self, module: str, pg_code: str) -> list[CredentialField]:
        return [f for f in self.fields if f.applies(module, pg_code)]

    def module_choices(self):
        return [(m, Module(m).label) for m in self.modules]


def T(en: str, ko: str) -> Text:
    return Text(en, ko)


def F(key, en, ko, **kw) -> CredentialField:
    for name in ("modules", "codes"):
        if kw.get(name) is not None:
            kw[name] = frozenset(kw[name])
    return CredentialField(key=key, label=T(en, ko), **kw)


def C(code, en, ko, modules=None) -> PgCode:
    return PgCode(code=code, label=T(en, ko), modules=frozenset(modules) if modules else None)


SUBSCRIPTION = (WSUB, APISUB)
