"""Governance bodies, their meetings, the decisions taken and the follow-up actions agreed.

A committee says how often it is expected to meet (the design's "once a year"), so the
governance page can set the meetings recorded in each year against it; the source's own
words about its frequency are kept beside the number. A meeting is recorded once it has been
held. Donors read a meeting only when both it and its committee are shareable."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from monitoring.bilingual import Bilingual
from monitoring.models import City, Country, FollowUpAction, Programme, code_validator


class Committee(models.Model):
    class Kind(models.TextChoices):
        BINATIONAL = "binational", _("binational coordination committee")
        STEERING = "steering", _("steering / executive committee")
        MANAGEMENT = "management", _("management unit")
        TECHNICAL = "technical", _("technical committee")
        OTHER = "other", _("other")

    class Scope(models.TextChoices):
        BINATIONAL = "binational", _("binational")
        COUNTRY = "country", _("country")
        CITY = "city", _("city")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="committees", verbose_name=_("programme")
    )
    code = models.CharField(_("code"), max_length=16, validators=[code_validator])
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name_es = models.CharField(_("name (Spanish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices)
    country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("country"),
    )
    city = models.ForeignKey(
        City,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("city"),
    )
    members_es = models.TextField(_("members (Spanish)"), blank=True)
    members_en = models.TextField(_("members (English)"), blank=True)
    functions_es = models.TextField(_("functions (Spanish)"), blank=True)
    functions_en = models.TextField(_("functions (English)"), blank=True)
    expected_meetings_per_year = models.PositiveSmallIntegerField(
        _("expected meetings per year"),
        null=True,
        blank=True,
        help_text=_("Empty when the source gives no number."),
    )
    frequency_es = models.TextField(_("frequency as documented (Spanish)"), blank=True)
    frequency_en = models.TextField(_("frequency as documented (English)"), blank=True)
    source = models.TextField(_("source"), blank=True)
    shareable = models.BooleanField(_("shareable with donors"), default=False)

    name = Bilingual()
    members = Bilingual()
    functions = Bilingual()
    frequency = Bilingual()

    class Meta:
        ordering = ["programme", "code"]
        verbose_name = _("committee")
        verbose_name_plural = _("committees")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="committee_code_unique_per_programme",
                violation_error_message=_(
                    "A committee with this code already exists in the programme."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(scope="city") | Q(city__isnull=False),
                name="committee_city_scope_has_city",
                violation_error_message=_("A city committee needs its city."),
            ),
            models.CheckConstraint(
                condition=~Q(scope="country") | Q(country__isnull=False),
                name="committee_country_scope_has_country",
                violation_error_message=_("A country committee needs its country."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        city = self.city if self.city_id else None
        if (
            city is not None
            and self.programme_id
            and not self.programme.cities.filter(pk=city.pk).exists()
        ):
            raise ValidationError({"city": _("This city is not part of the programme.")})
        if city is not None and self.country_id and city.country_id != self.country_id:
            raise ValidationError({"city": _("The city is not in the committee's country.")})


class Meeting(models.Model):
    committee = models.ForeignKey(
        Committee, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("committee")
    )
    held_on = models.DateField(_("held on"))
    summary_es = models.TextField(_("summary (Spanish)"), blank=True)
    summary_en = models.TextField(_("summary (English)"), blank=True)
    minutes_url = models.URLField(_("minutes (link)"), max_length=500, blank=True)
    source = models.TextField(_("source"), blank=True)
    shareable = models.BooleanField(_("shareable with donors"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    summary = Bilingual()

    class Meta:
        ordering = ["committee", "-held_on", "-pk"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.CheckConstraint(
                condition=~Q(summary_es="") | ~Q(summary_en=""),
                name="meeting_has_summary",
                violation_error_message=_("Summarise the meeting in Spanish or English."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.committee.code} · {self.held_on.isoformat()}"


class MeetingParticipation(models.Model):
    """Who took part, by institution; the number of people when it is known."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="participants", verbose_name=_("meeting")
    )
    institution = models.CharField(_("institution"), max_length=200)
    people = models.PositiveSmallIntegerField(_("people"), null=True, blank=True)

    class Meta:
        ordering = ["meeting", "pk"]
        verbose_name = _("participating institution")
        verbose_name_plural = _("participating institutions")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "institution"],
                name="meetingparticipation_unique",
                violation_error_message=_("This institution is already listed for the meeting."),
            )
        ]

    def __str__(self) -> str:
        return self.institution if self.people is None else f"{self.institution} ({self.people})"


class Decision(models.Model):
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("meeting")
    )
    text_es = models.TextField(_("decision (Spanish)"), blank=True)
    text_en = models.TextField(_("decision (English)"), blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    text = Bilingual()

    class Meta:
        ordering = ["meeting", "pk"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(text_es="") | ~Q(text_en=""),
                name="decision_has_text",
                violation_error_message=_("Write the decision in Spanish or English."),
            )
        ]

    def __str__(self) -> str:
        return str(self.text)[:80]


class MeetingAction(FollowUpAction):
    """A follow-up action agreed at a meeting (of one of its decisions, when it has one)."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="actions", verbose_name=_("meeting")
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("decision"),
    )

    class Meta(FollowUpAction.Meta):
        verbose_name = _("meeting action")
        verbose_name_plural = _("meeting actions")
        constraints = FollowUpAction.action_constraints("meetingaction")

    def __str__(self) -> str:
        return str(self.description)[:80]

    def clean(self) -> None:
        decision = self.decision if self.decision_id else None
        if decision is not None and self.meeting_id and decision.meeting_id != self.meeting_id:
            raise ValidationError({"decision": _("The decision was taken at another meeting.")})
