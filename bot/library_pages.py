"""The pages of shared libraries that loading read and answering never does, handed back once the model is loaded.

Loading the model maps TensorFlow's 1 GB of libraries and touches a few hundred
MB of them: its kernels register themselves, and the kernel maps the pages
around each page read as well. Answering a question runs a few tens of MB of
that code. The rest stays resident, counted in the Rasa server's memory, until
the machine runs short. Once the model is loaded, every shared library's pages
are handed back (``madvise(MADV_PAGEOUT)``, Linux 5.4 and later; elsewhere
nothing changes), and one message is read, so that what answering needs is
back before the first visitor writes. Clean library pages are only dropped,
never written anywhere: a page needed again is read back from the file.
"""

from __future__ import annotations

import ctypes
import logging
import re
from pathlib import Path
from typing import Any

from sanic import Blueprint, Sanic

logger = logging.getLogger(__name__)

MADV_PAGEOUT = 21  # linux/mman.h
_SHARED_LIBRARY = re.compile(r"\.so(\.\d+)*$")
WARM_UP_MESSAGE = "does the laser treatment hurt?"


def resident_mb() -> float:
    """This process's resident memory, 0 where there is no /proc (not Linux)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0.0
    return int(re.search(r"^VmRSS:\s+(\d+)", status, re.MULTILINE)[1]) / 1024


def library_mappings(maps: str) -> list[tuple[int, int]]:
    """The address ranges of /proc/self/maps that map a shared library's file."""
    ranges = []
    for line in maps.splitlines():
        addresses, _permissions, _offset, _device, _inode, *path = line.split(maxsplit=5)
        if path and _SHARED_LIBRARY.search(path[0].strip()):
            start, end = addresses.split("-")
            ranges.append((int(start, 16), int(end, 16)))
    return ranges


def release() -> int:
    """Hands this process's library pages back to the kernel; how many of the libraries' mappings it took."""
    try:
        mappings = library_mappings(Path("/proc/self/maps").read_text())
    except OSError:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return sum(libc.madvise(start, end - start, MADV_PAGEOUT) == 0 for start, end in mappings)


def install(blueprint: Blueprint) -> None:
    async def on_start(app: Sanic, _loop: Any) -> None:
        agent = getattr(app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            return
        before = resident_mb()
        if release() == 0:
            logger.info("the library pages loading read stay resident here (MADV_PAGEOUT needs Linux 5.4)")
            return
        await agent.parse_message(WARM_UP_MESSAGE)
        logger.info("library pages loading read handed back: resident %.0f MB → %.0f MB", before, resident_mb())

    blueprint.listener("after_server_start")(on_start)
