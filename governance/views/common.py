"""Small helpers shared by the governance views."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest


def signed_in(request: HttpRequest) -> User:
    """The signed-in user (every view here requires one)."""
    assert isinstance(request.user, User)
    return request.user


def add_errors(form: Form, error: ValidationError) -> None:
    """A service's refusal on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
