/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The reference steepest-descent direction (ref-descent.h).
 */
#include "ref-descent.h"

#include <math.h>
#include <stddef.h>

int
ref_descent_label (const double *v,
                   int           w,
                   int           h,
                   int           d,
                   int           x,
                   int           y,
                   int           z,
                   const double  spacing[3],
                   bool          three_d)
{
  const int    centre = three_d ? 13 : 4;
  const double c      = v[((size_t) z * h + y) * w + x];
  int          best   = -1;
  double       score  = 0;

  if (isnan (c))
    return centre;
  for (int dz = -1; dz <= 1; dz++)
    for (int dy = -1; dy <= 1; dy++)
      for (int dx = -1; dx <= 1; dx++)
        {
          const int xx = x + dx, yy = y + dy, zz = z + dz;
          double    n, s, sx, sy, sz;

          if ((dx == 0 && dy == 0 && dz == 0) || (!three_d && dz != 0) ||
              xx < 0 || yy < 0 || zz < 0 || xx >= w || yy >= h || zz >= d)
            continue;
          n = v[((size_t) zz * h + yy) * w + xx];
          if (isnan (n))
            continue;
          sx = dx * spacing[0];
          sy = dy * spacing[1];
          sz = dz * spacing[2];
          s  = (c - n) / sqrt (sx * sx + sy * sy + sz * sz);
          if (isnan (s))
            continue;
          if (best < 0 || s > score)
            {
              best  = three_d ? (dz + 1) * 9 + (dy + 1) * 3 + (dx + 1)
                              : (dy + 1) * 3 + (dx + 1);
              score = s;
            }
        }
  return best < 0 || score < 0 ? centre : best;
}
