/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Unit tests of lib/seg-label.h, without GEGL: the label tests, and the
 * label table against a plain list searched from the start, on random
 * streams of labels of 1 … 17 bytes (few distinct labels and many, labels
 * that differ only in their last byte, background), in memory of its own
 * that grows and in fixed memory that fills up, cleared and filled again.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-harness.h"
#include "seg-label.h"

/* The number a plain list gives label: its first place in list (n labels
 * of bpp bytes), which grows by it when it is new. */
static size_t
list_add (uint8_t *list, size_t *n, const uint8_t *label, int bpp)
{
  for (size_t i = 0; i < *n; i++)
    if (memcmp (list + i * (size_t) bpp, label, (size_t) bpp) == 0)
      return i;
  memcpy (list + *n * (size_t) bpp, label, (size_t) bpp);
  return (*n)++;
}

/* A random label: one of `distinct` values, spread over all its bytes or
 * only its last one, or background now and then. */
static void
random_label (Rng *r, uint8_t *label, int bpp, int distinct)
{
  uint64_t v = (uint64_t) rng_below (r, distinct);

  memset (label, 0, (size_t) bpp);
  if (rng_chance (r, 5))
    return;
  if (v % 2 == 0)
    label[bpp - 1] = (uint8_t) (v + 1); /* the last byte only */
  else
    for (int i = 0; i < bpp; i++)
      label[i] = (uint8_t) ((v + 1) * 0x9Du >> (i % 8));
}

START_TEST (test_table_numbers_labels_as_a_list_does)
{
  Rng       r   = rng_new ((uint64_t) _i, 31);
  const int bpp = rng_range (&r, 1, 17);
  const int distinct =
    rng_chance (&r, 50) ? rng_range (&r, 1, 20) : rng_range (&r, 100, 1500);
  const int     n_labels = rng_range (&r, 1, 3000);
  const bool    fixed    = rng_chance (&r, 50);
  const size_t  capacity = (size_t) rng_range (&r, 1, 600);
  uint8_t      *list     = malloc ((size_t) n_labels * (size_t) bpp);
  void         *memory   = NULL;
  SegLabelTable t;
  size_t        listed = 0;

  if (fixed)
    {
      ck_assert_uint_gt (seg_label_table_fixed_size (capacity, bpp), 0);
      memory = malloc (seg_label_table_fixed_size (capacity, bpp));
      seg_label_table_init_fixed (&t, memory, capacity, bpp);
    }
  else
    ck_assert (seg_label_table_init (&t, bpp));

  for (int round = 0; round < 2; round++)
    {
      for (int i = 0; i < n_labels; i++)
        {
          uint8_t label[17];
          size_t  before = listed, want, got;

          random_label (&r, label, bpp, distinct);
          want = list_add (list, &listed, label, bpp);
          got  = seg_label_table_add (&t, label);
          if (fixed && want >= capacity)
            {
              /* Full: a new label is refused, and the table is as it
               * was. */
              if (got != SEG_LABEL_NONE || t.n != capacity)
                ck_abort_msg ("seed %d: label %zu of a full table of %zu "
                              "got number %zu, and it holds %zu",
                              _i, want, capacity, got, t.n);
              listed = before;
              continue;
            }
          /* (Aborts, not assertions, in this loop: check writes to a file
           * each time an assertion passes.) */
          if (got != want || t.n != listed ||
              memcmp (seg_label_table_label (&t, got), label, (size_t) bpp))
            ck_abort_msg ("seed %d, round %d, %d bytes: label %d is number "
                          "%zu, want %zu; %zu labels held, want %zu",
                          _i, round, bpp, i, got, want, t.n, listed);
        }
      /* Cleared, the same table numbers a new stream from 0 again. */
      seg_label_table_clear (&t);
      ck_assert_uint_eq (t.n, 0);
      for (size_t s = 0; s <= t.mask; s++)
        if (t.slots[s] != 0)
          ck_abort_msg ("seed %d: slot %zu not cleared", _i, s);
      listed = 0;
    }

  seg_label_table_free (&t);
  free (memory);
  free (list);
}
END_TEST

START_TEST (test_label_tests)
{
  const uint8_t zero[16] = { 0 };
  uint8_t       a[16] = { 0 }, b[16] = { 0 };

  for (int bpp = 1; bpp <= 16; bpp++)
    {
      ck_assert (seg_label_is_background_in (zero, bpp, SEG_BACKGROUND_ZEROS));
      for (int i = 0; i < bpp; i++)
        {
          /* Any one byte set, the high ones of a wide label too, makes a
           * label that is not background and not equal to zero. */
          memset (a, 0, sizeof a);
          a[i] = 0x80;
          ck_assert (
            !seg_label_is_background_in (a, bpp, SEG_BACKGROUND_ZEROS));
          ck_assert (!seg_label_equal (a, zero, bpp));
          memcpy (b, a, sizeof a);
          ck_assert (seg_label_equal (a, b, bpp));
          ck_assert (seg_label_hash (a, bpp) == seg_label_hash (b, bpp));
        }
      /* Bytes past bpp do not count. */
      memset (a, 0, sizeof a);
      a[bpp % 16] = bpp < 16 ? 1 : 0;
      ck_assert (bpp == 16 ||
                 seg_label_is_background_in (a, bpp, SEG_BACKGROUND_ZEROS));
    }
}
END_TEST

START_TEST (test_fixed_size_refuses_what_does_not_fit)
{
  ck_assert_uint_eq (seg_label_table_fixed_size (1, 0), 0);
  ck_assert_uint_eq (seg_label_table_fixed_size (SIZE_MAX / 2, 1), 0);
  ck_assert_uint_eq (seg_label_table_fixed_size ((size_t) UINT32_MAX, 1), 0);
  /* 4 labels of 3 bytes: 8 slots of 4 bytes and 12 bytes of labels. */
  ck_assert_uint_eq (seg_label_table_fixed_size (4, 3), 8 * 4 + 12);
}
END_TEST

int
main (void)
{
  const TTest *const plain[] = {
    test_label_tests,
    test_fixed_size_refuses_what_does_not_fit,
  };
  Suite *s = suite_create ("label");

  add_tcase (s, "tests", 30, plain, 2);
  add_loop_tcase (s, "table", 300, test_table_numbers_labels_as_a_list_does,
                  16);
  return run_suite (s);
}
