"""A query's words as sent to Meilisearch (`query_text`: English synonyms spelt right, then Chinese
precision) and as embedded (`embedded_text`), its matching strategy, and what documents carry in
their hidden recall field so that such a query still finds them (`compound_pieces`,
`identifier_forms`).

Meilisearch segments Chinese with jieba's precise mode. A word its dictionary does not know comes
out as single characters: 卒中 is 卒 / 中, and Meilisearch then matches 中 on its own (as a prefix:
中心, 中药, 中医), so 卒中 answered hundreds of listings. Latin identifiers are cut at their
punctuation and digits: PD-1 is PD / 1, and dropping the 1 leaves PD, which PD-4277 holds.

The rule (`precise_query`), for each word of the query as typed (split at spaces):
- a Latin identifier with a digit (PD-1, GLP-1, CLDN18.2, B7-H3, G12D, 7T) becomes a phrase: in
  quotes Meilisearch matches its pieces exactly and in order, never as a prefix, with a typo or
  with one of them dropped by the matching strategy (phrases are never dropped);
- in Chinese, single characters (and bare numbers) that the segmenter leaves next to each other
  become a phrase (卒中, 慢阻肺, 第2代, 2型); a lone one is glued into a phrase with the word before
  it (肝细胞癌, 阿尔茨海默病, II期), or after it at the start (肺结节) — unless it is a common
  character, which is left out: it says nothing about the subject and is what a query must never be
  reduced to (脑卒中后偏瘫 is searched as 脑卒中 偏瘫);
- a term of the synonym list is left as typed (Meilisearch expands no synonym inside a phrase,
  and the list knows best how its terms are meant) — unless the engine would cut it loosely: Latin
  with digits joined by - or . is spelt as an equivalent of its group that the engine keeps whole
  (PD-1 as PD1, from which the synonyms still expand), or made a phrase when there is none; Chinese
  in single characters, one of them common, is made a phrase (卒中): precision before the synonyms,
  which hybrid search then makes up for. A word of one character, or a query holding quotes, is left as typed: that is
  what the user asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

import rjieba
from rapidfuzz.distance import DamerauLevenshtein

from marketplace.search.index_settings import INDEX_SETTINGS
from marketplace.search.synonyms import carrier_spelling, english_terms, gloss

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Letters and digits joined by - or . (PD-1, CLDN18.2, B7-H3, p-tau217), holding both a letter and
# a digit; a bare number (2024) or a Latin word (CAR-T, IgA) is not an identifier.
IDENTIFIER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*(?![A-Za-z0-9])")
WORD_PIECE = re.compile(r"[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# A character is common when jieba's dictionary (the one Meilisearch segments with) counts it at
# least this often. The dictionary's counts come from a large general corpus and are fixed, so the
# same query is rewritten the same way whatever the catalogue holds (the demo catalogue, 700
# listings on a few themes, would make 肝 or 细胞 "common"). Above 40,000 are grammar and position:
# 是 在 和 有 的 为 上 中 一 等 对 与 之 后 下 于 多 或 用 其 前 新 高 内 及; below are the characters
# of medicine: 外 35,085, 心 25,237, 性 13,848, 型 13,751, 病 9,054, 肺 1,401, 癌 623.
COMMON_FREQUENCY = 40_000
# Digits that open an identifier (5G, 3D, 7T): after a Chinese character Meilisearch cuts them off
# the letters (基于5G is 基于 / 5 / g), elsewhere not (5g). The phrase asks for them cut, and the
# documents' hidden field holds every such identifier cut too, so the phrase finds it either way.
LEADING_DIGITS = re.compile(r"^([0-9]+)(?=[A-Za-z])")
# Between the pieces of compounds in a document's hidden field: a hard separator, across which
# Meilisearch matches no phrase.
PIECE_SEPARATOR = "。"


def common(char: str) -> bool:
    return rjieba.suggest_freq(char) >= COMMON_FREQUENCY


def _short(piece: str) -> bool:
    """A piece the segmenter could not join to a word: one Han character, or a bare number."""
    return (len(piece) == 1 and HAN.match(piece) is not None) or piece.isdigit()


def _identifier(text: str) -> bool:
    return any(c.isdigit() for c in text) and any(c.isalpha() for c in text)


def _phrase_form(identifier: str) -> str:
    return LEADING_DIGITS.sub(r"\1 ", identifier)


@lru_cache(maxsize=1)
def _synonym_terms() -> tuple[str, ...]:
    """The synonym list's terms, lower-cased, longest first (read once, from the index settings)."""
    return tuple(sorted({term.lower() for term in INDEX_SETTINGS.get("synonyms", {})}, key=len, reverse=True))


