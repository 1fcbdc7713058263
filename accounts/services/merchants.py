"""Writes to merchants and sub-merchants (tiers): creating them with a fresh merchant code and
their test channels, editing their profile, tier code and channels, deleting a sub-merchant,
the two-factor rule.

Each service validates, writes, and records its audit row in one transaction. Tier codes are
checked under the agency's row lock (``lock_merchant``). Which channels a sub-merchant may be
given is ``channels.services.channels_assign_set``'s rule, the Channels page's too.
"""

import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import AuditAction
from channels.selectors import channels_assigned_to, channels_of_sub_merchant
from channels.services import channels_assign_set, test_channels_provision
from console.models import Invitation, Merchant
from console.tenancy.audit import Actor, audit_changes, audit_record, snapshot
from console.tenancy.locks import lock_rows
from console.tenancy.selectors import lock_merchant
from console.tenancy.stale import check_version, version_of
from webhooks.services import sub_merchant_deliveries_to_agency

MERCHANT_CODE_ATTEMPTS = 8


def _new_merchant_code() -> str:
    return f"imp{secrets.randbelow(10**8):08d}"


def _clean_name(name) -> str:
    """A merchant's name, trimmed; length and blankness are the model's to check. No control
    characters (a line break, or a NUL that PostgreSQL cannot even store)."""
    name = (name or "").strip()
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ValidationError({"name": _("The name cannot contain control characters such as line "
                                         "breaks or tabs.")})
    return name


def _merchant_insert(merchant: Merchant) -> Merchant:
    """Give the merchant a fresh, unique code and insert it.

    Codes are random, so two processes rarely collide; when they do, the
    unique index refuses the second and we draw again.
    """
    merchant.full_clean(exclude=["code"])
    for _attempt in range(MERCHANT_CODE_ATTEMPTS):
        merchant.code = _new_merchant_code()
        if Merchant.objects.filter(code=merchant.code).exists():
            continue
        try:
            with transaction.atomic():
                merchant.save(force_insert=True)
            return merchant
        except IntegrityError:
            if Merchant.objects.filter(code=merchant.code).exists():
                merchant.pk = None
                continue
            raise
    raise RuntimeError("could not draw an unused merchant code")


def _provision_test_channels(actor: Actor, merchant: Merchant) -> None:
    """Every merchant starts with a test channel per shared test credential."""
    test_channels_provision(actor=actor, merchant_ids=[merchant.pk])


@transaction.atomic
def merchant_create(*, actor: Actor, name: str) -> Merchant:
    merchant = _merchant_insert(Merchant(name=_clean_name(name)))
    audit_record(
        actor=actor, merchant=merchant, action=AuditAction.MERCHANT_CREATE, target=merchant,
        changes={"name": (None, merchant.name)},
    )
    _provision_test_channels(actor, merchant)
    return merchant


SUB_MERCHANT_PROFILE = ("service_url", "contact_name", "contact_phone", "webhook_same_as_agency")


def _tier_code_taken_error(tier_code: str) -> ValidationError:
    return ValidationError({"tier_code": _(
        "The tier code %(code)s is taken: this agency already has a sub-merchant with it."
    ) % {"code": tier_code}})


def _refuse_taken_tier_code(agency: Merchant, tier_code: str) -> None:
    """Call with the agency's row locked, so two requests cannot take one code."""
    if tier_code and Merchant.objects.filter(parent=agency, tier_code=tier_code).exists():
        raise _tier_code_taken_error(tier_code)


def _save_or_refuse_taken_tier_code(save, tier_code: str) -> None:
    """The unique index stays the last word (a writer that skipped the lock)."""
    try:
        with transaction.atomic():
            save()
    except IntegrityError as exc:
        if "merchant_tier_code_unique_under_parent" in str(exc):
            raise _tier_code_taken_error(tier_code) from exc
        raise


