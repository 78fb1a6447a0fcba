"""Similar posts and near-duplicate clusters.

Each post is reduced, in the import workers (``features``), to its normalized title and
topic and a 64-byte MinHash signature of its body text. ``SimilarityIndex`` keeps, for every
post, its best ``NEIGHBOURS_KEPT`` neighbours and their scores, computed when posts are
added, so ``similar()`` is a lookup, not a search.

Score (0-100) = 60 x body resemblance (0-1) + 0.2 x title ratio (0-100) + 20 when the
topic is the same:

* body: estimated Jaccard resemblance of the text units of the body: its sentences, list
  items, code lines and headings. Images are left out, so an added image changes nothing.
  Every unit is taken twice: as is, and bound to the first
  words of the block before it. Generated posts are assembled from shared template
  paragraphs in varying selection and order; the bound copy only matches when a paragraph
  also follows the same block, so a copy (same text, same order) keeps ~100% while posts
  that only share template sentences lose more than half of what they share.
  (Units, not 5-word shingles: the same discrimination at a quarter of the cost, which
  matters because features are computed for every imported file.)
* title: ``rapidfuzz.fuzz.ratio`` of the titles with their words sorted (= token_sort_ratio).
* topic: a near-copy is the same post, so the same topic; generated posts on another
  problem or stack can share most of their template text. Posts without a topic on either
  side are judged on body and title alone (rescaled to 0-100).

Reasons name the parts, each figure rounded by ``storage.figures.percent``: ``sentences
alike N%`` (the body resemblance, ``body_reason``; not the compare screen's "words shared"),
``title N%``, ``same topic``.

Candidate pairs (all pairs of 100,000 posts is impossible):

* LSH banding over the signature, 8 bands of 8 bytes: near-copies (resemblance >= 0.9)
  share a band with probability > 0.98; pairs at the template-sharing level (<= 0.4)
  with probability ~0.005. An oversized bucket is chained, not expanded into all pairs.
* blocking by topic: the ``BLOCK_TOP`` posts of the same topic whose signatures agree
  most (a scan of the topic's signatures with C-level xor/count; of a topic of more than
  ``BLOCK_SCAN_MAX`` posts, that many added around the post). Posts of a topic with fewer
  than ``WIDEN_BELOW`` others also get ``WIDEN_TOP`` candidates from the posts sharing a
  part of their topic (``problem / stack``), or from all posts of a tiny index.

Each scored pair is offered to both posts' lists, so an existing post picks up a better
new neighbour without being recomputed. While no topic holds more than ``BLOCK_TOP`` + 1
posts (and so every pair is considered), adding posts batch by batch gives exactly the
lists of adding them all at once; ties break by insertion order.
"""

from __future__ import annotations

import base64
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from itertools import chain, compress, repeat
from operator import eq, xor
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Hamming

from .codec import CodecError, Reader, Writer, expect, str_list
from .figures import percent
from .texts import PackedTexts, inserted, listed, texts_data, texts_of

__all__ = [
    "NEAR_DUPLICATE_THRESHOLD",
    "NEIGHBOURS_KEPT",
    "SimilarityIndex",
    "body_reason",
    "features",
    "pair_score",
]

# A pair scoring this or more is a near-duplicate (hint `near_duplicate`, clusters).
# Measured: the five seeds score 18-44 against each other (they share 16-55% of their
# 5-word shingles). In 100,000 synthesized posts (seeds.synth) the 2,043 planted
# near-copies (another post's body under a reworded title, sometimes one more image) score
# 91-100 against their source, while the best pairs that only share template text score
# up to 83 (same topic, ~80% of the sentences in the same order): 87 is the middle of
# that gap. Seed 004 and its near-copy in tests/data/similar score 96, a copy with an
# edited sentence and a new title 91; 004 and its own sentences in another order 59.
# Posts on different topics never reach 87 unless body and title are (nearly) the same.
NEAR_DUPLICATE_THRESHOLD = 87

NEIGHBOURS_KEPT = 12  # per post; similar() returns at most this many
SIGNATURE_BYTES = 64  # one-permutation MinHash: 64 bins, the low byte of each minimum
BANDS = 8  # LSH: 8 bands of 8 bytes
BAND_BYTES = SIGNATURE_BYTES // BANDS  # 8: _lsh_candidates reads a band as one number
BUCKET_CAP = 48  # a bigger LSH bucket is template text: chain its members instead
BUCKET_CHAIN = 4  # ... each paired with this many on either side
BLOCK_TOP = 10  # same-topic candidates per post (most alike bodies) ...
BLOCK_SCAN_MAX = 512  # ... among at most this many posts of its topic
WIDEN_BELOW = 10  # a post with fewer other posts in its topic also gets ...
WIDEN_TOP = 16  # ... this many candidates from related topics (see _Widener)
WIDEN_MAX = 5000  # ... unless its related topics hold more posts than this

W_BODY, W_TITLE, W_TOPIC = 0.60, 0.20, 0.20

STATE_FORMAT = "copydesk-similarity/1"
FEATURES_VERSION = 1
# Bump when scores or candidates change: saved catalogs (their neighbour lists) are then
# rebuilt, not trusted (storage/local/index_files.py).
SCORING_VERSION = 1

_IDX_BITS = 25  # slot numbers up to 33 million
_IDX_MASK = (1 << _IDX_BITS) - 1
_BIN_MASK = SIGNATURE_BYTES - 1
_CHANCE = 1 / 256  # two unrelated byte values are equal this often (b-bit MinHash)
# matching signature bytes -> the resemblance estimate (before the bounds of _resemblance)
_ESTIMATES = [(m / SIGNATURE_BYTES - _CHANCE) / (1 - _CHANCE) for m in range(SIGNATURE_BYTES + 1)]
_START = zlib.crc32(b"^start")  # the context of the first block

