/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Which kernels run (seg-rows.h).
 */
#include <stdlib.h>
#include <string.h>

#include "seg-rows.h"

/* The CPU and the OS support the AVX-512 subsets SEG_AVX512 code uses
 * (F, BW, DQ, VL: the x86-64-v4 level). */
static bool
cpu_has_avx512 (void)
{
#if SEG_HAVE_AVX512
  __builtin_cpu_init ();
  return __builtin_cpu_supports ("avx512f") &&
         __builtin_cpu_supports ("avx512bw") &&
         __builtin_cpu_supports ("avx512dq") &&
         __builtin_cpu_supports ("avx512vl");
#else
  return false;
#endif
}

/* Whether SEG_KERNELS is name. */
static bool
kernels_asked (const char *name)
{
  const char *kernels = getenv ("SEG_KERNELS");

  return kernels != NULL && strcmp (kernels, name) == 0;
}

bool
seg_kernels_avx512 (void)
{
  /* -1: not decided yet.  Threads that race here decide the same. */
  static int choice = -1;
  int        c      = __atomic_load_n (&choice, __ATOMIC_RELAXED);

  if (c < 0)
    {
      c = cpu_has_avx512 () && !kernels_asked ("portable") &&
          !kernels_asked ("avx2");
      __atomic_store_n (&choice, c, __ATOMIC_RELAXED);
    }
  return c != 0;
}

bool
seg_kernels_wide (void)
{
  static int choice = -1;
  int        c      = __atomic_load_n (&choice, __ATOMIC_RELAXED);

  if (c < 0)
    {
#if defined(__GNUC__) && defined(__x86_64__)
      __builtin_cpu_init ();
      c = __builtin_cpu_supports ("avx2") && !kernels_asked ("portable");
#else
      c = 0;
#endif
      __atomic_store_n (&choice, c, __ATOMIC_RELAXED);
    }
  return c != 0;
}
