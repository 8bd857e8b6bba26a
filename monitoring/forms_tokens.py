"""Issuing API tokens: who may have which token (shared by the account page and the
``issue_token`` command), and the form of the page."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, Membership, Programme
from .models.tokens import MAX_DAYS
from .permissions import roles_in_programme
from .selectors import programmes_for_user

DEFAULT_DAYS = 90
# Roles that can change something in a programme; a donor (or anyone else) only reads.
WRITING_ROLES = frozenset(
    {
        Membership.Role.COORDINATOR,
        Membership.Role.APPROVER,
        Membership.Role.RCO,
        Membership.Role.ADMIN,
    }
)


def check_token_request(*, user: Any, programme: Programme, scope: str, days: int) -> None:
    """Refuse a token the user may not hold, naming the field at fault: a programme they are
    not a member of, the write scope without a role that writes, a lifetime outside
    1–366 days."""
    errors: dict[str, Any] = {}
    roles = roles_in_programme(user, programme)
    if not roles and not user.is_superuser:
        errors["programme"] = _("You are not a member of programme %(code)s.") % {
            "code": programme.code
        }
    elif scope == ApiToken.Scope.WRITE and not (user.is_superuser or roles & WRITING_ROLES):
        errors["scope"] = _("Your role in programme %(code)s only reads: issue a read token.") % {
            "code": programme.code
        }
    if scope not in ApiToken.Scope.values:
        errors["scope"] = _("The scope is read or write.")
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = _("A token lasts from 1 to %(max)d days.") % {"max": MAX_DAYS}
    if errors:
        raise ValidationError(errors)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “Fund annual report script”."),
    )
    programme = forms.ModelChoiceField(
        label=_("Programme"), queryset=Programme.objects.none(), to_field_name="code"
    )
    scope = forms.ChoiceField(
        label=_("Scope"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=MAX_DAYS,
        initial=DEFAULT_DAYS,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["programme"].queryset = programmes_for_user(user=user)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        programme, scope, days = data.get("programme"), data.get("scope"), data.get("days")
        if programme is not None and scope and days is not None:
            check_token_request(user=self.user, programme=programme, scope=scope, days=days)
        return data
