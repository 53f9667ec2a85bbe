/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * SEG_CLONES marks a hot loop that GCC should compile several times, for
 * AVX-512, AVX2 and baseline x86-64, picking one at load time (ifunc).
 * Elsewhere, or with -DSEG_NO_CLONES, it is plain code for the build's
 * target.
 */
#ifndef SEG_SIMD_H
#define SEG_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(SEG_NO_CLONES)
#define SEG_CLONES \
  __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SEG_CLONES
#endif

#endif
