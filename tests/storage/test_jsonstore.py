"""Atomic writes, .bak generations and recovery of damaged store files."""

from __future__ import annotations

import os

import orjson
import pytest
from tinydb import TinyDB

from storage.errors import StoreCorruptError
from storage.jsonstore import AtomicJSONStorage, atomic_write_bytes, backup_path, read_json


def test_atomic_write_keeps_previous_generation(tmp_path):
    target = tmp_path / "store.json"
    atomic_write_bytes(target, b'{"v": 1}')
    atomic_write_bytes(target, b'{"v": 2}')
    assert orjson.loads(target.read_bytes()) == {"v": 2}
    assert orjson.loads(backup_path(target).read_bytes()) == {"v": 1}
    # no temp files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.json", "store.json.bak"]


def test_failed_write_leaves_old_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "store.json"
    atomic_write_bytes(target, b'{"v": 1}')

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b'{"v": 2}')
    monkeypatch.undo()
    assert orjson.loads(target.read_bytes()) == {"v": 1}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "damage", [b"", b'{"reviews": {"1": {"id": "a"', b"\x00\xff garbage", b"[1, 2]"]
)
def test_damaged_file_recovers_from_backup_and_keeps_damaged_copy(tmp_path, damage):
    target = tmp_path / "store.json"
    atomic_write_bytes(target, b'{"v": 1}')
    atomic_write_bytes(target, b'{"v": 2}')
    target.write_bytes(damage)
    warnings: list[str] = []
    assert read_json(target, warn=warnings.append) == {"v": 1}
    assert len(warnings) == 1 and str(target) in warnings[0] and "recovered" in warnings[0]
    assert orjson.loads(target.read_bytes()) == {"v": 1}
    damaged = [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(damaged) == 1 and damaged[0].read_bytes() == damage


def test_damaged_file_without_valid_backup_is_an_error_not_an_empty_store(tmp_path):
    target = tmp_path / "store.json"
    target.write_bytes(b'{"half": ')
    with pytest.raises(StoreCorruptError) as err:
        read_json(target)
    message = str(err.value)
    assert str(target) in message and "not valid JSON" in message and "backup" in message
    assert target.read_bytes() == b'{"half": '  # untouched


def test_missing_file_is_a_new_store(tmp_path):
    assert read_json(tmp_path / "nothing.json") is None


def test_tinydb_on_atomic_storage_round_trips_and_sees_other_writers(tmp_path):
    path = tmp_path / "db.json"
    first = TinyDB(path, storage=AtomicJSONStorage)
    first.table("t").insert({"name": "one"})
    second = TinyDB(path, storage=AtomicJSONStorage)
    second.table("t").insert({"name": "two"})
    # the first handle's cache notices the second writer
    assert sorted(d["name"] for d in first.table("t").all()) == ["one", "two"]
    assert orjson.loads(path.read_bytes())["t"]["2"] == {"name": "two"}


def _not_v(data):
    return None if isinstance(data.get("v"), int) else "no number v"


@pytest.mark.parametrize("wrong", [b'{"v": "2"}', b"{}", b'{"reviews": "x"}'])
def test_valid_json_of_the_wrong_shape_is_damaged_and_the_backup_is_tried(tmp_path, wrong):
    target = tmp_path / "store.json"
    atomic_write_bytes(target, b'{"v": 1}')
    atomic_write_bytes(target, b'{"v": 2}')
    target.write_bytes(wrong)
    warnings: list[str] = []
    assert read_json(target, warn=warnings.append, validate=_not_v) == {"v": 1}
    (warning,) = warnings
    assert "not in the expected shape (no number v)" in warning and "recovered" in warning
    backup_path(target).write_bytes(wrong)
    target.write_bytes(wrong)
    with pytest.raises(StoreCorruptError, match="no valid backup .store.json.bak: not in the"):
        read_json(target, validate=_not_v)


def test_a_validator_that_trips_over_the_data_is_a_damaged_file_not_a_traceback(tmp_path):
    target = tmp_path / "store.json"
    target.write_bytes(b'{"v": {"deep": 1}}')

    def naive(data):
        return None if data["v"]["deep"]["deeper"] else "x"  # TypeError on this file

    with pytest.raises(StoreCorruptError, match="unexpected shape .TypeError"):
        read_json(target, validate=naive)


@pytest.mark.parametrize("damage", [b"", b"garbage", b'{"v": "x"}', None])
def test_read_only_recovery_reads_the_backup_and_writes_nothing(tmp_path, damage):
    target = tmp_path / "store.json"
    atomic_write_bytes(target, b'{"v": 1}')
    atomic_write_bytes(target, b'{"v": 2}')
    if damage is None:
        target.unlink()
    else:
        target.write_bytes(damage)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    warnings: list[str] = []
    data = read_json(target, warn=warnings.append, validate=_not_v, writable=False)
    assert data == {"v": 1}
    assert len(warnings) == 1 and "(left as it is)" in warnings[0]
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert after == before  # no recovered file, no .damaged-* copy, no lock file


def test_read_only_storage_refuses_to_write(tmp_path):
    from storage.errors import StoreError

    target = tmp_path / "store.json"
    atomic_write_bytes(target, b'{"t": {}}')
    storage = AtomicJSONStorage(target, writable=False)
    assert storage.read() == {"t": {}}
    with pytest.raises(StoreError, match="opened read-only"):
        storage.write({"t": {"1": {}}})
    assert target.read_bytes() == b'{"t": {}}'
