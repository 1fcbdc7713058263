from django import template
from django.urls import resolve, reverse
from django.utils.html import format_html

from console.tenancy.roles import Perm

register = template.Library()


@register.filter
def can(access, perm: str) -> bool:
    """``{% if access|can:"view_audit" %}``: the role check of console/roles.py."""
    return access is not None and access.can(Perm(perm))


@register.filter
def can_open(access, url_name: str) -> bool:
    """``{% if access|can_open:"console:accounts" %}``: whether this merchant's page
    ``url_name`` opens for ``access``, asked of the permission its door requires (so a link
    is shown exactly to those the page lets in)."""
    if access is None:
        return False
    view = resolve(reverse(url_name, kwargs={"merchant_code": access.merchant.code})).func
    perm = getattr(view, "required_perm", None)
    return perm is not None and access.can(perm)


@register.filter
def minutes(delta) -> int:
    """A timedelta in whole minutes, rounded up (for the lock-out message)."""
    if delta is None:
        return 0
    return max(1, -(-int(delta.total_seconds()) // 60))


@register.simple_tag
def copy_field(label, value, copy_label="Copy", wrap=False):
    """A read-only value with a copy button (rendered in Python: it repeats on every card).
    ``wrap`` shows a long value (a channel key) whole, over two lines if need be, instead of
    cut off in a one-line box."""
    if wrap:
        return format_html(
            '<div class="input-group input-group-sm copy-group mb-1">'
            '<span class="input-group-text">{0}</span>'
            '<output class="form-control font-monospace text-break copy-wrap" aria-label="{0}">{1}</output>'
            '<button class="btn btn-outline-secondary" type="button" data-copy="{1}" '
            'aria-label="{2} {0}">{2}</button></div>',
            label, value, copy_label,
        )
    return format_html(
        '<div class="input-group input-group-sm copy-group mb-1">'
        '<span class="input-group-text">{0}</span>'
        '<input type="text" class="form-control font-monospace" value="{1}" readonly aria-label="{0}">'
        '<button class="btn btn-outline-secondary" type="button" data-copy="{1}" '
        'aria-label="{2} {0}">{2}</button></div>',
        label, value, copy_label,
    )


CLIP_SIZES = {"": "", "sm": " cell-clip-sm", "lg": " cell-clip-lg"}


@register.simple_tag
def clip(value, size=""):
    """A long value in a table cell, on one line and cut with an ellipsis at the column's
    width (``size``: "sm" 10rem, default 16rem, "lg" 24rem), the whole value in its title (on
    hover): a name without spaces never pushes the other columns out of view. The CSS is
    ``.cell-clip`` in static/css/console.css."""
    value = "" if value is None else value
    return format_html('<span class="cell-clip{}" title="{}">{}</span>', CLIP_SIZES.get(size, ""), value, value)
