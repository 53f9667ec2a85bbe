/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The label table of seg-label.h.
 */
#include <stdlib.h>

#include "seg-label.h"

/* Labels a table that grows starts with room for. */
#define FIRST_CAPACITY 64

/* Labels a table numbers at most: a slot holds 1 + a number in 32 bits. */
#define MAX_LABELS ((size_t) UINT32_MAX - 1)

/* Slots for capacity labels: a power of two of at least 2 capacity, so the
 * table is at most half full and probes stay short; 0 when that many
 * would overflow. */
static size_t
slots_for (size_t capacity)
{
  size_t slots = 2;

  while (slots < 2 * capacity)
    {
      if (slots > SIZE_MAX / 2)
        return 0;
      slots *= 2;
    }
  return slots;
}

size_t
seg_label_table_fixed_size (size_t capacity, int bpp)
{
  size_t slots = slots_for (capacity);

  if (bpp < 1 || capacity > MAX_LABELS || slots == 0 ||
      slots > SIZE_MAX / sizeof (uint32_t) ||
      capacity > (SIZE_MAX - slots * sizeof (uint32_t)) / (size_t) bpp)
    return 0;
  return slots * sizeof (uint32_t) + capacity * (size_t) bpp;
}

void
seg_label_table_init_fixed (SegLabelTable *t,
                            void          *memory,
                            size_t         capacity,
                            int            bpp)
{
  size_t slots = slots_for (capacity);

  t->bpp      = bpp;
  t->n        = 0;
  t->capacity = capacity;
  t->mask     = slots - 1;
  t->slots    = memory;
  t->labels   = (uint8_t *) memory + slots * sizeof (uint32_t);
  t->grows    = false;
  memset (t->slots, 0, slots * sizeof (uint32_t));
}

bool
seg_label_table_init (SegLabelTable *t, int bpp)
{
  const size_t slots = slots_for (FIRST_CAPACITY);

  *t = (SegLabelTable){
    .bpp = bpp, .capacity = FIRST_CAPACITY, .mask = slots - 1, .grows = true
  };
  t->slots  = calloc (slots, sizeof (uint32_t));
  t->labels = malloc (FIRST_CAPACITY * (size_t) bpp);
  if (t->slots == NULL || t->labels == NULL)
    {
      seg_label_table_free (t);
      return false;
    }
  return true;
}

/* The free slot where label, which the table does not hold, goes. */
static size_t
free_slot (const SegLabelTable *t, const uint8_t *label)
{
  size_t h = (size_t) seg_label_hash (label, t->bpp) & t->mask;

  while (t->slots[h] != 0)
    h = (h + 1) & t->mask;
  return h;
}

/* Twice the room, every label in its new slot; false when out of room. */
static bool
grow (SegLabelTable *t)
{
  const size_t capacity = t->capacity * 2;
  const size_t slots    = slots_for (capacity);
  uint32_t    *new_slots;
  uint8_t     *new_labels;

  if (capacity > MAX_LABELS || slots == 0 ||
      capacity > SIZE_MAX / (size_t) t->bpp)
    return false;
  new_slots = calloc (slots, sizeof (uint32_t));
  new_labels =
    new_slots ? realloc (t->labels, capacity * (size_t) t->bpp) : NULL;
  if (new_labels == NULL)
    {
      free (new_slots);
      return false;
    }
  free (t->slots);
  t->slots    = new_slots;
  t->labels   = new_labels;
  t->capacity = capacity;
  t->mask     = slots - 1;
  for (size_t i = 0; i < t->n; i++)
    t->slots[free_slot (t, seg_label_table_label (t, i))] = (uint32_t) i + 1;
  return true;
}

size_t
seg_label_table_find (const SegLabelTable *t, const uint8_t *label)
{
  return seg_label_table_find_inline (t, label, t->bpp);
}

size_t
seg_label_table_add (SegLabelTable *t, const uint8_t *label)
{
  const size_t k = seg_label_table_find_inline (t, label, t->bpp);

  if (k != SEG_LABEL_NONE)
    return k;
  if (t->n == t->capacity && (!t->grows || !grow (t)))
    return SEG_LABEL_NONE;
  memcpy (t->labels + t->n * (size_t) t->bpp, label, (size_t) t->bpp);
  t->slots[free_slot (t, label)] = (uint32_t) t->n + 1;
  return t->n++;
}

void
seg_label_table_clear (SegLabelTable *t)
{
  for (size_t i = 0; i < t->n; i++)
    {
      /* Each label is in its probe chain; slots cleared before it on the
       * way are passed over, not taken for its end. */
      size_t h =
        (size_t) seg_label_hash (seg_label_table_label (t, i), t->bpp) &
        t->mask;

      while (t->slots[h] != (uint32_t) i + 1)
        h = (h + 1) & t->mask;
      t->slots[h] = 0;
    }
  t->n = 0;
}

void
seg_label_table_free (SegLabelTable *t)
{
  if (t->grows)
    {
      free (t->slots);
      free (t->labels);
    }
  t->slots  = NULL;
  t->labels = NULL;
  t->n = t->capacity = 0;
}