_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~"
_TEXT_PUNCT = str.maketrans(_PUNCT, " " * len(_PUNCT))
# Units end at . ! ? and line ends; other punctuation is dropped.
_UNIT_ENDS = b"!?\n\r"
_UNIT_DROP = b"\"#$%&'()*+,-/:;<=>@[\\]^_`{|}~"
_UNIT_TABLE = bytes.maketrans(
    _UNIT_ENDS + _UNIT_DROP, b"." * len(_UNIT_ENDS) + b" " * len(_UNIT_DROP)
)
# Blocks are joined with a marker unit: ASCII record separator, which is neither a unit end,
# nor dropped, nor whitespace to bytes.split().
_MARK = b"\x1e"
_BLOCK_END = ".\x1e."
_LITTLE = sys.byteorder == "little"


# ---------------------------------------------------------------------------- features


def normalize_title(text: Any) -> str:
    """Lower-case words without punctuation, sorted: `B: a c` -> `a b c`."""
    if not isinstance(text, str):
        return ""
    return " ".join(sorted(text.lower().translate(_TEXT_PUNCT).split()))


def normalize_topic(text: Any) -> str:
    """Lower case, single spaces, parts joined by ` / `."""
    if not isinstance(text, str):
        return ""
    return " / ".join(" ".join(p.split()) for p in text.lower().split("/") if p.strip())


def _block_texts(body: Any) -> Iterator[str]:
    for block in body if isinstance(body, list) else ():
        if not isinstance(block, dict) or block.get("type") == "image":
            continue
        items = block.get("items")
        if isinstance(items, list):
            yield ". ".join(map(str, items))
        else:
            text = block.get("text")
            if isinstance(text, str) and text:
                yield text


def _unit_hashes(body: Any) -> list[int]:
    """crc32 of every text unit, plain and bound to the first words of the block before
    (the plain hash xor the crc32 of those words).

    Block by block, with C-level string methods over each block's text (whitespace runs
    become one space by a split and join, then each unit is trimmed): memory stays near
    the largest block, not a few copies of the whole body (a 50 MB body: ~1 GB)."""
    crc = zlib.crc32
    join = b" ".join
    plain: list[int] = []
    contexts: list[int] = []
    context = following = _START
    for text in _block_texts(body):
        blob = join(text.encode("utf-8", "replace").lower().translate(_UNIT_TABLE).split())
        first = True
        for unit in filter(None, map(bytes.strip, blob.split(b"."))):
            if unit == _MARK:  # a marker in the text itself, as between blocks
                context, first = following, True
                continue
            if first:
                following, first = crc(join(unit.split(None, 3)[:3])), False
            plain.append(crc(unit))
            contexts.append(context)
        context = following  # the next block is bound to this one's first words
    return plain + list(map(xor, plain, contexts))


def _signature(hashes: list[int]) -> bytes:
    """One-permutation MinHash: the low 6 bits of a hash pick its bin, the bin keeps its
    minimum, and bits 6-13 of that minimum are the bin's byte. An empty bin borrows from
    the next full one to its right, round the end (rotation densification): the full
    bin's value plus 0x9D per bin of distance. Short texts still compare."""
    if not hashes:
        return bytes(SIGNATURE_BYTES)
    hashes.sort(reverse=True)
    # a dict keeps the last value per bin: the smallest, as the list is sorted descending
    minima = {h & _BIN_MASK: h >> 6 for h in hashes}
    if len(minima) == SIGNATURE_BYTES:
        return bytes([v & 0xFF for v in map(minima.__getitem__, range(SIGNATURE_BYTES))])
    out = bytearray(SIGNATURE_BYTES)
    first = min(minima)  # the nearest full bin right of the last ones, round the end
    nearest, value = first + SIGNATURE_BYTES, minima[first]
    get = minima.get
    for at in range(SIGNATURE_BYTES - 1, -1, -1):
        full = get(at)
        if full is None:
            out[at] = (value + (nearest - at) * 0x9D) & 0xFF
        else:
            nearest, value = at, full
            out[at] = full & 0xFF
    return bytes(out)


def features(post: dict) -> dict:
    """Compact, JSON-serialisable similarity features of one post dict; cheap (well under
    the parse time of the document).

    ``{"v": 1, "title": sorted title words, "topic": normalized topic,
    "sig": 128 hex digits, "units": number of text units}``
    """
    meta = post.get("meta")
    topic = meta.get("topic") if isinstance(meta, dict) else None
    hashes = _unit_hashes(post.get("body"))
    units = len(hashes) // 2
    return {
        "v": FEATURES_VERSION,
        "title": normalize_title(post.get("title")),
        "topic": normalize_topic(topic),
        "sig": _signature(hashes).hex(),
        "units": units,
    }


# ---------------------------------------------------------------------------- scoring


def _resemblance(sig_a: int, sig_b: int, size_a: int, size_b: int) -> float:
    """Estimated Jaccard resemblance (0-1) of two signatures held as ints."""
    if not size_a or not size_b:
        return 0.0
    matches = (sig_a ^ sig_b).to_bytes(SIGNATURE_BYTES, "little").count(0)
    estimate = (matches / SIGNATURE_BYTES - _CHANCE) / (1 - _CHANCE)
    # J(A, B) <= |small| / |large|: tames the estimate's noise for texts of unequal size
    bound = size_a / size_b if size_a < size_b else size_b / size_a
    return max(0.0, min(estimate, bound))


