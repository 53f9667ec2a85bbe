/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * libFuzzer target for the .npy header parser (lib/seg-npy.c).  Every
 * input is a file's first bytes: the parser must never read outside them,
 * and a header it accepts must be consistent and survive the writer: the
 * written header parses back to the same array.
 *
 * Built by meson when the compiler is clang.  Run, from the source root:
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined \
 *       -Db_lundef=false
 *   ninja -C build-fuzz tests/fuzz-npy-header
 *   mkdir -p /tmp/npy-fuzz
 *   build-fuzz/tests/fuzz-npy-header -max_total_time=300 -max_len=4096 \
 *       /tmp/npy-fuzz tests/npy-corpus
 * New inputs go to /tmp/npy-fuzz; a crash is written to crash-<sha1>.
 * Copy an input worth keeping into tests/npy-corpus/ as fuzz-<name>.npy:
 * the tests replay it through the parser and through seg:npy-load.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seg-npy.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (int condition)
{
  if (!condition)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  SegNpyHeader h, back;
  uint8_t      out[SEG_NPY_WRITE_MAX_SIZE];
  size_t       n;
  uint64_t     items = 1;

  if (seg_npy_header_parse (data, size, &h) != SEG_NPY_OK)
    {
      check (h.reason != NULL);
      check (strlen (h.detail) < SEG_NPY_DETAIL_SIZE);
      return 0;
    }

  check (h.reason == NULL);
  check (h.data_offset <= size);
  check (h.n_dims >= 0 && h.n_dims <= SEG_NPY_MAX_DIMS);
  for (int i = 0; i < h.n_dims; i++)
    items *= h.shape[i];
  check (items == h.n_items);
  check (h.data_size == h.n_items * (uint64_t) h.item_size);
  check (h.data_size <= (uint64_t) INT64_MAX);

  n = seg_npy_header_write (&h, out, sizeof out);
  check (n > 0 && n % 64 == 0);
  check (seg_npy_header_parse (out, n, &back) == SEG_NPY_OK);
  check (back.data_offset == n);
  check (back.kind == h.kind && back.item_size == h.item_size);
  check (back.big_endian == h.big_endian);
  check (back.fortran_order == h.fortran_order);
  check (back.n_dims == h.n_dims);
  check (memcmp (back.shape, h.shape, sizeof h.shape) == 0);
  return 0;
}
