/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The .npy header parser and writer of lib/seg-npy.c: every header NumPy
 * writes (dtypes, byte orders, Fortran order, versions 1.0 to 3.0), the
 * variants older NumPy and other writers produce, every kind of malformed
 * header, every truncation, overflowing sizes, the writer against NumPy's
 * own bytes, seeded mutations, and the committed corpus of malformed files
 * (tests/npy-corpus/, replayed here through the parser and in
 * test-gegl-npy.c through seg:npy-load).
 */
#include <check.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "seg-npy.h"

/* A .npy file's header (no data) for a dictionary text, in a version. */
static GByteArray *
npy_bytes (const gchar *dict, gint version, gboolean pad)
{
  GByteArray *b        = g_byte_array_new ();
  gsize       prelude  = version == 1 ? 10 : 12;
  gsize       len      = strlen (dict) + 1;
  guint8      head[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', (guint8) version, 0 };

  if (pad)
    len += 63 - (prelude + len + 63) % 64;
  for (gsize i = 0; i < prelude - 8; i++)
    head[8 + i] = (guint8) (len >> (8 * i));
  g_byte_array_append (b, head, (guint) prelude);
  g_byte_array_append (b, (const guint8 *) dict, (guint) strlen (dict));
  while (b->len < prelude + len - 1)
    g_byte_array_append (b, (const guint8 *) " ", 1);
  g_byte_array_append (b, (const guint8 *) "\n", 1);
  return b;
}

static SegNpyStatus
parse_text (const gchar *dict, SegNpyHeader *h)
{
  GByteArray  *b      = npy_bytes (dict, 1, TRUE);
  SegNpyStatus status = seg_npy_header_parse (b->data, b->len, h);

  g_byte_array_unref (b);
  return status;
}

/* ------------------------------------------------------------------------
 * Headers NumPy writes
 * --------------------------------------------------------------------- */

typedef struct
{
  const gchar *descr;
  SegNpyKind   kind;
  gint         size;
  gboolean     big_endian;
} DtypeCase;

static const DtypeCase dtypes[] = {
  { "|b1", SEG_NPY_BOOL, 1, FALSE },
  { "|u1", SEG_NPY_UINT, 1, FALSE },
  { "<u2", SEG_NPY_UINT, 2, FALSE },
  { "<u4", SEG_NPY_UINT, 4, FALSE },
  { "<u8", SEG_NPY_UINT, 8, FALSE },
  { "|i1", SEG_NPY_INT, 1, FALSE },
  { "<i2", SEG_NPY_INT, 2, FALSE },
  { "<i4", SEG_NPY_INT, 4, FALSE },
  { "<i8", SEG_NPY_INT, 8, FALSE },
  { "<f2", SEG_NPY_FLOAT, 2, FALSE },
  { "<f4", SEG_NPY_FLOAT, 4, FALSE },
  { "<f8", SEG_NPY_FLOAT, 8, FALSE },
  { ">u2", SEG_NPY_UINT, 2, TRUE },
  { ">u4", SEG_NPY_UINT, 4, TRUE },
  { ">u8", SEG_NPY_UINT, 8, TRUE },
  { ">i2", SEG_NPY_INT, 2, TRUE },
  { ">i4", SEG_NPY_INT, 4, TRUE },
  { ">i8", SEG_NPY_INT, 8, TRUE },
  { ">f2", SEG_NPY_FLOAT, 2, TRUE },
  { ">f4", SEG_NPY_FLOAT, 4, TRUE },
  { ">f8", SEG_NPY_FLOAT, 8, TRUE },
  /* Not written by NumPy for these sizes, but valid descriptors. */
  { "<u1", SEG_NPY_UINT, 1, FALSE },
  { ">i1", SEG_NPY_INT, 1, FALSE },
  { "u2", SEG_NPY_UINT, 2, G_BYTE_ORDER == G_BIG_ENDIAN },
  { "=i4", SEG_NPY_INT, 4, G_BYTE_ORDER == G_BIG_ENDIAN },
};

START_TEST (test_every_dtype_parses)
{
  const DtypeCase *d = &dtypes[_i];
  gchar           *dict;
  SegNpyHeader     h;

  dict = g_strdup_printf ("{'descr': '%s', 'fortran_order': False, "
                          "'shape': (3, 4), }",
                          d->descr);
  ck_assert_int_eq (parse_text (dict, &h), SEG_NPY_OK);
  ck_assert_int_eq (h.kind, d->kind);
  ck_assert_int_eq (h.item_size, d->size);
  ck_assert_int_eq (h.big_endian, d->big_endian);
  ck_assert_int_eq (h.n_items, 12);
  ck_assert_int_eq (h.data_size, 12 * d->size);
  ck_assert_int_eq (h.data_offset, 128);
  ck_assert_ptr_null (h.reason);
  g_free (dict);
}
END_TEST

START_TEST (test_shapes_of_zero_to_four_dimensions)
{
  static const struct
  {
    const gchar *text;
    gint         n_dims;
    guint64      shape[4];
    guint64      n_items;
  } cases[] = {
    { "()", 0, { 0 }, 1 },
    { "(5,)", 1, { 5 }, 5 },
    { "(5, 7)", 2, { 5, 7 }, 35 },
    { "(3, 5, 7)", 3, { 3, 5, 7 }, 105 },
    { "(2, 3, 5, 7)", 4, { 2, 3, 5, 7 }, 210 },
    { "(0, 5)", 2, { 0, 5 }, 0 },
    { "(512, 512, 512)", 3, { 512, 512, 512 }, 134217728 },
    { "(3L, 4L)", 2, { 3, 4 }, 12 },
    { "( 3 , 4 , )", 2, { 3, 4 }, 12 },
    { "(3,4)", 2, { 3, 4 }, 12 },
    { "(007,)", 1, { 7 }, 7 },
  };
  SegNpyHeader h;
  gchar       *dict;

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      dict = g_strdup_printf ("{'descr': '<u2', 'fortran_order': True, "
                              "'shape': %s, }",
                              cases[c].text);
      ck_assert_msg (parse_text (dict, &h) == SEG_NPY_OK, "%s: %s (%s)",
                     cases[c].text, h.reason, h.detail);
      ck_assert_int_eq (h.n_dims, cases[c].n_dims);
      for (gint i = 0; i < h.n_dims; i++)
        ck_assert_int_eq (h.shape[i], cases[c].shape[i]);
      ck_assert_int_eq (h.n_items, cases[c].n_items);
      ck_assert (h.fortran_order);
      g_free (dict);
    }
}
END_TEST

