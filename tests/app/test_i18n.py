"""The message catalogue: every message id the code and templates use has its Chinese."""

from __future__ import annotations

import re

from marketplace import i18n
from tests.support.catalogue import ROOT, extracted_ids, machine_values


def test_every_message_has_a_chinese_translation() -> None:
    catalogue = i18n.translations("zh_CN")
    wanted = extracted_ids() | machine_values()
    assert len(wanted) > 150
    missing = sorted(m for m in wanted if catalogue.gettext(m) == m)
    assert not missing, "add these to marketplace/locale/zh_CN/LC_MESSAGES/messages.po:\n" + "\n".join(missing)


def test_machine_values_have_english_labels() -> None:
    catalogue = i18n.translations("en")
    missing = sorted(v for v in machine_values() if catalogue.gettext(v) == v)
    assert not missing, missing


def test_translations_keep_their_placeholders() -> None:
    catalogue = i18n.translations("zh_CN")
    for message in extracted_ids():
        wanted = sorted(re.findall(r"%\(\w+\)[sd]", message))
        assert sorted(re.findall(r"%\(\w+\)[sd]", catalogue.gettext(message))) == wanted, message


def test_locale_negotiation() -> None:
    assert i18n.pick_locale(None, None) == "zh_CN"
    assert i18n.pick_locale(None, "en-GB,en;q=0.8") == "en"
    assert i18n.pick_locale(None, "zh-TW,zh;q=0.9,en;q=0.5") == "zh_CN"
    assert i18n.pick_locale("en", "zh-CN") == "en"
    assert i18n.pick_locale("fr", "fr-FR") == "zh_CN"


def test_every_catalogue_is_well_formed() -> None:
    """Babel reads a catalogue leniently: a msgstr left without its msgid by a merge, or a message
    defined twice, would silently give some message the wrong translation. Each entry must be one
    msgid followed by one msgstr, and each msgid (with its context) defined once."""
    for path in sorted((ROOT / "marketplace" / "locale").glob("*/LC_MESSAGES/messages.po")):
        keys: list[str] = []
        last = None  # the keyword of the last line that opened a string
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            keyword = line.split(" ", 1)[0]
            if keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr") or keyword.startswith("msgstr["):
                assert not (keyword == last and keyword in ("msgid", "msgstr")), (
                    f"{path.relative_to(ROOT)}:{number}: a second {keyword} in one entry"
                )
                if keyword in ("msgctxt", "msgid") and last not in ("msgctxt",):
                    keys.append("")
                if keyword in ("msgctxt", "msgid"):
                    keys[-1] += line
                last = keyword
            elif line.startswith('"') and last in ("msgctxt", "msgid"):
                keys[-1] += line
        repeated = sorted(k for k in set(keys) if keys.count(k) > 1)
        assert not repeated, f"{path.relative_to(ROOT)}: defined twice: {repeated[:5]}"
