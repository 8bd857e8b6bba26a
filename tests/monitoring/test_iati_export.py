import pytest
from monitoring.exports.iati import build_iati_activities, validate_iati

pytestmark = pytest.mark.django_db


def test_explore(ciudades):
    xml = build_iati_activities(ciudades)
    import pathlib; pathlib.Path("/tmp/iati_ciudades.xml").write_bytes(xml)
    print(validate_iati(xml))
