from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    """Risks, committees and their meetings, agreements with partners and the tools produced
    (issue 9)."""

    name = "governance"
    verbose_name = _("Risks and governance")
