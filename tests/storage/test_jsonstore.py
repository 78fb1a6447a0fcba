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
