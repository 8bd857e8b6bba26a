"""An evaluation of a programme, its recommendations, the management response to each and the
actions the response promises (issue 9).

Donors read only what is marked ``shareable`` (an evaluation and each of its recommendations
separately); nobody outside the programme reads anything. Invariants are database constraints
with a message that names the rule; rules that span tables are in ``clean()``."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from monitoring.bilingual import Bilingual
from monitoring.models import (
    Agency,
    FollowUpAction,
    FollowUpStatus,
    Membership,
    Outcome,
    Output,
    Programme,
    ProgrammeAgency,
    code_validator,
)

# Who can be named as an action's owner: anybody in the programme but a donor.
OWNER_ROLES = (
    Membership.Role.COORDINATOR,
    Membership.Role.APPROVER,
    Membership.Role.RCO,
    Membership.Role.ADMIN,
)


class Evaluation(models.Model):
    class Timing(models.TextChoices):
        FINAL = "final", _("final")
        MID_TERM = "mid_term", _("mid-term")
        OTHER = "other", _("other")

    class Nature(models.TextChoices):
        INDEPENDENT = "independent", _("independent")
        INTERNAL = "internal", _("internal")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="evaluations", verbose_name=_("programme")
    )
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    timing = models.CharField(_("timing"), max_length=12, choices=Timing.choices)
    nature = models.CharField(_("nature"), max_length=12, choices=Nature.choices)
    title_es = models.TextField(_("title (Spanish)"))
    title_en = models.TextField(_("title (English)"))
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    dates_inferred = models.BooleanField(
        _("dates inferred"),
        default=False,
        help_text=_("The source gives a month or a period, not these exact dates."),
    )
    dates_note_es = models.TextField(_("about the dates (Spanish)"), blank=True)
    dates_note_en = models.TextField(_("about the dates (English)"), blank=True)
    evaluators_es = models.TextField(
        _("evaluators (Spanish)"), blank=True, help_text=_("By role and institution, no names.")
    )
    evaluators_en = models.TextField(
        _("evaluators (English)"), blank=True, help_text=_("By role and institution, no names.")
    )
    commissioned_by_es = models.CharField(
        _("commissioned by (Spanish)"), max_length=300, blank=True
    )
    commissioned_by_en = models.CharField(
        _("commissioned by (English)"), max_length=300, blank=True
    )
    budget_amount = models.DecimalField(
        _("evaluation budget"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    budget_currency = models.CharField(_("currency"), max_length=3, blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    note_es = models.TextField(_("note (Spanish)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)
    shareable = models.BooleanField(
        _("shareable with donors"), default=False, help_text=_("Donors see it only when ticked.")
    )
    source = models.TextField(_("source"), blank=True)

    title = Bilingual()
    note = Bilingual()
    dates_note = Bilingual()
    evaluators = Bilingual()
    commissioned_by = Bilingual()

    class Meta:
        ordering = ["programme", "-end_date", "code"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="evaluation_code_unique_per_programme",
                violation_error_message=_("An evaluation with this code already exists here."),
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="evaluation_dates_in_order",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(budget_amount__isnull=True) | Q(budget_amount__gte=0),
                name="evaluation_budget_non_negative",
                violation_error_message=_("The evaluation budget cannot be negative."),
            ),
            models.CheckConstraint(
                condition=(Q(budget_amount__isnull=True) & Q(budget_currency=""))
                | (Q(budget_amount__isnull=False) & Q(budget_currency__regex=r"^[A-Z]{3}$")),
                name="evaluation_budget_has_currency",
                violation_error_message=_(
                    "A budget needs its currency as a three-letter ISO 4217 code (and a "
                    "currency needs an amount)."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"[:120]


class Recommendation(models.Model):
    class Priority(models.TextChoices):
        HIGH = "high", _("high")
        MEDIUM = "medium", _("medium")
        LOW = "low", _("low")

    class Term(models.TextChoices):
        SHORT = "short", _("short term")
        MEDIUM = "medium", _("medium term")
        LONG = "long", _("long term")

    evaluation = models.ForeignKey(
        Evaluation,
        on_delete=models.CASCADE,
        related_name="recommendations",
        verbose_name=_("evaluation"),
    )
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    text_es = models.TextField(_("recommendation (Spanish)"), blank=True)
    text_en = models.TextField(_("recommendation (English)"), blank=True)
    addressee_agencies = models.ManyToManyField(
        Agency, blank=True, related_name="+", verbose_name=_("addressed to agencies")
    )
    addressees_es = models.TextField(
        _("addressed to (Spanish)"),
        blank=True,
        help_text=_("Other bodies, in the evaluation's words: RCO, steering committee, …"),
    )
    addressees_en = models.TextField(_("addressed to (English)"), blank=True)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    term = models.CharField(_("term"), max_length=8, choices=Term.choices, blank=True)
    timeframe_es = models.CharField(_("timeframe (Spanish)"), max_length=200, blank=True)
    timeframe_en = models.CharField(_("timeframe (English)"), max_length=200, blank=True)
    resources_es = models.TextField(_("resources (Spanish)"), blank=True)
    resources_en = models.TextField(_("resources (English)"), blank=True)
    related_to_es = models.CharField(
        _("related conclusions or lessons (Spanish)"), max_length=300, blank=True
    )
    related_to_en = models.CharField(
        _("related conclusions or lessons (English)"), max_length=300, blank=True
    )
    outcomes = models.ManyToManyField(
        Outcome, blank=True, related_name="+", verbose_name=_("outcomes")
    )
    outputs = models.ManyToManyField(
        Output, blank=True, related_name="+", verbose_name=_("outputs")
    )
    links_inferred = models.BooleanField(
        _("links inferred"),
        default=False,
        help_text=_("The links to outcomes and outputs are read from the text, not stated."),
    )
    shareable = models.BooleanField(_("shareable with donors"), default=False)
    source = models.TextField(_("source"), blank=True)

    text = Bilingual()
    addressees = Bilingual()
    timeframe = Bilingual()
    resources = Bilingual()
    related_to = Bilingual()

    class Meta:
        ordering = ["evaluation", "number"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "number"],
                name="recommendation_number_unique",
                violation_error_message=_(
                    "The evaluation already has a recommendation with this number."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(text_es="") | ~Q(text_en=""),
                name="recommendation_has_text",
                violation_error_message=_("Write the recommendation in Spanish or English."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="recommendation_number_positive",
                violation_error_message=_("Recommendations are numbered from 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation.code} · {self.number}"


class ManagementResponse(models.Model):
    """The programme's answer to one recommendation."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        PARTIALLY = "partially_accepted", _("partially accepted")
        REJECTED = "rejected", _("rejected")

    recommendation = models.OneToOneField(
        Recommendation,
        on_delete=models.CASCADE,
        related_name="response",
        verbose_name=_("recommendation"),
    )
    decision = models.CharField(_("response"), max_length=20, choices=Decision.choices)
    comment_es = models.TextField(_("comment (Spanish)"), blank=True)
    comment_en = models.TextField(_("comment (English)"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responded by"),
    )
    responded_at = models.DateTimeField(_("responded at"))
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    comment = Bilingual()

    class Meta:
        verbose_name = _("management response")
        verbose_name_plural = _("management responses")
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="rejected") | ~Q(comment_es="") | ~Q(comment_en=""),
                name="response_rejected_has_comment",
                violation_error_message=_(
                    "A rejected recommendation needs a comment saying why (in Spanish or English)."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recommendation} · {self.get_decision_display()}"


