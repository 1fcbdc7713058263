"""Forms for the Channels pages. They collect input; channels/services/validation.py validates it."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.tenancy.forms import ServiceErrorsMixin, StaleEditMixin

from . import catalog
from .catalog import PAYMENT_METHODS, Kind, Module
from .models import Channel, Mode, TaxType
from .services import CREDENTIAL_PREFIX, ChannelInput


def _provider_choices():
    """The PG list, by kind; old modules say so in their label (they stay for existing channels)."""
    groups = []
    for kind in Kind:
        options = [(p.key, p.choice_label) for p in catalog.PROVIDERS if p.kind == kind]
        groups.append((kind.label, options))
    return [("", _("Choose a PG"))] + groups


class ChannelStartForm(forms.Form):
    """Step 1 and 2 of "Add channel": mode, PG, then module. Submitted by htmx on change."""

    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices, initial=Mode.LIVE,
                             widget=forms.Select(attrs={"class": "form-select"}))
    provider = forms.ChoiceField(label=_("PG"), choices=_provider_choices, required=False,
                                 widget=forms.Select(attrs={"class": "form-select"}))
    module = forms.ChoiceField(label=_("Module"), choices=[("", "—")], required=False,
                               widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        provider = catalog.get(self.data.get("provider") or self.initial.get("provider") or "")
        if provider:
            self.fields["module"].choices = [("", _("Choose a module"))] + provider.module_choices()

    def selection(self) -> tuple[str, catalog.Provider | None, str | None]:
        """The mode, provider and module chosen so far (invalid choices read as not chosen).
        Only the modules the PG offers count: retired ones are for existing channels."""
        mode = self.data.get("mode") if self.data.get("mode") in Mode.values else Mode.LIVE
        provider = catalog.get(self.data.get("provider") or "")
        module = self.data.get("module") or None
        if provider is None or module not in provider.offered_modules:
            module = None
        return mode, provider, module


def mask(value: str) -> str:
    """How a stored secret is shown: its last 4 characters, only when it is long enough
    that they give little away (12 or more); otherwise just that one is set."""
    if len(value) >= 12:
        return f"•••• {value[-4:]}"
    return "••••"


class ChannelForm(StaleEditMixin, ServiceErrorsMixin, forms.Form):
    """The PG's own form: fields and labels come from the catalog entry."""

    stale_lead = _("Someone changed this channel while you were editing: %(changes)s.")

    pg_provider = forms.ChoiceField(label=_("PG code"), required=False)
    name = forms.CharField(label=_("Channel name"), required=False, strip=True,
                           max_length=Channel._meta.get_field("name").max_length)
    mid = forms.CharField(label=_("MID"), required=False, strip=True)
    tax_type = forms.ChoiceField(label=_("Tax type"), choices=TaxType.choices, initial=TaxType.UNSET)
    payment_methods = forms.MultipleChoiceField(
        label=_("Payment methods"), choices=PAYMENT_METHODS, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Optional: when the PG issued this MID for particular payment methods."),
    )

    def __init__(self, *args, provider: catalog.Provider, module: str, mode: str,
                 stored: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider, self.module, self.mode = provider, module, mode
        self.stored = stored or {}
        current = self.initial.get("pg_provider")  # editing: the channel's own code stays offered
        codes = [c for c in provider.codes_for(module) if c.offers(module) or c.code == current]
        self.fields["pg_provider"].choices = [(c.code, str(c.label)) for c in codes]
        if len(codes) == 1:
            self.fields["pg_provider"].widget = forms.HiddenInput()
            self.fields["pg_provider"].initial = codes[0].code
        else:  # the fields of one code only show while it is chosen (console.js)
            self.fields["pg_provider"].widget.attrs["data-pg-code-select"] = ""
        offered = {c.code for c in codes}
        self.fields["mid"].label = f"{provider.mid_label} *"
        self.fields["mid"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        pg_code = self.data.get("pg_provider") or self.initial.get("pg_provider") or codes[0].code
        self.credential_fields = []
        self.credential_codes: dict[str, tuple[list[str], bool]] = {}  # name: (only for codes, shown)
        for spec in provider.fields:
            if not spec.applies(module, pg_code) and not any(spec.applies(module, c.code) for c in codes):
                continue
            name = CREDENTIAL_PREFIX + spec.key
            help_text = ""
            if spec.secret:
                stored_value = self.stored.get(spec.key, "")
                widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
                if stored_value:
                    widget.attrs["placeholder"] = mask(stored_value)
                    help_text = _("Stored. Leave blank to keep it; type a new value to replace it.")
                field = forms.CharField(label=str(spec.label), required=False, widget=widget,
                                        help_text=help_text, strip=True)
            else:
                field = forms.CharField(label=str(spec.label), required=False, strip=True,
                                        initial=self.stored.get(spec.key, ""))
                field.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
            if spec.codes is not None and len(codes) > 1:
                codes_text = ", ".join(sorted(spec.codes))
                field.help_text = (f"{field.help_text} " if field.help_text else "") + str(
                    _("Only for %(codes)s.") % {"codes": codes_text}
                )
            if spec.required and not (spec.secret and self.stored.get(spec.key)):
                field.label = f"{field.label} *"
            self.fields[name] = field
            self.credential_fields.append(name)
            only = sorted(offered & set(spec.codes)) if spec.codes is not None and len(codes) > 1 else []
            self.credential_codes[name] = (only, spec.applies(module, pg_code))

    @property
    def credential_rows(self) -> list[dict]:
        """The credential fields in order, each with the codes it is only for (empty: every
        code) and whether it shows for the code chosen now: a field of another code (KCP's
        partner fields are kcp_quick's) is hidden, not marked required, until that code is."""
        return [{"field": self[name], "codes": " ".join(self.credential_codes[name][0]),
                 "shown": self.credential_codes[name][1]} for name in self.credential_fields]

    def to_input(self) -> ChannelInput:
        data = self.cleaned_data
        pg_code = data.get("pg_provider") or self.provider.default_code(self.module) or ""
        applies = {CREDENTIAL_PREFIX + f.key for f in self.provider.fields_for(self.module, pg_code)}
        return ChannelInput(
            mode=self.mode,
            provider=self.provider.key,
            module=self.module,
            mid=data.get("mid", ""),
            pg_provider=data.get("pg_provider", ""),
            name=data.get("name", ""),
            tax_type=data.get("tax_type") or TaxType.UNSET,
            payment_methods=list(data.get("payment_methods") or []),
            credentials={
                name[len(CREDENTIAL_PREFIX):]: data.get(name, "")
                for name in self.credential_fields if name in applies
            },
        )

    @property
    def module_label(self) -> str:
        return Module(self.module).label


class AssignForm(forms.Form):
    assigned_to = forms.CharField(required=False)


NO_DEFAULT = "none"


class SuccessorForm(forms.Form):
    """Disabling or deleting the default channel: which channel becomes the default, or none."""

    successor = forms.ChoiceField(
        label=_("The new default channel"), widget=forms.RadioSelect,
        error_messages={"required": _("Choose which channel becomes the default, or no default."),
                        "invalid_choice": _("Choose a channel from the list.")},
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {c.channel_key: c for c in candidates}
        # Two channels may share a pg string (one MID, two modules): the module tells them apart.
        self.fields["successor"].choices = [
            (c.channel_key, f"{c.provider_entry.name if c.provider_entry else c.provider} · "
                            f"{c.module_label} · {c.get_mode_display()} · {c.pg_string}"
                            f"{' · ' + c.name if c.name else ''}")
            for c in candidates
        ] + [(NO_DEFAULT, _("No default channel"))]

    def successor_channel(self):
        key = self.cleaned_data["successor"]
        return None if key == NO_DEFAULT else self.candidates[key]
