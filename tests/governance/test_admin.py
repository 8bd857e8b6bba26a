"""The governance admin is scoped like the others: a programme admin sees and changes their
programme's risks, committees, agreements and tools; an admin of another programme sees none;
the histories the pages write (reviews, status updates) are read-only there."""

import pytest
from django.urls import reverse

from governance.models import Risk, RiskReview

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"admin:governance_{name}", args=args)


def test_the_programme_admin_sees_the_programmes_records(browser, loaded):
    client = browser("admin")
    for model, text in (
        ("risk", "R12"),
        ("committee", "CCB"),
        ("agreement", "AC-CDMX"),
        ("tool", "MANUAL-RUTA"),
        ("meeting", "2021"),
    ):
        response = client.get(url(f"{model}_changelist"))
        assert response.status_code == 200 and text in response.content.decode(), model
    r1 = Risk.objects.get(programme=loaded, code="R1")
    assert client.get(url("risk_change", r1.pk)).status_code == 200
    review = RiskReview.objects.get(risk=r1)
    assert client.post(url("riskreview_delete", review.pk), {"post": "yes"}).status_code == 403
    assert RiskReview.objects.filter(pk=review.pk).exists()


def test_an_admin_of_another_programme_sees_nothing_of_ciudades(
    browser, other_programme_admin, loaded
):
    other_programme_admin.is_staff = True
    other_programme_admin.save(update_fields=["is_staff"])
    client = browser(other_programme_admin)
    html = client.get(url("risk_changelist")).content.decode()
    assert "R12" not in html and "Change of municipal government" not in html
    r1 = Risk.objects.get(programme=loaded, code="R1")
    assert client.get(url("risk_change", r1.pk)).status_code in (302, 403, 404)
    response = client.post(url("risk_change", r1.pk), {"title_en": "hijacked"})
    assert response.status_code in (302, 403, 404)
    r1.refresh_from_db()
    assert r1.title_en != "hijacked"
