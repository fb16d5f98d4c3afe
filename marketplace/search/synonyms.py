"""The bilingual medical vocabulary (data/medical_synonyms.yaml): read and checked once, then given
to Meilisearch as its `synonyms` setting (listings and needs indexes) and to the query code as the
English terms that a misspelt query is re-spelt to.

Meilisearch's synonyms are one-way maps from a query's word sequence to alternatives. A mutual group
maps every term to the others; an expansion maps the broad term, and the terms of its own mutual
group, to the narrow terms and their mutual groups (肝癌 and "liver cancer" → 肝细胞癌, HCC …), one
level deep: an expansion's narrow term does not bring its own expansions along.

Meilisearch looks a synonym up only for sequences of at most three query words, as its segmenter
cuts them: jieba for Chinese, with a dictionary finer than rjieba's (糖尿病 is 糖尿 + 病 to it,
阿尔茨海默病 four words, 慢性阻塞性肺疾病 five), and Latin text at spaces and hyphens. A longer term is
still found as a synonym of the others (a phrase) but expands nothing when typed. So the first term of
each mutual group is its carrier, one the engine cuts into at most three words, and `carrier_spelling`
rewrites a query's longer terms (any that might be: more than three Han characters and Latin words
together) into their group's carrier, which brings the same listings back. Which terms are long to
the engine cannot be known here; tests/search/test_vocabulary.py checks every term on the real one.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

VOCABULARY_FILE = Path(__file__).parent / "data" / "medical_synonyms.yaml"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
GROUP_KEYS = frozenset({"terms", "expand", "to", "source", "note"})
LATIN_WORD = re.compile(r"[^\W_]+")  # a run of letters or digits, as the engine cuts Latin text
SPELT_OUT = re.compile(r"[a-z]{3}")  # a word in lower case, not an abbreviation
MAX_GLOSSES = 12
MAX_KEY_WORDS = 3  # the longest word sequence Meilisearch looks a synonym up for
TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
JOINER = re.compile(r"[\s\-/.+'’]*")  # what may stand between the tokens of one term


class VocabularyError(ValueError):
    """The vocabulary file breaks a rule; the message names the group."""


@dataclass(frozen=True)
class Source:
    key: str
    name: str
    reference: str  # what a reference looks like, in words
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Group:
    category: str
    number: int  # 1-based, within its category
    terms: tuple[str, ...]  # a mutual group's terms; empty for an expansion
    expand: str | None  # an expansion's broad term
    to: tuple[str, ...]  # an expansion's narrow terms
    source: str  # a declared source's key
    reference: str  # in that source's format
    note: str | None

    @property
    def mutual(self) -> bool:
        return self.expand is None

    @property
    def label(self) -> str:
        return f"{self.category} group {self.number} ({self.terms[0] if self.mutual else self.expand})"


def key(term: str) -> str:
    """A term as Meilisearch compares it: case and spacing do not count."""
    return " ".join(term.casefold().split())


def most_words(term: str) -> int:
    """The most words the engine can cut a term into: its Han characters, and its Latin words."""
    return len(HAN.findall(term)) + len(LATIN_WORD.findall(HAN.sub(" ", term)))


def _carrier(group: Group, term: str) -> str:
    """The group's carrier for a term: its first term, or for an English term its first English one
    short enough (English words are counted exactly), so that an English query stays English."""
    if not HAN.search(term):
        for other in group.terms:
            if not HAN.search(other) and most_words(other) <= MAX_KEY_WORDS:
                return other
    return group.terms[0]


def tokens(text: str) -> tuple[str, ...]:
    """Text as the re-spelling compares it: Han characters one by one, Latin words whole, lower-cased."""
    return tuple(match.group().casefold() for match in TOKEN.finditer(text))


@dataclass(frozen=True)
class Vocabulary:
    sources: dict[str, Source]
    groups: tuple[Group, ...]

    @functools.cached_property
    def mutual_of(self) -> dict[str, tuple[str, ...]]:
        """Each term of a mutual group (by key) → the whole group."""
        return {key(term): group.terms for group in self.groups if group.mutual for term in group.terms}

    def synonyms(self) -> dict[str, list[str]]:
        """Meilisearch's `synonyms` setting."""
        result: dict[str, list[str]] = {}

        def add(term: str, others: list[str]) -> None:
            listed = result.setdefault(term, [])
            seen = {key(t) for t in listed} | {key(term)}
            for other in others:
                if key(other) not in seen:
                    listed.append(other)
                    seen.add(key(other))

        for group in self.groups:
            if group.mutual:
                for term in group.terms:
                    add(term, list(group.terms))
        for group in self.groups:
            if group.expand is not None:
                broad = self.mutual_of.get(key(group.expand), (group.expand,))
                narrow = [t for term in group.to for t in self.mutual_of.get(key(term), (term,))]
                for term in broad:
                    add(term, narrow)
        return result

    @functools.cached_property
    def _spellings(self) -> dict[tuple[str, ...], str | None]:
        """Every term as its tokens → its carrier if it is re-spelt, None if it stays. Terms that
        stay are listed too, so that no term is re-spelt inside a longer one (重症医学 in 重症医学科)."""
        table: dict[tuple[str, ...], str | None] = {}
        for group in self.groups:
            for term in (*group.terms, *([group.expand] if group.expand else []), *group.to):
                table.setdefault(tokens(term), None)
        for group in self.groups:
            for term in group.terms[1:]:
                if most_words(term) > MAX_KEY_WORDS:
                    table[tokens(term)] = _carrier(group, term)
        return table

    def carrier_spelling(self, q: str) -> str:
        """The query with every term too long for the engine to expand spelt as its group's
        carrier; the longest term from the left wins, as a segmenter would take it."""
        table = self._spellings
        longest = max(map(len, table))
        found = list(TOKEN.finditer(q))
        words = [match.group().casefold() for match in found]
        pieces, done, i = [], 0, 0
        while i < len(found):
            for length in range(min(longest, len(found) - i), 0, -1):
                span = found[i : i + length]
                joined = all(JOINER.fullmatch(q[a.end() : b.start()]) for a, b in itertools.pairwise(span))
                if joined and tuple(words[i : i + length]) in table:
                    carrier = table[tuple(words[i : i + length])]
                    if carrier is not None:
                        pieces += [q[done : span[0].start()], carrier]
                        done = span[-1].end()
                    i += length
                    break
            else:
                i += 1
        return "".join([*pieces, q[done:]]) if pieces else q

    @functools.cached_property
    def _bilingual(self) -> tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...]:
        """Each mutual group with terms in both scripts: its Chinese terms (the first is its name),
        its Latin ones, the most spelt-out first (an embedding model knows "magnetic resonance
        imaging" better than "MRI"), and those as `_latin_words` spells them, worked out once
        here because `gloss` runs for every passage of a reindex."""
        entries = []
        for group in self.groups:
            han = tuple(t for t in group.terms if HAN.search(t) and len(t) > 1)
            latin = tuple(
                sorted(
                    (t for t in group.terms if LATIN.search(t) and not HAN.search(t)),
                    key=lambda t: (not SPELT_OUT.search(t), -len(t)),
                )
            )
            if han and latin:
                entries.append((han, latin, tuple(_latin_words(t) for t in latin)))
        return tuple(entries)

    def gloss(self, text: str) -> list[str]:
        """The vocabulary's names, in the other language, of the terms a text says in one language
        only: English names for Chinese terms, Chinese names for English ones. Embedding a text with
        its gloss lets the small multilingual model match it within one language, where it is strong,
        rather than across two. A term inside a longer one found (cancer in liver cancer) is not
        glossed."""
        words = _latin_words(text)
        found: list[tuple[str, str]] = []  # (the term found, its gloss)
        for han, latin, spelt in self._bilingual:
            in_han = [t for t in han if t in text]
            in_latin = [w for w in spelt if w in words]
            if in_han and not in_latin:
                found.append((max(in_han, key=len), latin[0]))
            elif in_latin and not in_han:
                found.append((max(in_latin, key=len), han[0]))
        kept = [g for term, g in found if not any(term != other and term in other for other, _ in found)]
        return list(dict.fromkeys(kept))[:MAX_GLOSSES]

    def english_terms(self) -> list[list[str]]:
        """Every term with Latin letters, lower-cased and cut into words, for spell_synonyms."""
        terms = [t for g in self.groups for t in (*g.terms, *([g.expand] if g.expand else []), *g.to)]
        return [list(words) for words in dict.fromkeys(tuple(t.lower().split()) for t in terms if LATIN.search(t))]