@transaction.atomic
def sub_merchant_create(
    *, actor: Actor, agency: Merchant, name: str, tier_code: str, channel_keys: Iterable[str] = (),
    **profile,
) -> Merchant:
    """A sub-merchant with its test channels and, from ``channel_keys``, the agency's channels
    it uses. Any refusal leaves nothing behind: the whole call is one transaction."""
    unknown = set(profile) - set(SUB_MERCHANT_PROFILE)
    if unknown:
        raise ValueError(f"not a sub-merchant field: {sorted(unknown)}")
    agency = lock_merchant(agency)  # one tier code at a time
    sub = Merchant(name=_clean_name(name), parent=agency,
                   tier_code=(tier_code or "").strip().upper(), **profile)
    _refuse_taken_tier_code(agency, sub.tier_code)
    _save_or_refuse_taken_tier_code(lambda: _merchant_insert(sub), sub.tier_code)
    audit_record(
        actor=actor, merchant=agency, action=AuditAction.SUB_MERCHANT_CREATE, target=sub,
        changes={f: (None, getattr(sub, f))
                 for f in ("name", "tier_code", *[f for f, v in profile.items() if v != ""])},
    )
    _provision_test_channels(actor, sub)
    channel_keys = list(channel_keys)
    if channel_keys:
        _assign_channels(actor, sub, channel_keys)
    return sub


def _assign_channels(actor: Actor, sub: Merchant, channel_keys: list[str]) -> None:
    channels_assign_set(actor=actor, sub_merchant=sub, channel_keys=channel_keys)


MERCHANT_EDITABLE = ("name", "tier_code", "require_two_factor", *SUB_MERCHANT_PROFILE)