def _synonym_spans(q: str) -> list[tuple[int, int]]:
    """Where the query spells a synonym term ("GLP-1 receptor agonist", 外泌体); Latin ones as whole words."""
    lowered = q.lower()
    spans = []
    for term in (term for term in _synonym_terms() if term in lowered):  # a substring test first: cheap
        edge = "" if HAN.match(term[0]) else "(?<![a-z0-9])"
        end = "" if HAN.match(term[-1]) else "(?![a-z0-9])"
        spans += [match.span() for match in re.finditer(edge + re.escape(term) + end, lowered)]
    return spans


def _groups(text: str) -> list[str]:
    """A run of Chinese (and digits, Latin letters) without spaces or punctuation, as terms: a
    quoted phrase where the segmenter leaves single characters, the words themselves otherwise."""
    pieces = [piece for piece in rjieba.cut(text, False) if piece.strip()]
    if len(pieces) < 2:
        return [text]
    groups: list[list[str]] = []  # a group of more than one piece is a phrase
    glue = False  # the piece before ended groups[-1] (it was not left out)
    i = 0
    while i < len(pieces):
        j = i
        while j < len(pieces) and _short(pieces[j]):
            j += 1
        piece = pieces[i]
        if j - i >= 2:  # single characters side by side: a word the dictionary does not know
            groups.append(pieces[i:j])
            i = j
        elif j - i == 1 and HAN.match(piece) and common(piece):
            glue = False  # a lone common character: left out
            i += 1
            continue
        elif j - i == 1 and glue:
            groups[-1].append(piece)  # a lone character: glued to the word before it
            i += 1
        elif j - i == 1 and i + 1 < len(pieces):
            groups.append([piece, pieces[i + 1]])  # or, at the start, to the word after it
            i += 2
        else:
            groups.append([piece])
            i += 1
        glue = True
    if len(groups) == len(pieces):
        return [text]  # no phrase, nothing left out: as typed
    return [f'"{"".join(group)}"' if len(group) > 1 else group[0] for group in groups]


JOINED = re.compile(r"[A-Za-z0-9][-.][A-Za-z0-9]")


def _loose(term: str) -> bool:
    """A term the engine cuts into pieces that could match apart: Latin with digits joined by - or
    . (PD-1, Claudin 18.2; the engine cuts there and the matching strategy may drop a piece), or
    Chinese the segmenter leaves in single characters (卒中)."""
    if HAN.search(term):
        return _groups(term) != [term]
    return any(c.isdigit() for c in term) and bool(JOINED.search(term))


@lru_cache(maxsize=4096)
def whole_equivalent(term: str) -> str | None:
    """For a synonym term the engine would cut loosely, an equivalent of its group that the engine
    keeps whole and expands (卒中 → 脑卒中, 慢阻肺 → COPD, PD-1 → PD1), in the same script if one
    will do; None when there is none."""
    from marketplace.search.synonyms import MAX_KEY_WORDS, key, most_words, vocabulary

    whole = [
        other
        for other in vocabulary().mutual_of.get(key(term), ())
        if key(other) != key(term) and not _loose(other) and most_words(other) <= MAX_KEY_WORDS
    ]
    same_script = [other for other in whole if bool(HAN.search(other)) == bool(HAN.search(term))]
    choices = same_script or whole
    return choices[0] if choices else None


