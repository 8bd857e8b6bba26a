"""Who may see what of a survey's results (pure predicates over the viewer's ``Access``)."""

from indicators.permissions import Access


def sees_small_groups(access: Access) -> bool:
    """Every group, however small, with its n and answers: the survey's owners only. A
    survey belongs to its programme, not to an agency, and the programme admin keeps it;
    everyone else who reads the results (donors, the RCO, the agencies) sees groups of
    fewer than ``SURVEY_MIN_GROUP_SIZE`` respondents withheld (``surveys.disclosure``)."""
    return access.is_admin
