"""Disaggregation as data, indicators that declare how they add up (DESIGN §3.1, §3.2), and
the crosswalk between indicator versions."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from monitoring.bilingual import Bilingual
from monitoring.models import Agency, City, Outcome, Output, Programme, code_validator


class DisaggregationDimension(models.Model):
    """A way of splitting a figure: sex, age group, migratory status, nationality, disability."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    name = Bilingual()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("disaggregation dimension")
        verbose_name_plural = _("disaggregation dimensions")

    def __str__(self) -> str:
        return self.name


class DisaggregationCategory(models.Model):
    dimension = models.ForeignKey(
        DisaggregationDimension,
        on_delete=models.CASCADE,
        related_name="categories",
        verbose_name=_("dimension"),
    )
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    name = Bilingual()

    class Meta:
        ordering = ["dimension__order", "order", "code"]
        verbose_name = _("disaggregation category")
        verbose_name_plural = _("disaggregation categories")
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "code"],
                name="category_code_unique_per_dimension",
                violation_error_message=_("This dimension already has a category with this code."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.dimension.code}={self.code}"

    @property
    def cell(self) -> str:
        """The category as it appears in tidy exports: ``dimension=category``."""
        return f"{self.dimension.code}={self.code}"


class Indicator(models.Model):
    """An indicator declares how its values add up; the engine never guesses (DESIGN §3.1)."""

    class Level(models.TextChoices):
        OUTCOME = "outcome", _("outcome")
        OUTPUT = "output", _("output")

    class Measure(models.TextChoices):
        COUNT = "count", _("count")
        PERCENT = "percent", _("percentage")
        YES_NO = "yes_no", _("yes / no")
        LEVEL = "level", _("level (ordinal score)")
        AMOUNT = "amount", _("amount (currency)")
        TEXT = "text", _("text")

    class TimeRule(models.TextChoices):
        SUM = "sum", _("sum: each period reports new units")
        LATEST = "latest", _("latest: each period reports the current state")
        MAX = "max", _("maximum")
        MEAN = "mean", _("mean")

    class PlaceRule(models.TextChoices):
        SUM = "sum", _("sum of cities")
        WEIGHTED = "weighted", _("weighted: Σ numerators / Σ denominators")
        MEAN = "mean", _("unweighted mean (flagged)")
        ALL = "all", _("all cities (yes/no)")
        ANY = "any", _("any city (yes/no)")
        NONE = "none", _("none: city-specific, no programme total")

    class AgencyRule(models.TextChoices):
        SUM = "sum", _("sum of agencies")
        CONSOLIDATED = "consolidated", _("consolidated: the RCO enters a de-duplicated total")

    class Direction(models.TextChoices):
        INCREASE = "increase", _("increase")
        DECREASE = "decrease", _("decrease")
        MAINTAIN = "maintain", _("maintain")

    class TargetKind(models.TextChoices):
        ABSOLUTE = "absolute", _("absolute: reach this value")
        CHANGE = "change", _("change: move this far from the baseline")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("programme")
    )
    code = models.CharField(_("code"), max_length=16, validators=[code_validator])
    version = models.PositiveSmallIntegerField(
        _("version"), default=1, help_text=_("1 for the design; higher for later revisions.")
    )
    version_label_es = models.CharField(_("version label (Spanish)"), max_length=100, blank=True)
    version_label_en = models.CharField(_("version label (English)"), max_length=100, blank=True)
    is_active = models.BooleanField(
        _("in use"), default=True, help_text=_("Superseded indicators keep their history.")
    )
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    outcome = models.ForeignKey(
        Outcome, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("outcome")
    )
    output = models.ForeignKey(
        Output,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name=_("output"),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    name_es = models.TextField(_("statement (Spanish)"))
    name_en = models.TextField(_("statement (English)"))
    definition_es = models.TextField(_("definition (Spanish)"), blank=True)
    definition_en = models.TextField(_("definition (English)"), blank=True)
    unit_es = models.CharField(_("unit (Spanish)"), max_length=60, blank=True)
    unit_en = models.CharField(_("unit (English)"), max_length=60, blank=True)
    measure = models.CharField(_("measure"), max_length=8, choices=Measure.choices)
    time_rule = models.CharField(_("time rule"), max_length=8, choices=TimeRule.choices)
    place_rule = models.CharField(_("place rule"), max_length=8, choices=PlaceRule.choices)
    agency_rule = models.CharField(
        _("agency rule"), max_length=12, choices=AgencyRule.choices, default=AgencyRule.SUM
    )
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.INCREASE
    )
    target_kind = models.CharField(
        _("target kind"), max_length=8, choices=TargetKind.choices, default=TargetKind.ABSOLUTE
    )
    dimensions = models.ManyToManyField(
        DisaggregationDimension,
        blank=True,
        related_name="indicators",
        verbose_name=_("disaggregation dimensions"),
    )
    means_of_verification_es = models.TextField(_("means of verification (Spanish)"), blank=True)
    means_of_verification_en = models.TextField(_("means of verification (English)"), blank=True)
    responsible_agencies = models.ManyToManyField(
        Agency, blank=True, related_name="indicators", verbose_name=_("responsible agencies")
    )
    cities = models.ManyToManyField(
        City, related_name="indicators", verbose_name=_("cities in scope")
    )
    supersedes = models.ManyToManyField(
        "self",
        through="IndicatorSupersession",
        through_fields=("successor", "predecessor"),
        symmetrical=False,
        related_name="superseded_by",
        blank=True,
        verbose_name=_("supersedes"),
    )
    notes_es = models.TextField(_("notes (Spanish)"), blank=True)
    notes_en = models.TextField(_("notes (English)"), blank=True)
    source = models.TextField(_("source"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    name = Bilingual()
    definition = Bilingual()
    unit = Bilingual()
    means_of_verification = Bilingual()
    version_label = Bilingual()
    notes = Bilingual()

    class Meta:
        ordering = ["programme", "-is_active", "order", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="indicator_code_unique_per_programme",
                violation_error_message=_(
                    "An indicator with this code already exists in the programme."
                ),
            ),
            models.CheckConstraint(
                condition=Q(level="outcome", output__isnull=True)
                | Q(level="output", output__isnull=False),
                name="indicator_level_matches_parent",
                violation_error_message=_(
                    "An output indicator needs its output; an outcome indicator has none."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(place_rule="weighted") | Q(measure="percent"),
                name="indicator_weighted_only_for_percent",
                violation_error_message=_("Place rule 'weighted' applies to percentages only."),
            ),
            models.CheckConstraint(
                condition=~Q(place_rule__in=["all", "any"]) | Q(measure="yes_no"),
                name="indicator_all_any_only_for_yes_no",
                violation_error_message=_("Place rules 'all' and 'any' apply to yes/no only."),
            ),
            models.CheckConstraint(
                condition=~Q(measure="yes_no") | Q(place_rule__in=["all", "any", "none"]),
                name="indicator_yes_no_place_rule",
                violation_error_message=_(
                    "A yes/no indicator combines cities by 'all', 'any' or 'none'."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(measure__in=["yes_no", "text"]) | Q(time_rule="latest"),
                name="indicator_yes_no_text_time_latest",
                violation_error_message=_(
                    "Yes/no and text indicators take the latest value over time."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(measure="text") | Q(place_rule="none"),
                name="indicator_text_place_none",
                violation_error_message=_(
                    "Text indicators have no programme total (place rule 'none')."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(measure="percent") | ~Q(time_rule="sum"),
                name="indicator_percent_not_summed_over_time",
                violation_error_message=_("Percentages cannot be summed over time."),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        output = self.output if self.output_id else None
        if output is not None and self.outcome_id and output.outcome_id != self.outcome_id:
            raise ValidationError({"output": _("The output belongs to another outcome.")})
        if self.outcome_id and self.programme_id and self.outcome.programme_id != self.programme_id:
            raise ValidationError({"outcome": _("It belongs to another programme.")})

    @property
    def is_percent(self) -> bool:
        return self.measure == self.Measure.PERCENT


class IndicatorSupersession(models.Model):
    """The crosswalk: which later indicator replaces which earlier one, and how."""

    class Change(models.TextChoices):
        SAME = "same", _("same concept")
        REWORDED = "reworded", _("reworded")
        REFRAMED = "reframed", _("reframed (different measure)")
        REPLACED = "replaced", _("replaced")

    predecessor = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        related_name="successor_links",
        verbose_name=_("earlier indicator"),
    )
    successor = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        related_name="predecessor_links",
        verbose_name=_("later indicator"),
    )
    change = models.CharField(_("change"), max_length=10, choices=Change.choices)
    note_es = models.TextField(_("note (Spanish)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)
    source = models.TextField(_("source"), blank=True)

    note = Bilingual()

    class Meta:
        ordering = ["predecessor__code", "successor__code"]
        verbose_name = _("crosswalk link")
        verbose_name_plural = _("crosswalk")
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor"],
                name="supersession_unique",
                violation_error_message=_("These two indicators are already linked."),
            ),
            models.CheckConstraint(
                condition=~Q(predecessor=F("successor")),
                name="supersession_not_self",
                violation_error_message=_("An indicator cannot supersede itself."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor}"

    def clean(self) -> None:
        if not (self.predecessor_id and self.successor_id):
            return
        if self.predecessor_id == self.successor_id:
            return  # the database constraint says why
        if self.predecessor.programme_id != self.successor.programme_id:
            raise ValidationError(
                {"successor": _("Both indicators must be in the same programme.")}
            )
        if self.successor.version <= self.predecessor.version:
            raise ValidationError(
                {"successor": _("The later indicator must have a higher version.")}
            )