@transaction.atomic
def merchant_update(*, actor: Actor, merchant: Merchant, **values) -> Merchant:
    """Change a merchant's or sub-merchant's profile. Audited as ``merchant.update`` or, for a
    sub-merchant (recorded on its agency), ``sub_merchant.update``."""
    unknown = set(values) - set(MERCHANT_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    merchant = lock_merchant(merchant)
    before = snapshot(merchant, MERCHANT_EDITABLE)
    for name, value in values.items():
        setattr(merchant, name, value.strip() if isinstance(value, str) else value)
    if "name" in values:
        merchant.name = _clean_name(values["name"])
    if merchant.tier_code:
        merchant.tier_code = merchant.tier_code.upper()
        if merchant.tier_code != before["tier_code"]:
            lock_merchant(merchant.parent)
            _refuse_taken_tier_code(merchant.parent, merchant.tier_code)
    merchant.full_clean()
    changes = audit_changes(merchant, before, MERCHANT_EDITABLE)
    if changes:
        _save_or_refuse_taken_tier_code(
            lambda: merchant.save(update_fields=[*changes, "updated_at"]), merchant.tier_code
        )
        action = (AuditAction.SUB_MERCHANT_UPDATE if merchant.parent_id
                  else AuditAction.MERCHANT_UPDATE)
        audit_record(actor=actor, merchant=merchant.parent or merchant, action=action,
                     target=merchant, changes=changes)
    return merchant


SUB_MERCHANT_FORM = ("name", "tier_code", *SUB_MERCHANT_PROFILE)


def _sub_merchant_form_values(sub: Merchant) -> dict:
    """What the sub-merchant form shows, under the form's names (``channels``: the keys of the
    channels assigned to it), for the stale-edit check (``console.tenancy.stale``)."""
    values = {f: getattr(sub, f) for f in SUB_MERCHANT_FORM}
    assigned = channels_assigned_to(sub_merchant_ids=[sub.pk])[sub.pk]
    values["channels"] = sorted(c.channel_key for c in assigned)
    return values


def sub_merchant_version(sub_merchant: Merchant) -> str:
    """The version of the sub-merchant its edit form starts from (its hidden ``edit_version``)."""
    return version_of(_sub_merchant_form_values(sub_merchant))


@transaction.atomic
def sub_merchant_update(
    *, actor: Actor, sub_merchant: Merchant, channel_keys: Iterable[str] | None = None,
    expected_version: str | None = None, **values
) -> Merchant:
    """The sub-merchant form: its profile (``merchant_update``) and, unless ``None``, exactly
    these of the agency's channels (assigned or given back, each with its audit row). With
    ``expected_version`` (the form's), a sub-merchant changed since that version is refused with
    ``StaleEdit`` naming what changed, and nothing is written."""
    if sub_merchant.parent_id is None:
        raise ValueError("not a sub-merchant")
    if expected_version:
        locked = lock_merchant(sub_merchant)
        submitted = {f: v.strip() if isinstance(v, str) else v for f, v in values.items()}
        if isinstance(submitted.get("tier_code"), str):
            submitted["tier_code"] = submitted["tier_code"].upper()
        if channel_keys is not None:
            channel_keys = list(channel_keys)
            submitted["channels"] = sorted(set(channel_keys))
        check_version(expected=expected_version, current=_sub_merchant_form_values(locked),
                      submitted=submitted)
    sub = merchant_update(actor=actor, merchant=sub_merchant, **values)
    if channel_keys is not None:
        _assign_channels(actor, sub, list(channel_keys))
    return sub


class SubMerchantGone(ValidationError):
    """The sub-merchant is not there (any more): deleted by someone else, or twice."""


def _gone() -> SubMerchantGone:
    return SubMerchantGone(_("This sub-merchant does not exist any more: it was deleted already."))


@dataclass(frozen=True)
class SubMerchantDeleted:
    name: str
    tier_code: str
    channels_returned: int
    members_removed: int
    invitations_revoked: int


@transaction.atomic
def sub_merchant_delete(*, actor: Actor, sub_merchant: Merchant) -> SubMerchantDeleted:
    """Delete a sub-merchant. What the agency had stays the agency's: channels it assigned come
    back (``channel.unassign`` rows), and notifications the sub-merchant sent through the
    agency's endpoint stay in the agency's delivery log. What was the sub-merchant's own goes
    with it: its memberships (its own members lose access), its open invitations (their links
    stop working), its own channels (test ones included), its own webhook endpoints with
    their secrets and deliveries. Audit rows stay, with their text, and no longer name a
    merchant. Its tier code is free again. One ``sub_merchant.delete`` row on the agency
    names all of it."""
    sub = lock_rows(Merchant.objects.filter(pk=sub_merchant.pk, parent__isnull=False)).first()
    if sub is None:
        raise _gone()
    agency = lock_merchant(sub.parent)  # tier codes are taken and freed under the agency's lock
    sub.parent = agency
    members = [f"{m.operator.email} ({m.role})" for m in
               sub.memberships.select_related("operator").order_by("operator__email")]
    invitations = [f"{i.email} ({i.role})" for i in
                   Invitation.objects.filter(merchant=sub, accepted_at__isnull=True,
                                             revoked_at__isnull=True).order_by("email")]
    assigned, own = channels_of_sub_merchant(sub_merchant=sub)
    channels_assign_set(actor=actor, sub_merchant=sub, channel_keys=[])  # all back to the agency
    returned, own_channels = [c.audit_label() for c in assigned], [c.audit_label() for c in own]
    kept = sub_merchant_deliveries_to_agency(sub_merchant=sub)
    listed = {"members": members, "invitations": invitations, "channels": returned,
              "own_channels": own_channels}
    audit_record(
        actor=actor, merchant=agency, action=AuditAction.SUB_MERCHANT_DELETE, target=sub,
        changes={**{f: (getattr(sub, f), None) for f in ("name", "tier_code", "code")},
                 **{f: (v, None) for f, v in listed.items() if v},
                 **({"deliveries_kept_by_agency": (None, kept)} if kept else {})},
    )
    sub.delete()
    return SubMerchantDeleted(name=sub.name, tier_code=sub.tier_code, channels_returned=len(returned),
                              members_removed=len(members), invitations_revoked=len(invitations))


@transaction.atomic
def two_factor_rule_set(*, actor: Actor, merchant: Merchant, required: bool) -> Merchant:
    """Require two-factor login of the merchant's owners and admins (from their next login).
    Set on the agency: its owners and admins are the sub-merchants' too."""
    if merchant.parent_id:
        raise ValidationError(_("The two-factor rule is set on the agency: it covers its owners "
                                "and admins everywhere."))
    return merchant_update(actor=actor, merchant=merchant, require_two_factor=required)
