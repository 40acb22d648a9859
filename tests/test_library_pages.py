"""Library pages loading read are handed back to the kernel once the model is loaded (bot/library_pages.py)."""

import numpy as np
import pytest

from bot import library_pages

MAPS = """\
55d0c000-55d0e000 r--p 00000000 08:01 131 /usr/bin/python3.10
7f10a000-7f20a000 r-xp 00100000 08:01 262 /srv/.venv/lib/python3.10/site-packages/tensorflow/libtensorflow_cc.so.2
7f30a000-7f30b000 r--p 00000000 08:01 263 /usr/lib/x86_64-linux-gnu/libc.so.6
7f40a000-7f40c000 rw-p 00000000 00:00 0
7f50a000-7f50c000 r--p 00000000 08:01 264 /srv/.venv/numpy/core/_multiarray_umath.cpython-310-x86_64-linux-gnu.so
7f60a000-7f60c000 r--p 00000000 08:01 265 /tmp/old library.so (deleted)
7f70a000-7f70c000 r--s 00000000 08:01 266 /srv/models/faq.tar.gz
7ffd1000-7ffd3000 rw-p 00000000 00:00 0                          [stack]
"""


def test_only_the_shared_libraries_mappings_are_handed_back():
    assert library_pages.library_mappings(MAPS) == [
        (0x7F10A000, 0x7F20A000),
        (0x7F30A000, 0x7F30B000),
        (0x7F50A000, 0x7F50C000),
    ]


def test_a_process_that_handed_its_library_pages_back_runs_on_and_is_smaller():
    np.linalg.inv(np.eye(50) * 2)  # reads numpy's and OpenBLAS's pages
    before = library_pages.resident_mb()
    if library_pages.release() == 0:
        pytest.skip("this kernel has no MADV_PAGEOUT (Linux 5.4 and later)")
    assert library_pages.resident_mb() < before
    assert np.allclose(np.linalg.inv(np.eye(50) * 2), np.eye(50) / 2)