START_TEST (test_versions_two_and_three_have_four_byte_lengths)
{
  const gchar *dict = "{'descr': '<u4', 'fortran_order': False, "
                      "'shape': (3, 5, 7), }";
  SegNpyHeader h;

  for (gint version = 1; version <= 3; version++)
    {
      GByteArray *b = npy_bytes (dict, version, TRUE);

      ck_assert_int_eq (seg_npy_header_parse (b->data, b->len, &h), SEG_NPY_OK);
      ck_assert_int_eq (h.version, version);
      ck_assert_int_eq (h.data_offset, b->len);
      ck_assert_int_eq (h.n_items, 105);
      g_byte_array_unref (b);
    }
}
END_TEST

/* Spelling that NumPy accepts (it evaluates the header as Python). */
START_TEST (test_python_spelling_variants_parse)
{
  static const gchar *const dicts[] = {
    "{\"descr\": \"<u2\", \"fortran_order\": False, \"shape\": (3, 4)}",
    "{'shape': (3, 4), 'fortran_order': False, 'descr': '<u2'}",
    "{ 'descr' :'<u2' ,\n 'fortran_order'\t: False,'shape':( 3 ,4 , ) }",
    "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4)}",
    "{'descr':'<u2','fortran_order':False,'shape':(3,4),}\r\n\t ",
  };
  SegNpyHeader h;

  for (gsize i = 0; i < G_N_ELEMENTS (dicts); i++)
    {
      ck_assert_msg (parse_text (dicts[i], &h) == SEG_NPY_OK, "%s: %s (%s)",
                     dicts[i], h.reason, h.detail);
      ck_assert_int_eq (h.n_items, 12);
      ck_assert_int_eq (h.item_size, 2);
    }
}
END_TEST

START_TEST (test_unpadded_header_is_accepted)
{
  GByteArray  *b = npy_bytes ("{'descr': '<u2', 'fortran_order': False, "
                               "'shape': (3, 4), }",
                              1, FALSE);
  SegNpyHeader h;

  ck_assert_int_eq (seg_npy_header_parse (b->data, b->len, &h), SEG_NPY_OK);
  ck_assert_int_eq (h.data_offset, b->len);
  ck_assert_int_ne (h.data_offset % 64, 0);
  g_byte_array_unref (b);
}
END_TEST

