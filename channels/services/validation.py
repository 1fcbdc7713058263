"""Validating a channel against the PG catalog: the one rule the form, the admin, the
demo seed and the REST API share (``ChannelInput`` in, cleaned input and credentials out)."""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from console.models import Merchant

from .. import catalog
from ..catalog import PAYMENT_METHODS, Module
from ..models import Channel, Mode, TaxType

CREDENTIAL_PREFIX = "cred_"  # error keys for credential fields: cred_<key>
NAME_MAX_LENGTH = Channel._meta.get_field("name").max_length  # one limit: the model's
EDITABLE = ("name", "mid", "pg_provider", "tax_type", "payment_methods")
IDENTITY = ("mode", "provider", "module", "mid")  # what names a channel in its audit rows


@dataclass
class ChannelInput:
    """What an operator submits for a channel. Blank secret values keep the stored ones."""

    mode: str
    provider: str
    module: str
    mid: str
    pg_provider: str = ""
    name: str = ""
    tax_type: str = TaxType.UNSET
    payment_methods: list[str] = field(default_factory=list)
    credentials: dict[str, str] = field(default_factory=dict)


def _clean(
    *, merchant: Merchant, data: ChannelInput, stored: dict, exclude_pk: int | None = None,
    new: bool = False,
) -> tuple[ChannelInput, dict]:
    """Validate ``data`` against the catalog. Returns the cleaned input and credentials.

    A ``new`` channel takes only what PortOne offers today; an existing one keeps a pairing
    the docs no longer list (a retired module or PG code), so it can still be edited."""
    errors: dict[str, str] = {}
    provider = catalog.get(data.provider)
    mid = (data.mid or "").strip()
    name = (data.name or "").strip()

    if data.mode not in Mode.values:
        errors["mode"] = _("Choose live or test.")
    if provider is None:
        errors["provider"] = _("Choose a PG from the list.")
        raise ValidationError(errors)
    modules = provider.offered_modules if new else provider.modules
    if data.module not in modules:
        offered = ", ".join(str(Module(m).label) for m in modules)
        errors["module"] = _("%(pg)s does not offer this module. It offers: %(offered)s.") % {
            "pg": provider.name, "offered": offered,
        }
        raise ValidationError(errors)
    pg_code = (data.pg_provider or "").strip() or provider.default_code(data.module)
    if pg_code not in [c.code for c in provider.codes_for(data.module) if c.offers(data.module) or not new]:
        errors["pg_provider"] = _("This PG code does not go with the chosen module.")

    if not mid:
        errors["mid"] = _("%(label)s is required.") % {"label": provider.mid_label}
    elif len(mid) > provider.mid_max_length:
        errors["mid"] = _("%(label)s is too long: at most %(max)d characters (it has %(n)d).") % {
            "label": provider.mid_label, "max": provider.mid_max_length, "n": len(mid),
        }
    elif not re.fullmatch(provider.mid_pattern, mid):
        errors["mid"] = _(
            "%(label)s is not in the expected format (letters, digits and _ - . @ only, "
            "as the PG issued it)."
        ) % {"label": provider.mid_label}
        if provider.mid_max_length <= 10:
            errors["mid"] = _(
                "%(label)s is not in the expected format: %(pg)s issues it as exactly %(n)d "
                "letters or digits."
            ) % {"label": provider.mid_label, "pg": provider.name, "n": provider.mid_max_length}

    if len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("The channel name is too long: at most %(max)d characters.") % {
            "max": NAME_MAX_LENGTH
        }
    if data.tax_type not in TaxType.values:
        errors["tax_type"] = _("Choose a tax type from the list.")
    known_methods = {code for code, _label in PAYMENT_METHODS}
    methods = list(dict.fromkeys(data.payment_methods or []))
    if not set(methods) <= known_methods:
        errors["payment_methods"] = _("Choose payment methods from the list.")

    fields = provider.fields_for(data.module, pg_code or "")
    allowed = {f.key for f in fields}
    unknown = set(k for k, v in data.credentials.items() if v) - allowed
    if unknown:
        errors["__all__"] = _("%(pg)s has no field named %(fields)s.") % {
            "pg": provider.name, "fields": ", ".join(sorted(unknown)),
        }
    credentials: dict[str, str] = {}
    for f in fields:
        value = (data.credentials.get(f.key) or "").strip()
        if not value and f.secret and stored.get(f.key):
            credentials[f.key] = stored[f.key]  # blank secret: keep what is stored
            continue
        if not value:
            if f.required:
                errors[CREDENTIAL_PREFIX + f.key] = _("%(label)s is required.") % {"label": f.label}
            continue
        problem = f.check(value)
        if problem:
            errors[CREDENTIAL_PREFIX + f.key] = problem
        else:
            credentials[f.key] = value

    if "mid" not in errors and data.mode in Mode.values:
        duplicate = Channel.objects.filter(
            merchant=merchant, mode=data.mode, provider=provider.key, module=data.module, mid=mid
        )
        if exclude_pk:
            duplicate = duplicate.exclude(pk=exclude_pk)
        if duplicate.exists():
            errors["mid"] = _(
                "This merchant already has a %(mode)s channel for %(pg)s with this module and "
                "%(label)s."
            ) % {"mode": Mode(data.mode).label.lower(), "pg": provider.name, "label": provider.mid_label}

    if errors:
        raise ValidationError(errors)
    cleaned = ChannelInput(
        mode=data.mode, provider=provider.key, module=data.module, mid=mid, pg_provider=pg_code,
        name=name, tax_type=data.tax_type, payment_methods=methods, credentials=credentials,
    )
    return cleaned, credentials


def _duplicate_error() -> ValidationError:
    return ValidationError({"mid": _("This merchant already has a channel with this PG, module and MID in this mode.")})


def _check_assignable(merchant: Merchant, sub_merchant: Merchant | None) -> None:
    if sub_merchant is not None and sub_merchant.parent_id != merchant.pk:
        raise ValidationError(
            {"assigned_to": _("A channel can be assigned only to a sub-merchant of its own merchant.")}
        )


def _credential_names(keys) -> list[str]:
    """How a credential appears in an audit row: by its name, never its value."""
    return [f"credentials.{key}" for key in keys]
