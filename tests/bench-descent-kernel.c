/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The bare descent-direction kernel on a C-order (D, H, W) float32 .npy
 * volume, one thread, for tests/bench-descent.py (which writes the
 * volumes and prints the table; run that, not this):
 *
 *   bench-descent-kernel VOLUME.npy REPS [SX SY SZ]
 *
 * prints the seconds of each repetition, one per line.  The volume is read
 * into memory first, the labels go to memory touched beforehand: the time
 * is the kernel's alone.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seg-descent.h"
#include "seg-npy.h"

static double
now_s (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + (double) t.tv_nsec * 1e-9;
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
      fprintf (stderr, "bench-descent-kernel: cannot read %s\n", path);
      if (f != NULL)
        fclose (f);
      return NULL;
    }
  data = malloc ((size_t) n + 1);
  if (data == NULL || fread (data, 1, (size_t) n, f) != (size_t) n)
    {
      fprintf (stderr, "bench-descent-kernel: cannot read %s\n", path);
      free (data);
      fclose (f);
      return NULL;
    }
  fclose (f);
  *size = (size_t) n;
  return data;
}

int
main (int argc, char **argv)
{
  SegNpyHeader   h;
  unsigned char *file, *labels;
  size_t         size;
  SegVolume      in, out;
  SegDescent     d = { SEG_TYPE_FLOAT, { 1, 1, 1 }, true };
  int            reps;

  if (argc != 3 && argc != 6)
    {
      fprintf (stderr, "usage: bench-descent-kernel VOLUME.npy REPS "
                       "[SX SY SZ]\n");
      return 2;
    }
  reps = atoi (argv[2]);
  for (int a = 0; argc == 6 && a < 3; a++)
    d.spacing[a] = atof (argv[3 + a]);
  if ((file = read_file (argv[1], &size)) == NULL)
    return 1;
  if (seg_npy_header_parse (file, size, &h) != SEG_NPY_OK || h.n_dims != 3 ||
      h.kind != SEG_NPY_FLOAT || h.item_size != 4 || h.fortran_order ||
      h.big_endian || h.data_offset + h.data_size > size)
    {
      fprintf (stderr,
               "bench-descent-kernel: %s is not a C-order 3-D "
               "little-endian float32 array\n",
               argv[1]);
      return 1;
    }
  in     = seg_volume_packed (file + h.data_offset, (int) h.shape[2],
                              (int) h.shape[1], (int) h.shape[0], 4);
  labels = malloc (h.n_items);
  memset (labels, 0, h.n_items);
  out = seg_volume_packed (labels, in.width, in.height, in.depth, 1);
  for (int r = 0; r < reps; r++)
    {
      const double t0     = now_s ();
      SegStatus    status = seg_descent_direction (&in, &out, 0, 0, 0, &d);

      if (status != SEG_OK)
        {
          fprintf (stderr, "bench-descent-kernel: %s\n",
                   seg_status_name (status));
          return 1;
        }
      printf ("%.6f\n", now_s () - t0);
    }
  free (labels);
  free (file);
  return 0;
}