/* ------------------------------------------------------------------------
 * Malformed headers
 * --------------------------------------------------------------------- */

typedef struct
{
  const gchar *dict;
  SegNpyStatus status;
  const gchar *reason; /* a part of the reason */
  const gchar *detail; /* a part of the detail */
} BadCase;

static const BadCase bad_dicts[] = {
  { "[1, 2, 3]", SEG_NPY_EHEADER, "not a Python dictionary", "[1, 2, 3]" },
  { "", SEG_NPY_EHEADER, "not a Python dictionary", "" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), ", SEG_NPY_EHEADER,
    "dictionary", "" },
  { "{'descr' '<u2', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EHEADER,
    "not a Python dictionary", "'<u2'" },
  { "{'descr': '<u2' 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EHEADER,
    "not a Python dictionary", "'fortran_order'" },
  { "{'fortran_order': False, 'shape': (3,), }", SEG_NPY_EHEADER,
    "lacks a required key", "descr" },
  { "{'descr': '<u2', 'shape': (3,), }", SEG_NPY_EHEADER,
    "lacks a required key", "fortran_order" },
  { "{'descr': '<u2', 'fortran_order': False, }", SEG_NPY_EHEADER,
    "lacks a required key", "shape" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), 'x': 1, }",
    SEG_NPY_EHEADER, "unknown key", "x" },
  { "{'descr': '<u2', 'descr': '<u2', 'fortran_order': False, "
    "'shape': (3,), }",
    SEG_NPY_EHEADER, "key twice", "descr" },
  { "{1: '<u2', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EHEADER,
    "dictionary of strings", "1:" },
  { "{'descr: '<u2', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EHEADER,
    "unknown key", "descr: " },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), 'x",
    SEG_NPY_EHEADER, "without its closing quote", "'x" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), } x",
    SEG_NPY_EHEADER, "text after", "x" },
  { "{'descr': '<\\x32', 'fortran_order': False, 'shape': (3,), }",
    SEG_NPY_EHEADER, "string that NumPy does not write", "'<\\x32'" },
  { "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EDTYPE,
    "Python objects", "|O" },
  { "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EDTYPE,
    "not supported", "<c8" },
  { "{'descr': '|S10', 'fortran_order': False, 'shape': (3,), }",
    SEG_NPY_EDTYPE, "not supported", "|S10" },
  { "{'descr': '<U5', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EDTYPE,
    "not supported", "<U5" },
  { "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (3,), }",
    SEG_NPY_EDTYPE, "not supported", "<M8[ns]" },
  { "{'descr': '<u3', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EDTYPE,
    "not supported", "<u3" },
  { "{'descr': '<f16', 'fortran_order': False, 'shape': (3,), }",
    SEG_NPY_EDTYPE, "not supported", "<f16" },
  { "{'descr': '|b2', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EDTYPE,
    "not supported", "|b2" },
  { "{'descr': '<u99999999999', 'fortran_order': False, 'shape': (3,), }",
    SEG_NPY_EDTYPE, "not supported", "<u99999999999" },
  { "{'descr': '', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EDTYPE,
    "not supported", "" },
  { "{'descr': '<', 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EDTYPE,
    "not supported", "<" },
  { "{'descr': 5, 'fortran_order': False, 'shape': (3,), }", SEG_NPY_EDTYPE,
    "not a string", "5" },
  { "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (3,), }",
    SEG_NPY_EDTYPE, "structured", "[('a'" },
  { "{'descr': '<u2', 'fortran_order': 'no', 'shape': (3,), }", SEG_NPY_EHEADER,
    "True or False", "'no'" },
  { "{'descr': '<u2', 'fortran_order': Truely, 'shape': (3,), }",
    SEG_NPY_EHEADER, "True or False", "Truely" },
  { "{'descr': '<u2', 'fortran_order': 0, 'shape': (3,), }", SEG_NPY_EHEADER,
    "True or False", "0" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': 'abc', }",
    SEG_NPY_ESHAPE, "tuple of whole numbers", "'abc'" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': [3, 4], }",
    SEG_NPY_ESHAPE, "tuple of whole numbers", "[3, 4]" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (3), }", SEG_NPY_ESHAPE,
    "tuple of whole numbers", "(3)" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (-3, 4), }",
    SEG_NPY_ESHAPE, "negative", "(-3, 4)" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (3.5, 4), }",
    SEG_NPY_ESHAPE, "tuple of whole numbers", "(3.5, 4)" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (3 4), }",
    SEG_NPY_ESHAPE, "tuple of whole numbers", "(3 4)" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (3,, 4), }",
    SEG_NPY_ESHAPE, "tuple of whole numbers", "(3,, 4)" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (,), }", SEG_NPY_ESHAPE,
    "tuple of whole numbers", "(,)" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4", SEG_NPY_ESHAPE,
    "tuple of whole numbers", "(3, 4" },
  { "{'descr': '<u2', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }",
    SEG_NPY_ESHAPE, "more than four", "(1, 1, 1, 1, 1)" },
  { "{'descr': '<u2', 'fortran_order': False, "
    "'shape': (99999999999999999999, 1), }",
    SEG_NPY_ESHAPE, "too large", "(99999999999999999999" },
  { "{'descr': '<u2', 'fortran_order': False, "
    "'shape': (9223372036854775808,), }",
    SEG_NPY_ESHAPE, "too large", "(9223372036854775808,)" },
  { "{'descr': '<u2', 'fortran_order': False, "
    "'shape': (4294967296, 4294967296, 4), }",
    SEG_NPY_ESHAPE, "too large", "" },
  { "{'descr': '<u8', 'fortran_order': False, "
    "'shape': (1152921504606846976,), }",
    SEG_NPY_ESHAPE, "too large", "" },
};

