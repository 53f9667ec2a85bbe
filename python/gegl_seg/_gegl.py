# SPDX-License-Identifier: LGPL-3.0-or-later
"""GEGL from NumPy: a graph of gegl-seg ops between two arrays.

GObject introspection moves pixels only as Python bytes: `Gegl.Buffer.set`
takes a bytes object (array.tobytes() is one copy, the buffer's tiles a
second) and `Gegl.Buffer.get` returns a new bytes object (one copy from the
tiles, and np.frombuffer of it is read-only, so a writable result is a
third).  The pixels therefore go through GEGL's C API by ctypes instead,
using the pointers that PyGObject wraps:

- in: the array's rows become the tiles of a read-only GEGL buffer
  (seg_buffer_new_for_memory, which the gegl-seg module exports), read in
  place: no copy.  (GEGL's own gegl_buffer_linear_new_from_data makes one
  tile of the whole array, which GEGL's tile cache evicts and copies
  whole, again and again when GEGL runs more than one thread.)  Where the
  memory cannot serve (unaligned), gegl_buffer_set copies it once;
- out: the volume ops write their output straight into the result array
  (seg_node_render_to_memory, exported by the module too).  Without it,
  GEGL renders into the tiles of the node's output buffer and
  gegl_node_blit copies them out: a second pass over the output that
  costs as much as the fastest ops themselves.  Where the last node is
  another op, or the module cannot, gegl_node_blit copies the output once.

The graph itself is built with GObject introspection.  GEGL is initialised
once per process, on first use (so a Dask worker process sets itself up).
"""
import ctypes
import itertools
import os
import threading

import numpy as np

_lock = threading.RLock()
_state = {}

# NumPy dtype (kind, itemsize) → babl format that holds it bit for bit
# (DESIGN.md, "NumPy files").
FORMATS = {
    ('u', 1): 'Y u8', ('u', 2): 'Y u16', ('u', 4): 'Y u32',
    ('u', 8): 'seg uint64',
    ('i', 1): 'seg int8', ('i', 2): 'seg int16', ('i', 4): 'seg int32',
    ('i', 8): 'seg int64',
    ('f', 2): 'Y half', ('f', 4): 'Y float', ('f', 8): 'Y double',
    ('b', 1): 'seg bool',
}


class _Rectangle(ctypes.Structure):
    _fields_ = [('x', ctypes.c_int), ('y', ctypes.c_int),
                ('width', ctypes.c_int), ('height', ctypes.c_int)]


_RELEASE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_held = {}      # arrays whose memory GEGL reads, by key, until released


@_RELEASE
def _release(key):
    # From whichever thread drops GEGL's last tile: no lock (the thread
    # that holds it may be waiting for this one).
    _held.pop(key, None)


def _c_api():
    gegl = ctypes.CDLL('libgegl-0.4.so.0')
    babl = ctypes.CDLL('libbabl-0.1.so.0')
    gobject = ctypes.CDLL('libgobject-2.0.so.0')
    p, i = ctypes.c_void_p, ctypes.c_int
    rect = ctypes.POINTER(_Rectangle)
    babl.babl_format_exists.restype = i
    babl.babl_format_exists.argtypes = [ctypes.c_char_p]
    babl.babl_format.restype = p
    babl.babl_format.argtypes = [ctypes.c_char_p]
    gegl.gegl_buffer_new.restype = p
    gegl.gegl_buffer_new.argtypes = [rect, p]
    gegl.gegl_buffer_set.restype = None
    gegl.gegl_buffer_set.argtypes = [p, rect, i, p, p, i]
    gegl.gegl_node_blit.restype = None
    gegl.gegl_node_blit.argtypes = [p, ctypes.c_double, rect, p, p, i, i]
    gobject.g_object_unref.restype = None
    gobject.g_object_unref.argtypes = [p]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    try:
        # The module GEGL loaded, found by its soname.
        seg = ctypes.CDLL('gegl-seg.so', mode=os.RTLD_NOLOAD)
        seg.seg_buffer_new_for_memory.restype = p
        seg.seg_buffer_new_for_memory.argtypes = [p, i, i, p, i, _RELEASE, p]
        seg.seg_node_render_to_memory.restype = ctypes.c_int
        seg.seg_node_render_to_memory.argtypes = [p, rect, p, p, i]
    except (OSError, AttributeError):
        seg = None
    return gegl, babl, gobject, get_pointer, seg


