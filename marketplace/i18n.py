"""Chinese first, English second: the message catalogue and the request's language.

Message ids are English; marketplace/locale/zh_CN/LC_MESSAGES/messages.po holds the Chinese.
Catalogues are compiled in memory at start-up, so there is no build step and no stale .mo file.
"""

from __future__ import annotations

import io
import re
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from marketplace.db import CHINA_TIME, china_day, utcnow

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LANG_COOKIE = "lang"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str, **params) -> str:
    text = translations(current_locale.get()).gettext(message)
    return text % params if params else text


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Marks a message id for extraction where it is translated later (constants, tables)."""
    return message


def pick_locale(cookie: str | None, accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The cookie set by the language switch wins, then the browser's Accept-Language, then Chinese."""
    if cookie in LOCALES:
        return cookie
    if accept_language:
        wanted = [part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")]
        found = negotiate_locale(wanted, ["zh_CN", "zh", "en"], sep="_", aliases={"zh": "zh_CN"})
        if found:
            return "zh_CN" if found.startswith("zh") else "en"
    return default


@cache
def html_lang(locale: str) -> str:
    # Cached: Locale.parse scans Babel's list of locales on every call, and every response asks.
    return Locale.parse(locale).language + ("-CN" if locale == "zh_CN" else "")


def translate(message: str) -> str:
    """Plain lookup, for Jinja's newstyle gettext (which formats the parameters itself)."""
    return translations(current_locale.get()).gettext(message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


_TYPE_NAMES = {
    "str": N_("text"),
    "int": N_("integer"),
    "float": N_("number"),
    "bool": N_("true or false"),
    "object": N_("object"),
    "array": N_("list"),
    "null": N_("empty"),
    "uuid": N_("identifier"),
}
_VALIDATION_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"unknown field"), N_("Unknown field: not part of this request.")),
    (re.compile(r"missing required field"), N_("Required.")),
    (re.compile(r"Expected `(\w+)` of length >= (\d+)"), N_("Must have at least %(n)s characters.")),
    (re.compile(r"Expected `(\w+)` of length <= (\d+)"), N_("Must have at most %(n)s characters.")),
    (re.compile(r"Expected `(\w+)` matching regex"), N_("Invalid format.")),
    (re.compile(r"Expected `(\w+)` >= (\d+)"), N_("Must be at least %(n)s.")),
    (re.compile(r"Expected `(\w+)` <= (\d+)"), N_("Must be at most %(n)s.")),
    (re.compile(r"Invalid enum value"), N_("Not one of the allowed values.")),
    (re.compile(r"Expected `(\w+)(?: \| \w+)*`, got `(\w+)`"), N_("Wrong type: expected %(expected)s, got %(got)s.")),
    (re.compile(r"JSON is malformed|malformed|Expecting|Invalid JSON", re.I), N_("The body is not valid JSON.")),
]


def validation_message(message: str) -> tuple[str, dict]:
    """msgspec's English validation message → our message id and its parameters (type names
    already in the request's language, since the id is translated with them as they are)."""
    for pattern, msgid in _VALIDATION_PATTERNS:
        match = pattern.search(message)
        if not match:
            continue
        groups = match.groups()
        params: dict = {}
        if "%(n)s" in msgid:
            params["n"] = groups[-1]
            if msgid.startswith("Must have at least") and params["n"] == "1":
                return N_("Required."), {}
        if "%(expected)s" in msgid:
            params["expected"] = gettext(_TYPE_NAMES.get(groups[0], groups[0]))
            params["got"] = gettext(_TYPE_NAMES.get(groups[1], groups[1]))
        return msgid, params
    return N_("Invalid value."), {}


def translate_validation(message: str) -> str:
    """msgspec's English validation messages, said again through the catalogue."""
    msgid, params = validation_message(message)
    return gettext(msgid, **params)


_STATUS_TEXT = {
    400: N_("The request is not valid."),
    401: N_("Please sign in."),
    403: N_("Your role does not allow this."),
    404: N_("Not found."),
    405: N_("This method is not allowed here."),
    413: N_("The request body is too large."),
    429: N_("Too many attempts. Please wait and try again."),
    500: N_("Something went wrong on our side."),
    503: N_("A service is unavailable. Please try again shortly."),
}


def http_status_text(status: int, fallback: str) -> str:
    return gettext(_STATUS_TEXT[status]) if status in _STATUS_TEXT else fallback


# Pages show times as the people using them live them: in China time, whatever the server's zone.
def format_china_datetime(moment: datetime | None) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") if moment else "—"


def format_china_date(moment: datetime | None) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d") if moment else "—"


# Relative days count China's calendar days, not 24-hour spans: a step at 23:50 is "yesterday" ten
# minutes after midnight, and one this morning is "today" however many hours ago it was.
def days_ago(moment: datetime, now: datetime | None = None) -> int:
    return (china_day(now or utcnow()) - china_day(moment)).days


def format_days_ago(moment: datetime | None, now: datetime | None = None) -> str:
    """Today, yesterday or N days ago, in the request's language."""
    if moment is None:
        return "—"
    days = days_ago(moment, now)
    if days <= 0:
        return gettext("today")
    if days == 1:
        return gettext("yesterday")
    return translate_plural("%(num)s day ago", "%(num)s days ago", days) % {"num": days}


def format_china_moment(moment: datetime | None, now: datetime | None = None) -> str:
    """A moment as people say it: "today 14:05", "yesterday 09:30", else the China-time date and time."""
    if moment is None:
        return "—"
    days = days_ago(moment, now)
    clock = moment.astimezone(CHINA_TIME).strftime("%H:%M")
    if days == 0:
        return gettext("today %(time)s", time=clock)
    if days == 1:
        return gettext("yesterday %(time)s", time=clock)
    return format_china_datetime(moment)