START_TEST (test_malformed_header_is_refused_with_reason)
{
  const BadCase *c = &bad_dicts[_i];
  SegNpyHeader   h;
  SegNpyStatus   status = parse_text (c->dict, &h);

  ck_assert_msg (status == c->status, "%s: got %s (%s), want %s", c->dict,
                 seg_npy_status_name (status), h.reason,
                 seg_npy_status_name (c->status));
  ck_assert_ptr_nonnull (h.reason);
  ck_assert_msg (strstr (h.reason, c->reason) != NULL,
                 "%s: reason \"%s\" lacks \"%s\"", c->dict, h.reason,
                 c->reason);
  ck_assert_msg (strstr (h.detail, c->detail) != NULL,
                 "%s: detail \"%s\" lacks \"%s\"", c->dict, h.detail,
                 c->detail);
  ck_assert_int_lt (strlen (h.detail), SEG_NPY_DETAIL_SIZE);
}
END_TEST

START_TEST (test_prelude_errors)
{
  static const struct
  {
    const gchar *bytes;
    gsize        size;
    SegNpyStatus status;
    const gchar *detail;
  } cases[] = {
    { "", 0, SEG_NPY_ETRUNCATED, "" },
    { "\x93NU", 3, SEG_NPY_ETRUNCATED, "3" },
    { "\x93NUMPY\x01", 7, SEG_NPY_ETRUNCATED, "7" },
    { "\x93NUMPY\x01\x00\x76", 9, SEG_NPY_ETRUNCATED, "9" },
    { "\x93NUMPY\x02\x00\x76\x00\x00", 11, SEG_NPY_ETRUNCATED, "11" },
    { "\x89PNG\r\n\x1a\n", 8, SEG_NPY_EMAGIC, "?PNG" },
    { "hello", 5, SEG_NPY_EMAGIC, "hello" },
    { "\x93NUMPZ\x01\x00", 8, SEG_NPY_EMAGIC, "?NUMPZ" },
    { "\x93NUMPY\x04\x00\x00\x00", 10, SEG_NPY_EVERSION, "4.0" },
    { "\x93NUMPY\x01\x01\x00\x00", 10, SEG_NPY_EVERSION, "1.1" },
    { "\x93NUMPY\x00\x00\x00\x00", 10, SEG_NPY_EVERSION, "0.0" },
    { "\x93NUMPY\x02\x00\xf0\xff\xff\xff{}", 14, SEG_NPY_EHEADER,
      "4294967280" },
    { "\x93NUMPY\x01\x00\x00\x00", 10, SEG_NPY_EHEADER, "" },
  };
  SegNpyHeader h;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SegNpyStatus status =
        seg_npy_header_parse (cases[i].bytes, cases[i].size, &h);

      ck_assert_msg (status == cases[i].status, "case %zu: %s, want %s", i,
                     seg_npy_status_name (status),
                     seg_npy_status_name (cases[i].status));
      ck_assert_ptr_nonnull (h.reason);
      ck_assert_msg (strstr (h.detail, cases[i].detail) != NULL,
                     "case %zu: detail \"%s\" lacks \"%s\"", i, h.detail,
                     cases[i].detail);
    }
}
END_TEST