class ResponseAction(FollowUpAction):
    """An action the management response promises, with its owner, due date and status."""

    response = models.ForeignKey(
        ManagementResponse,
        on_delete=models.CASCADE,
        related_name="actions",
        verbose_name=_("management response"),
    )

    class Meta(FollowUpAction.Meta):
        verbose_name = _("response action")
        verbose_name_plural = _("response actions")
        constraints = [
            *FollowUpAction.action_constraints("knowledge_action"),
            models.CheckConstraint(
                condition=Q(due_on__isnull=False) | Q(status=FollowUpStatus.CANCELLED),
                name="knowledge_action_has_due_date",
                violation_error_message=_("An action needs a due date (unless it is cancelled)."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.response.recommendation} · {self.description}"[:120]

    def programme_pk(self) -> int:
        return self.response.recommendation.evaluation.programme_id

    def clean(self) -> None:
        """Field-named versions of the rules above, and those that span tables: the owner
        agency takes part in the programme; the owner person is a member of it."""
        errors: dict[str, Any] = {}
        if self.due_on is None and self.status != FollowUpStatus.CANCELLED:
            errors["due_on"] = _("An action needs a due date (unless it is cancelled).")
        if self.response_id is not None:
            programme_id = self.programme_pk()
            if (
                self.owner_agency_id is not None
                and not ProgrammeAgency.objects.filter(
                    programme_id=programme_id, agency_id=self.owner_agency_id
                ).exists()
            ):
                errors["owner_agency"] = _("This agency does not take part in the programme.")
            if (
                self.owner_id is not None
                and not Membership.objects.filter(
                    programme_id=programme_id, user_id=self.owner_id, role__in=OWNER_ROLES
                ).exists()
            ):
                errors["owner"] = _("This person does not work in the programme.")
        if errors:
            raise ValidationError(errors)
