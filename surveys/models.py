"""Surveys (DESIGN §7): questionnaires with bilingual questions, reusable scales with their
top-box levels, sections and skip logic; invitations with one-time tokens; responses from the
public page, uploads and KoboToolbox exports (an external id per response, so imports are
idempotent) with respondent attributes; published aggregate results for surveys whose
micro-data we do not have; and a question feeding an indicator."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator, IndicatorValue
from monitoring.bilingual import Bilingual
from monitoring.models import City, Programme, ReportingPeriod, code_validator


class Scale(models.Model):
    """A reusable answer scale (5 or 7 levels, or the 0–3 of an assessment); its top-box
    levels are declared on the levels."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name_es = models.CharField(_("name (Spanish)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)

    name = Bilingual()

    class Meta:
        ordering = ["code"]
        verbose_name = _("scale")
        verbose_name_plural = _("scales")

    def __str__(self) -> str:
        return self.code


class ScaleLevel(models.Model):
    scale = models.ForeignKey(Scale, on_delete=models.CASCADE, related_name="levels")
    value = models.SmallIntegerField(_("value"))
    label_es = models.CharField(_("label (Spanish)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    top_box = models.BooleanField(_("top box"), default=False)

    label = Bilingual()

    class Meta:
        ordering = ["scale", "value"]
        verbose_name = _("scale level")
        verbose_name_plural = _("scale levels")
        constraints = [
            models.UniqueConstraint(fields=["scale", "value"], name="scalelevel_unique_value")
        ]

    def __str__(self) -> str:
        return f"{self.scale.code}={self.value}"


class Survey(models.Model):
    class Kind(models.TextChoices):
        RESPONSES = "responses", _("questionnaire with responses")
        AGGREGATE = "aggregate", _("published aggregate results (no micro-data)")
        ASSESSMENT = "assessment", _("assessment with scored items")

    class Access(models.TextChoices):
        TOKEN = "token", _("one-time token per invitation")
        OPEN = "open", _("open link")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open for answers")
        CLOSED = "closed", _("closed")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="surveys", verbose_name=_("programme")
    )
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.RESPONSES)
    title_es = models.CharField(_("title (Spanish)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    access = models.CharField(
        _("access"), max_length=5, choices=Access.choices, default=Access.TOKEN
    )
    status = models.CharField(
        _("status"), max_length=6, choices=Status.choices, default=Status.DRAFT
    )
    public_key = models.CharField(
        _("public link key"),
        max_length=40,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The open link's unguessable part; empty until the survey is opened."),
    )
    period = models.ForeignKey(
        ReportingPeriod,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("period"),
        help_text=_("The reporting period its results count for (for indicators it feeds)."),
    )
    invited = models.PositiveIntegerField(
        _("invited"),
        null=True,
        blank=True,
        help_text=_("People invited, when invitations are not recorded one by one."),
    )
    attributes = models.JSONField(
        _("respondent attributes asked"),
        default=list,
        blank=True,
        help_text=_("Among: city, sex, age_group, migratory_status, institution_type."),
    )
    wave = models.PositiveSmallIntegerField(_("wave"), default=1)
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="waves"
    )
    fielded_on = models.DateField(_("fielded on"), null=True, blank=True)
    source = models.TextField(_("source"), blank=True)

    title = Bilingual()
    description = Bilingual()

    class Meta:
        ordering = ["programme", "code", "wave"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code", "wave"],
                name="survey_unique_code_wave",
                violation_error_message=_("This programme already has this survey wave."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.wave})"


