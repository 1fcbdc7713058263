"""The merchant a request names (by code, or a sub-merchant by tier code) and the channel it pays
on: ``find_channel``, the one channel rule, and ``channel_problem`` for a billing key's channel."""

from django.utils.translation import gettext as _

from channels.catalog import Module
from channels.models import Channel, Mode
from console.models import Merchant
from payments.domain.errors import PaymentError, Refusal


def merchant_by_code(merchant_code: str, tier_code: str | None) -> Merchant:
    merchant = Merchant.objects.filter(code=str(merchant_code or "").strip(), parent__isnull=True).first()
    if merchant is None:
        raise PaymentError(Refusal.INVALID, _("Unknown merchant code: call IMP.init() with the code from the "
                                     "IDs & API keys page."))
    if tier_code:
        sub = merchant.sub_merchants.filter(tier_code=str(tier_code).strip()).first()
        if sub is None:
            raise PaymentError(Refusal.INVALID, _("This merchant has no sub-merchant with the tier code %(tier)s.")
                               % {"tier": tier_code})
        return sub
    return merchant


def _visible_channels(merchant: Merchant):
    return Channel.objects.usable_by(merchant)


# What a payment window takes first when pg names a PG without its MID, or nothing: a
# subscription window issues billing keys, an API channel pays without a window.
WINDOW_MODULES = (Module.WINDOW_GENERAL, Module.WINDOW_SIMPLE)


def _payable(channel: Channel) -> bool:
    return channel.enabled and channel.mode == Mode.TEST


def _why_not_payable(channel: Channel) -> str:
    if not channel.enabled:
        return _("This channel is disabled: enable it on the Channels page.")
    return _("Live channels take no payments here: no PG is reachable from PG Console. Use a test channel.")


def _takes(channel: Channel, module: str | None) -> bool:
    return channel.module == module if module else channel.module in WINDOW_MODULES


def _use_pg(channels, module: str | None, like: Channel | None = None) -> str:
    """A sentence naming the test ``pg`` a refused request could use: an enabled test channel
    of the request's module, of ``like``'s PG when it has one; "" when the merchant has none.
    ``channels`` is read only here, on the way to a refusal."""
    channels = list(channels)
    usable = [c for c in channels if _payable(c) and _takes(c, module)]
    if not usable and module is None:
        usable = [c for c in channels if _payable(c)]
    if like is not None:
        usable = [c for c in usable if c.pg_provider == like.pg_provider] or usable
    if not usable:
        return ""
    return " " + _('Use pg: "%(pg)s" (an enabled test channel).') % {"pg": usable[0].pg_string}