/* Every prefix of a valid header is too short: never accepted, and once the
 * prelude is in, data_offset says how much to read. */
START_TEST (test_every_prefix_is_truncated)
{
  const gint   version = _i + 1;
  GByteArray  *b       = npy_bytes ("{'descr': '<i8', 'fortran_order': True, "
                                           "'shape': (512, 512, 512), }",
                                    version, TRUE);
  const gsize  prelude = version == 1 ? 10 : 12;
  SegNpyHeader h;

  for (gsize n = 0; n < b->len; n++)
    {
      /* A copy of exactly n bytes, so that valgrind and ASan see any read
       * past the end. */
      guint8      *copy   = g_memdup2 (b->data, n);
      SegNpyStatus status = seg_npy_header_parse (copy, n, &h);

      ck_assert_msg (status == SEG_NPY_ETRUNCATED, "prefix %zu: %s", n,
                     seg_npy_status_name (status));
      ck_assert_int_eq (h.data_offset, n >= prelude ? b->len : 0);
      g_free (copy);
    }
  ck_assert_int_eq (seg_npy_header_parse (b->data, b->len, &h), SEG_NPY_OK);
  g_byte_array_unref (b);
}
END_TEST

START_TEST (test_long_detail_is_shortened)
{
  GString     *dict = g_string_new ("{'descr': '<u2', 'fortran_order': False, "
                                        "'shape': (3,), '");
  SegNpyHeader h;

  for (gint i = 0; i < 200; i++)
    g_string_append_c (dict, 'k');
  g_string_append (dict, "': 1, }");
  ck_assert_int_eq (parse_text (dict->str, &h), SEG_NPY_EHEADER);
  ck_assert_int_eq (strlen (h.detail), SEG_NPY_DETAIL_SIZE - 1);
  ck_assert (g_str_has_suffix (h.detail, "..."));
  g_string_free (dict, TRUE);
}
END_TEST

START_TEST (test_header_longer_than_limit_is_refused)
{
  guint8       bytes[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0 };
  const gsize  len       = SEG_NPY_MAX_HEADER_SIZE + 1;
  SegNpyHeader h;

  for (gint i = 0; i < 4; i++)
    bytes[8 + i] = (guint8) (len >> (8 * i));
  ck_assert_int_eq (seg_npy_header_parse (bytes, sizeof bytes, &h),
                    SEG_NPY_EHEADER);
  ck_assert_str_eq (h.detail, "1048577");
}
END_TEST

/* ------------------------------------------------------------------------
 * The writer
 * --------------------------------------------------------------------- */

static SegNpyHeader
header_of (SegNpyKind     kind,
           gint           size,
           gboolean       big_endian,
           gboolean       fortran,
           gint           n_dims,
           const guint64 *shape)
{
  SegNpyHeader h;

  memset (&h, 0, sizeof h);
  h.kind          = kind;
  h.item_size     = size;
  h.big_endian    = big_endian;
  h.fortran_order = fortran;
  h.n_dims        = n_dims;
  for (gint i = 0; i < MIN (n_dims, SEG_NPY_MAX_DIMS); i++)
    h.shape[i] = shape[i];
  return h;
}

/* np.save of NumPy 1.24 writes exactly these 128 bytes (see
 * data/npy/make-fixtures.py for the files themselves). */
