"""The derived files of a local store, named by the shelf generation they belong to.

``index-G.cdx`` is the catalog (storage/catalog.py) of shelf generation G, but for its
search index: that is the search file its stamp names, read when the first search needs
it (the first screen needs the rows only; at 100,000 posts it is 62 of the 105 MB). It is
``search-G.cdx``, or an earlier generation's ``search-B.cdx`` when G's search index is
B's plus the catalog's search delta (a batch, a phase 2: ``write_catalog``).
``near-dups-G.json`` holds the near-duplicate hints by post (what ``copydesk show`` needs
of similarity without loading the catalog). All are derived: a missing or damaged one is
rebuilt from the post segments. A writer writes generation G+1's files, commits the shelf,
then removes the files no committed catalog names; a reader that finds its generation's
file gone reads the shelf again.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from ..analysis import valid_hint
from ..codec import CodecError
from ..jsonstore import atomic_write_bytes
from .layout import Layout

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..search_index import SearchIndex

Warn = Callable[[str], None]


STAMP_MAX = 4096  # a stamp line is ~120 bytes (~300 with the search file's it names)


def index_path(layout: Layout, generation: int) -> Path:
    return layout.data_dir / f"index-{generation}.cdx"


def search_path(layout: Layout, generation: int) -> Path:
    return layout.data_dir / f"search-{generation}.cdx"


def near_dups_path(layout: Layout, generation: int) -> Path:
    return layout.data_dir / f"near-dups-{generation}.json"


@functools.cache
def code_fingerprint() -> str:
    """A fingerprint of what a saved catalog means: the source of the modules whose data
    structures it holds (a catalog of other code is rebuilt, not trusted to mean the same)
    and the versions of what it holds computed by hints and similarity (bumped by hand:
    an edit there that changes no result must not cost every store a rebuild, which takes
    ~a minute a 100,000 posts)."""
    import importlib

    from ..hints import HINTS_VERSION
    from ..similarity import FEATURES_VERSION, SCORING_VERSION, STATE_FORMAT

    digest = hashlib.sha256(
        f"hints {HINTS_VERSION} features {FEATURES_VERSION} scoring {SCORING_VERSION} "
        f"{STATE_FORMAT}".encode()
    )
    for name in ("catalog", "codec", "postrows", "query", "search_index", "terms", "texts"):
        try:
            module = importlib.import_module(f"storage.{name}")
            digest.update(Path(module.__file__ or "").read_bytes())
        except ImportError:
            continue
        except OSError:  # no source at hand (a frozen install): its name has to do
            digest.update(name.encode())
    return digest.hexdigest()[:16]


class CatalogFile(NamedTuple):
    catalog: Catalog
    posts_digest: str | None  # shelf.posts_digest of its posts (None: not recorded)


def read_catalog(
    layout: Layout,
    generation: int,
    warn: Warn,
    rebuild: Callable[[str, Path], SearchIndex] | None = None,
) -> CatalogFile | None:
    """The catalog of ``generation``, None when it is missing, stale or damaged (its
    search index is checked on first use: ``rebuild``, told why and the search file's
    path, see ``Catalog.from_bytes``)."""
    from ..catalog import Catalog

    path = index_path(layout, generation)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        stamp, body = _stamped(raw)
        if stamp.get("code") != code_fingerprint():
            return None  # built by other code: rebuilt for this one, nothing is wrong
        digest = stamp.get("posts")
        search_stamp = _search_stamp(stamp)
        source = SearchFile(search_path(layout, search_stamp["generation"]), search_stamp)
        told = None if rebuild is None else functools.partial(_rebuild_of, rebuild, source.path)
        catalog = Catalog.from_bytes(body, told, source)
        catalog.mark_read(generation)
        return CatalogFile(catalog, digest if isinstance(digest, str) else None)
    except (CodecError, orjson.JSONDecodeError) as exc:
        warn(f"{path}: damaged ({exc}); rebuilding it from the post segments")
        return None


def catalog_is_current(layout: Layout, generation: int) -> bool:
    """Whether ``generation``'s catalog file is there and was written by this code: its
    stamp line only (damage further in is found when it is read)."""
    try:
        return _catalog_stamp(layout, generation).get("code") == code_fingerprint()
    except (OSError, CodecError, orjson.JSONDecodeError):
        return False


def _catalog_stamp(layout: Layout, generation: int) -> dict[str, Any]:
    """The stamp line of ``generation``'s catalog file, read alone."""
    with index_path(layout, generation).open("rb") as fh:
        return _stamped(fh.read(STAMP_MAX))[0]