def _synonym_term(term: str) -> list[str]:
    """A synonym term as sent: as typed; Chinese cut loosely as a phrase (a compound's pieces in
    the documents' hidden field find it inside 脑卒中 too); Latin cut loosely as a whole equivalent
    (PD-1 → PD1), or a phrase."""
    if not _loose(term):
        return [term]
    if HAN.search(term):
        # A phrase only where a piece alone would be a common character (卒中's 中), which matches
        # everything; otherwise the synonyms are worth more (外泌体 finds exosome).
        pieces = [piece for piece in rjieba.cut(term, False) if piece.strip()]
        return _groups(term) if any(len(p) == 1 and common(p) for p in pieces) else [term]
    if (equivalent := whole_equivalent(term)) is not None:
        return [equivalent]
    return [f'"{_phrase_form(term)}"']


def _chinese_terms(text: str) -> list[str]:
    """A run holding Chinese, with the synonym list's terms in it as _synonym_term sends them."""
    for term in _synonym_terms():
        at = text.find(term)
        if at >= 0 and HAN.search(term):
            before, after = text[:at], text[at + len(term) :]
            return [*_chinese_terms(before), *_synonym_term(term), *_chinese_terms(after)]
    return _groups(text) if text else []


def precise_query(q: str) -> str:
    """The query as sent to Meilisearch (see the module's docstring); unchanged when no rule applies."""
    if '"' in q:
        return q
    synonyms = _synonym_spans(q)
    words = []
    for found in re.finditer(r"\S+", q):
        word = found.group()
        terms: list[str] = []
        at = 0
        for match in IDENTIFIER.finditer(word):
            start, end = found.start() + match.start(), found.start() + match.end()
            if _identifier(match.group()):
                terms += _rest(word[at : match.start()])
                # Part of a longer synonym term: left to the synonyms; a term by itself: as _synonym_term.
                inside = any(a <= start and end <= b and (a, b) != (start, end) for a, b in synonyms)
                whole = any((a, b) == (start, end) for a, b in synonyms)
                if inside:
                    terms.append(match.group())
                elif whole:
                    terms += _synonym_term(match.group())
                else:
                    terms.append(f'"{_phrase_form(match.group())}"')
                at = match.end()
        terms += _rest(word[at:])
        rewritten = " ".join(terms)
        # A word that needs no phrase and loses no character stays as typed.
        changed = '"' in rewritten or rewritten.replace(" ", "") != word
        words.append(rewritten if changed and rewritten else word)
    return " ".join(words) if words != q.split() else q


def _rest(text: str) -> list[str]:
    """The text between identifiers: its Chinese runs rewritten, anything else (punctuation) kept."""
    if len(text) < 2 or not HAN.search(text):
        return [text] if text else []
    terms: list[str] = []
    at = 0
    for match in WORD_PIECE.finditer(text):
        if match.start() > at:
            terms.append(text[at : match.start()])
        run = match.group()
        terms += _chinese_terms(run) if HAN.search(run) and len(run) > 1 else [run]
        at = match.end()
    if at < len(text):
        terms.append(text[at:])
    return terms


def identifier_forms(texts: Iterable[str | None]) -> str:
    """The texts' identifiers that open with digits, as a query's phrase asks for them (5 G)."""
    found = (match.group() for text in texts for match in IDENTIFIER.finditer(text or ""))
    forms = {_phrase_form(name): None for name in found if _identifier(name) and LEADING_DIGITS.match(name)}
    return PIECE_SEPARATOR.join(forms)


def compound_pieces(texts: Iterable[str | None]) -> str:
    """The beginnings and ends of the texts' compounds that a query phrase may ask for: 卒中 inside
    脑卒中, which Meilisearch indexes as one word. Each is written as the segmenter cuts it on its
    own (卒 中), as the query's phrase is cut, and they are kept apart by a hard separator."""
    pieces: dict[str, None] = {}
    for text in texts:
        for word in rjieba.cut(text or "", False):
            if len(word) < 3 or not all(HAN.match(c) for c in word):
                continue
            for size in range(2, len(word)):
                for part in (word[:size], word[-size:]):
                    cut = rjieba.cut(part, False)
                    if len(cut) > 1 and any(_short(piece) for piece in cut):
                        pieces[" ".join(cut)] = None
    return PIECE_SEPARATOR.join(pieces)