class Section(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title_es = models.CharField(_("title (Spanish)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)

    title = Bilingual()

    class Meta:
        ordering = ["survey", "order", "id"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return str(self.title)


class Question(models.Model):
    class Type(models.TextChoices):
        SCALE = "scale", _("scale")
        SINGLE = "single", _("single choice")
        MULTIPLE = "multiple", _("multiple choice")
        NUMBER = "number", _("number")
        YES_NO = "yes_no", _("yes/no")
        TEXT = "text", _("text")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions"
    )
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    type = models.CharField(_("type"), max_length=8, choices=Type.choices)
    text_es = models.TextField(_("question (Spanish)"))
    text_en = models.TextField(_("question (English)"))
    help_es = models.TextField(_("help (Spanish)"), blank=True)
    help_en = models.TextField(_("help (English)"), blank=True)
    scale = models.ForeignKey(
        Scale, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("scale")
    )
    required = models.BooleanField(_("required"), default=True)
    min_value = models.DecimalField(
        _("minimum"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("maximum"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    show_if = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dependents",
        verbose_name=_("show only if question"),
    )
    show_if_values = models.JSONField(
        _("…was answered with"),
        default=list,
        blank=True,
        help_text=_("Answer values (choice codes, scale values, 1/0 for yes/no) that show it."),
    )

    text = Bilingual()
    help = Bilingual()

    class Meta:
        ordering = ["survey", "order", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "code"],
                name="question_unique_code",
                violation_error_message=_("This survey already has a question with this code."),
            ),
            models.CheckConstraint(
                condition=~Q(type="scale") | Q(scale__isnull=False),
                name="question_scale_has_scale",
                violation_error_message=_("A scale question needs its scale."),
            ),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=F("max_value")),
                name="question_min_le_max",
                violation_error_message=_("The minimum cannot exceed the maximum."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey.code}.{self.code}"


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    value = models.CharField(_("value"), max_length=40, validators=[code_validator])
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    label_es = models.CharField(_("label (Spanish)"), max_length=300)
    label_en = models.CharField(_("label (English)"), max_length=300)

    label = Bilingual()

    class Meta:
        ordering = ["question", "order", "id"]
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        constraints = [
            models.UniqueConstraint(fields=["question", "value"], name="choice_unique_value")
        ]

    def __str__(self) -> str:
        return self.value


class Invitation(models.Model):
    """A one-time invitation: only the hash of its token is stored; the token is shown once,
    when the invitation is created, and is spent by the response it brings."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(_("invitee (optional)"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        ordering = ["survey", "created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.survey.code} invitation {self.pk}"


class Response(models.Model):
    class Source(models.TextChoices):
        WEB = "web", _("public page")
        UPLOAD = "upload", _("CSV/XLSX upload")
        KOBO = "kobo", _("KoboToolbox export")

    class Sex(models.TextChoices):
        FEMALE = "female", _("female")
        MALE = "male", _("male")
        OTHER = "other", _("other or not stated")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=6, choices=Source.choices)
    invitation = models.OneToOneField(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="response"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    language = models.CharField(_("language"), max_length=5, blank=True)
    respondent = models.CharField(
        _("respondent"),
        max_length=200,
        blank=True,
        help_text=_("For assessments: who or what was assessed (a municipality, say)."),
    )
    city = models.ForeignKey(City, on_delete=models.PROTECT, null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices, blank=True)
    age_group = models.CharField(_("age group"), max_length=20, blank=True)
    migratory_status = models.CharField(_("migratory status"), max_length=40, blank=True)
    institution_type = models.CharField(_("institution type"), max_length=60, blank=True)

    class Meta:
        ordering = ["survey", "submitted_at", "id"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "external_id"],
                condition=~Q(external_id=""),
                name="response_unique_external_id",
                violation_error_message=_("This survey already has a response with this id."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.survey.code} response {self.external_id or self.pk}"


class Answer(models.Model):
    """One question's answer: a number (scale value, number, 1/0 for yes/no), a choice value
    or several (multiple choice), or text."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    number = models.DecimalField(_("number"), max_digits=14, decimal_places=4, null=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    text = models.TextField(_("text"), blank=True)
    evidence = models.CharField(
        _("evidence type"),
        max_length=40,
        blank=True,
        help_text=_("For assessments: how the score was established."),
    )

    class Meta:
        ordering = ["response", "question__order"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_once")]

    def __str__(self) -> str:
        value = self.number if self.number is not None else self.choices or self.text
        return f"{self.question.code}: {value}"


class AggregateResult(models.Model):
    """A result as a publication prints it, without the responses behind it: the share (and
    count, when printed) of one answer level or choice among the respondents of a group."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="aggregates")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="aggregates")
    group = models.CharField(
        _("group"), max_length=60, default="all", help_text=_("'all', or attribute=value.")
    )
    answer = models.CharField(_("answer level or choice"), max_length=60)
    respondents = models.PositiveIntegerField(_("respondents"), null=True, blank=True)
    count = models.PositiveIntegerField(_("count"), null=True, blank=True)
    share = models.DecimalField(_("share (%)"), max_digits=6, decimal_places=2, null=True)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        ordering = ["survey", "question__order", "group", "id"]
        verbose_name = _("published result")
        verbose_name_plural = _("published results")
        constraints = [
            models.UniqueConstraint(
                fields=["question", "group", "answer"], name="aggregate_unique"
            ),
            models.CheckConstraint(
                condition=Q(share__isnull=True) | (Q(share__gte=0) & Q(share__lte=100)),
                name="aggregate_share_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.answer} {self.share} %"


class IndicatorFeed(models.Model):
    """An indicator computed from a survey question: the share answering the top box (or the
    given choices), or the mean, over the responses of a survey's period, per city."""

    class Rule(models.TextChoices):
        TOP_BOX = "top_box", _("share answering the top-box levels")
        CHOICES = "choices", _("share answering these choices")
        MEAN = "mean", _("mean")

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="survey_feeds")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="feeds")
    rule = models.CharField(_("rule"), max_length=8, choices=Rule.choices, default=Rule.TOP_BOX)
    values = models.JSONField(_("choices counted"), default=list, blank=True)

    class Meta:
        ordering = ["indicator", "question"]
        verbose_name = _("indicator fed by a survey")
        verbose_name_plural = _("indicators fed by surveys")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "question"], name="feed_unique")
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} ← {self.question}"


class FeedProvenance(models.Model):
    """The responses an indicator value was computed from (DESIGN §7: provenance down to the
    responses). One row per computed value; the feed that computed it owns the value and
    replaces it when the responses change. Written by ``surveys.feeds`` only."""

    feed = models.ForeignKey(
        IndicatorFeed, on_delete=models.CASCADE, related_name="computed", verbose_name=_("feed")
    )
    value = models.OneToOneField(
        IndicatorValue,
        on_delete=models.CASCADE,
        related_name="survey_provenance",
        verbose_name=_("value"),
    )
    responses = models.ManyToManyField(Response, related_name="+", verbose_name=_("responses"))
    respondents = models.PositiveIntegerField(_("respondents who answered"))
    count = models.PositiveIntegerField(
        _("counted"), null=True, blank=True, help_text=_("Empty for a mean.")
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["feed", "value"]
        verbose_name = _("survey provenance of a value")
        verbose_name_plural = _("survey provenance of values")

    def __str__(self) -> str:
        return f"{self.feed} → value {self.value_id}"