def find_channel(merchant: Merchant, *, pg: str = "", channel_key: str = "", module: str | None = None) -> Channel:
    """The channel a request pays on: the one rule of the window (``module`` None), key-in and
    virtual accounts (``Module.API_KEYIN``) and billing keys (``API_SUBSCRIPTION``,
    ``WINDOW_SUBSCRIPTION``). Only an enabled test channel pays: no PG is reachable from here.

    - ``channelKey``, or ``pg`` with its MID (``kcp.T0000``), names one channel: it pays, or is
      refused (live, disabled, of another module).
    - ``pg`` without a MID (``kcp``) names the merchant's channels of that PG, and no ``pg`` all
      of them, of the request's module (the window takes general and simple ones first). As
      at PortOne, the default channel is taken when it is among them, else the only one (a PG
      with several MIDs is named with its MID, PortOne's guides say). The sandbox chooses
      among the enabled test ones: a live default stands for its PG, whose test channel of
      the same module is taken. Several left, or none, is refused.

    One query reads the channels the request names (those of its key, of its PG, or of its
    module), not all the merchant's; a refusal reads them all to name a test ``pg`` to use
    when the merchant has one (``_use_pg``)."""
    visible = _visible_channels(merchant).order_by("id")
    code, _dot, mid = pg.partition(".")
    if channel_key:
        named = list(visible.filter(channel_key=channel_key))
        if not named:
            raise PaymentError(Refusal.INVALID, _("No channel of this merchant has this channel key."))
    elif pg:
        named = list(visible.filter(pg_provider=code, **({"mid": mid} if mid else {})))
        if not named:
            raise PaymentError(Refusal.INVALID, _("No channel of this merchant matches pg “%(pg)s”.") % {"pg": pg})
    else:
        named = list(visible.filter(module=module) if module else visible)
    channels = visible  # all of them, read only for a refusal's hint
    if module:
        of_module = [c for c in named if c.module == module]
        if not of_module and (channel_key or pg):
            shown = next((c for c in named if _payable(c)), named[0])
            raise PaymentError(Refusal.INVALID, _("This request takes a channel of the module “%(expected)s”; "
                                         "%(channel)s is a channel of the module “%(actual)s”.")
                               % {"expected": Module(module).label, "channel": shown.pg_string,
                                  "actual": Module(shown.module).label} + _use_pg(channels, module, shown))
        named = of_module
    elif named:
        # The payment window (module None) pays on a window channel only: a key-in or API
        # channel never opens one (not even as the default), and a pg without a MID names its
        # PG's window channels.
        windows = [c for c in named if c.opens_payment_window]
        if not windows and (channel_key or pg):
            shown = next((c for c in named if _payable(c)), named[0])
            raise PaymentError(Refusal.INVALID, _("%(channel)s is a channel of the module “%(actual)s”: it opens no "
                                         "payment window. Name a channel of the module “%(general)s” or "
                                         "“%(simple)s”.")
                               % {"channel": shown.pg_string, "actual": Module(shown.module).label,
                                  "general": Module.WINDOW_GENERAL.label, "simple": Module.WINDOW_SIMPLE.label}
                               + _use_pg(channels, module, shown))
        named = windows
    payable = [c for c in named if _payable(c)]
    if channel_key or mid:  # one channel (a test and a live one may share a MID: the test one pays)
        if payable:
            return payable[0]
        raise PaymentError(Refusal.INVALID, _why_not_payable(named[0]) + _use_pg(channels, module, named[0]))
    default = next((c for c in named if c.is_default and c.merchant_id == merchant.pk), None)
    if default is not None and _payable(default):
        return default
    pool = payable
    if default is not None:
        pool = [c for c in pool if (c.pg_provider, c.module) == (default.pg_provider, default.module)] or pool
    if len(pool) == 1:
        return pool[0]
    if pool:
        if pg:
            message = _("pg “%(pg)s” names %(count)d test channels of this merchant: name one with its MID.")
        elif module:
            message = _("This merchant has %(count)d test channels of the module “%(module)s”: name one "
                        "with pg.")
        else:
            message = _("Name the channel (pg or channelKey): this merchant has no default channel that "
                        "takes test payments, and %(count)d test channels could.")
        raise PaymentError(Refusal.INVALID, message % {"pg": pg, "count": len(pool),
                                              "module": Module(module).label if module else ""}
                           + _use_pg(pool, module))
    refused = default if default is not None else (named[0] if pg else None)
    if refused is not None:
        raise PaymentError(Refusal.INVALID, _why_not_payable(refused) + _use_pg(channels, module, refused))
    if module:
        raise PaymentError(Refusal.INVALID, _("This merchant has no enabled test channel of the module “%(module)s”: "
                                     "add one on the Channels page.") % {"module": Module(module).label})
    raise PaymentError(Refusal.INVALID, _("Name the channel (pg or channelKey): this merchant has no default channel."))


def channel_problem(channel: Channel | None, merchant: Merchant) -> str | None:
    """Why a billing key's channel cannot pay for ``merchant`` now, or None."""
    if channel is None:
        return _("The channel of this billing key was deleted.")
    if merchant.pk not in (channel.merchant_id, channel.assigned_to_id):
        return _("The channel of this billing key is no longer this merchant's: its agency took it back.")
    if not channel.enabled:
        return _("The channel of this billing key is disabled: enable it on the Channels page.")
    if channel.mode != Mode.TEST:
        return _("Live channels take no payments here: no PG is reachable from PG Console. "
                 "Use a test channel.")
    return None