START_TEST (test_writer_gives_numpy_bytes)
{
  static const struct
  {
    SegNpyKind   kind;
    gint         size;
    gboolean     big_endian, fortran;
    gint         n_dims;
    guint64      shape[4];
    const gchar *dict;
  } cases[] = {
    { SEG_NPY_UINT,
      4,
      FALSE,
      FALSE,
      2,
      { 3, 4 },
      "{'descr': '<u4', 'fortran_order': False, 'shape': (3, 4), }" },
    { SEG_NPY_INT,
      2,
      TRUE,
      FALSE,
      3,
      { 2, 3, 4 },
      "{'descr': '>i2', 'fortran_order': False, 'shape': (2, 3, 4), }" },
    { SEG_NPY_BOOL,
      1,
      FALSE,
      FALSE,
      1,
      { 5 },
      "{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }" },
    { SEG_NPY_FLOAT,
      8,
      FALSE,
      FALSE,
      0,
      { 0 },
      "{'descr': '<f8', 'fortran_order': False, 'shape': (), }" },
    { SEG_NPY_UINT,
      8,
      FALSE,
      TRUE,
      3,
      { 2, 3, 4 },
      "{'descr': '<u8', 'fortran_order': True, 'shape': (2, 3, 4), }" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SegNpyHeader h =
        header_of (cases[i].kind, cases[i].size, cases[i].big_endian,
                   cases[i].fortran, cases[i].n_dims, cases[i].shape);
      guint8 out[SEG_NPY_WRITE_MAX_SIZE];
      guint8 want[128];
      gsize  n = seg_npy_header_write (&h, out, sizeof out);

      memcpy (want, "\x93NUMPY\x01\x00\x76\x00", 10);
      memset (want + 10, ' ', 117);
      memcpy (want + 10, cases[i].dict, strlen (cases[i].dict));
      want[127] = '\n';
      ck_assert_int_eq (n, 128);
      ck_assert_msg (memcmp (out, want, 128) == 0, "case %zu: %.*s", i,
                     (int) n - 10, out + 10);
    }
}
END_TEST

/* Written headers parse back to themselves, for every dtype, order and
 * shape; the data starts on a multiple of 64. */
START_TEST (test_writer_round_trips)
{
  guint64 state = 0x9e3779b97f4a7c15ull * (guint64) (_i + 1);

  for (gsize d = 0; d < G_N_ELEMENTS (dtypes); d++)
    for (gint n_dims = 0; n_dims <= SEG_NPY_MAX_DIMS; n_dims++)
      {
        guint64      shape[4];
        SegNpyHeader h, back;
        guint8       out[SEG_NPY_WRITE_MAX_SIZE];
        gsize        n;

        for (gint i = 0; i < n_dims; i++)
          {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            /* Up to 2^15 per axis: sizes up to 2^60, wide numbers. */
            shape[i] = (state >> 33) % 32769;
          }
        h = header_of (dtypes[d].kind, dtypes[d].size, dtypes[d].big_endian,
                       (state >> 20) & 1, n_dims, shape);
        n = seg_npy_header_write (&h, out, sizeof out);
        ck_assert_int_gt (n, 0);
        ck_assert_int_eq (n % 64, 0);
        ck_assert_int_eq (seg_npy_header_parse (out, n, &back), SEG_NPY_OK);
        ck_assert_int_eq (back.data_offset, n);
        ck_assert_int_eq (back.version, 1);
        ck_assert_int_eq (back.kind, h.kind);
        ck_assert_int_eq (back.item_size, h.item_size);
        ck_assert_int_eq (back.big_endian, h.item_size > 1 && h.big_endian);
        ck_assert_int_eq (back.fortran_order, h.fortran_order);
        ck_assert_int_eq (back.n_dims, n_dims);
        for (gint i = 0; i < n_dims; i++)
          ck_assert_int_eq (back.shape[i], shape[i]);
      }
}
END_TEST

START_TEST (test_writer_refuses_what_cannot_be_parsed)
{
  const guint64 shape[4] = { 3, 4, 5, 6 };
  const guint64 huge[2]  = { G_GUINT64_CONSTANT (1) << 62, 4 };
  guint8        out[SEG_NPY_WRITE_MAX_SIZE];
  SegNpyHeader  h;

  h = header_of (SEG_NPY_UINT, 3, FALSE, FALSE, 2, shape);
  ck_assert_int_eq (seg_npy_header_write (&h, out, sizeof out), 0);
  h = header_of (SEG_NPY_BOOL, 2, FALSE, FALSE, 2, shape);
  ck_assert_int_eq (seg_npy_header_write (&h, out, sizeof out), 0);
  h = header_of (SEG_NPY_FLOAT, 1, FALSE, FALSE, 2, shape);
  ck_assert_int_eq (seg_npy_header_write (&h, out, sizeof out), 0);
  h = header_of ((SegNpyKind) 42, 4, FALSE, FALSE, 2, shape);
  ck_assert_int_eq (seg_npy_header_write (&h, out, sizeof out), 0);
  h = header_of (SEG_NPY_UINT, 4, FALSE, FALSE, 5, shape);
  ck_assert_int_eq (seg_npy_header_write (&h, out, sizeof out), 0);
  h = header_of (SEG_NPY_UINT, 4, FALSE, FALSE, 2, huge);
  ck_assert_int_eq (seg_npy_header_write (&h, out, sizeof out), 0);
  /* Too little room. */
  h = header_of (SEG_NPY_UINT, 4, FALSE, FALSE, 4, shape);
  ck_assert_int_eq (seg_npy_header_write (&h, out, 127), 0);
  ck_assert_int_eq (seg_npy_header_write (&h, out, 128), 128);
}
END_TEST

/* The widest header the writer makes still fits SEG_NPY_WRITE_MAX_SIZE. */
START_TEST (test_writer_room_suffices_for_widest_shape)
{
  const guint64 shape[4] = { G_GUINT64_CONSTANT (1) << 15,
                             G_GUINT64_CONSTANT (1) << 15,
                             G_GUINT64_CONSTANT (1) << 15,
                             G_GUINT64_CONSTANT (1) << 14 };
  const guint64 one[4]   = { G_GUINT64_CONSTANT (7) << 59, 1, 1, 1 };
  guint8        out[SEG_NPY_WRITE_MAX_SIZE];
  SegNpyHeader  h = header_of (SEG_NPY_UINT, 1, FALSE, TRUE, 4, shape);

  ck_assert_int_gt (seg_npy_header_write (&h, out, sizeof out), 0);
  h = header_of (SEG_NPY_UINT, 1, FALSE, FALSE, 4, one);
  ck_assert_int_gt (seg_npy_header_write (&h, out, sizeof out), 0);
}
END_TEST

START_TEST (test_dtype_strings)
{
  char         text[8];
  SegNpyHeader h = header_of (SEG_NPY_INT, 8, TRUE, FALSE, 0, NULL);

  ck_assert (seg_npy_dtype_string (&h, text, sizeof text));
  ck_assert_str_eq (text, ">i8");
  h.item_size = 1;
  ck_assert (seg_npy_dtype_string (&h, text, sizeof text));
  ck_assert_str_eq (text, "|i1");
  h.kind = SEG_NPY_FLOAT;
  ck_assert (!seg_npy_dtype_string (&h, text, sizeof text));
  h.item_size  = 2;
  h.big_endian = FALSE;
  ck_assert (seg_npy_dtype_string (&h, text, 4));
  ck_assert_str_eq (text, "<f2");
  ck_assert (!seg_npy_dtype_string (&h, text, 3));
  ck_assert_str_eq (seg_npy_status_name (SEG_NPY_EDTYPE), "SEG_NPY_EDTYPE");
}
END_TEST

/* ------------------------------------------------------------------------
 * Seeded mutations and the corpus
 * --------------------------------------------------------------------- */

/* What every accepted header must satisfy. */
static void
assert_consistent (const SegNpyHeader *h, gsize size, const gchar *what)
{
  guint64 n = 1;

  ck_assert_msg (h->data_offset <= size, "%s: offset past the input", what);
  ck_assert_msg (h->n_dims >= 0 && h->n_dims <= SEG_NPY_MAX_DIMS, "%s", what);
  for (gint i = 0; i < h->n_dims; i++)
    n *= h->shape[i];
  ck_assert_msg (n == h->n_items, "%s: n_items", what);
  ck_assert_msg (h->data_size == h->n_items * (guint64) h->item_size, "%s",
                 what);
  ck_assert_msg (h->data_size <= (guint64) G_MAXINT64, "%s", what);
  ck_assert_msg (h->reason == NULL, "%s", what);
}

START_TEST (test_mutated_headers_never_crash)
{
  static const gchar interesting[] =
    "{}()[]:,'\" \n\t-0123456789LTF<>|=x\0\xff";
  GByteArray *seed  = npy_bytes ("{'descr': '<u4', 'fortran_order': False, "
                                  "'shape': (3, 5, 7), }",
                                 1 + _i % 3, TRUE);
  guint64     state = 12345 + (guint64) _i;

  for (gint round = 0; round < 2000; round++)
    {
      gsize        n     = seed->len;
      guint8      *b     = g_memdup2 (seed->data, n);
      gint         edits = 1 + (gint) (state % 4);
      SegNpyHeader h;
      SegNpyStatus status;

      for (gint e = 0; e < edits; e++)
        {
          gsize at;

          state = state * 6364136223846793005ull + 1442695040888963407ull;
          at    = (state >> 33) % n;
          switch ((state >> 20) % 4)
            {
            case 0: b[at] ^= (guint8) (1u << ((state >> 8) % 8)); break;
            case 1:
              b[at] =
                (guint8) interesting[(state >> 40) % (sizeof interesting - 1)];
              break;
            case 2: n = MAX (at, 1); break;
            default:
              /* An early byte of the prelude: the length, the version. */
              b[6 + (state >> 12) % 6] = (guint8) (state >> 44);
              break;
            }
        }
      status = seg_npy_header_parse (b, n, &h);
      if (status == SEG_NPY_OK)
        assert_consistent (&h, n, "mutation");
      else
        ck_assert_ptr_nonnull (h.reason);
      g_free (b);
    }
  g_byte_array_unref (seed);
}
END_TEST

static const gchar *corpus_dir;

START_TEST (test_corpus_files_parse_as_named)
{
  GDir        *dir = g_dir_open (corpus_dir, 0, NULL);
  const gchar *name;
  gint         n_files = 0;

  ck_assert_msg (dir != NULL, "no corpus at %s", corpus_dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gchar       *path = g_build_filename (corpus_dir, name, NULL);
      gchar       *bytes;
      gsize        size;
      guint8      *copy;
      SegNpyHeader h;
      SegNpyStatus status;

      ck_assert (g_file_get_contents (path, &bytes, &size, NULL));
      copy   = g_memdup2 (bytes, size); /* exactly size bytes */
      status = seg_npy_header_parse (copy, size, &h);
      if (g_str_has_prefix (name, "bad-"))
        ck_assert_msg (status != SEG_NPY_OK && h.reason != NULL,
                       "%s was accepted", name);
      else if (g_str_has_prefix (name, "ok-") || g_str_has_prefix (name, "op-"))
        ck_assert_msg (status == SEG_NPY_OK, "%s: %s (%s)", name, h.reason,
                       h.detail);
      if (status == SEG_NPY_OK)
        assert_consistent (&h, size, name);
      n_files++;
      g_free (copy);
      g_free (bytes);
      g_free (path);
    }
  g_dir_close (dir);
  ck_assert_int_ge (n_files, 60);
}
END_TEST

static Suite *
npy_suite (void)
{
  Suite *s     = suite_create ("npy");
  TCase *parse = tcase_create ("parse");
  TCase *bad   = tcase_create ("malformed");
  TCase *write = tcase_create ("write");
  TCase *fuzz  = tcase_create ("mutations and corpus");

  tcase_add_loop_test (parse, test_every_dtype_parses, 0,
                       G_N_ELEMENTS (dtypes));
  tcase_add_test (parse, test_shapes_of_zero_to_four_dimensions);
  tcase_add_test (parse, test_versions_two_and_three_have_four_byte_lengths);
  tcase_add_test (parse, test_python_spelling_variants_parse);
  tcase_add_test (parse, test_unpadded_header_is_accepted);
  tcase_add_loop_test (bad, test_malformed_header_is_refused_with_reason, 0,
                       G_N_ELEMENTS (bad_dicts));
  tcase_add_test (bad, test_prelude_errors);
  tcase_add_loop_test (bad, test_every_prefix_is_truncated, 0, 3);
  tcase_add_test (bad, test_long_detail_is_shortened);
  tcase_add_test (bad, test_header_longer_than_limit_is_refused);
  tcase_add_test (write, test_writer_gives_numpy_bytes);
  tcase_add_loop_test (write, test_writer_round_trips, 0, 20);
  tcase_add_test (write, test_writer_refuses_what_cannot_be_parsed);
  tcase_add_test (write, test_writer_room_suffices_for_widest_shape);
  tcase_add_test (write, test_dtype_strings);
  tcase_add_loop_test (fuzz, test_mutated_headers_never_crash, 0, 30);
  tcase_add_test (fuzz, test_corpus_files_parse_as_named);
  tcase_set_timeout (fuzz, 120);
  suite_add_tcase (s, parse);
  suite_add_tcase (s, bad);
  suite_add_tcase (s, write);
  suite_add_tcase (s, fuzz);
  return s;
}

int
main (void)
{
  SRunner *runner;
  gint     failed;

  corpus_dir = g_getenv ("SEG_NPY_CORPUS");
  if (corpus_dir == NULL)
    corpus_dir = "tests/npy-corpus";
  runner = srunner_create (npy_suite ());
  /* In this process, as the other suites run (kernel-harness.c says why). */
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
