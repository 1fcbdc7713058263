"""Everything an operator reads is translated, and the Korean reads as a Korean operator writes.

The catalogue is locale/ko/LC_MESSAGES/django.po. The first test re-extracts every string the
code and templates mark (Django's own makemessages, into a copy of the catalogue) and fails
on any that the committed catalogue lacks or leaves untranslated, so a new string cannot
ship in English only.
"""

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "ko" / "LC_MESSAGES" / "django.po"
# "은(는)", "을(를)", "이(가)" and the like: the particle must be chosen from the word, or the
# sentence rephrased so that no particle follows a value.
HEDGED_PARTICLE = re.compile(r"\((?:는|를|가|이|은|을|와|과|으로|로)\)")


def _strings(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def _untranslated(po: polib.POFile) -> list[str]:
    return [e.msgid for e in po
            if not e.obsolete and ("fuzzy" in e.flags or not all(_strings(e)))]


SOURCES = ("config", "console", "channels", "webhooks", "payments", "templates")


@pytest.mark.script
def test_every_marked_string_has_a_korean_translation(tmp_path, settings):
    if not shutil.which("xgettext"):
        pytest.fail("GNU gettext (xgettext) is needed to extract the strings", pytrace=False)
    # makemessages writes beside the sources it reads: give it links to ours and a copy of
    # the catalogue, so the committed one is never touched.
    for name in SOURCES:
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    copy = tmp_path / "locale" / "ko" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(PO, copy)
    settings.LOCALE_PATHS = []
    before = PO.read_bytes()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        call_command("makemessages", locale=["ko"], no_obsolete=True, no_location=True,
                     symlinks=True, ignore_patterns=["locale"], verbosity=0)
    assert PO.read_bytes() == before
    extracted = polib.pofile(str(copy))
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(PO))}
    missing = [e.msgid for e in extracted if (e.msgctxt, e.msgid) not in committed]
    assert not missing, f"marked for translation but not in {PO.name} (run make messages): {missing}"
    assert not _untranslated(extracted), f"untranslated or fuzzy: {_untranslated(extracted)}"


def test_the_committed_catalogue_has_no_untranslated_or_fuzzy_entry():
    assert not _untranslated(polib.pofile(str(PO)))


def test_korean_never_hedges_a_particle():
    po = polib.pofile(str(PO))
    hedged = [s for e in po for s in _strings(e) if HEDGED_PARTICLE.search(s)]
    assert not hedged, hedged


@pytest.mark.script
def test_placeholders_match_and_the_compiled_catalogue_is_current(tmp_path):
    if not shutil.which("msgfmt"):
        pytest.fail("GNU gettext (msgfmt) is needed to check the catalogue", pytrace=False)
    # --check-format: every python-format msgstr keeps the msgid's %(name)s placeholders.
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(PO)], check=True)
    committed = polib.mofile(str(PO.with_suffix(".mo")))
    fresh = polib.mofile(str(compiled))
    assert {(e.msgctxt, e.msgid): e.msgstr for e in committed} == \
        {(e.msgctxt, e.msgid): e.msgstr for e in fresh}, "run make messages: django.mo is stale"
