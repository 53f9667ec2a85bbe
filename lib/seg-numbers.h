/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Components as numbers: what the kernels that compute with pixel values
 * (averaging, resampling) share to read a component of any type as a
 * double and to store a double back into one.
 */
#ifndef SEG_NUMBERS_H
#define SEG_NUMBERS_H

#include <stdint.h>

#include "seg-average-pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every binary16 value is exactly a double. */
double seg_half_to_double (uint16_t h);

/* x rounded once to binary16, to nearest with ties to even: subnormals,
 * overflow to infinity, NaN stays (a quiet) NaN. */
uint16_t seg_half_from_double (double x);

/* The component of type at p (any alignment) as a double: exact for every
 * type but 64-bit integers beyond 2⁵³, which are rounded to nearest. */
double seg_number_load (const uint8_t *p, SegComponentType type);

/* v into the component of type at p (any alignment): real types rounded
 * once to nearest, ties to even; integer types rounded to nearest, halves
 * away from zero, and clamped to the type's range (NaN gives 0). */
void seg_number_store (uint8_t *p, SegComponentType type, double v);

#ifdef __cplusplus
}
#endif

#endif