def _stamped(raw: bytes) -> tuple[dict[str, Any], memoryview]:
    """A derived file's stamp line (generation, code, posts digest) and what follows."""
    stamp_end = raw.find(b"\n")
    stamp = orjson.loads(raw[:stamp_end]) if stamp_end > 0 else None
    if not isinstance(stamp, dict) or type(stamp.get("generation")) is not int:
        raise CodecError("no stamp line")
    return stamp, memoryview(raw)[stamp_end + 1 :]


def _rebuild_of(rebuild: Callable[[str, Path], SearchIndex], path: Path, why: str) -> SearchIndex:
    return rebuild(why, path)


def _search_stamp(stamp: dict[str, Any]) -> dict[str, Any]:
    """The stamp of the search file a catalog's stamp names: that of an earlier
    generation's file it shares, or its own (the stamp less "search")."""
    named = stamp.get("search")
    if named is None:
        return {key: value for key, value in stamp.items() if key != "search"}
    if not isinstance(named, dict) or type(named.get("generation")) is not int:
        raise CodecError("a stamp naming no search file")
    return named


def search_file_of(layout: Layout, generation: int) -> Path:
    """The search file ``generation``'s catalog reads (``search-G.cdx``, or an earlier
    generation's it shares); its own name when the catalog is missing or damaged."""
    try:
        stamp = _catalog_stamp(layout, generation)
        return search_path(layout, _search_stamp(stamp)["generation"])
    except (OSError, CodecError, orjson.JSONDecodeError):
        return search_path(layout, generation)


class SearchFile:
    """``search-G.cdx``: the search index written apart from the catalog stamped
    ``stamp`` (``catalog.SearchSource``).

    Opened when its catalog is read, and kept open: a catalog's search index is read on
    first use, and the file may be gone by then (the next import removes the files of
    older generations: another process's import, or this process's own phase 2, whose
    catalog still reads the index of phase 1). An open file stays readable."""

    def __init__(self, path: Path, stamp: dict[str, Any]) -> None:
        self.path, self.stamp = path, stamp
        self._fd: int | None = None
        self._error = ""
        self._refused = False
        try:
            self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            self._error = exc.strerror or str(exc)

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self) -> memoryview:
        """Its container's bytes (a view after the stamp line: a copy of them was 630 MB
        more at the peak of a 1,000,000-post store's first search); ``CodecError`` when
        it is missing, damaged or of another catalog."""
        if self._fd is None:
            raise CodecError(f"{self.path.name} cannot be read ({self._error})")
        try:
            raw = self._read(0, os.fstat(self._fd).st_size)
            own, body = _stamped(raw)
        except OSError as exc:
            raise CodecError(f"{self.path.name} cannot be read ({exc.strerror or exc})") from None
        except (CodecError, orjson.JSONDecodeError) as exc:
            raise CodecError(f"{self.path.name}: {exc}") from None
        if own != self.stamp:
            raise CodecError(f"{self.path.name} is of another catalog")
        return body

    def refuse(self) -> None:
        self._refused = True

    def shareable(self) -> bool:
        """Whether a later generation's catalog may name this file as its search file:
        open, never refused, and still the file at its path (only an import removes
        derived files, under the import lock the caller holds)."""
        if self._fd is None or self._refused:
            return False
        try:
            with self.path.open("rb") as fh:
                own, _ = _stamped(fh.read(STAMP_MAX))
                same = os.path.samestat(os.fstat(fh.fileno()), os.fstat(self._fd))
            return same and own == self.stamp
        except (OSError, CodecError, orjson.JSONDecodeError):
            return False

    def _read(self, offset: int, count: int) -> bytes:
        assert self._fd is not None
        parts = []
        while count > 0:
            part = os.pread(self._fd, count, offset)
            if not part:
                raise OSError(0, "the file is shorter than it was")
            parts.append(part)
            offset, count = offset + len(part), count - len(part)
        return b"".join(parts)


def write_catalog(layout: Layout, generation: int, catalog: Catalog) -> int:
    """The catalog of ``generation``, and the generation of the search file it names.

    A search index that is still the one read from an earlier ``search-B.cdx`` (but for
    the search delta the catalog keeps), never refused and still that file, is not
    written again: the catalog names that file. Its checksum is checked when it is
    decoded, as any search file's is. Copying it cost an import ~0.2 s and 62 MB of writes at 100,000 posts
    (phase 2 of an import, and every batch, change the search index not at all or by
    the delta only). Otherwise the search index is written first, on its own: its bytes
    are freed before the rest is made (the import's memory peaks while a catalog is
    written). A shared file found damaged later is rebuilt like any other."""
    from .shelf import posts_digest

    stamp: dict[str, Any] = {
        "generation": generation,
        "code": code_fingerprint(),
        "posts": posts_digest(catalog.rows.ids),
    }
    source = catalog.search_source
    shared = (
        isinstance(source, SearchFile)
        and source.path != search_path(layout, generation)
        and source.shareable()
    )
    if shared:
        assert isinstance(source, SearchFile)
        search_stamp = source.stamp
    else:
        search_stamp = dict(stamp)
        head = orjson.dumps(search_stamp) + b"\n"
        target = search_path(layout, generation)
        atomic_write_bytes(target, chain([head], catalog.search_parts()), keep_backup=False)
    # the delta goes with the index it was added to: an index encoded here holds it
    head = orjson.dumps({**stamp, "search": search_stamp}) + b"\n"
    parts = [head, *catalog.parts_without_search(with_delta=shared)]
    atomic_write_bytes(index_path(layout, generation), parts, keep_backup=False)
    return int(search_stamp["generation"])


