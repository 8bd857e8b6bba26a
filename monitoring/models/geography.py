"""Countries, cities and agencies: reference data shared by programmes."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..bilingual import Bilingual
from .validators import code_validator


class Country(models.Model):
    code = models.CharField(_("ISO code"), max_length=2, unique=True)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)

    name = Bilingual()

    class Meta:
        ordering = ["code"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2}$"),
                name="country_code_iso2",
                violation_error_message=_("Country code must be two capital letters (ISO 3166)."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class City(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True, validators=[code_validator])
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="cities", verbose_name=_("country")
    )
    name_es = models.CharField(_("name (Spanish)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    government_es = models.CharField(_("level of government (Spanish)"), max_length=150, blank=True)
    government_en = models.CharField(_("level of government (English)"), max_length=150, blank=True)

    name = Bilingual()
    government = Bilingual()

    class Meta:
        ordering = ["code"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    """A participating UN organisation (PUNO). Agencies are shared across programmes."""

    code = models.CharField(_("code"), max_length=16, unique=True, validators=[code_validator])
    acronym_es = models.CharField(_("acronym (Spanish)"), max_length=16)
    acronym_en = models.CharField(_("acronym (English)"), max_length=16)
    name_es = models.CharField(_("name (Spanish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    acronym = Bilingual()
    name = Bilingual()

    class Meta:
        ordering = ["code"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.acronym
