"""A data-only container for derived caches: a JSON document plus binary arrays.

Derived caches (the search and similarity index) hold large integer arrays that JSON
would spell out digit by digit. This format keeps them as raw bytes beside a JSON
document, and nothing in it can run code when read (unlike pickle): a store handed over by
a colleague is data, whatever its files contain.

Layout::

    MAGIC (16 bytes) | header length (8, little endian) | header (JSON) | blobs | CRC-32 (4)

The header is ``{"kind": str, "version": int, "data": <JSON>, "blobs": [[type, offset,
length], ...]}``. In ``data`` a blob is referenced as ``{"$blob": n}``; the class that
reads the data asks for each blob by its expected type (``Reader.array``), so a file of
another shape is a ``CodecError``, never a surprise object. The CRC covers everything
before it: a damaged file is told apart from a file of the wrong kind.
"""

from __future__ import annotations

import builtins
import struct
import sys
import zlib
from array import array
from typing import Any

import orjson

MAGIC = b"copydesk-cache\x00\x01"
_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")
_ALIGN = 8
_TYPECODES = frozenset("bBhHiIlLqQfd")
_LITTLE = sys.byteorder == "little"


class CodecError(ValueError):
    """The bytes are not a valid container of the expected kind."""


class Writer:
    """Collects blobs while the caller builds its JSON-ready ``data``."""

    def __init__(self) -> None:
        # views, not copies: the caller's arrays must not change before ``finish``; a
        # blob is one view or several written one after the other (``container``)
        self._blobs: list[tuple[str, list[memoryview]]] = []

    def array(self, values: array[Any]) -> dict[str, int]:
        """A reference to ``values`` (stored little endian) for use in ``data``."""
        if not _LITTLE:  # pragma: no cover - little-endian machines only here
            values = array(values.typecode, values)
            values.byteswap()
        return self._add(values.typecode, memoryview(values).cast("B"))

    def bytes(self, data: builtins.bytes | bytearray) -> dict[str, int]:
        return self._add("bytes", memoryview(data).cast("B"))

    def container(self, parts: list[Any]) -> dict[str, int]:
        """A bytes blob holding another container, given as its ``finish_parts``: read
        back with ``Reader.bytes``, the same bytes as ``bytes(finish(...))`` would store.
        Joining the parts first cost a copy of it all (60 MB of a 100,000-post catalog)."""
        self._blobs.append(("bytes", [memoryview(part).cast("B") for part in parts]))
        return {"$blob": len(self._blobs) - 1}

    def _add(self, kind: str, data: memoryview) -> dict[str, int]:
        self._blobs.append((kind, [data]))
        return {"$blob": len(self._blobs) - 1}

    def finish(self, kind: str, version: int, data: Any) -> builtins.bytes:
        return b"".join(self.finish_parts(kind, version, data))

    def finish_parts(self, kind: str, version: int, data: Any) -> list[Any]:
        """``finish`` as a list of parts, to be written one after the other: a cache of
        ~100 MB is not copied into one buffer (twice) first."""
        table: list[tuple[str, int, int]] = []
        offset = 0
        for blob_kind, pieces in self._blobs:
            length = sum(map(len, pieces))
            table.append((blob_kind, offset, length))
            offset += length + (-length % _ALIGN)
        header = orjson.dumps({"kind": kind, "version": version, "data": data, "blobs": table})
        parts: list[Any] = [MAGIC, _LENGTH.pack(len(header)), header]
        parts.append(b"\x00" * (-(len(MAGIC) + _LENGTH.size + len(header)) % _ALIGN))
        for (_, pieces), (_, _, length) in zip(self._blobs, table, strict=True):
            parts.extend(pieces)
            parts.append(b"\x00" * (-length % _ALIGN))
        crc = 0
        for part in parts:
            crc = zlib.crc32(part, crc)
        parts.append(_CRC.pack(crc))
        return parts


class Reader:
    """Reads a container written by ``Writer.finish``; ``data`` is its JSON document."""

    def __init__(self, raw: builtins.bytes | memoryview, kind: str, version: int) -> None:
        raw = memoryview(raw)  # slices of it are not copies
        if len(raw) < len(MAGIC) + _LENGTH.size + _CRC.size or raw[: len(MAGIC)] != MAGIC:
            raise CodecError("not a copydesk cache file")
        body, (crc,) = raw[: -_CRC.size], _CRC.unpack(raw[-_CRC.size :])
        if zlib.crc32(body) != crc:
            raise CodecError("checksum mismatch (damaged)")
        (length,) = _LENGTH.unpack_from(raw, len(MAGIC))
        start = len(MAGIC) + _LENGTH.size
        try:
            header = orjson.loads(body[start : start + length])
        except orjson.JSONDecodeError as exc:
            raise CodecError(f"bad header ({exc})") from exc
        if not isinstance(header, dict) or header.get("kind") != kind:
            raise CodecError(f"not a {kind} cache")
        if header.get("version") != version:
            raise CodecError(f"{kind} cache version {header.get('version')!r}, not {version}")
        self._base = start + length + (-(start + length) % _ALIGN)
        self._body = body
        blobs = header.get("blobs")
        if not isinstance(blobs, list):
            raise CodecError("bad blob table")
        self._blobs: list[Any] = blobs
        self.data: Any = header.get("data")

    def _blob(self, ref: Any, kind: str) -> memoryview:
        if not (isinstance(ref, dict) and isinstance(ref.get("$blob"), int)):
            raise CodecError(f"expected a blob reference, got {type(ref).__name__}")
        number = ref["$blob"]
        if not 0 <= number < len(self._blobs):
            raise CodecError(f"no blob {number}")
        entry = self._blobs[number]
        if not (isinstance(entry, list) and len(entry) == 3 and entry[0] == kind):
            raise CodecError(f"blob {number} is not {kind}")
        _, offset, length = entry
        if not (isinstance(offset, int) and isinstance(length, int)) or offset < 0 or length < 0:
            raise CodecError(f"bad blob {number}")
        start = self._base + offset
        if start + length > len(self._body):
            raise CodecError(f"blob {number} runs past the end")
        return self._body[start : start + length]

    def array(self, ref: Any, typecode: str) -> array[Any]:
        """The array ``ref`` points to, which must be of ``typecode``."""
        if typecode not in _TYPECODES:
            raise ValueError(typecode)
        raw = self._blob(ref, typecode)
        values = array(typecode)
        if len(raw) % values.itemsize:
            raise CodecError(f"blob of {typecode} has a ragged length")
        values.frombytes(raw)
        if not _LITTLE:  # pragma: no cover
            values.byteswap()
        return values

    def bytes(self, ref: Any) -> builtins.bytes:
        return builtins.bytes(self._blob(ref, "bytes"))


def expect(condition: bool, what: str) -> None:
    """Raise ``CodecError(what)`` unless ``condition``: for ``from_data`` checks."""
    if not condition:
        raise CodecError(what)


def str_list(value: Any, what: str) -> list[str]:
    # the types as a set: one C-level pass (a generator over 100,000 ids costs ~10x more)
    expect(isinstance(value, list) and set(map(type, value)) <= {str}, f"{what}: not texts")
    texts: list[str] = value
    return texts