NEAR_DUPS_FORMAT = 1


def write_near_dups(layout: Layout, generation: int, catalog: Catalog) -> None:
    """The near-duplicate hints of every post that has a near copy. Those of posts whose
    similar lists did not change since the catalog was read are taken from the file of
    that generation (working out the reasons of ~4,000 posts' pairs cost every import
    ~0.2 s at 100,000 posts); a missing or damaged file, all worked out."""
    since = catalog.near_duplicates_since_read()
    table = _near_dups_table(layout, since[0]) if since is not None else None
    earlier = table if isinstance(table, dict) else None
    changed = since[1] if since is not None else set()
    hints = {}
    for post_id in catalog.near_dup_ids():
        kept = earlier.get(post_id) if earlier is not None and post_id not in changed else None
        if isinstance(kept, list) and all(map(valid_hint, kept)):
            hints[post_id] = [_in_current_words(hint) for hint in kept]
        else:
            hints[post_id] = catalog.near_duplicate_hints(post_id)
    data = {
        "format": NEAR_DUPS_FORMAT,
        "generation": generation,
        "count": len(hints),
        "hints": hints,
    }
    atomic_write_bytes(near_dups_path(layout, generation), orjson.dumps(data), keep_backup=False)


def _near_dups_table(layout: Layout, generation: int) -> dict[str, Any] | str | None:
    """Post id -> hints of ``generation``'s near-dups file; None when there is none, and
    what is wrong with it when it is not sound."""
    try:
        data = orjson.loads(near_dups_path(layout, generation).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        return f"damaged ({exc})"
    hints = data.get("hints") if isinstance(data, dict) else None
    if (
        not isinstance(hints, dict)
        or data.get("format") != NEAR_DUPS_FORMAT
        or data.get("generation") != generation
        or data.get("count") != len(hints)
    ):
        return "not in the expected shape"
    return hints


def read_near_dups(
    layout: Layout, generation: int, post_id: str, warn: Warn
) -> list[dict[str, Any]] | None:
    """The near-duplicate hints of one post; None (and a warning when the file is there
    but damaged) when they must be asked of the catalog instead."""
    path = near_dups_path(layout, generation)
    hints = _near_dups_table(layout, generation)
    if not isinstance(hints, dict):
        if hints is not None:
            warn(f"{path}: {hints}; asking the catalog instead")
        return None
    found = hints.get(post_id, [])
    if not (isinstance(found, list) and all(map(valid_hint, found))):
        warn(f"{path}: damaged entry for {post_id}; asking the catalog instead")
        return None
    return [_in_current_words(hint) for hint in found]


# A file written before the score's body reason was renamed (``body N% shared`` ->
# ``sentences alike N%``, storage.similarity.body_reason: it is not the share of words the
# compare screen shows) is read in today's words rather than rebuilt (a rebuild costs every
# store ~a minute at 100,000 posts); the next import writes the new words.
_OLD_BODY_REASON = re.compile(r" \(body (\d+)% shared(, title \d+%(?:, same topic)?\))$")


def _in_current_words(hint: dict[str, Any]) -> dict[str, Any]:
    message = hint.get("message")
    if hint.get("code") != "near_duplicate" or not isinstance(message, str):
        return hint
    renamed = _OLD_BODY_REASON.sub(r" (sentences alike \1%\2", message)
    return hint if renamed == message else {**hint, "message": renamed}


def remove_other_generations(layout: Layout, keep: int, search: int | None = None) -> None:
    """Delete the derived files of every generation but ``keep``, but for the search file
    of generation ``search`` (the one ``keep``'s catalog names, ``write_catalog``)."""
    kept = {"index": keep, "search": keep if search is None else search, "near": keep}
    for pattern in ("index-*.cdx", "search-*.cdx", "near-dups-*.json"):
        for path in layout.data_dir.glob(pattern):
            number = path.name.split("-")[-1].split(".")[0]
            if number.isdigit() and int(number) != kept[path.name.split("-")[0]]:
                path.unlink(missing_ok=True)
