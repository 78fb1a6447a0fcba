"""Free heap memory is handed back where the C library can (glibc's ``malloc_trim``)."""

from __future__ import annotations

import platform

from storage.heap import give_back_free_memory


def test_free_memory_is_given_back_on_glibc_and_asked_nowhere_else():
    assert give_back_free_memory() is (platform.libc_ver()[0] == "glibc")
