"""Both UI catalogues exist, are compiled from their current sources, and Spanish is
complete."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[1] / "locale"


def read_po(path: Path) -> dict[str, tuple[str, bool]]:
    """msgid -> (msgstr, fuzzy) of a .po file (the header entry excluded)."""
    entries: dict[str, tuple[str, bool]] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fuzzy = "#, fuzzy" in block or ", fuzzy" in block
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            # msgstr[1] of a plural is read too, so its wrapped lines are not taken for [0]'s.
            match = re.match(r'^(msgid|msgstr|msgid_plural|msgstr\[\d\])\s+(".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if fields.get("msgid"):
            entries[fields["msgid"]] = (fields.get("msgstr", fields.get("msgstr[0]", "")), fuzzy)
    return entries


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_compiled_catalogue_matches_its_source(language):
    po = read_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    for msgid, (msgstr, fuzzy) in po.items():
        if msgstr and not fuzzy:
            assert mo.gettext(msgid) == msgstr, (
                f"{language}: {msgid!r} not compiled (run compilemessages)"
            )


def test_every_spanish_string_is_translated():
    po = read_po(LOCALE / "es" / "LC_MESSAGES" / "django.po")
    assert len(po) > 300
    untranslated = [msgid for msgid, (msgstr, fuzzy) in po.items() if not msgstr or fuzzy]
    assert untranslated == []


def test_the_ui_speaks_both_languages():
    with translation.override("es"):
        assert translation.gettext("My programmes") == "Mis programas"
        assert translation.gettext("target") == "meta"
        assert translation.gettext("outcome") == "resultado"
    with translation.override("en"):
        assert translation.gettext("My programmes") == "My programmes"
