"""The local outbox page (``/local/outbox/``): the mail this machine kept in ``var/mail/``.

Routed only when ``PGCONSOLE_LOCAL_OUTBOX`` is on, which only the local settings do
(``config/urls.py``): production and test settings never have this page. Any logged-in
operator may read it: locally every account is the developer's own (the demo logins share
one password), and the invitation being tried was sent by an owner or admin, not by staff.
It is not open to anonymous visitors, because ``HOST=0.0.0.0 make run`` puts the console on
the network and the mail holds one-time links; a logged-out developer (trying a password
reset) reads the same mail in ``var/mail/``.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .mail import mail_dir, read_messages

SHOWN = 50


@never_cache
@require_GET
@login_required
def outbox(request):
    directory = mail_dir()
    return render(request, "ops/outbox.html", {
        "messages_kept": read_messages(directory, limit=SHOWN),
        "directory": directory,
        "shown": SHOWN,
    })
