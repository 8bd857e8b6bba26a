from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """Evaluations, their recommendations and the management response; lessons learned and
    good practices (issue 9)."""

    name = "knowledge"
    verbose_name = _("Evaluations and lessons")
