"""Who is asking, in which programme: fetched and authorised once per request."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from indicators.permissions import Access, access_for
from monitoring.models import Programme
from monitoring.permissions import Viewer
from monitoring.selectors import programme_get_for_user

from ..permissions import can_view_shared, reads


@dataclass(frozen=True)
class GovernanceAccess:
    """A viewer in a programme's risks and governance pages."""

    programme: Programme
    access: Access

    @property
    def donor_view(self) -> bool:
        return self.access.only_approved


def governance_access_for_user(*, user: Viewer, programme_code: str) -> GovernanceAccess:
    """404 outside the programme (its existence is not disclosed), 403 for a member who may
    not read these pages (none today: every member reads)."""
    programme = programme_get_for_user(user=user, code=programme_code)
    access = access_for(user, programme)
    if not reads(access):
        raise PermissionDenied
    return GovernanceAccess(programme, access)


def shareable_filter(base: GovernanceAccess, prefix: str = "") -> dict[str, bool]:
    """The queryset filter that mirrors ``can_view_shared``: donors see shareable records."""
    return {} if can_view_shared(base.access, False) else {f"{prefix}shareable": True}
