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


class Issuance(models.TextChoices):
    """How a billing key is issued (PortOne V1's billing-key rules per PG code)."""

    WINDOW = "window"
    API = "api"


@dataclass(frozen=True)
class BillingKey:
    """A PG code's billing-key rules: issued through the window, the API, both or neither,
    and whether a window issuance can also pay (PortOne V1 SDK only)."""

    window: bool = False
    api: bool = False
    pay_at_issuance: bool = False
    # When only some payment methods can pay at issuance (Welcome: phone yes, card no).
    pay_at_issuance_methods: frozenset[str] | None = None

    @property
    def issuance(self) -> tuple[str, ...]:
        return tuple(i for i, on in ((Issuance.WINDOW, self.window), (Issuance.API, self.api)) if on)

    def can_pay_at_issuance(self, pay_method: str | None = None) -> bool:
        if not (self.window and self.pay_at_issuance):
            return False
        if self.pay_at_issuance_methods is None:
            return True
        return pay_method in self.pay_at_issuance_methods


NO_BILLING_KEY = BillingKey()
LEGACY_MARK = Text("old module", "구모듈")


@dataclass(frozen=True)
class PgCode:
    """A value of IMP.request_pay's `pg` prefix, e.g. `kcp_billing`, and where it applies.

    ``modules`` is what a new channel may use with this code; it is built by ``C()`` from the
    documented rules (payment window, billing key, key-in, identity verification).
    ``retired_modules`` are pairings PortOne's docs no longer list: existing channels keep
    them (they still validate and can be edited), the Add channel form no longer offers them.
    """

    code: str
    label: Text
    modules: frozenset[str] | None = None
    retired_modules: frozenset[str] = frozenset()
    billing: BillingKey = NO_BILLING_KEY
    keyin: bool = False
    certification: bool = False
    legacy: bool = False  # PortOne lists it as an old module (구모듈)
    guide: str = ""  # its own guide page, when it has one apart from the provider's

    def applies(self, module: str) -> bool:
        """Whether a channel with this module may carry this code (new or existing)."""
        return self.offers(module) or module in self.retired_modules

    def offers(self, module: str) -> bool:
        """Whether the Add channel form offers this code for ``module``."""
        return self.modules is None or module in self.modules


@dataclass(frozen=True)
class Provider:
    key: str
    name: Text
    kind: str
    codes: tuple[PgCode, ...]
    mid_label: Text
    fields: tuple[CredentialField, ...]
    shared_test: bool
    guide: str
    mid_max_length: int = 80
    mid_pattern: str = r"[A-Za-z0-9_\-.@]+"
    test_mids: tuple[tuple[str, str, Text], ...] = field(default=())  # (module, mid, note)
    legacy: bool = False  # PortOne lists it as an old module; kept so existing channels work
    legacy_note: Text | None = None
    # Every module a channel of this PG may hold (offered or retired), in Module order;
    # filled from the codes.
    modules: tuple[str, ...] = field(default=(), init=False)

    def __post_init__(self):
        accepted = {m for c in self.codes for m in (c.modules or set(Module.values)) | c.retired_modules}
        object.__setattr__(self, "modules", tuple(m for m in Module.values if m in accepted))

    @property
    def guide_url(self) -> str:
        return GUIDE_BASE + self.guide

    def guide_url_for(self, pg_code: str) -> str:
        code = self.code(pg_code)
        return GUIDE_BASE + (code.guide if code and code.guide else self.guide)

    @property
    def choice_label(self) -> str:
        """How the Add channel form names it: old modules say so."""
        return f"{self.name} ({LEGACY_MARK})" if self.legacy else str(self.name)

    def code(self, pg_code: str) -> PgCode | None:
        return next((c for c in self.codes if c.code == pg_code), None)

    def codes_for(self, module: str) -> list[PgCode]:
        """Codes a channel with ``module`` may carry: offered ones first, then retired ones."""
        return [c for c in self.codes if c.offers(module)] + [
            c for c in self.codes if not c.offers(module) and c.applies(module)
        ]

    def default_code(self, module: str) -> str | None:
        codes = self.codes_for(module)
        return codes[0].code if codes else None

    def fields_for(self, module: str, pg_code: str) -> list[CredentialField]:
        return [f for f in self.fields if f.applies(module, pg_code)]

    @property
    def offered_modules(self) -> tuple[str, ...]:
        """The modules the Add channel form offers for this PG."""
        return tuple(m for m in self.modules if any(c.offers(m) for c in self.codes))

    def module_choices(self):
        return [(m, Module(m).label) for m in self.offered_modules]


def T(en: str, ko: str) -> Text:
    return Text(en, ko)


def F(key, en, ko, **kw) -> CredentialField:
    for name in ("modules", "codes"):
        if kw.get(name) is not None:
            kw[name] = frozenset(kw[name])
    return CredentialField(key=key, label=T(en, ko), **kw)


def C(code, en, ko, *, window=None, billing=NO_BILLING_KEY, keyin=False, certification=False,
      legacy=False, retired=(), guide="") -> PgCode:
    """A PG code from its documented rules: ``window`` is the payment-window module it pays
    through (W, WS or None), ``billing`` its billing-key rules (WSUB where issued through the
    window, APISUB where through the API), ``keyin`` the key-in API, ``certification``
    identity verification. Old modules get "(old module)" after their label."""
    modules = {window} - {None}
    if billing.window:
        modules.add(WSUB)
    if billing.api:
        modules.add(APISUB)
    if keyin:
        modules.add(KEYIN)
    if certification:
        modules.add(CERT)
    label = T(f"{en} ({LEGACY_MARK.en})", f"{ko} ({LEGACY_MARK.ko})") if legacy else T(en, ko)
    return PgCode(code=code, label=label, modules=frozenset(modules),
                  retired_modules=frozenset(retired) - modules, billing=billing, keyin=keyin,
                  certification=certification, legacy=legacy, guide=guide)


def bk(*, window=False, api=False, pay=False, pay_methods=None) -> BillingKey:
    return BillingKey(window=window, api=api, pay_at_issuance=pay,
                      pay_at_issuance_methods=frozenset(pay_methods) if pay_methods else None)


SUBSCRIPTION = (WSUB, APISUB)
