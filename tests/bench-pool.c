/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * bench-pool: throughput of pooling on one core — mode pooling
 * (seg_mode_pool, seg:mode-pool) and average pooling (seg_average_pool,
 * seg:sparse-average) — for the bare kernel and through a one-thread GEGL
 * graph (gegl:buffer-source → op → gegl:write-buffer), next to the
 * machine's single-core memory read bandwidth measured in the same run.
 *
 *   bench-pool [--quick] [--reps N] [--only TEXT] [--huge-pages]
 *
 * Figures are medians over N repetitions (default 9; --quick: small sizes,
 * one repetition, for smoke runs; --only: just the cases whose name
 * contains TEXT; --huge-pages: the bare kernel's inputs and outputs, and
 * the bandwidth reference, in transparent huge pages instead of plain
 * 4 KiB pages; GEGL's tiles stay in plain pages).  Each repetition
 * measures every case once, bandwidth included, so noise on a shared
 * machine affects all figures alike.  Every timed run starts with caches
 * that hold none of its data (flush_caches ()), as when a pipeline streams
 * a volume larger than the caches.  MVx/s counts INPUT voxels.  The ratio to the bandwidth is
 * input bytes per second divided by the read bandwidth.  Two bounds on
 * "GEGL xkernel", as the kernel's time over theirs:
 *   no-op  the same graph with a no-op in the pooling op's place, which
 *          reads what pooling reads and writes zeros (run_graph ()): the
 *          most "GEGL xkernel" any op in this graph can show;
 *   floor  GEGL's buffers without a graph: the input read through one
 *          iterator, the output written through another
 *          (run_gegl_floor ()).
 *
 * Environment:
 *   SEG_CONNECTOMICS  the 512³ u32 connectomics volume (.npy or .npy.gz);
 *                     default <source root>/../shared/data/
 *                     connectomics512_zyx_u32.npy.gz.  Skipped if absent.
 *   GEGL_PATH         folders holding gegl-seg.so and GEGL's plug-ins
 *                     (`meson test --benchmark` sets it); by default the
 *                     build's operations folder and its view of GEGL's
 *                     plug-ins, so running the program by hand also works.
 *
 * It is a benchmark, not a test: it prints PASS or MISS for each target
 * and exits 0 whatever the figures; 1 only on a usage or set-up error, or
 * when the GEGL graph's output differs from the kernel's (checked once
 * per case), which is a bug, not a figure.
 */
#define _POSIX_C_SOURCE 200809L /* posix_memalign, clock_gettime */
#define _DEFAULT_SOURCE         /* madvise (MADV_HUGEPAGE)            */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <gegl.h>
#include <gegl-plugin.h>
#include <gio/gio.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "seg-average-pool.h"
#include "seg-mode-pool.h"
#include "seg-npy.h"
#include "seg-rows.h"

#ifndef SEG_SOURCE_ROOT
#define SEG_SOURCE_ROOT "."
#endif
#ifndef SEG_MODULE_DIR
#define SEG_MODULE_DIR ""
#endif
#ifndef SEG_PLUGINS_VIEW
#define SEG_PLUGINS_VIEW ""
#endif

#define DEFAULT_CONNECTOMICS \
  SEG_SOURCE_ROOT "/../shared/data/connectomics512_zyx_u32.npy.gz"

/* Targets (one core). */
#define TARGET_2X2_BW_RATIO    0.60 /* 2×2: input read at ≥ 60 % of bw   */
#define TARGET_222_RANDOM_MVX  1000.0
#define TARGET_222_CONNECT_MVX 2000.0
#define TARGET_GEGL_RATIO      0.60 /* GEGL path vs bare kernel          */
#define TARGET_AVG_BW_RATIO    0.60 /* plain u8 averaging: ≥ 60 % of bw  */
#define TARGET_SPARSE_BW_RATIO 0.40 /* sparse 2×2×2 u8: ≥ 40 % of bw     */

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (const double *v, int n)
{
  double *s = g_new (double, n);
  double  m;

  memcpy (s, v, (size_t) n * sizeof (double));
  qsort (s, (size_t) n, sizeof (double), cmp_double);
  m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  g_free (s);
  return m;
}

/* Page-aligned memory that is touched before any timing. */
static void *
alloc_touched (size_t bytes)
{
  void *p = NULL;

  if (posix_memalign (&p, 4096, bytes ? bytes : 1) != 0)
    {
      fprintf (stderr, "bench-pool: cannot allocate %zu bytes\n", bytes);
      exit (1);
    }
  memset (p, 0, bytes);
  return p;
}

/* The same, asking for transparent huge pages (2 MiB); FALSE in *huge
 * when the system says no. */
static void *alloc_touched_huge (size_t bytes, gboolean *huge);

/* --huge-pages: the kernels' data in huge pages. */
static gboolean data_huge = FALSE;

/* Memory for the kernels' inputs and outputs. */
static void *
alloc_data (size_t bytes)
{
  gboolean huge;

  return data_huge ? alloc_touched_huge (bytes, &huge) : alloc_touched (bytes);
}

static void *
alloc_touched_huge (size_t bytes, gboolean *huge)
{
  void *p = NULL;

  *huge = FALSE;
  if (posix_memalign (&p, (size_t) 2 << 20, bytes ? bytes : 1) != 0)
    {
      fprintf (stderr, "bench-pool: cannot allocate %zu bytes\n", bytes);
      exit (1);
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  *huge = madvise (p, bytes, MADV_HUGEPAGE) == 0;
#endif
  memset (p, 0, bytes);
  return p;
}

/* ---------------------------------------------------------------------- */
/* Memory read bandwidth                                                   */

SEG_CLONES static uint64_t
sum_words (const uint64_t *p, size_t n)
{
  uint64_t s = 0;

  for (size_t i = 0; i < n; i++)
    s += p[i];
  return s;
}

static volatile uint64_t sink_word;

/* Bytes per second for one pass over buf. */
static double
measure_bandwidth (const uint64_t *buf, size_t words)
{
  double t = now_s ();

  sink_word += sum_words (buf, words);
  t = now_s () - t;
  return (double) words * sizeof (uint64_t) / t;
}

/* Flushing the caches between timed runs.  Without it a run can find part
 * of its input in the last-level cache (32 MiB on the machines the README
 * quotes), left there by the run before it when that one read the same
 * data: the no-op and the floor run right after the pooling op on the same
 * GEGL buffer, and their 2×2 u8 runs took up to a fifth less time so (no-op
 * × kernel 0.66-0.73 against 0.57-0.59).  Reading FLUSH_BYTES of other
 * data first evicts them. */
#define FLUSH_BYTES ((size_t) 128 << 20)

static const uint64_t *flush_buf; /* NULL: not allocated yet         */
static size_t          flush_words;

static void
flush_caches (void)
{
  if (flush_buf != NULL)
    sink_word += sum_words (flush_buf, flush_words);
}

/* ---------------------------------------------------------------------- */
/* Inputs                                                                  */

static uint64_t
splitmix64 (uint64_t *state)
{
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* n labels of bpp bytes, each one of 256 distinct random values. */
static void
fill_random_labels (uint8_t *dst, size_t n, int bpp, uint64_t seed)
{
  uint64_t state = seed, table[256];

  for (int i = 0; i < 256; i++)
    {
      /* Distinct values: the low byte is i, the rest random. */
      uint64_t v = splitmix64 (&state);

      table[i] = (v & ~(uint64_t) 0xff) | (uint64_t) i;
    }
  for (size_t i = 0; i < n; i += 8)
    {
      uint64_t r = splitmix64 (&state);

      for (size_t k = 0; k < 8 && i + k < n; k++, r >>= 8)
        memcpy (dst + (i + k) * (size_t) bpp, &table[r & 0xff], (size_t) bpp);
    }
}

/* Reads exactly len bytes (fewer at end of stream); FALSE on error. */
static gboolean
read_all (GInputStream *in, void *buf, gsize len, gsize *got, GError **error)
{
  return g_input_stream_read_all (in, buf, len, got, NULL, error);
}

/* Loads the first max_slices slices (all if ≤ 0) of a C-order (z, y, x)
 * '<u4' .npy, optionally gzipped.  Returns NULL with a message in *why. */
static uint32_t *
load_npy_u32 (
  const char *path, int max_slices, int *w, int *h, int *d, char **why)
{
  GFile        *file  = g_file_new_for_path (path);
  GError       *error = NULL;
  GInputStream *raw, *in;
  gsize         got    = 0, header_len, voxels;
  gchar        *header = NULL;
  SegNpyHeader  npy;
  long          shape[3];
  uint32_t     *data = NULL;

  raw = G_INPUT_STREAM (g_file_read (file, NULL, &error));
  g_object_unref (file);
  if (raw == NULL)
    {
      *why = g_strdup (error->message);
      g_error_free (error);
      return NULL;
    }
  if (g_str_has_suffix (path, ".gz"))
    {
      GZlibDecompressor *z =
        g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);

      in = g_converter_input_stream_new (raw, G_CONVERTER (z));
      g_object_unref (z);
      g_object_unref (raw);
    }
  else
    in = raw;

  /* The header, by the library's parser: its first bytes say how long it
   * is. */
  header = g_malloc (SEG_NPY_PRELUDE_SIZE);
  if (!read_all (in, header, SEG_NPY_PRELUDE_SIZE, &got, &error) ||
      got != SEG_NPY_PRELUDE_SIZE)
    goto bad;
  if (seg_npy_header_parse (header, got, &npy) == SEG_NPY_ETRUNCATED &&
      npy.data_offset > got)
    {
      header_len = npy.data_offset;
      header     = g_realloc (header, header_len);
      if (!read_all (in, header + got, header_len - got, &got, &error) ||
          got != header_len - SEG_NPY_PRELUDE_SIZE)
        goto bad;
      got = header_len;
    }
  if (seg_npy_header_parse (header, got, &npy) != SEG_NPY_OK ||
      npy.kind != SEG_NPY_UINT || npy.item_size != 4 || npy.big_endian ||
      npy.fortran_order || npy.n_dims != 3 || npy.shape[0] > 1 << 20 ||
      npy.shape[1] > 1 << 20 || npy.shape[2] > 1 << 20 || npy.n_items == 0)
    {
      *why = g_strdup_printf ("%s: not a C-order 3D '<u4' .npy (%s)", path,
                              npy.reason ? npy.reason : "another array");
      goto out;
    }
  shape[0] = (long) npy.shape[0];
  shape[1] = (long) npy.shape[1];
  shape[2] = (long) npy.shape[2];
  if (max_slices > 0 && shape[0] > max_slices)
    shape[0] = max_slices;
  voxels = (gsize) shape[0] * (gsize) shape[1] * (gsize) shape[2];
  data   = alloc_data (voxels * 4);
  if (!read_all (in, data, voxels * 4, &got, &error) || got != voxels * 4)
    {
      free (data);
      data = NULL;
      goto bad;
    }
  *d = (int) shape[0];
  *h = (int) shape[1];
  *w = (int) shape[2];
  goto out;

bad:
  *why = g_strdup_printf ("%s: %s", path,
                          error ? error->message : "not a readable .npy");
out:
  g_clear_error (&error);
  g_free (header);
  g_object_unref (in);
  return data;
}

/* ---------------------------------------------------------------------- */
/* Cases                                                                   */

typedef enum
{
  MODE,   /* seg_mode_pool, seg:mode-pool          */
  AVERAGE /* seg_average_pool, seg:sparse-average  */
} Family;

typedef struct
{
  const char    *name;
  Family         family;
  gboolean       sparse;
  SegPixelLayout layout; /* AVERAGE: how pixels are numbers       */
  int            bpp;
  SegFactors     f;
  int            w, h, d; /* input volume                          */
  uint8_t       *in;      /* packed input (shared, not owned)      */
  uint8_t       *out;     /* packed kernel output                  */
  size_t         in_bytes, out_bytes;
  SegVolume      in_view, out_view;
  void          *scratch;
  GeglBuffer    *gbuf; /* the input as a GeglBuffer (shared)    */
  const Babl    *format;
  double         target_mvx; /* > 0: kernel MVx/s target              */
  double         target_bw;  /* > 0: kernel bandwidth-ratio target    */
  double        *t_kernel, *t_gegl;
  double        *t_floor; /* GEGL's floor: see run_gegl_floor ()  */
  double        *t_noop;  /* the graph with a no-op: run_graph () */
  gboolean       gegl_checked;
  gboolean       gegl_ok;
} Case;

static void
case_setup (Case       *c,
            const char *name,
            Family      family,
            gboolean    sparse,
            int         bpp,
            int         fz,
            uint8_t    *in,
            int         w,
            int         h,
            int         d,
            GeglBuffer *gbuf,
            const Babl *format,
            int         reps)
{
  SegFactors f  = { 2, 2, fz };
  int        ow = seg_pooled_size (w, 2), oh = seg_pooled_size (h, 2);
  int        od = seg_pooled_size (d, fz);

  memset (c, 0, sizeof *c);
  c->name   = name;
  c->family = family;
  c->sparse = sparse;
  c->layout =
    (SegPixelLayout){ bpp == 4 ? SEG_TYPE_FLOAT : SEG_TYPE_U8, 1, -1 };
  c->bpp       = bpp;
  c->f         = f;
  c->w         = w;
  c->h         = h;
  c->d         = d;
  c->in        = in;
  c->in_bytes  = (size_t) w * h * d * bpp;
  c->out_bytes = (size_t) ow * oh * od * bpp;
  c->out       = alloc_data (c->out_bytes);
  c->in_view   = seg_volume_packed (in, w, h, d, bpp);
  c->out_view  = seg_volume_packed (c->out, ow, oh, od, bpp);
  c->scratch   = alloc_touched (
      family == MODE ? seg_mode_pool_scratch_size (&f)
                     : seg_average_pool_scratch_size (&f, &c->layout));
  c->gbuf     = gbuf;
  c->format   = format;
  c->t_kernel = g_new0 (double, reps);
  c->t_gegl   = g_new0 (double, reps);
  c->t_floor  = g_new0 (double, reps);
  c->t_noop   = g_new0 (double, reps);
}

static void
case_free (Case *c)
{
  free (c->out);
  free (c->scratch);
  g_free (c->t_kernel);
  g_free (c->t_gegl);
  g_free (c->t_floor);
  g_free (c->t_noop);
}

static double
run_kernel (Case *c)
{
  double    t;
  SegStatus s;

  flush_caches ();
  t = now_s ();
  s = c->family == MODE
        ? seg_mode_pool (&c->in_view, &c->out_view, &c->f, c->sparse,
                         SEG_BACKGROUND_ZEROS, c->scratch)
        : seg_average_pool (&c->in_view, &c->out_view, &c->f, &c->layout,
                            c->sparse, SEG_BACKGROUND_ZEROS, c->scratch);

  t = now_s () - t;
  if (s != SEG_OK)
    {
      fprintf (stderr, "bench-pool: %s: the kernel failed (%s)\n", c->name,
               seg_status_name (s));
      exit (1);
    }
  return t;
}

/* n zero bytes to dst, by non-temporal stores where the CPU has them, as
 * the ops write their output. */
static void
stream_zeros (uint8_t *dst, size_t n)
{
  size_t i = 0;

#ifdef __SSE2__
  if ((uintptr_t) dst % 16 == 0)
    for (; i + 16 <= n; i += 16)
      _mm_stream_si128 ((__m128i *) (void *) (dst + i), _mm_setzero_si128 ());
#endif
  memset (dst + i, 0, n - i);
}

/* What no op can skip: every byte of in_rect read through a GEGL buffer
 * iterator, then every byte of out_rect written through another, as the
 * ops write (non-temporal stores), with no pooling in between. */
static void
read_input_write_output (GeglBuffer          *input,
                         const GeglRectangle *in_rect,
                         GeglBuffer          *output,
                         const GeglRectangle *out_rect,
                         const Babl          *format)
{
  const int           bpp = babl_format_get_bytes_per_pixel (format);
  GeglBufferIterator *it;
  uint64_t            sum = 0;

  it = gegl_buffer_iterator_new (input, in_rect, 0, format, GEGL_ACCESS_READ,
                                 GEGL_ABYSS_NONE, 1);
  while (gegl_buffer_iterator_next (it))
    {
      const size_t n =
        (size_t) it->items[0].roi.width * it->items[0].roi.height * bpp;

      /* Tile data is 16-byte aligned; n is a multiple of 8 but for odd
       * rims, whose few bytes do not matter here. */
      sum += sum_words (it->items[0].data, n / 8);
    }
  it = gegl_buffer_iterator_new (output, out_rect, 0, format, GEGL_ACCESS_WRITE,
                                 GEGL_ABYSS_NONE, 1);
  while (gegl_buffer_iterator_next (it))
    stream_zeros (it->items[0].data, (size_t) it->items[0].roi.width *
                                       it->items[0].roi.height * bpp);
#ifdef __SSE2__
  _mm_sfence ();
#endif
  sink_word += sum;
}

/* GEGL's floor for a case: read_input_write_output () over the whole input
 * into a new buffer, with no graph around it. */
static double
run_gegl_floor (Case *c)
{
  GeglRectangle in_rect  = { 0, 0, c->w, c->h * c->d };
  GeglRectangle out_rect = { 0, 0, c->out_view.width,
                             c->out_view.height * c->out_view.depth };
  GeglBuffer   *target   = gegl_buffer_new (&out_rect, c->format);
  double        t;

  flush_caches ();
  t = now_s ();
  read_input_write_output (c->gbuf, &in_rect, target, &out_rect, c->format);
  t = now_s () - t;
  g_object_unref (target);
  return t;
}

/* ---------------------------------------------------------------------- */
/* GEGL's floor inside the graph: a no-op in the pooling op's place         */

/* The case the no-op stands in for (one render at a time, one thread). */
static const Case *noop_case;

typedef struct
{
  GeglOperationFilter parent_instance;
} BenchNoop;

typedef struct
{
  GeglOperationFilterClass parent_class;
} BenchNoopClass;

/* The program's own: internal linkage for what G_DEFINE_TYPE defines. */
static GType bench_noop_get_type (void);

G_DEFINE_TYPE (BenchNoop, bench_noop, GEGL_TYPE_OPERATION_FILTER)

static void
bench_noop_init (BenchNoop *self)
{
  (void) self;
}

static void
noop_prepare (GeglOperation *operation)
{
  const Babl *format = gegl_operation_get_source_format (operation, "input");

  gegl_operation_set_format (operation, "input", format);
  gegl_operation_set_format (operation, "output", format);
}

/* The pooled output's extent, as the pooling op's. */
static GeglRectangle
noop_bounding_box (GeglOperation *operation)
{
  GeglRectangle out = { 0, 0, noop_case->out_view.width,
                        noop_case->out_view.height *
                          noop_case->out_view.depth };

  (void) operation;
  return out;
}

/* The input rows and columns pooling reads for the output rows and
 * columns of roi: fy × fz input rows for each output row (the cases'
 * heights and depths divide by their factors). */
static GeglRectangle
noop_input_of (const GeglRectangle *roi)
{
  const Case   *c    = noop_case;
  const int     rows = c->f.y * c->f.z;
  GeglRectangle all  = { 0, 0, c->w, c->h * c->d };
  GeglRectangle in   = { roi->x * c->f.x, roi->y * rows, roi->width * c->f.x,
                         roi->height * rows };

  gegl_rectangle_intersect (&in, &in, &all);
  return in;
}

static GeglRectangle
noop_required_for_output (GeglOperation       *operation,
                          const gchar         *input_pad,
                          const GeglRectangle *roi)
{
  (void) operation;
  (void) input_pad;
  return noop_input_of (roi);
}

/* What run_gegl_floor () does, for one region of the output: read every
 * input byte pooling would read, write every output byte. */
static gboolean
noop_process (GeglOperation       *operation,
              GeglBuffer          *input,
              GeglBuffer          *output,
              const GeglRectangle *roi,
              gint                 level)
{
  const GeglRectangle in_rect = noop_input_of (roi);

  (void) level;
  read_input_write_output (input, &in_rect, output, roi,
                           gegl_operation_get_format (operation, "output"));
  return TRUE;
}

static void
bench_noop_class_init (BenchNoopClass *klass)
{
  GeglOperationClass       *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationFilterClass *filter_class = GEGL_OPERATION_FILTER_CLASS (klass);

  operation_class->prepare                 = noop_prepare;
  operation_class->get_bounding_box        = noop_bounding_box;
  operation_class->get_required_for_output = noop_required_for_output;
  filter_class->process                    = noop_process;
  gegl_operation_class_set_keys (operation_class, "name", "bench-pool:noop",
                                 "categories", "hidden", "description",
                                 "bench-pool's no-op: reads "
                                 "what pooling reads, writes zeros",
                                 NULL);
}

/* One render through a new graph into a new buffer (nothing is cached from
 * an earlier repetition): gegl:buffer-source → the case's pooling op, or
 * with noop the no-op above in its place → gegl:write-buffer.  The no-op's
 * time is the least any op in this graph can take: "no-op xkernel" bounds
 * "GEGL xkernel" as the graph runs. */
static double
run_graph (Case *c, gboolean noop)
{
  GeglRectangle out_rect = { 0, 0, c->out_view.width,
                             c->out_view.height * c->out_view.depth };
  GeglBuffer   *target   = gegl_buffer_new (&out_rect, c->format);
  GeglNode     *graph    = gegl_node_new ();
  GeglNode     *src, *op, *sink;
  double        t;

  src = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer",
                             c->gbuf, NULL);
  if (noop)
    {
      noop_case = c;
      op = gegl_node_new_child (graph, "operation", "bench-pool:noop", NULL);
    }
  else
    op = gegl_node_new_child (graph, "operation",
                              c->family == MODE ? "seg:mode-pool"
                                                : "seg:sparse-average",
                              "factor-x", 2, "factor-y", 2, "factor-z", c->f.z,
                              "depth", c->d, "sparse", c->sparse, NULL);
  sink = gegl_node_new_child (graph, "operation", "gegl:write-buffer", "buffer",
                              target, NULL);
  gegl_node_link_many (src, op, sink, NULL);

  flush_caches ();
  t = now_s ();
  gegl_node_process (sink);
  t = now_s () - t;

  if (!noop && !c->gegl_checked)
    {
      /* Once: the graph's result must be the kernel's, byte for byte. */
      uint8_t *got = alloc_touched (c->out_bytes);

      gegl_buffer_get (target, &out_rect, 1.0, c->format, got,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      c->gegl_ok      = memcmp (got, c->out, c->out_bytes) == 0;
      c->gegl_checked = TRUE;
      free (got);
    }

  g_object_unref (graph);
  g_object_unref (target);
  return t;
}

static GeglBuffer *
gegl_input (const uint8_t *data, int w, int h, int d, const Babl *format)
{
  GeglRectangle rect = { 0, 0, w, h * d };
  GeglBuffer   *b    = gegl_buffer_new (&rect, format);

  gegl_buffer_set (b, &rect, 0, format, data, GEGL_AUTO_ROWSTRIDE);
  return b;
}

static const char *
verdict (gboolean ok)
{
  return ok ? "PASS" : "MISS";
}

static void
usage (void)
{
  fprintf (stderr, "usage: bench-pool [--quick] [--reps N] "
                   "[--only TEXT] [--huge-pages]\n");
  exit (1);
}

int
main (int argc, char **argv)
{
  gboolean    quick = FALSE, have_gegl;
  const char *only  = NULL;
  int         reps  = 9;
  int         side, depth;
  size_t      bw_words;
  uint64_t   *bw_buf, *bw_huge_buf;
  double     *bw, *bw_huge;
  gboolean    huge;
  uint8_t    *rnd[4];
  GeglBuffer *rnd_gbuf[4]  = { NULL };
  const char *fmt_names[4] = { "Y u8", "Y u16", "Y u32", "RGBA u16" };
  const char *conn_path;
  char       *conn_why  = NULL;
  uint32_t   *conn      = NULL;
  GeglBuffer *conn_gbuf = NULL;
  int         cw = 0, ch = 0, cd = 0;
  uint8_t    *grey, *grey_sparse;
  float      *grey_float;
  GeglBuffer *grey_gbuf = NULL, *grey_sparse_gbuf = NULL;
  GeglBuffer *grey_float_gbuf = NULL;
  Case        cases[10];
  int         n_cases = 0;
  double      bw_med, t0 = now_s ();
  int         misses = 0, wrong = 0;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--quick") == 0)
        quick = TRUE;
      else if (strcmp (argv[i], "--huge-pages") == 0)
        data_huge = TRUE;
      else if (strcmp (argv[i], "--only") == 0 && i + 1 < argc)
        only = argv[++i];
      else if (strcmp (argv[i], "--reps") == 0 && i + 1 < argc)
        {
          reps = atoi (argv[++i]);
          if (reps < 1)
            usage ();
        }
      else
        usage ();
    }
  if (quick)
    reps = 1;
  side  = quick ? 256 : 2048;
  depth = quick ? 4 : 16;

  /* GEGL: tiles in RAM, one thread, no OpenCL; run by hand, this build's
   * module and GEGL's own plug-ins (not an older gegl-seg.so installed
   * among them: GEGL would take that one). */
  g_setenv ("GEGL_SWAP", "RAM", FALSE);
  g_setenv ("GEGL_USE_OPENCL", "no", FALSE);
  if (SEG_MODULE_DIR[0] != '\0')
    g_setenv ("GEGL_PATH",
              SEG_MODULE_DIR G_SEARCHPATH_SEPARATOR_S SEG_PLUGINS_VIEW, FALSE);
  gegl_init (&argc, &argv);
  g_object_set (gegl_config (), "threads", 1, "use-opencl", FALSE,
                "tile-cache-size", (guint64) 8 << 30, NULL);
  /* The no-op (run_graph ()): its class registers its name. */
  g_type_class_unref (g_type_class_ref (bench_noop_get_type ()));
  have_gegl = gegl_has_operation ("seg:mode-pool") &&
              gegl_has_operation ("seg:sparse-average");
  if (!have_gegl)
    printf ("seg:mode-pool or seg:sparse-average not found: set GEGL_PATH "
            "to the build's operations folder (and GEGL's plug-in folder); "
            "GEGL figures skipped.\n");

  /* Inputs.  Bandwidth buffers: far larger than the 32 MiB L3.  The
   * reference is read from memory of the same kind as the inputs (and as
   * GEGL's tiles): plain pages of 4 KiB, as malloc hands out.  The figure
   * with transparent huge pages, where the system has them, is shown for
   * comparison: with 4 KiB pages a plain sequential read loses some speed
   * to TLB misses and to prefetchers that stop at page edges. */
  bw_words    = (quick ? (size_t) 128 << 20 : (size_t) 1 << 30) / 8;
  bw_buf      = alloc_touched (bw_words * 8);
  bw_huge_buf = alloc_touched_huge (bw_words * 8, &huge);
  for (size_t i = 0; i < bw_words; i++)
    bw_buf[i] = bw_huge_buf[i] = i;
  flush_buf   = bw_buf;
  flush_words = MIN (bw_words, FLUSH_BYTES / 8);
  bw          = g_new0 (double, reps);
  bw_huge     = g_new0 (double, reps);

  for (int k = 0; k < 4; k++)
    {
      int    bpp = 1 << k;
      size_t n   = (size_t) side * side * depth;

      rnd[k] = alloc_data (n * bpp);
      fill_random_labels (rnd[k], n, bpp, 0x5EED0000u + k);
      if (have_gegl)
        rnd_gbuf[k] =
          gegl_input (rnd[k], side, side, depth, babl_format (fmt_names[k]));
    }

  {
    size_t   n   = (size_t) side * side * depth;
    uint64_t rng = 0xA7E2A6E0u;

    grey        = alloc_data (n);
    grey_sparse = alloc_data (n);
    grey_float  = alloc_data (n * sizeof (float));
    for (size_t i = 0; i < n; i++)
      {
        uint64_t r = splitmix64 (&rng);

        grey[i]        = (uint8_t) r;
        grey_sparse[i] = (r >> 8) % 100 < 30 ? 0 : (uint8_t) (1 + r % 255);
        grey_float[i]  = (float) (r >> 40) / (float) (1 << 24);
      }
    if (have_gegl)
      {
        grey_gbuf = gegl_input (grey, side, side, depth, babl_format ("Y u8"));
        grey_sparse_gbuf =
          gegl_input (grey_sparse, side, side, depth, babl_format ("Y u8"));
        grey_float_gbuf = gegl_input ((uint8_t *) grey_float, side, side, depth,
                                      babl_format ("Y float"));
      }
  }

  conn_path = g_getenv ("SEG_CONNECTOMICS");
  if (conn_path == NULL || conn_path[0] == '\0')
    conn_path = DEFAULT_CONNECTOMICS;
  if (g_file_test (conn_path, G_FILE_TEST_EXISTS))
    conn = load_npy_u32 (conn_path, quick ? 16 : 0, &cw, &ch, &cd, &conn_why);
  else
    conn_why =
      g_strdup_printf ("%s does not exist (set SEG_CONNECTOMICS)", conn_path);
  if (conn != NULL && have_gegl)
    conn_gbuf =
      gegl_input ((uint8_t *) conn, cw, ch, cd, babl_format ("Y u32"));

  {
    static const char *names[4] = { "2x2 u8 random", "2x2 u16 random",
                                    "2x2 u32 random", "2x2 u64 random" };

    for (int k = 0; k < 4; k++)
      {
        case_setup (&cases[n_cases], names[k], MODE, FALSE, 1 << k, 1, rnd[k],
                    side, side, depth, rnd_gbuf[k], babl_format (fmt_names[k]),
                    reps);
        cases[n_cases++].target_bw = TARGET_2X2_BW_RATIO;
      }
    case_setup (&cases[n_cases], "2x2x2 u32 random", MODE, FALSE, 4, 2, rnd[2],
                side, side, depth, rnd_gbuf[2], babl_format ("Y u32"), reps);
    cases[n_cases++].target_mvx = TARGET_222_RANDOM_MVX;
    if (conn != NULL)
      {
        case_setup (&cases[n_cases], "2x2x2 u32 connectomics", MODE, FALSE, 4,
                    2, (uint8_t *) conn, cw, ch, cd, conn_gbuf,
                    babl_format ("Y u32"), reps);
        cases[n_cases++].target_mvx = TARGET_222_CONNECT_MVX;
      }

    /* Averaging: grey levels, some with 30 % background, and floats. */
    case_setup (&cases[n_cases], "avg 2x2 u8", AVERAGE, FALSE, 1, 1, grey, side,
                side, depth, grey_gbuf, babl_format ("Y u8"), reps);
    cases[n_cases++].target_bw = TARGET_AVG_BW_RATIO;
    case_setup (&cases[n_cases], "avg 2x2x2 u8", AVERAGE, FALSE, 1, 2, grey,
                side, side, depth, grey_gbuf, babl_format ("Y u8"), reps);
    cases[n_cases++].target_bw = TARGET_AVG_BW_RATIO;
    case_setup (&cases[n_cases], "avg sparse 2x2x2 u8 30%", AVERAGE, TRUE, 1, 2,
                grey_sparse, side, side, depth, grey_sparse_gbuf,
                babl_format ("Y u8"), reps);
    cases[n_cases++].target_bw = TARGET_SPARSE_BW_RATIO;
    case_setup (&cases[n_cases], "avg 2x2 float", AVERAGE, FALSE, 4, 1,
                (uint8_t *) grey_float, side, side, depth, grey_float_gbuf,
                babl_format ("Y float"), reps);
    n_cases++;
  }

  if (only != NULL)
    {
      int kept = 0;

      for (int i = 0; i < n_cases; i++)
        if (strstr (cases[i].name, only) != NULL)
          cases[kept++] = cases[i];
        else
          case_free (&cases[i]);
      n_cases = kept;
    }

  /* Warm-up (page tables, code, GEGL's first-use set-up and its tile
   * allocator; the GEGL run also checks the graph's output against the
   * kernel's), then the interleaved repetitions. */
  measure_bandwidth (bw_buf, bw_words / 8);
  measure_bandwidth (bw_huge_buf, bw_words / 8);
  for (int i = 0; i < n_cases; i++)
    run_kernel (&cases[i]);
  if (have_gegl)
    for (int i = 0; i < n_cases; i++)
      {
        run_graph (&cases[i], FALSE);
        run_graph (&cases[i], TRUE);
        run_gegl_floor (&cases[i]);
      }
  for (int r = 0; r < reps; r++)
    {
      bw[r]      = measure_bandwidth (bw_buf, bw_words);
      bw_huge[r] = measure_bandwidth (bw_huge_buf, bw_words);
      for (int i = 0; i < n_cases; i++)
        cases[i].t_kernel[r] = run_kernel (&cases[i]);
      if (have_gegl)
        for (int i = 0; i < n_cases; i++)
          {
            cases[i].t_gegl[r]  = run_graph (&cases[i], FALSE);
            cases[i].t_noop[r]  = run_graph (&cases[i], TRUE);
            cases[i].t_floor[r] = run_gegl_floor (&cases[i]);
          }
    }

  /* The table. */
  /* The reference: memory of the kind the inputs are in. */
  bw_med = median (data_huge && huge ? bw_huge : bw, reps);
  printf ("\npooling, one core; medians of %d repetition%s%s\n", reps,
          reps == 1 ? "" : "s",
          quick ? " (--quick: small sizes, figures "
                  "not meaningful)"
                : "");
  printf ("single-core memory read bandwidth (%zu MiB, one pass):\n",
          bw_words * 8 >> 20);
  printf ("  %-34s %5.1f GB/s%s\n", "4 KiB pages (as malloc, GEGL tiles)",
          median (bw, reps) / 1e9,
          data_huge && huge ? "" : "  <- the reference of every xbw");
  if (huge)
    printf ("  %-34s %5.1f GB/s%s\n", "transparent huge pages",
            median (bw_huge, reps) / 1e9,
            data_huge ? "  <- the reference of every xbw" : "");
  if (data_huge)
    printf ("the bare kernel's data in huge pages (--huge-pages)%s\n",
            huge ? "" : ", which the system refused");
  if (conn == NULL)
    printf ("connectomics volume skipped: %s\n", conn_why);
  printf ("\n%-24s %-13s | %9s %7s %6s | %9s %6s %8s | %8s %8s\n", "case",
          "volume", "kernel", "GB/s", "xbw", "GEGL", "xbw", "xkernel", "no-op",
          "floor");
  printf ("%-24s %-13s | %9s %7s %6s | %9s %6s %8s | %8s %8s\n", "",
          "(w x h x d)", "MVx/s", "in", "", "MVx/s", "", "", "xkernel",
          "xkernel");
  for (int i = 0; i < n_cases; i++)
    {
      Case  *c      = &cases[i];
      double tk     = median (c->t_kernel, reps);
      double voxels = (double) c->w * c->h * c->d;
      char   vol[32];

      g_snprintf (vol, sizeof vol, "%dx%dx%d", c->w, c->h, c->d);
      printf ("%-24s %-13s | %9.0f %7.1f %6.2f |", c->name, vol,
              voxels / tk / 1e6, c->in_bytes / tk / 1e9,
              c->in_bytes / tk / bw_med);
      if (have_gegl)
        {
          double tg = median (c->t_gegl, reps);

          printf (" %9.0f %6.2f %8.2f | %8.2f %8.2f%s\n", voxels / tg / 1e6,
                  c->in_bytes / tg / bw_med, tk / tg,
                  tk / median (c->t_noop, reps), tk / median (c->t_floor, reps),
                  c->gegl_ok ? "" : "  (GEGL OUTPUT DIFFERS!)");
        }
      else
        printf (" %9s %6s %8s | %8s %8s\n", "-", "-", "-", "-", "-");
    }

  printf ("\ntargets (one core)%s:\n",
          quick ? " (--quick: not meaningful)" : "");
  for (int i = 0; i < n_cases; i++)
    {
      Case    *c      = &cases[i];
      double   tk     = median (c->t_kernel, reps);
      double   voxels = (double) c->w * c->h * c->d;
      gboolean ok;

      if (c->target_bw > 0)
        {
          double ratio = c->in_bytes / tk / bw_med;

          ok = ratio >= c->target_bw;
          printf ("  %s  %-24s kernel reads input at %3.0f %% of bandwidth "
                  "(target >= %.0f %%)",
                  verdict (ok), c->name, 100 * ratio, 100 * c->target_bw);
          if (huge && !data_huge)
            printf ("; %.0f %% of the huge-page figure",
                    100 * c->in_bytes / tk / median (bw_huge, reps));
          printf ("\n");
        }
      else if (c->target_mvx > 0)
        {
          double mvx = voxels / tk / 1e6;

          ok = mvx >= c->target_mvx;
          printf ("  %s  %-24s kernel %5.0f MVx/s (target >= %.0f)\n",
                  verdict (ok), c->name, mvx, c->target_mvx);
        }
      else
        continue;
      misses += !ok;
    }
  if (have_gegl)
    for (int i = 0; i < n_cases; i++)
      {
        Case    *c     = &cases[i];
        double   ratio = median (c->t_kernel, reps) / median (c->t_gegl, reps);
        gboolean ok    = ratio >= TARGET_GEGL_RATIO && c->gegl_ok;

        printf ("  %s  %-24s GEGL path at %3.0f %% of the bare kernel "
                "(target >= %.0f %%; a no-op in its place: %3.0f %%)%s\n",
                verdict (ok), c->name, 100 * ratio, 100 * TARGET_GEGL_RATIO,
                100 * median (c->t_kernel, reps) / median (c->t_noop, reps),
                c->gegl_ok ? "" : ", output differs");
        misses += !ok;
        wrong += !c->gegl_ok;
      }
  printf ("%d target%s missed; total run time %.0f s\n", misses,
          misses == 1 ? "" : "s", now_s () - t0);

  for (int i = 0; i < n_cases; i++)
    case_free (&cases[i]);
  for (int k = 0; k < 4; k++)
    {
      if (rnd_gbuf[k])
        g_object_unref (rnd_gbuf[k]);
      free (rnd[k]);
    }
  if (conn_gbuf)
    g_object_unref (conn_gbuf);
  g_clear_object (&grey_gbuf);
  g_clear_object (&grey_sparse_gbuf);
  g_clear_object (&grey_float_gbuf);
  free (grey);
  free (grey_sparse);
  free (grey_float);
  free (conn);
  free (bw_buf);
  free (bw_huge_buf);
  g_free (bw);
  g_free (bw_huge);
  g_free (conn_why);
  gegl_exit ();
  /* A miss is no failure; a wrong result is. */
  if (wrong > 0)
    fprintf (stderr,
             "bench-pool: the GEGL graph's output differs from "
             "the kernel's in %d case%s\n",
             wrong, wrong == 1 ? "" : "s");
  return wrong > 0;
}
