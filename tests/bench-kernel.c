/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Bare kernels on a C-order (D, H, W) .npy volume, one thread, for the
 * benchmark scripts (which write the volumes and print the tables; run
 * those, not this):
 *
 *   bench-kernel descent VOLUME.npy REPS [SX SY SZ]    (float32; descent)
 *   bench-kernel resample VOLUME.npy REPS MODE W H D   (float32 or uint32;
 *                                                       resample)
 *   bench-kernel read VOLUME.npy REPS                   (one pass over the
 *                                                       volume's bytes)
 *
 * MODE: nearest, linear or area.  Prints the seconds of each repetition,
 * one per line.  The volume is read into memory first, the output goes to
 * memory touched beforehand: the time is the kernel's alone.  Both are
 * allocated as NumPy allocates an array, so that the kernel runs on
 * memory as a Python user's volume lies in it.
 */
#define _DEFAULT_SOURCE

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "seg-descent.h"
#include "seg-npy.h"
#include "seg-resample.h"
#include "seg-rows.h"

static double
now_s (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + (double) t.tv_nsec * 1e-9;
}

/* size bytes from malloc (), as NumPy allocates an array's data: from
 * 4 MiB on, its whole pages advised to be backed by huge pages (where
 * the system allows them), which spares the kernel most TLB misses. */
static void *
numpy_alloc (size_t size)
{
  unsigned char *p = malloc (size);

  if (p != NULL && size >= (size_t) 4 << 20)
    {
      const size_t skip = 4096 - (uintptr_t) p % 4096;

      madvise (p + skip, size - skip, MADV_HUGEPAGE);
    }
  return p;
}

/* The file's bytes (free them); NULL with a message when unreadable. */
static unsigned char *
read_file (const char *path, size_t *size)
{
  FILE          *f = fopen (path, "rb");
  unsigned char *data;
  long           n;

  if (f == NULL || fseek (f, 0, SEEK_END) != 0 || (n = ftell (f)) < 0 ||
      fseek (f, 0, SEEK_SET) != 0)
    {
      fprintf (stderr, "bench-kernel: cannot read %s\n", path);
      if (f != NULL)
        fclose (f);
      return NULL;
    }
  data = numpy_alloc ((size_t) n + 1);
  if (data == NULL || fread (data, 1, (size_t) n, f) != (size_t) n)
    {
      fprintf (stderr, "bench-kernel: cannot read %s\n", path);
      free (data);
      fclose (f);
      return NULL;
    }
  fclose (f);
  *size = (size_t) n;
  return data;
}

/* size bytes of memory, written once, so that a kernel's first writes to
 * it do not count the kernel's page faults (NULL when out of memory). */
static unsigned char *
touched (size_t size)
{
  unsigned char *p = numpy_alloc (size);

  if (p != NULL)
    memset (p, 0, size);
  return p;
}

/* The seconds of one run of a kernel, negative when it fails. */
typedef double (*Run) (const SegVolume *in, void *data);

/* Runs run reps times on in, printing each time. */
static int
repeat (Run run, const SegVolume *in, void *data, int reps)
{
  for (int r = 0; r < reps; r++)
    {
      const double t = run (in, data);

      if (t < 0)
        return 1;
      printf ("%.6f\n", t);
    }
  return 0;
}

typedef struct
{
  SegDescent d;
  SegVolume  out;
} Descent;

static double
run_descent (const SegVolume *in, void *data)
{
  Descent     *job    = data;
  const double t0     = now_s ();
  SegStatus    status = seg_descent_direction (in, &job->out, 0, 0, 0, &job->d);

  if (status != SEG_OK)
    {
      fprintf (stderr, "bench-kernel: %s\n", seg_status_name (status));
      return -1;
    }
  return now_s () - t0;
}

typedef struct
{
  SegResample r;
  SegVolume   out;
} Resample;

static double
run_resample (const SegVolume *in, void *data)
{
  Resample    *job     = data;
  const int    zero[3] = { 0, 0, 0 };
  const double t0      = now_s ();
  SegStatus    status  = seg_resample (in, zero, &job->out, zero, &job->r);

  if (status != SEG_OK)
    {
      fprintf (stderr, "bench-kernel: %s\n", seg_status_name (status));
      return -1;
    }
  return now_s () - t0;
}

/* The XOR of the volume's 64-bit words: a pass over its bytes that
 * nothing can skip, in vectors (the memory's read bandwidth). */
SEG_CLONES static uint64_t
xor_of (const uint64_t *restrict w, size_t n)
{
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t   i = 0;

  for (; i + 4 <= n; i += 4)
    {
      a ^= w[i];
      b ^= w[i + 1];
      c ^= w[i + 2];
      d ^= w[i + 3];
    }
  for (; i < n; i++)
    a ^= w[i];
  return a ^ b ^ c ^ d;
}

/* Where the XOR goes, so that the pass is never left out. */
static volatile uint64_t read_sink;

static double
run_read (const SegVolume *in, void *data)
{
  const double t0 = now_s ();

  (void) data;
  /* The volume's words: an odd number of floats leaves one out. */
  read_sink ^=
    xor_of (in->data, (size_t) in->width * in->height * in->depth / 2);
  return now_s () - t0;
}

int
main (int argc, char **argv)
{
  const char    *usage = "usage: bench-kernel descent VOLUME.npy REPS "
                         "[SX SY SZ]\n"
                         "       bench-kernel resample VOLUME.npy REPS "
                         "nearest|linear|area W H D\n"
                         "       bench-kernel read VOLUME.npy REPS\n";
  SegNpyHeader   h;
  unsigned char *file, *out;
  size_t         size;
  SegVolume      in;
  int            reps, status;
  const bool     descent  = argc > 1 && strcmp (argv[1], "descent") == 0;
  const bool     resample = argc > 1 && strcmp (argv[1], "resample") == 0;
  const bool     read     = argc > 1 && strcmp (argv[1], "read") == 0;

  if (!(descent && (argc == 4 || argc == 7)) && !(resample && argc == 8) &&
      !(read && argc == 4))
    {
      fputs (usage, stderr);
      return 2;
    }
  reps = atoi (argv[3]);
  if ((file = read_file (argv[2], &size)) == NULL)
    return 1;
  if (seg_npy_header_parse (file, size, &h) != SEG_NPY_OK || h.n_dims != 3 ||
      h.item_size != 4 || h.fortran_order || h.big_endian ||
      h.data_offset + h.data_size > size ||
      !(h.kind == SEG_NPY_FLOAT || (!descent && h.kind == SEG_NPY_UINT)))
    {
      fprintf (stderr,
               "bench-kernel: %s is not a C-order 3-D little-endian "
               "float32 (or, to resample or read, uint32) array\n",
               argv[2]);
      return 1;
    }
  in = seg_volume_packed (file + h.data_offset, (int) h.shape[2],
                          (int) h.shape[1], (int) h.shape[0], 4);
  if (read)
    {
      out    = NULL;
      status = repeat (run_read, &in, NULL, reps);
    }
  else if (descent)
    {
      Descent job = { { SEG_TYPE_FLOAT, { 1, 1, 1 }, true }, in };

      for (int a = 0; argc == 7 && a < 3; a++)
        job.d.spacing[a] = atof (argv[4 + a]);
      out     = touched (h.n_items);
      job.out = seg_volume_packed (out, in.width, in.height, in.depth, 1);
      status  = repeat (run_descent, &in, &job, reps);
    }
  else
    {
      static const char *const modes[] = { "nearest", "linear", "area" };
      Resample job = { .r = { .in_size = { in.width, in.height, in.depth },
                              .layout  = { h.kind == SEG_NPY_FLOAT
                                             ? SEG_TYPE_FLOAT
                                             : SEG_TYPE_U32,
                                          1, -1 } } };

      for (int m = 0; m < 3; m++)
        if (strcmp (argv[4], modes[m]) == 0)
          job.r.mode = (SegResampleMode) m;
      for (int a = 0; a < 3; a++)
        job.r.out_size[a] = atoi (argv[5 + a]);
      out     = touched ((size_t) job.r.out_size[0] * job.r.out_size[1] *
                         job.r.out_size[2] * 4);
      job.out = seg_volume_packed (out, job.r.out_size[0], job.r.out_size[1],
                                   job.r.out_size[2], 4);
      status  = repeat (run_resample, &in, &job, reps);
    }
  free (out);
  free (file);
  return status;
}
