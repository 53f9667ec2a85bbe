/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * SEG_CLONES marks a hot loop that GCC should compile several times, for
 * AVX-512, AVX2 and baseline x86-64, picking one at load time (ifunc).
 * Elsewhere, or with -DSEG_NO_CLONES, it is plain code for the build's
 * target.
 *
 * SEG_HAVE_AVX512 is 1 where kernels written with AVX-512 intrinsics can be
 * compiled (GCC or Clang on x86-64; -DSEG_NO_AVX512 turns them off).  Such
 * a kernel carries SEG_AVX512 and may only run when seg_cpu_has_avx512 ()
 * says so; every caller keeps a portable fallback.
 *
 * seg_prefetch (p, locality) asks for the cache line at p ahead of a read,
 * into the cache levels that locality names as __builtin_prefetch's does
 * (3: all, prefetcht0 on x86; 2: L2 and beyond, prefetcht1); a no-op
 * where the compiler has no such builtin.
 */
#ifndef SEG_SIMD_H
#define SEG_SIMD_H

#include <stdbool.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(SEG_NO_CLONES)
#define SEG_CLONES \
  __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SEG_CLONES
#endif

#if defined(__GNUC__) && defined(__x86_64__) && !defined(SEG_NO_AVX512)
#define SEG_HAVE_AVX512 1
#define SEG_AVX512 \
  __attribute__ ((target ("avx512f,avx512bw,avx512dq,avx512vl")))
#else
#define SEG_HAVE_AVX512 0
#define SEG_AVX512
#endif

/* TRUE when the CPU and the OS support the AVX-512 subsets SEG_AVX512
 * code uses (F, BW, DQ, VL: the x86-64-v4 level). */
static inline bool
seg_cpu_has_avx512 (void)
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

#if defined(__GNUC__)
#define seg_prefetch(p, locality) __builtin_prefetch ((p), 0, (locality))
#else
#define seg_prefetch(p, locality) ((void) (p))
#endif

#endif
