"""Validators shared by the models of every app."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
    _("Use letters, digits, dots, hyphens and underscores, starting with a letter or digit."),
)
programme_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_\-]*$", _("Use capital letters, digits, hyphens and underscores.")
)