def _latin_words(text: str) -> str:
    """A text's Latin words, case-folded, each between spaces, so that `in` matches whole words."""
    return f" {' '.join(LATIN_WORD.findall(text.casefold()))} "


def _fail(where: str, problem: str) -> VocabularyError:
    return VocabularyError(f"{VOCABULARY_FILE.name}, {where}: {problem}")


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(where, f"`{name}` must be a non-empty list of terms")
    return tuple(v.strip() for v in value)


def _check_term(term: str, where: str) -> None:
    if len(term) == 1 and HAN.match(term):
        raise _fail(where, f"{term!r} is a single Han character: it would match every word that holds it")


def _sources(raw: Any) -> dict[str, Source]:
    if not isinstance(raw, dict) or not raw:
        raise _fail("sources", "a mapping of source keys is required")
    sources = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("name", "reference", "pattern")):
            raise _fail(f"source {name}", "needs `name`, `reference` and `pattern` strings")
        try:
            pattern = re.compile(entry["pattern"])
        except re.error as error:
            raise _fail(f"source {name}", f"bad pattern: {error}") from error
        sources[str(name)] = Source(str(name), entry["name"], entry["reference"], pattern)
    return sources


def _group(category: str, number: int, raw: Any, sources: dict[str, Source]) -> Group:
    where = f"{category} group {number}"
    if not isinstance(raw, dict):
        raise _fail(where, "a group is a mapping")
    where = f"{where} ({(raw.get('terms') or [raw.get('expand')])[0]})"
    if unknown := set(raw) - GROUP_KEYS:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    terms: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    expand = None
    if ("terms" in raw) == ("expand" in raw):
        raise _fail(where, "give either `terms` (mutual) or `expand` with `to` (one way)")
    if "terms" in raw:
        terms = _strings(raw["terms"], where, "terms")
        if len(terms) < 2 or "to" in raw:
            raise _fail(where, "a mutual group lists at least two terms and no `to`")
        if len({key(t) for t in terms}) < len(terms):
            raise _fail(where, "a term is listed twice")
    else:
        if not isinstance(raw["expand"], str) or not raw["expand"].strip():
            raise _fail(where, "`expand` is the broad term, a string")
        expand = raw["expand"].strip()
        to = _strings(raw.get("to"), where, "to")
    for term in (*terms, *([expand] if expand else []), *to):
        _check_term(term, where)
    source_note = raw.get("source")
    if not isinstance(source_note, str) or " " not in source_note.strip():
        raise _fail(where, "`source` is '<source key> <reference>'")
    source_key, reference = source_note.strip().split(" ", 1)
    if source_key not in sources:
        raise _fail(where, f"source {source_key!r} is not declared under `sources`")
    if not sources[source_key].pattern.fullmatch(reference.strip()):
        raise _fail(where, f"{reference!r} is not a {source_key} reference ({sources[source_key].reference})")
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise _fail(where, "`note` is a string")
    return Group(category, number, terms, expand, to, source_key, reference.strip(), note)