def _combine(body: float, title: float, same_topic: bool | None) -> int:
    """``same_topic`` None: neither post has a topic; judged on body and title alone."""
    if same_topic is None:
        value = (W_BODY * 100 * body + W_TITLE * title) / (W_BODY + W_TITLE)
    else:
        value = W_BODY * 100 * body + W_TITLE * title + (W_TOPIC * 100 if same_topic else 0)
    return int(value + 0.5)


def _title_ratio(a: str, b: str) -> float:
    return fuzz.ratio(a, b) if a and b else 0.0


def _same_topic(a: str, b: str) -> bool | None:
    if not a and not b:
        return None
    return a == b


def body_reason(resemblance: float) -> str:
    """The reason naming the body measure of the score: ``sentences alike 97%``.

    This is the resemblance of the two bodies' text units (see the module docstring), not
    the share of a post's words that the other holds: that is the compare screen's "words
    shared" (``storage.compare.shared_words_text``), computed from both posts' text. The
    two differ (a copy under a new title with one more image: sentences alike 100%, words
    shared 97% of left · 95% of right), so they never share a name.

    Why the Similar pane does not show words shared instead: it needs both posts read and
    compared. Measured on a store of 3,000 synthesized posts and the five seeds
    (../shared/seeds, median body ~3,400 characters), per pair: reading the other post
    ~13 ms (a seed's neighbours: ~15 ms), ``compare_stored`` ~1.7 ms (max 6.5 ms); for the
    10 similar posts of one post ~140 ms median, ~220 ms p90. The panes of a post are read
    on every key (``tui.gateway.StoreGateway.read_view``), and the review loop's target
    for ``j`` is ~100 ms at 100,000 posts: the word shares are computed when the reviewer
    compares a pair (``d``), the resemblance is already in the index."""
    return f"sentences alike {percent(resemblance)}"


def _reasons(body: float, title: float, same_topic: bool) -> list[str]:
    reasons = [body_reason(body), f"title {percent(title / 100)}"]
    if same_topic:
        reasons.append("same topic")
    return reasons


def pair_score(a: dict, b: dict) -> tuple[int, list[str]]:
    """Score (0-100) and reasons of two ``features()`` dicts, without an index."""
    body = _resemblance(
        int.from_bytes(bytes.fromhex(a["sig"]), "little"),
        int.from_bytes(bytes.fromhex(b["sig"]), "little"),
        a["units"],
        b["units"],
    )
    title = _title_ratio(a["title"], b["title"])
    same = _same_topic(a["topic"], b["topic"])
    return _combine(body, title, same), _reasons(body, title, bool(same))


def _topic_parts(topic: str) -> list[str]:
    return [p for p in topic.split(" / ") if p]


# ---------------------------------------------------------------------------- persistence


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _array_to_b64(values: array) -> str:
    if not _LITTLE:
        values = array(values.typecode, values)
        values.byteswap()
    return _b64(values.tobytes())


def _array_of(typecode: str, value: array | str) -> array:
    if isinstance(value, array):
        if value.typecode != typecode:
            raise ValueError(f"an array of {value.typecode}, not {typecode}")
        return value
    return _array_from_b64(typecode, value)


def _array_from_b64(typecode: str, text: str) -> array:
    values = array(typecode)
    values.frombytes(base64.b64decode(text))
    if not _LITTLE:
        values.byteswap()
    return values


# ---------------------------------------------------------------------------- the index


def _ids_of(reader: Reader, value: Any, row_ids: Sequence[str] | None) -> Any:
    """The ids ``to_data`` wrote: as they are, or their slots in the rows' ``row_ids``."""
    if not isinstance(value, dict):
        return value  # a list, checked by from_state
    expect(row_ids is not None, "similarity: ids of rows not given")
    assert row_ids is not None
    slots = reader.array(value.get("row_slots"), "I")
    expect(not slots or max(slots) < len(row_ids), "similarity: no such row")
    return list(map(row_ids.__getitem__, slots))


def _clusters_of(value: Any) -> list[list[str]] | None:
    """Saved clusters (``_snapshot``), checked for shape; None when none were saved."""
    if value is None:
        return None
    if not (isinstance(value, list) and set(map(type, value)) <= {list}):
        raise ValueError("clusters: not lists")
    for cluster in value:
        str_list(cluster, "clusters")  # CodecError (a ValueError) when not ids
        if len(cluster) < 2:
            raise ValueError("clusters: a cluster of one post")
    return value


def _empty_row() -> array:
    return array("I", bytes(4 * NEIGHBOURS_KEPT))


