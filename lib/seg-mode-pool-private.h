/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Test hooks of seg-mode-pool.c; not part of the library's API.
 */
#ifndef SEG_MODE_POOL_PRIVATE_H
#define SEG_MODE_POOL_PRIVATE_H

#include <stdbool.h>

/* Whether seg_mode_pool () may use its AVX-512 row kernels where the CPU
 * has them (true, the default), or only the portable ones, which the
 * tests then check on AVX-512 machines as well.  Not thread-safe: change
 * it only while no call runs. */
void seg__mode_pool_allow_avx512 (bool allow);

#endif
