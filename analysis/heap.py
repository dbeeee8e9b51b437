"""Keep freed memory in the process while a loop allocates and frees large arrays.

Each draw of a permutation null builds arrays of the events' size and frees them. glibc's
allocator hands blocks of more than 128 KiB back to the system as soon as they are freed
(``munmap``, or trimming the top of the heap), so the next draw asks for the same pages again
and the kernel zeroes them: at a million events a third of the null's time went to page faults
(``sys`` time). :func:`pages_kept` raises the two thresholds for the duration of a block, so freed
blocks stay in the heap and are reused, then trims the heap, so the pages return to the system
at the end, and leaves the thresholds where glibc's own adjustment takes them at most (blocks up
to 32 MiB from the heap, its top trimmed beyond 64 MiB): setting them once turns that adjustment
off for the process, and its start values (128 KiB) would map and fault in every large array
afresh. The peak memory does not grow: the blocks are reused, not added to.

Elsewhere (another C library, macOS, Windows) it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Iterator

__all__ = ["keep_pages", "pages_kept"]

# mallopt(3) parameters and the thresholds set
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_MAX = 32 * 1024 * 1024  # the largest mmap threshold glibc accepts on 64-bit systems
_TRIM_AFTER = 2 * _MMAP_MAX  # the trim threshold glibc pairs with it (twice the mmap threshold)
_TRIM_KEPT = 2**31 - 1  # the largest int: never trim


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")  # glibc's name (find_library would start a subprocess)
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):  # glibc has both; musl neither
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


def keep_pages() -> bool:
    """Raise the thresholds for the rest of the process (a worker that only draws). Returns
    whether the allocator took them."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)) & bool(libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_KEPT))


@contextlib.contextmanager
def pages_kept() -> Iterator[None]:
    """Within the block, freed large blocks stay in the heap; after it the heap is trimmed and
    the thresholds are glibc's largest dynamic ones (see the module notes)."""
    libc = _glibc()
    if libc is None or not keep_pages():
        yield
        return
    try:
        yield
    finally:
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_AFTER)
        libc.malloc_trim(0)