class SimilarityIndex:
    """Top neighbours of every post, maintained incrementally; see the module docstring.

    Storage is flat and compact: slot ``s`` (a post, in insertion order) owns
    ``_sigs[64 s : 64 s + 64]`` and the row ``_nbrs[12 s : 12 s + 12]`` of packed
    ``score << 25 | (2**25 - 1 - other slot)`` values, ascending, 0 for an empty place.
    Higher packed = better: a higher score, then an earlier slot.
    """

    def __init__(self) -> None:
        self._ids: list[str | None] = []  # slot -> id; None for a removed post
        self._slot: dict[str, int] = {}
        # normalised titles: a list, or packed as read from a file until changed
        # (storage/texts.py; ``_own_titles``)
        self._titles: Sequence[str] = []
        self._topics: list[str] = [""]  # topic number -> topic; 0 is "no topic"
        self._topic_no: dict[str, int] = {"": 0}
        self._topic_of = array("I")
        self._sizes = array("I")  # text units per slot (0: no body text)
        self._sigs = bytearray()
        self._nbrs = array("I")
        self._sig_bytes: list[bytes] | None = None  # the signatures by slot, while updating
        # clusters() at the threshold, kept until the neighbour lists change (and saved
        # with them): working them out was 0.33 s of a 1,000,000-post store's open
        self._clusters: list[list[str]] | None = None
        # The generation of the store files this index was read from (``mark_read``), and
        # the slots whose neighbour lists changed since: the near-duplicate hints of the
        # other posts are those the files hold (``changed_since_read``).
        self._read_from: int | None = None
        self._touched: set[int] = set()

    # ------------------------------------------------------------------ basics

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._slot

    def ids(self) -> list[str]:
        return [i for i in self._ids if i is not None]

    def copy(self) -> SimilarityIndex:
        """An independent copy (much cheaper than ``from_state(to_state())``)."""
        other = SimilarityIndex()
        other._ids = list(self._ids)
        other._slot = dict(self._slot)
        other._titles = (
            self._titles if isinstance(self._titles, PackedTexts) else list(self._titles)
        )
        other._topics = list(self._topics)
        other._topic_no = dict(self._topic_no)
        other._topic_of = array("I", self._topic_of)
        other._sizes = array("I", self._sizes)
        other._sigs = bytearray(self._sigs)
        other._nbrs = array("I", self._nbrs)
        other._clusters = self._clusters
        other._read_from, other._touched = self._read_from, set(self._touched)
        return other

    def mark_read(self, generation: int) -> None:
        """This index is what the store files of ``generation`` hold."""
        self._read_from, self._touched = generation, set()

    def changed_since_read(self) -> tuple[int, set[str]] | None:
        """(the generation ``mark_read`` named, the posts whose neighbour lists changed
        since), or None when the index was not read from files or was rebuilt since."""
        if self._read_from is None:
            return None
        ids = self._ids
        return self._read_from, {ids[s] for s in self._touched if ids[s] is not None}  # type: ignore[misc]

    def _sig_list(self) -> list[bytes]:
        """The signatures by slot (for C-level Hamming counts), made for an update and
        dropped after it."""
        if self._sig_bytes is None:
            sigs = bytes(self._sigs)
            size = SIGNATURE_BYTES
            self._sig_bytes = [sigs[o : o + size] for o in range(0, len(sigs), size)]
        return self._sig_bytes

    def _sig(self, slot: int) -> int:
        offset = slot * SIGNATURE_BYTES
        return int.from_bytes(self._sigs[offset : offset + SIGNATURE_BYTES], "little")

    def _pair(self, a: int, b: int) -> tuple[float, float, bool | None]:
        """(body resemblance, title ratio, same topic) of two slots."""
        body = _resemblance(self._sig(a), self._sig(b), self._sizes[a], self._sizes[b])
        title = _title_ratio(self._titles[a], self._titles[b])
        ta, tb = self._topic_of[a], self._topic_of[b]
        return body, title, (ta == tb) if ta or tb else None

    # ------------------------------------------------------------------ lookups

    def similar(
        self, post_id: str, limit: int = 10, min_score: int = 0
    ) -> list[tuple[str, int, list[str]]]:
        """Best first: (other id, score 0-100, reasons), scoring at least ``min_score``. An
        unknown id gives []."""
        slot = self._slot.get(post_id)
        if slot is None or limit <= 0:
            return []
        base = slot * NEIGHBOURS_KEPT
        floor = max(1, min_score << _IDX_BITS)  # the reasons of a pair below it are not made
        out = []
        for packed in reversed(self._nbrs[base : base + NEIGHBOURS_KEPT]):
            if packed < floor or len(out) >= limit:
                break
            other = _IDX_MASK - (packed & _IDX_MASK)
            body, title, same = self._pair(slot, other)
            out.append((self._ids[other], packed >> _IDX_BITS, _reasons(body, title, bool(same))))
        return out  # type: ignore[return-value]

    def near_pairs(self, threshold: int = NEAR_DUPLICATE_THRESHOLD) -> dict[str, dict[str, int]]:
        """Every post's near duplicates with their scores: the kept pairs scoring >=
        threshold, both ways (a pair kept in one post's row only is known to both)."""
        floor = max(1, threshold << _IDX_BITS)
        nbrs = self._nbrs
        kept = NEIGHBOURS_KEPT
        ids = self._ids
        out: dict[str, dict[str, int]] = {}
        for last in compress(
            range(kept - 1, len(nbrs), kept), map(floor.__le__, nbrs[kept - 1 :: kept])
        ):
            post_id = ids[last // kept]
            for at in range(last, last - kept, -1):
                packed = nbrs[at]
                if packed < floor:
                    break
                other = ids[_IDX_MASK - (packed & _IDX_MASK)]
                if post_id is None or other is None:
                    continue
                score = packed >> _IDX_BITS
                out.setdefault(post_id, {})[other] = score
                out.setdefault(other, {})[post_id] = score
        return out

    def clusters(self, threshold: int = NEAR_DUPLICATE_THRESHOLD) -> list[list[str]]:
        """Connected components of the kept pairs scoring >= threshold: biggest first,
        each sorted by id."""
        if threshold != NEAR_DUPLICATE_THRESHOLD:
            return self._work_out_clusters(threshold)
        if self._clusters is None:
            self._clusters = self._work_out_clusters(threshold)
        return [list(cluster) for cluster in self._clusters]  # the caller's to change

    def clustered(self) -> set[str]:
        """The ids in any cluster (``clusters()`` copies every cluster for its caller:
        0.13 s of a 1,000,000-post open)."""
        if self._clusters is None:
            self._clusters = self._work_out_clusters(NEAR_DUPLICATE_THRESHOLD)
        return set(chain.from_iterable(self._clusters))

    def _work_out_clusters(self, threshold: int) -> list[list[str]]:
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            root = x
            while parent[root] != root:
                root = parent[root]
            while parent[x] != root:  # path compression
                parent[x], x = root, parent[x]
            return root

        floor = max(1, threshold << _IDX_BITS)
        nbrs = self._nbrs
        kept = NEIGHBOURS_KEPT
        # rows are ascending: their last value is the best, so most rows cost one test
        for last in compress(
            range(kept - 1, len(nbrs), kept), map(floor.__le__, nbrs[kept - 1 :: kept])
        ):
            slot = last // kept
            for at in range(last, last - kept, -1):
                packed = nbrs[at]
                if packed < floor:
                    break
                other = _IDX_MASK - (packed & _IDX_MASK)
                parent.setdefault(slot, slot)
                parent.setdefault(other, other)
                ra, rb = find(slot), find(other)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        groups: dict[int, list[str]] = {}
        for slot in parent:
            groups.setdefault(find(slot), []).append(self._ids[slot])  # type: ignore[arg-type]
        result = [sorted(g) for g in groups.values() if len(g) > 1]
        result.sort(key=lambda g: (-len(g), g[0]))
        return result

    # ------------------------------------------------------------------ updates

    def add_many(self, items: Iterable[tuple[str, dict]]) -> None:
        """Add posts, or replace them by id, from their ``features()``; then update the
        neighbour lists of every post they touch."""
        changed: set[int] = set()
        touched: dict[int, None] = {}
        self._clusters = None
        first_new = len(self._ids)
        new_titles: list[str] = []  # of the new slots: packed titles are appended to
        try:
            for post_id, feats in items:
                slot = self._slot.get(post_id)
                if slot is None:
                    slot = len(self._ids)
                    if slot > _IDX_MASK:
                        raise ValueError(f"a similarity index holds at most {_IDX_MASK + 1} posts")
                    self._ids.append(post_id)
                    self._slot[post_id] = slot
                    new_titles.append("")
                    self._topic_of.append(0)
                    self._sizes.append(0)
                    self._sigs += bytes(SIGNATURE_BYTES)
                    self._nbrs.extend(_empty_row())
                elif slot not in touched:
                    changed.add(slot)
                title = self._set_features(slot, feats)
                touched[slot] = None
                if slot >= first_new:
                    new_titles[slot - first_new] = title
                else:
                    self._own_titles()[slot] = title
        finally:  # every slot has its title, whatever features were refused
            if new_titles:
                at = [len(self._titles)] * len(new_titles)
                self._titles = inserted(self._titles, at, new_titles)
        if not touched:
            return
        affected = self._purge(changed) if changed else set()
        self._update(list(touched) + sorted(affected.difference(touched)))

    def remove(self, post_id: str) -> None:
        """Forget a post; the posts that listed it get their lists recomputed."""
        self.remove_many([post_id])

    def remove_many(self, post_ids: Iterable[str]) -> None:
        slots = {self._slot[p] for p in post_ids if p in self._slot}
        if not slots:
            return
        self._clusters = None
        titles = self._own_titles()
        for slot in slots:
            del self._slot[self._ids[slot]]  # type: ignore[arg-type]
            self._ids[slot] = None
            titles[slot] = ""
            self._topic_of[slot] = 0
            self._sizes[slot] = 0
            base = slot * NEIGHBOURS_KEPT
            self._nbrs[base : base + NEIGHBOURS_KEPT] = _empty_row()
        self._touched.update(slots)
        affected = self._purge(slots) - slots
        if affected:
            self._update(sorted(affected))

    def _own_titles(self) -> list[str]:
        """The titles as a list of this index's own, to change."""
        if not isinstance(self._titles, list):
            self._titles = listed(self._titles)
        return self._titles

    def _set_features(self, slot: int, feats: dict) -> str:
        """Set ``slot``'s features but its title, which is returned (see ``add_many``)."""
        if not isinstance(feats, dict) or feats.get("v") != FEATURES_VERSION:
            raise ValueError(f"not similarity features version {FEATURES_VERSION}: {feats!r}")
        sig = bytes.fromhex(feats["sig"])
        if len(sig) != SIGNATURE_BYTES:
            raise ValueError(f"a signature of {len(sig)} bytes, expected {SIGNATURE_BYTES}")
        topic = str(feats["topic"])
        number = self._topic_no.get(topic)
        if number is None:
            number = self._topic_no[topic] = len(self._topics)
            self._topics.append(topic)
        self._topic_of[slot] = number
        self._sizes[slot] = int(feats["units"])
        offset = slot * SIGNATURE_BYTES
        self._sigs[offset : offset + SIGNATURE_BYTES] = sig
        base = slot * NEIGHBOURS_KEPT
        self._nbrs[base : base + NEIGHBOURS_KEPT] = _empty_row()
        self._touched.add(slot)
        return str(feats["title"])

    def _purge(self, slots: set[int]) -> set[int]:
        """Drop every reference to ``slots``; returns the slots whose lists lost one."""
        gone = {_IDX_MASK - s for s in slots}
        nbrs = self._nbrs
        kept = NEIGHBOURS_KEPT
        affected: set[int] = set()
        for base in range(0, len(nbrs), kept):
            row = nbrs[base : base + kept]
            if not row[-1]:
                continue
            keep = [p for p in row if p and (p & _IDX_MASK) not in gone]
            if len(keep) < kept - row.count(0):
                nbrs[base : base + kept] = array("I", [0] * (kept - len(keep)) + keep)
                affected.add(base // kept)
        self._touched.update(affected)
        return affected

    # ------------------------------------------------------------------ candidates

    def _update(self, queries: list[int]) -> None:
        """Score the candidates of each query slot and offer every pair to both rows."""
        try:
            self._update_rows(queries)
        finally:
            self._sig_bytes = None

    def _update_rows(self, queries: list[int]) -> None:
        ids = self._ids
        live = [s for s, i in enumerate(ids) if i is not None]
        topic_of = self._topic_of
        blocks: dict[int, list[int]] = {}
        for slot in live:
            blocks.setdefault(topic_of[slot], []).append(slot)
        lsh = self._lsh_candidates(queries, live)
        widen = _Widener(self, live, blocks)
        pools: dict[int, tuple[list[int], list[bytes]]] = {}
        sigs = self._sig_list()
        matching = Hamming.similarity  # equal bytes of two signatures, counted in C
        extract = process.extract
        for q in queries:
            if ids[q] is None:
                continue
            cands = set(lsh.get(q, ()))
            topic = topic_of[q]
            members = blocks[topic]
            if len(members) <= BLOCK_TOP + 1:
                cands.update(members)
            else:
                # the BLOCK_TOP most alike bodies of the topic (q itself is one of them):
                # most matching signature bytes, ties to the earliest slot (extract sorts
                # equal scores by index), one C-level scan of the topic's signatures
                if len(members) <= BLOCK_SCAN_MAX:
                    pool = pools.get(topic)
                    if pool is None:
                        pool = pools[topic] = (members, [sigs[m] for m in members])
                else:  # a huge topic: the posts added around this one
                    at = bisect_left(members, q)
                    start = max(0, min(at - BLOCK_SCAN_MAX // 2, len(members) - BLOCK_SCAN_MAX))
                    window = members[start : start + BLOCK_SCAN_MAX]
                    pool = (window, [sigs[m] for m in window])
                slots, values = pool
                best = extract(
                    sigs[q], values, scorer=matching, processor=None, limit=BLOCK_TOP + 1
                )
                cands.update([slots[at] for _, _, at in best])
            if len(members) <= WIDEN_BELOW:
                cands.update(widen.candidates(topic))
            cands.discard(q)
            if cands:
                # sorted: the order of insertion decides nothing, but keep runs reproducible
                self._offer_all(q, sorted(cands))

    def _offer_all(self, q: int, cands: list[int]) -> None:
        """Score (q, other) for each candidate; merge the results into q's row and offer
        each to the other's row. Every score is computed here, the same way, so a pair
        offered twice is recognised by its packed value.

        A row ends as the best ``NEIGHBOURS_KEPT`` of every pair offered to it, whatever
        the order, so all pairs are scored: body matches and title ratios in C (map over
        the candidates), then one Python pass to combine and offer."""
        kept = NEIGHBOURS_KEPT
        nbrs = self._nbrs
        base = q * kept
        row = nbrs[base : base + kept].tolist()
        if row[-1]:  # pairs already in q's row were scored before
            listed = {_IDX_MASK - (p & _IDX_MASK) for p in row if p}
            cands = [c for c in cands if c not in listed]
        if len(self._slot) != len(self._ids):  # removed slots
            cands = [c for c in cands if self._ids[c] is not None]
        if not cands:
            return
        titles, sizes, topic_of = self._titles, self._sizes, self._topic_of
        sigs = self._sig_list()
        size_q, title_q, topic_q = sizes[q], titles[q], topic_of[q]
        matches = map(Hamming.similarity, repeat(sigs[q]), map(sigs.__getitem__, cands))
        if title_q:  # fuzz.ratio of a title and "" is 0.0, as for posts without one
            ratios = map(fuzz.ratio, repeat(title_q), map(titles.__getitem__, cands))
        else:
            ratios = repeat(0.0, len(cands))
        estimates = _ESTIMATES
        packed_q = _IDX_MASK - q
        touched = self._touched
        found = []
        body_weight, title_weight, topic_bonus = W_BODY * 100, W_TITLE, W_TOPIC * 100
        for other, match, title, size_o, topic_o in zip(
            cands,
            matches,
            ratios,
            map(sizes.__getitem__, cands),
            map(topic_of.__getitem__, cands),
            strict=True,
        ):
            # _resemblance and _combine inlined: this loop is the hot path of an import's
            # similarity (10,000 posts: add_many 1.5 s inlined, 2.4 s calling them; the
            # same lists either way: tests/storage/test_similarity.py checks every kept
            # score against pair_score)
            if size_q and size_o:
                body = estimates[match]
                bound = size_q / size_o if size_q < size_o else size_o / size_q
                body = 0.0 if body < 0 else bound if body > bound else body
            else:
                body = 0.0
            if topic_q and topic_o:  # _combine, inlined (same arithmetic, same result)
                bonus = topic_bonus if topic_q == topic_o else 0
                score = int(body_weight * body + title_weight * title + bonus + 0.5)
            else:
                same = (topic_q == topic_o) if topic_q or topic_o else None
                score = _combine(body, title, same)
            if score <= 0:
                continue
            found.append((score << _IDX_BITS) | (_IDX_MASK - other))
            # offer q to the other's ascending row: shift the worse ones down, insert
            offer = (score << _IDX_BITS) | packed_q
            start = other * kept
            if offer > nbrs[start]:
                at = bisect_left(nbrs, offer, start, start + kept)
                if at == start + kept or nbrs[at] != offer:
                    nbrs[start : at - 1] = nbrs[start + 1 : at]
                    nbrs[at - 1] = offer
                    touched.add(other)
        if found:
            row += found
            row.sort()
            nbrs[base : base + kept] = array("I", row[-kept:])
            touched.add(q)

    def _lsh_candidates(self, queries: list[int], live: list[int]) -> dict[int, list[int]]:
        """Query slot -> the slots sharing an LSH band (8 signature bytes, equal) with it
        (repeats possible; lists take a fifth of the memory of sets at 100,000 posts).

        A band's bucket lists its slots in ascending order. With few queries (an import
        into a big store) only the buckets holding a query's band are gathered: one
        C-level membership pass a band instead of sorting every post's band
        (tests/storage/test_similarity.py holds both ways equal)."""
        wanted = None if len(queries) >= len(live) else set(queries)
        sizes = self._sizes
        slots = [s for s in live if sizes[s]]
        every_band = array("Q", bytes(self._sigs))  # slot * BANDS + band -> its 8 bytes
        chosen = set(slots) if wanted is not None else set()
        out: dict[int, list[int]] = {}
        for band in range(BANDS):
            values = every_band[band::BANDS]
            if wanted is None:
                runs = _equal_runs(sorted(slots, key=values.__getitem__), values)
            else:
                runs = _buckets_of(wanted, chosen, values, sizes)
            for run in runs:
                size = len(run)
                for at, s in enumerate(run):
                    if wanted is not None and s not in wanted:
                        continue
                    if size <= BUCKET_CAP:
                        others = run
                    else:  # template text: pair with a few neighbours in the bucket only
                        others = run[max(0, at - BUCKET_CHAIN) : at + BUCKET_CHAIN + 1]
                    found = out.get(s)
                    if found is None:
                        out[s] = [o for o in others if o != s]
                    else:
                        found.extend(o for o in others if o != s)
        return out

    # ------------------------------------------------------------------ persistence

    def to_state(self) -> dict:
        """A compact JSON-serialisable snapshot; removed posts are compacted away."""
        return self._snapshot(_array_to_b64, lambda data: _b64(bytes(data)))

    def to_data(self, writer: Writer, row_slots: Mapping[str, int] | None = None) -> dict:
        """``to_state`` with its arrays as ``writer`` blobs, for the catalog's file: base64
        in JSON was ~1.2 s of a 1,000,000-post store's open (decoded and parsed). The ids
        as their slots in ``row_slots`` (the catalog's rows) when it holds them all: read
        back with those rows' ids, they are the rows' objects, not a second copy of every
        id (~70 MB and 0.08 s of JSON at 1,000,000 posts)."""
        state = self._snapshot(writer.array, writer.bytes, partial(texts_data, writer))
        ids = state["ids"]
        if row_slots is not None and all(map(row_slots.__contains__, ids)):
            state["ids"] = {"row_slots": writer.array(array("I", map(row_slots.__getitem__, ids)))}
        return state

    def _snapshot(
        self,
        arrays: Callable[[array], Any],
        raw: Callable[[bytearray], Any],
        texts: Callable[[Sequence[str]], Any] = list,
    ) -> dict:
        index = self if len(self._slot) == len(self._ids) else self._compacted()
        return {
            "format": STATE_FORMAT,
            "kept": NEIGHBOURS_KEPT,
            "ids": list(index._ids),
            "titles": texts(index._titles),
            "topics": list(index._topics),
            "topic_of": arrays(index._topic_of),
            "units": arrays(index._sizes),
            "sigs": raw(index._sigs),
            "neighbours": arrays(index._nbrs),
            "clusters": index.clusters(),
        }

    @classmethod
    def from_data(
        cls, reader: Reader, data: Any, row_ids: Sequence[str] | None = None
    ) -> SimilarityIndex:
        """``to_data`` read back (``row_ids``: the ids of the rows it was given, if any);
        ``CodecError`` when it is not that."""
        expect(isinstance(data, dict), "similarity: not a mapping")
        try:
            state = {
                **data,
                "ids": _ids_of(reader, data.get("ids"), row_ids),
                "topic_of": reader.array(data.get("topic_of"), "I"),
                "units": reader.array(data.get("units"), "I"),
                "sigs": reader.bytes(data.get("sigs")),
                "titles": texts_of(reader, data.get("titles"), "similarity titles"),
                "neighbours": reader.array(data.get("neighbours"), "I"),
            }
            return cls.from_state(state)
        except ValueError as exc:  # CodecError is one
            raise CodecError(str(exc)) from exc

    @classmethod
    def from_state(cls, state: dict) -> SimilarityIndex:
        """The index of a ``to_state()`` snapshot; ValueError when it is not one."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a similarity index state ({STATE_FORMAT})")
        if state.get("kept") != NEIGHBOURS_KEPT:
            raise ValueError("similarity index state keeps another number of neighbours")
        index = cls()
        try:
            index._ids = list(state["ids"])
            # at C level: the comprehension was 0.3 s of a 1,000,000-post store's open
            index._slot = dict(zip(index._ids, range(len(index._ids)), strict=True))
            titles = state["titles"]
            index._titles = titles if isinstance(titles, PackedTexts) else list(titles)
            index._topics = list(state["topics"])
            index._topic_no = {t: n for n, t in enumerate(index._topics)}
            # base64 text (to_state), or the arrays and bytes themselves (from_data)
            index._topic_of = _array_of("I", state["topic_of"])
            index._sizes = _array_of("I", state["units"])
            sigs = state["sigs"]
            index._sigs = bytearray(sigs if isinstance(sigs, bytes) else base64.b64decode(sigs))
            index._nbrs = _array_of("I", state["neighbours"])
            index._clusters = _clusters_of(state.get("clusters"))  # None: written before
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"damaged similarity index state ({exc})") from exc
        count = len(index._ids)
        if not (
            len(index._titles) == len(index._topic_of) == len(index._sizes) == count
            and len(index._sigs) == count * SIGNATURE_BYTES
            and len(index._nbrs) == count * NEIGHBOURS_KEPT
            and len(index._slot) == count
            # the types as a set: one C-level pass (0.3 s at 1,000,000 posts as a generator)
            and set(map(type, index._ids)) <= {str}
            and (
                index._clusters is None
                or all(i in index._slot for cluster in index._clusters for i in cluster)
            )
        ):
            raise ValueError("inconsistent similarity index state")
        return index

    def _compacted(self) -> SimilarityIndex:
        """A copy without removed slots; slot order (and so tie order) is kept."""
        live = [s for s, i in enumerate(self._ids) if i is not None]
        renumber = {old: new for new, old in enumerate(live)}
        index = SimilarityIndex()
        index._ids = [self._ids[s] for s in live]
        index._slot = dict(zip(index._ids, range(len(index._ids)), strict=True))  # type: ignore[arg-type]
        titles = listed(self._titles)
        index._titles = [titles[s] for s in live]
        index._topics = list(self._topics)
        index._topic_no = dict(self._topic_no)
        index._topic_of = array("I", (self._topic_of[s] for s in live))
        index._sizes = array("I", (self._sizes[s] for s in live))
        size = SIGNATURE_BYTES
        index._sigs = bytearray(b"".join(self._sigs[s * size : (s + 1) * size] for s in live))
        kept = NEIGHBOURS_KEPT
        nbrs = array("I")
        for s in live:
            row = []
            for packed in self._nbrs[s * kept : (s + 1) * kept]:
                if packed:
                    other = renumber[_IDX_MASK - (packed & _IDX_MASK)]
                    row.append((packed >> _IDX_BITS << _IDX_BITS) | (_IDX_MASK - other))
            nbrs.extend([0] * (kept - len(row)) + row)
        index._nbrs = nbrs
        return index


def _equal_runs(ordered: list[int], values: array) -> list[list[int]]:
    """The runs (2 or more) of consecutive slots of ``ordered`` with equal values."""
    keyed = list(map(values.__getitem__, ordered))
    runs: list[list[int]] = []
    previous = -2
    # positions whose value equals the previous one's, found at C level
    for at in compress(range(1, len(keyed)), map(eq, keyed, keyed[1:])):
        if at != previous + 1:
            runs.append([ordered[at - 1]])
        runs[-1].append(ordered[at])
        previous = at
    return runs


def _buckets_of(wanted: set[int], slots: set[int], values: array, sizes: array) -> list[list[int]]:
    """The buckets (2 or more slots, ascending) of ``slots`` that hold the value of a
    wanted slot: the runs ``_equal_runs`` gives that hold a wanted slot. Every slot's
    value is tested at C level, the few that hold an asked one then checked against
    ``slots`` (looking up each of ``slots`` in ``values`` first was ~0.015 s a band at
    100,000 posts)."""
    asked = {values[q] for q in wanted if sizes[q]}
    buckets: dict[int, list[int]] = {}
    for slot in compress(range(len(values)), map(asked.__contains__, values)):
        if slot in slots:
            buckets.setdefault(values[slot], []).append(slot)
    return [bucket for bucket in buckets.values() if len(bucket) > 1]


class _Widener:
    """Extra candidates for the posts of a topic with fewer than ``WIDEN_BELOW`` other
    posts, shared by the whole topic: in a small index every post; otherwise the
    ``WIDEN_TOP`` titles (of up to ``WIDEN_MAX``) most like the topic's first post's among
    the posts that share a part of its topic (``problem / stack``)."""

    def __init__(self, index: SimilarityIndex, live: list[int], blocks: dict[int, list[int]]):
        self.index = index
        self.live = live
        self.blocks = blocks
        self._by_part: dict[str, set[int]] | None = None
        self._pools: dict[int, list[int]] = {}

    def candidates(self, topic: int) -> list[int]:
        pool = self._pools.get(topic)
        if pool is None:
            pool = self._pools[topic] = self._pool(topic)
        return pool

    def _pool(self, topic: int) -> list[int]:
        index = self.index
        if len(self.live) <= WIDEN_TOP:
            return self.live
        if self._by_part is None:
            self._by_part = {}
            for number, members in self.blocks.items():
                for part in _topic_parts(index._topics[number]):
                    self._by_part.setdefault(part, set()).update(members)
        related: set[int] = set()
        for part in _topic_parts(index._topics[topic]):
            related.update(self._by_part.get(part, ()))
        related.difference_update(self.blocks.get(topic, ()))
        if len(related) <= WIDEN_TOP:
            return sorted(related)
        if len(related) > WIDEN_MAX:
            return []
        slots = sorted(related)
        query = index._titles[self.blocks[topic][0]]
        found = process.extract(
            query,
            [index._titles[s] for s in slots],
            scorer=fuzz.ratio,
            processor=None,
            limit=WIDEN_TOP,
        )
        return [slots[at] for _, _, at in found]