def parse(text: str) -> Vocabulary:
    """The vocabulary from the file's text, checked; a VocabularyError names the first bad group."""
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict) or set(raw) != {"sources", "groups"}:
        raise _fail("top level", "expected exactly `sources` and `groups`")
    sources = _sources(raw["sources"])
    if not isinstance(raw["groups"], dict):
        raise _fail("groups", "a mapping of category → list of groups")
    groups: list[Group] = []
    for category, entries in raw["groups"].items():
        if not isinstance(entries, list):
            raise _fail(f"category {category}", "a list of groups")
        groups += [_group(str(category), n, entry, sources) for n, entry in enumerate(entries, 1)]
    owner: dict[str, Group] = {}
    for group in groups:
        for term in group.terms:
            if (other := owner.setdefault(key(term), group)) is not group:
                raise _fail(group.label, f"{term!r} is also in {other.label}; merge the groups or drop it from one")
    expanded: dict[str, Group] = {}
    for group in groups:
        if group.expand is None:
            continue
        if (other := expanded.setdefault(key(group.expand), group)) is not group:
            raise _fail(group.label, f"{group.expand!r} is already expanded by {other.label}; list its narrow terms there")
        broad = owner.get(key(group.expand))
        for term in group.to:
            if key(term) == key(group.expand) or (broad is not None and owner.get(key(term)) is broad):
                raise _fail(
                    group.label, f"{term!r} is in the broad term's own mutual group: make the group one-way or mutual, not both"
                )
    return Vocabulary(sources, tuple(groups))


@functools.cache
def vocabulary() -> Vocabulary:
    return parse(VOCABULARY_FILE.read_text(encoding="utf-8"))


def synonyms() -> dict[str, list[str]]:
    """Meilisearch's `synonyms` setting, from the vocabulary file."""
    return vocabulary().synonyms()


def english_terms() -> list[list[str]]:
    return vocabulary().english_terms()


def gloss(text: str) -> list[str]:
    return vocabulary().gloss(text)


def carrier_spelling(q: str) -> str:
    return vocabulary().carrier_spelling(q)
