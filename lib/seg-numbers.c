/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Components as numbers: see seg-numbers.h.
 */
#include "seg-numbers.h"

#include <math.h>
#include <string.h>

double
seg_half_to_double (uint16_t h)
{
  const uint64_t sign     = (uint64_t) (h >> 15) << 63;
  const unsigned exponent = h >> 10 & 0x1f;
  const uint64_t mantissa = h & 0x3ff;
  uint64_t       bits;
  double         v;

  if (exponent == 0)
    {
      /* Zero or subnormal: mantissa × 2^-24, exactly. */
      v = (double) mantissa * 0x1p-24;
      return sign ? -v : v;
    }
  if (exponent == 0x1f)
    bits = sign | (uint64_t) 0x7ff << 52 | mantissa << 42; /* inf, NaN */
  else
    bits = sign | (uint64_t) (exponent - 15 + 1023) << 52 | mantissa << 42;
  memcpy (&v, &bits, sizeof v);
  return v;
}

uint16_t
seg_half_from_double (double x)
{
  uint64_t bits, significand, rest, halfway;
  uint16_t sign;
  int      exponent, shift;
  unsigned m;

  memcpy (&bits, &x, sizeof bits);
  sign     = (uint16_t) (bits >> 48 & 0x8000);
  exponent = (int) (bits >> 52 & 0x7ff);
  if (exponent == 0x7ff)
    return sign | ((bits << 12) != 0 ? 0x7e00 : 0x7c00);
  if (exponent == 0)
    return sign; /* zero, or a double subnormal: far below 2^-25 */

  /* |x| = significand × 2^(exponent - 52), significand < 2^53. */
  exponent -= 1023;
  if (exponent >= 16)
    return sign | 0x7c00;
  if (exponent < -25)
    return sign; /* below half of the smallest subnormal, 2^-25 */
  significand = (bits & (((uint64_t) 1 << 52) - 1)) | (uint64_t) 1 << 52;

  /* Bits below the half's last place: its quantum is 2^(exponent - 10)
   * for normal halves, 2^-24 for subnormals (exponent < -14). */
  shift   = exponent >= -14 ? 42 : 28 - exponent;
  m       = (unsigned) (significand >> shift);
  rest    = significand & (((uint64_t) 1 << shift) - 1);
  halfway = (uint64_t) 1 << (shift - 1);
  if (rest > halfway || (rest == halfway && (m & 1) != 0))
    m++;

  /* A normal m counts the implicit bit (0x400 … 0x800); carrying into the
   * next binade, and from the largest finite half into infinity, is then
   * plain addition.  A subnormal m (0 … 0x400) is the encoding itself. */
  if (exponent >= -14)
    return sign | (uint16_t) (((unsigned) (exponent + 14) << 10) + m);
  return sign | (uint16_t) m;
}

/* A case of a switch on type: the component at p as C type CTYPE. */
#define LOAD(TYPE, CTYPE)       \
  case TYPE:                    \
    {                           \
      CTYPE v;                  \
                                \
      memcpy (&v, p, sizeof v); \
      return (double) v;        \
    }

double
seg_number_load (const uint8_t *p, SegComponentType type)
{
  switch (type)
    {
      LOAD (SEG_TYPE_U8, uint8_t)
      LOAD (SEG_TYPE_U16, uint16_t)
      LOAD (SEG_TYPE_U32, uint32_t)
      LOAD (SEG_TYPE_U64, uint64_t)
      LOAD (SEG_TYPE_I8, int8_t)
      LOAD (SEG_TYPE_I16, int16_t)
      LOAD (SEG_TYPE_I32, int32_t)
      LOAD (SEG_TYPE_I64, int64_t)
      LOAD (SEG_TYPE_FLOAT, float)
      LOAD (SEG_TYPE_DOUBLE, double)
    case SEG_TYPE_HALF:
      {
        uint16_t h;

        memcpy (&h, p, sizeof h);
        return seg_half_to_double (h);
      }
    default: return 0;
    }
}

/* A case of a switch on type: v rounded, halves away from zero, clamped
 * to [LO, HI] and stored as C type CTYPE.  The bounds as doubles: those of
 * 64-bit types round up to 2⁶³ or 2⁶⁴, which the comparisons keep out. */
#define STORE_INT(TYPE, CTYPE, LO, HI) \
  case TYPE:                           \
    {                                  \
      const double r = round (v);      \
      CTYPE        c;                  \
                                       \
      if (!(r == r))                   \
        c = 0;                         \
      else if (r <= (double) (LO))     \
        c = (LO);                      \
      else if (r >= (double) (HI))     \
        c = (HI);                      \
      else                             \
        c = (CTYPE) r;                 \
      memcpy (p, &c, sizeof c);        \
      return;                          \
    }

void
seg_number_store (uint8_t *p, SegComponentType type, double v)
{
  switch (type)
    {
      STORE_INT (SEG_TYPE_U8, uint8_t, 0, UINT8_MAX)
      STORE_INT (SEG_TYPE_U16, uint16_t, 0, UINT16_MAX)
      STORE_INT (SEG_TYPE_U32, uint32_t, 0, UINT32_MAX)
      STORE_INT (SEG_TYPE_U64, uint64_t, 0, UINT64_MAX)
      STORE_INT (SEG_TYPE_I8, int8_t, INT8_MIN, INT8_MAX)
      STORE_INT (SEG_TYPE_I16, int16_t, INT16_MIN, INT16_MAX)
      STORE_INT (SEG_TYPE_I32, int32_t, INT32_MIN, INT32_MAX)
      STORE_INT (SEG_TYPE_I64, int64_t, INT64_MIN, INT64_MAX)
    case SEG_TYPE_HALF:
      {
        const uint16_t h = seg_half_from_double (v);

        memcpy (p, &h, sizeof h);
        return;
      }
    case SEG_TYPE_FLOAT:
      {
        const float f = (float) v;

        memcpy (p, &f, sizeof f);
        return;
      }
    case SEG_TYPE_DOUBLE: memcpy (p, &v, sizeof v); return;
    default: return;
    }
}
