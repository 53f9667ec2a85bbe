# SPDX-License-Identifier: LGPL-3.0-or-later
"""Whether glibc maps a fresh block for a 1 MiB malloc in this process (its
count of mapped blocks grows) instead of serving it from the heap: what
MALLOC_TRIM_THRESHOLD_ and gegl_seg's answer to it decide.  Self-contained
so that it can be pickled by value to a Dask worker."""


def maps_fresh_block(nbytes=1 << 20):
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
            'fsmblks', 'uordblks', 'fordblks', 'keepcost')]
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    before = libc.mallinfo2().hblks
    block = libc.malloc(nbytes)
    mapped = libc.mallinfo2().hblks > before
    libc.free(block)
    return mapped
