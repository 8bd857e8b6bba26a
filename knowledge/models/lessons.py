"""Lessons learned and good practices, in the fields of the ILO's public register (i-eval
Discovery): themes with their category, intended users, context, challenges, success factors,
description and administrative issues; a good practice adds its cause and effect, measurable
impact and potential for replication (the ILO's good-practice template). Each is bilingual and
may be linked to the outputs and indicators it is about."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator
from monitoring.bilingual import Bilingual
from monitoring.models import Output, Programme, code_validator

from .evaluations import Evaluation


class Theme(models.Model):
    """A theme of the ILO register and the category it belongs to ("Migration" under
    "Conditions of work & equality"). Shared by programmes, like agencies."""

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[code_validator])
    name_es = models.CharField(_("theme (Spanish)"), max_length=150)
    name_en = models.CharField(_("theme (English)"), max_length=150)
    category_es = models.CharField(_("category (Spanish)"), max_length=150, blank=True)
    category_en = models.CharField(_("category (English)"), max_length=150, blank=True)

    name = Bilingual()
    category = Bilingual()

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")

    def __str__(self) -> str:
        return self.name


class Lesson(models.Model):
    class Kind(models.TextChoices):
        LESSON = "lesson", _("lesson learned")
        GOOD_PRACTICE = "good_practice", _("good practice")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("programme")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title_es = models.CharField(_("title (Spanish)"), max_length=300, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    themes = models.ManyToManyField(
        Theme, blank=True, related_name="lessons", verbose_name=_("themes")
    )
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    intended_users_es = models.TextField(_("intended users (Spanish)"), blank=True)
    intended_users_en = models.TextField(_("intended users (English)"), blank=True)
    context_es = models.TextField(_("context (Spanish)"), blank=True)
    context_en = models.TextField(_("context (English)"), blank=True)
    challenges_es = models.TextField(_("challenges (Spanish)"), blank=True)
    challenges_en = models.TextField(_("challenges (English)"), blank=True)
    success_es = models.TextField(_("success and positive factors (Spanish)"), blank=True)
    success_en = models.TextField(_("success and positive factors (English)"), blank=True)
    administrative_issues_es = models.TextField(_("administrative issues (Spanish)"), blank=True)
    administrative_issues_en = models.TextField(_("administrative issues (English)"), blank=True)
    cause_effect_es = models.TextField(_("cause and effect (Spanish)"), blank=True)
    cause_effect_en = models.TextField(_("cause and effect (English)"), blank=True)
    impact_es = models.TextField(_("measurable impact and beneficiaries (Spanish)"), blank=True)
    impact_en = models.TextField(_("measurable impact and beneficiaries (English)"), blank=True)
    replication_es = models.TextField(_("potential for replication (Spanish)"), blank=True)
    replication_en = models.TextField(_("potential for replication (English)"), blank=True)
    note_es = models.TextField(_("editor's note (Spanish)"), blank=True)
    note_en = models.TextField(_("editor's note (English)"), blank=True)
    outputs = models.ManyToManyField(
        Output, blank=True, related_name="lessons", verbose_name=_("outputs")
    )
    indicators = models.ManyToManyField(
        Indicator, blank=True, related_name="lessons", verbose_name=_("indicators")
    )
    links_inferred = models.BooleanField(
        _("links inferred"),
        default=False,
        help_text=_("The links to outputs and indicators are read from the text, not stated."),
    )
    evaluation = models.ForeignKey(
        Evaluation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lessons",
        verbose_name=_("evaluation"),
    )
    source = models.TextField(_("source"), blank=True)
    source_url = models.URLField(_("source link"), max_length=500, blank=True)
    shareable = models.BooleanField(
        _("shareable with donors"), default=False, help_text=_("Donors see it only when ticked.")
    )

    title = Bilingual()
    description = Bilingual()
    intended_users = Bilingual()
    context = Bilingual()
    challenges = Bilingual()
    success = Bilingual()
    administrative_issues = Bilingual()
    cause_effect = Bilingual()
    impact = Bilingual()
    replication = Bilingual()
    note = Bilingual()

    class Meta:
        ordering = ["programme", "kind", "order", "code"]
        verbose_name = _("lesson or good practice")
        verbose_name_plural = _("lessons and good practices")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="lesson_code_unique_per_programme",
                violation_error_message=_("A lesson or good practice with this code exists here."),
            ),
            models.CheckConstraint(
                condition=~Q(title_es="") | ~Q(title_en=""),
                name="lesson_has_title",
                violation_error_message=_("Give a title in Spanish or English."),
            ),
            models.CheckConstraint(
                condition=~Q(description_es="") | ~Q(description_en=""),
                name="lesson_has_description",
                violation_error_message=_("Describe it in Spanish or English."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"[:120]

    def clean(self) -> None:
        evaluation = self.evaluation if self.evaluation_id is not None else None
        if evaluation is not None and evaluation.programme_id != self.programme_id:
            raise ValidationError({"evaluation": _("It belongs to another programme.")})