# ----- the query's words as sent and as embedded ---------------------------------------------------

# How many of a query's words a hit must hold, by the query's language (measured on the demo data,
# bench/chinese_recall.py). A Chinese query is cut into words by the segmenter, and often one of
# them is in no listing (肝癌 where listings say 肝细胞癌): `all` then finds nothing, and the
# default `last`, which drops words from the end, finds nothing when the first word is the missing
# one. `frequency` drops the commonest words first, keeping the telling ones. English and mixed
# queries keep `last`: people type the subject first ("knee osteoarthritis implant").
MatchingStrategy = Literal["all", "last", "frequency"]  # Meilisearch's, as the SDK types it
CHINESE_STRATEGY: MatchingStrategy = "frequency"
OTHER_STRATEGY: MatchingStrategy = "last"
LATIN = re.compile(r"[A-Za-z]")
# Meilisearch expands a synonym only when the query spells it as listed: "cell therpy" finds the
# listings that say "cell therapy" in English, never those that say only 细胞治疗. So an English
# synonym misspelt within Meilisearch's own typo budget is spelt right before the query is sent.
ENGLISH_SYNONYMS = english_terms()
ENGLISH_WORDS = {word for term in ENGLISH_SYNONYMS for word in term}  # spelt right: left alone


def matching_strategy(q: str) -> MatchingStrategy:
    """Chinese (Han characters, no Latin letters; digits allowed, as in 2型糖尿病) or anything else."""
    return CHINESE_STRATEGY if HAN.search(q) and not LATIN.search(q) else OTHER_STRATEGY


def _within_typo_budget(word: str, term: str) -> bool:
    """As Meilisearch's default typo tolerance: one typo from 5 letters, two from 9."""
    budget = 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0
    return DamerauLevenshtein.distance(word, term, score_cutoff=budget) <= budget


# Popular queries come again and again; their spelling costs about 3 ms of CPU (each English synonym
# term compared with each window of words), the same every time for the same words.
@lru_cache(maxsize=4096)
def spell_synonyms(q: str) -> str:
    """The query with misspelt English synonyms spelt as listed ("biobnak" → "biobank"); only a
    whole term, word by word, so that "laser" never becomes the "later" of "pay later". Then a term
    too long for Meilisearch to expand is spelt as its group's carrier (search/synonyms.py)."""
    words = q.split()
    lowered = [word.lower() for word in words]
    changed = False
    for term in ENGLISH_SYNONYMS:
        for start in range(len(words) - len(term) + 1):
            window = lowered[start : start + len(term)]
            # Words spelt as in some term stay ("hepatitis" is not re-spelt "keratitis").
            if window != term and all(map(_within_typo_budget, window, term)) and not ENGLISH_WORDS.issuperset(window):
                words[start : start + len(term)] = lowered[start : start + len(term)] = term
                changed = True
    return carrier_spelling(" ".join(words) if changed else q)


# Like the spelling, the rest of a query's rewriting (about 1.5 ms of CPU a search) depends only on
# its text and the vocabulary, which never changes at run time.
@lru_cache(maxsize=4096)
def query_text(q: str, phrases: bool = True) -> str:
    """The words as sent to Meilisearch: misspelt English terms spelt right (a Chinese query has
    none); then, unless phrases is False, phrases where Chinese is cut into single characters and
    for identifiers (search.query_text)."""
    text = spell_synonyms(q)
    return precise_query(text) if phrases else text


@lru_cache(maxsize=4096)
def embedded_text(q: str) -> str:
    """The query with its gloss, as embedded (the gloss costs about 0.7 ms; the vocabulary is fixed)."""
    glosses = gloss(q)
    return f"{q} {' '.join(glosses)}" if glosses else q