GEGL_DEFAULT_CACHE = 512 << 20


def _cache_is_ours(Gegl):
    """Whether the package may size GEGL's tile cache: nobody else did
    (GEGL_CACHE_SIZE, or the application before the first call)."""
    return ('GEGL_CACHE_SIZE' not in os.environ
            and Gegl.config().props.tile_cache_size == GEGL_DEFAULT_CACHE)


def _fit_tile_cache(nbytes):
    """GEGL's tile cache holds the array's tiles (free to fetch again) and
    the ops' output tiles; when the two outgrow it, GEGL swaps output
    tiles out (to disk by default) and back.  So the cache grows to twice
    a graph's input and output, up to half the machine's memory (GIMP's
    default), and no further than needed: GEGL allocates tiles in blocks
    of 1 % of the cache, and larger blocks cost every small graph more."""
    if not _state.get('cache_is_ours'):
        return
    config = _state['Gegl'].config()
    want = -(-2 * nbytes // (256 << 20)) * (256 << 20)
    want = min(want, _state['memory'] // 2)
    if want > config.props.tile_cache_size:
        config.props.tile_cache_size = want


# glibc's mallopt parameters, and the thresholds glibc's own adaptive rule
# settles at after large blocks are freed in a 64-bit process.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_ADAPTIVE_MMAP_MAX = 32 << 20
_ADAPTIVE_TRIM_MAX = 2 * _ADAPTIVE_MMAP_MAX


def _settle_malloc():
    """glibc maps every block over its mmap threshold afresh, 128 KiB at
    first, and frees it by unmapping: each chunk-sized array, each GEGL
    tile block, faulted in page by page and dropped again.  glibc raises
    the threshold by itself after large frees (up to blocks under 32 MiB
    from the heap, at most 64 MiB of freed heap kept per arena), but only
    after some, and not at all where MALLOC_TRIM_THRESHOLD_ is set, as
    dask.distributed's nanny sets it for its workers
    (distributed.nanny.pre-spawn-environ): gegl_seg ran 3 times slower in
    such a worker, and a loop of zarr chunks in a plain process twice as
    slow as it does once glibc has settled.  gegl_seg sets those settled
    thresholds at once.  GEGL_SEG_KEEP_MALLOC=1 leaves malloc as it is."""
    if os.environ.get('GEGL_SEG_KEEP_MALLOC') == '1':
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):     # not glibc
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt(_M_MMAP_THRESHOLD, _ADAPTIVE_MMAP_MAX)
    mallopt(_M_TRIM_THRESHOLD, _ADAPTIVE_TRIM_MAX)


def init():
    """Initialises GEGL once in this process and checks that the gegl-seg
    module is there.  Returns the Gegl namespace."""
    with _lock:
        if 'Gegl' not in _state:
            import gi
            gi.require_version('Gegl', '0.4')
            from gi.repository import Gegl
            Gegl.init(None)
            _state['cache_is_ours'] = _cache_is_ours(Gegl)
            try:
                _state['memory'] = (os.sysconf('SC_PAGE_SIZE')
                                    * os.sysconf('SC_PHYS_PAGES'))
            except (ValueError, OSError):
                _state['cache_is_ours'] = False
            if not Gegl.has_operation('seg:mode-pool'):
                raise RuntimeError(
                    'gegl_seg: GEGL has no seg:mode-pool op: the gegl-seg '
                    'module is not installed in GEGL\'s plug-in folder '
                    '(meson install -C build) nor on GEGL_PATH')
            _state['c'] = _c_api()
            _install_node_set()
            _settle_malloc()
            _state['Gegl'] = Gegl
        return _state['Gegl']


def format_of(dtype, function='format_of'):
    """The babl format name of a NumPy dtype, or ValueError."""
    dtype = np.dtype(dtype)
    name = FORMATS.get((dtype.kind, dtype.itemsize))
    if name is None:
        raise ValueError(
            'gegl_seg.%s: dtype %s is not one of the supported dtypes '
            '(uint8/16/32/64, int8/16/32/64, float16/32/64, bool)'
            % (function, dtype))
    return name


def _babl(name):
    babl = _state['c'][1]
    if not babl.babl_format_exists(name.encode()):
        raise RuntimeError('gegl_seg: babl has no format "%s": the gegl-seg '
                           'module is too old' % name)
    return babl.babl_format(name.encode())


def _pointer(gobject):
    return _state['c'][3](gobject.__gpointer__, None)


_keys = itertools.count(1)


def _buffer_of(image, width, height, fmt, slice_height):
    """A GEGL buffer of the image's pixels: its memory, read in place, or
    else a copy."""
    gegl, seg = _state['c'][0], _state['c'][4]
    if seg is not None:
        key = next(_keys)
        _held[key] = image
        buffer = seg.seg_buffer_new_for_memory(
            image.ctypes.data, width, height, fmt, slice_height, _release,
            key)
        if buffer:
            return buffer
        del _held[key]
    box = _Rectangle(0, 0, width, height)
    buffer = gegl.gegl_buffer_new(ctypes.byref(box), fmt)
    if not buffer:
        raise MemoryError('gegl_seg: GEGL could not make a %d×%d buffer'
                          % (width, height))
    gegl.gegl_buffer_set(buffer, ctypes.byref(box), 0, fmt,
                         image.ctypes.data, width * image.itemsize)
    return buffer


class Graph:
    """buffer-source (the array, in place) → nodes → one output array.

    `image` is a C-contiguous (H, W) image or (D, H, W) stack of native
    byte order (a stack is a (D·H, W) image).  Nodes are added with `add`;
    `render` blits the last one into a new array.  Hold the lock while a Graph lives: GEGL
    graphs are built and run one at a time per process (GEGL's own threads
    do the parallel work)."""

    def __init__(self, image):
        Gegl = init()
        gobject = _state['c'][2]
        width = image.shape[-1]
        height = image.size // width
        # Tiles that end where slices end (0: an image, no slices).
        slice_height = image.shape[-2] if image.ndim == 3 else 0
        self.root = Gegl.Node()
        self.source = self.root.create_child('gegl:buffer-source')
        self.last = self.source
        buffer = _buffer_of(image, width, height,
                            _babl(format_of(image.dtype)), slice_height)
        try:
            # The node takes its own reference.
            _state['node_set'](_pointer(self.source), buffer)
        finally:
            gobject.g_object_unref(buffer)

    def add(self, operation, **properties):
        node = self.root.create_child(operation)
        for name, value in properties.items():
            node.set_property(name.replace('_', '-'), value)
        self.last.link(node)
        self.last = node
        return node

    def bounding_box(self):
        box = self.last.get_bounding_box()
        return box.x, box.y, box.width, box.height

    def render(self, shape, dtype):
        """The last node's output as a new C-order array of `shape` (whose
        product of all axes but the last is the output's height)."""
        gegl = _state['c'][0]
        x, y, width, height = self.bounding_box()
        out = np.empty(shape, dtype)
        if out.size != width * height or (out.size and shape[-1] != width):
            raise RuntimeError(
                'gegl_seg: %s gave a %d×%d image, not the expected %s'
                % (self.last.get_operation(), width, height, shape))
        if out.size:
            box = ctypes.byref(_Rectangle(x, y, width, height))
            node, fmt = _pointer(self.last), _babl(format_of(dtype))
            pixels, stride = out.ctypes.data, width * out.itemsize
            seg = _state['c'][4]
            if seg is None or not seg.seg_node_render_to_memory(
                    node, box, fmt, pixels, stride):
                gegl.gegl_node_blit(node, 1.0, box, fmt, pixels, stride, 0)
        return out

    def process(self):
        self.last.process()

    def close(self):
        """Drops the graph, and with it GEGL's view of the array."""
        _state['node_set'](_pointer(self.source), None)
        self.root = self.last = self.source = None


def _install_node_set():
    setter = _state['c'][0].gegl_node_set
    setter.restype = None

    def set_buffer(node, buffer):
        setter(ctypes.c_void_p(node), b'buffer', ctypes.c_void_p(buffer),
               None)
    _state['node_set'] = set_buffer


def run(image, build, shape=None, dtype=None):
    """Builds a graph on `image` with build(graph) and drops it after: with
    `shape` and `dtype`, renders its last node into a new array of them;
    without, processes its last node, a sink."""
    out_bytes = 0 if shape is None else \
        int(np.prod(shape)) * np.dtype(dtype).itemsize
    with _lock:
        init()
        _fit_tile_cache(image.nbytes + out_bytes)
        graph = Graph(image)
        try:
            build(graph)
            if shape is None:
                return graph.process()
            return graph.render(shape, dtype)
        finally:
            graph.close()
