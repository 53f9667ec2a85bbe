/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The .npy header: a small recursive-descent parser for the subset of
 * Python literal syntax that NumPy writes (and older NumPy versions and
 * other writers vary: either quote, any spacing, keys in any order, a
 * trailing comma, Python 2 long integers such as 3L), and a writer that
 * gives the same bytes as NumPy 1.24's np.save.
 */
#include "seg-npy.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Marks a phrase for translation (xgettext's N_ keyword); the GEGL ops
 * translate header->reason when they show it. */
#define N_(text) text

/* NumPy aligns the data to this many bytes. */
#define NPY_ALIGN 64
/* NumPy leaves room for this many digits in the growing axis, so that the
 * header can be rewritten in place when the array grows. */
#define NPY_GROWTH_DIGITS 21

static const unsigned char npy_magic[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };

/* The dictionary being parsed. */
typedef struct
{
  const char   *p;   /* next byte                      */
  const char   *end; /* one past the dictionary's end  */
  SegNpyHeader *h;
} Cursor;

static bool
host_is_big_endian (void)
{
  const uint16_t one = 1;
  unsigned char  first;

  memcpy (&first, &one, 1);
  return first == 0;
}

/* Copies len bytes of text into the detail as printable ASCII, shortened
 * with "..." when it does not fit. */
static void
set_detail (SegNpyHeader *h, const char *text, size_t len)
{
  const size_t room = SEG_NPY_DETAIL_SIZE - 1;
  size_t       n    = len <= room ? len : room - 3;

  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) text[i];

      h->detail[i] = c >= 0x20 && c < 0x7f ? (char) c : '?';
    }
  if (n < len)
    memcpy (h->detail + n, "...", 3), n += 3;
  h->detail[n] = '\0';
}

static SegNpyStatus
fail (SegNpyHeader *h,
      SegNpyStatus  status,
      const char   *reason,
      const char   *text,
      size_t        len)
{
  h->reason = reason;
  set_detail (h, text, len);
  return status;
}

/* Fails, quoting the text from the cursor up to the end of its line or of
 * the dictionary, which is what a reader needs to find the mistake. */
static SegNpyStatus
fail_here (Cursor *c, SegNpyStatus status, const char *reason)
{
  const char *stop = c->p;

  while (stop < c->end && *stop != '\n' && stop - c->p < SEG_NPY_DETAIL_SIZE)
    stop++;
  return fail (c->h, status, reason, c->p, (size_t) (stop - c->p));
}

static SegNpyStatus
fail_number (SegNpyHeader *h,
             SegNpyStatus  status,
             const char   *reason,
             uint64_t      number)
{
  h->reason = reason;
  snprintf (h->detail, sizeof h->detail, "%" PRIu64, number);
  return status;
}

static bool
is_space (char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' ||
         ch == '\v';
}

static bool
is_digit (char ch)
{
  return ch >= '0' && ch <= '9';
}

static bool
is_name_char (char ch)
{
  return is_digit (ch) || ch == '_' || (ch >= 'a' && ch <= 'z') ||
         (ch >= 'A' && ch <= 'Z');
}

static void
skip_space (Cursor *c)
{
  while (c->p < c->end && is_space (*c->p))
    c->p++;
}

/* Consumes ch (after any spacing); false when it is not next. */
static bool
accept (Cursor *c, char ch)
{
  skip_space (c);
  if (c->p < c->end && *c->p == ch)
    {
      c->p++;
      return true;
    }
  return false;
}

/* A quoted string without escapes (NumPy's keys and dtypes have none). */
static SegNpyStatus
parse_string (Cursor *c, const char **text, size_t *len)
{
  const char *start;
  char        quote;

  skip_space (c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return fail_here (c, SEG_NPY_EHEADER,
                      N_ ("the header is not a Python dictionary of strings"));
  quote = *c->p++;
  start = c->p;
  while (c->p < c->end && *c->p != quote && *c->p != '\n')
    {
      if (*c->p == '\\')
        {
          c->p = start - 1;
          return fail_here (c, SEG_NPY_EHEADER,
                            N_ ("the header has a string that NumPy does not "
                                "write"));
        }
      c->p++;
    }
  if (c->p >= c->end || *c->p == '\n')
    {
      c->p = start - 1;
      return fail_here (c, SEG_NPY_EHEADER,
                        N_ ("the header has a string without its closing "
                            "quote"));
    }
  *text = start;
  *len  = (size_t) (c->p - start);
  c->p++;
  return SEG_NPY_OK;
}

/* The dtype text, such as '<u4': byte order, kind and size. */
static SegNpyStatus
parse_descr (SegNpyHeader *h, const char *text, size_t len)
{
  const char *q = text, *end = text + len;
  char        order = '=', kind;
  int         size  = 0;

  if (q < end && (*q == '<' || *q == '>' || *q == '|' || *q == '='))
    order = *q++;
  if (q >= end)
    return fail (h, SEG_NPY_EDTYPE, N_ ("the dtype is not supported"), text,
                 len);
  kind = *q++;
  while (q < end && is_digit (*q) && size < 1000)
    size = size * 10 + (*q++ - '0');

  if (kind == 'O')
    return fail (h, SEG_NPY_EDTYPE,
                 N_ ("the array holds Python objects, not numbers"), text, len);
  if (q != end) /* '<M8[ns]', '<u4x', a size of 4 digits … */
    return fail (h, SEG_NPY_EDTYPE, N_ ("the dtype is not supported"), text,
                 len);

  switch (kind)
    {
    case 'b':
      h->kind = SEG_NPY_BOOL;
      if (size != 1)
        size = 0;
      break;
    case 'u':
    case 'i':
      h->kind = kind == 'u' ? SEG_NPY_UINT : SEG_NPY_INT;
      if (size != 1 && size != 2 && size != 4 && size != 8)
        size = 0;
      break;
    case 'f':
      h->kind = SEG_NPY_FLOAT;
      if (size != 2 && size != 4 && size != 8)
        size = 0;
      break;
    default: size = 0; break;
    }
  if (size == 0)
    return fail (h, SEG_NPY_EDTYPE, N_ ("the dtype is not supported"), text,
                 len);

  h->item_size = size;
  h->big_endian =
    size > 1 && (order == '>' || (order == '=' && host_is_big_endian ()));
  return SEG_NPY_OK;
}

static SegNpyStatus
parse_descr_value (Cursor *c)
{
  const char  *text;
  size_t       len;
  SegNpyStatus status;

  skip_space (c);
  if (c->p < c->end && *c->p == '[')
    return fail_here (c, SEG_NPY_EDTYPE,
                      N_ ("structured dtypes (records) are not supported"));
  if (c->p < c->end && *c->p != '\'' && *c->p != '"')
    return fail_here (c, SEG_NPY_EDTYPE, N_ ("the dtype is not a string"));
  status = parse_string (c, &text, &len);
  return status != SEG_NPY_OK ? status : parse_descr (c->h, text, len);
}

/* True or False. */
static SegNpyStatus
parse_fortran_order (Cursor *c)
{
  static const char *const words[] = { "False", "True" };

  skip_space (c);
  for (int i = 0; i < 2; i++)
    {
      size_t n = strlen (words[i]);

      if ((size_t) (c->end - c->p) >= n && memcmp (c->p, words[i], n) == 0 &&
          (c->p + n == c->end || !is_name_char (c->p[n])))
        {
          c->h->fortran_order = i == 1;
          c->p += n;
          return SEG_NPY_OK;
        }
    }
  return fail_here (c, SEG_NPY_EHEADER,
                    N_ ("fortran_order is not True or False"));
}

/* A whole number of the shape, at most INT64_MAX (NumPy's intp), with the
 * L suffix of Python 2 long integers allowed. */
static SegNpyStatus
parse_dimension (Cursor *c, const char *shape_start, uint64_t *value)
{
  uint64_t v = 0;

  skip_space (c);
  if (c->p < c->end && *c->p == '-')
    {
      c->p = shape_start;
      return fail_here (c, SEG_NPY_ESHAPE,
                        N_ ("the shape has a negative dimension"));
    }
  if (c->p >= c->end || !is_digit (*c->p))
    {
      c->p = shape_start;
      return fail_here (c, SEG_NPY_ESHAPE,
                        N_ ("the shape is not a tuple of whole numbers"));
    }
  while (c->p < c->end && is_digit (*c->p))
    {
      uint64_t digit = (uint64_t) (*c->p++ - '0');

      if (v > ((uint64_t) INT64_MAX - digit) / 10)
        {
          c->p = shape_start;
          return fail_here (c, SEG_NPY_ESHAPE,
                            N_ ("the shape has a dimension too large for a "
                                "64-bit size"));
        }
      v = v * 10 + digit;
    }
  if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
    c->p++;
  *value = v;
  return SEG_NPY_OK;
}

/* ( ), (n,), (n, m …) with an optional trailing comma. */
static SegNpyStatus
parse_shape (Cursor *c)
{
  const char  *start;
  SegNpyStatus status;
  bool         comma = false;

  skip_space (c);
  start = c->p;
  if (!accept (c, '('))
    return fail_here (c, SEG_NPY_ESHAPE,
                      N_ ("the shape is not a tuple of whole numbers"));
  c->h->n_dims = 0;
  while (!accept (c, ')'))
    {
      uint64_t v = 0;

      if (c->h->n_dims > 0 && !comma)
        {
          c->p = start;
          return fail_here (c, SEG_NPY_ESHAPE,
                            N_ ("the shape is not a tuple of whole numbers"));
        }
      if (c->h->n_dims == SEG_NPY_MAX_DIMS)
        {
          c->p = start;
          return fail_here (c, SEG_NPY_ESHAPE,
                            N_ ("the shape has more than four dimensions"));
        }
      if ((status = parse_dimension (c, start, &v)) != SEG_NPY_OK)
        return status;
      c->h->shape[c->h->n_dims++] = v;
      comma                       = accept (c, ',');
    }
  /* (3) is the number 3 in Python, not a tuple. */
  if (c->h->n_dims == 1 && !comma)
    {
      c->p = start;
      return fail_here (c, SEG_NPY_ESHAPE,
                        N_ ("the shape is not a tuple of whole numbers"));
    }
  return SEG_NPY_OK;
}

enum
{
  KEY_DESCR,
  KEY_FORTRAN_ORDER,
  KEY_SHAPE,
  N_KEYS
};

static const char *const key_names[N_KEYS] = {
  "descr",
  "fortran_order",
  "shape",
};

static SegNpyStatus
parse_dictionary (Cursor *c)
{
  bool         seen[N_KEYS] = { false, false, false };
  SegNpyStatus status;

  if (!accept (c, '{'))
    return fail_here (c, SEG_NPY_EHEADER,
                      N_ ("the header is not a Python dictionary"));
  while (!accept (c, '}'))
    {
      const char *key;
      size_t      len;
      int         k;

      if ((status = parse_string (c, &key, &len)) != SEG_NPY_OK)
        return status;
      for (k = 0; k < N_KEYS; k++)
        if (strlen (key_names[k]) == len &&
            memcmp (key, key_names[k], len) == 0)
          break;
      if (k == N_KEYS)
        return fail (c->h, SEG_NPY_EHEADER,
                     N_ ("the header has an unknown key"), key, len);
      if (seen[k])
        return fail (c->h, SEG_NPY_EHEADER, N_ ("the header has a key twice"),
                     key, len);
      seen[k] = true;
      if (!accept (c, ':'))
        return fail_here (c, SEG_NPY_EHEADER,
                          N_ ("the header is not a Python dictionary"));

      if (k == KEY_DESCR)
        status = parse_descr_value (c);
      else if (k == KEY_FORTRAN_ORDER)
        status = parse_fortran_order (c);
      else
        status = parse_shape (c);
      if (status != SEG_NPY_OK)
        return status;

      if (!accept (c, ','))
        {
          if (accept (c, '}'))
            break;
          return fail_here (c, SEG_NPY_EHEADER,
                            N_ ("the header is not a Python dictionary"));
        }
    }

  skip_space (c);
  if (c->p != c->end)
    return fail_here (c, SEG_NPY_EHEADER,
                      N_ ("the header has text after its dictionary"));
  for (int k = 0; k < N_KEYS; k++)
    if (!seen[k])
      return fail (c->h, SEG_NPY_EHEADER,
                   N_ ("the header lacks a required key"), key_names[k],
                   strlen (key_names[k]));
  return SEG_NPY_OK;
}

/* n_items and data_size, refusing arrays whose size in bytes overflows. */
static SegNpyStatus
compute_sizes (SegNpyHeader *h)
{
  const uint64_t max = (uint64_t) INT64_MAX;
  uint64_t       n   = 1;

  for (int i = 0; i < h->n_dims; i++)
    {
      if (h->shape[i] != 0 && n > max / h->shape[i])
        return fail (h, SEG_NPY_ESHAPE,
                     N_ ("the array is too large for a 64-bit size"), "", 0);
      n *= h->shape[i];
    }
  if (n > max / (uint64_t) h->item_size)
    return fail (h, SEG_NPY_ESHAPE,
                 N_ ("the array is too large for a 64-bit size"), "", 0);
  h->n_items   = n;
  h->data_size = n * (uint64_t) h->item_size;
  return SEG_NPY_OK;
}

SegNpyStatus
seg_npy_header_parse (const void *data, size_t size, SegNpyHeader *h)
{
  const unsigned char *b = data;
  size_t               prelude, header_len;
  Cursor               c;
  SegNpyStatus         status;

  memset (h, 0, sizeof *h);
  if (size == 0)
    return fail (h, SEG_NPY_ETRUNCATED, N_ ("the file is empty"), "", 0);
  if (memcmp (b, npy_magic, size < 6 ? size : 6) != 0)
    return fail (h, SEG_NPY_EMAGIC,
                 N_ ("the file does not start with NumPy's magic string"),
                 (const char *) b, size < 8 ? size : 8);
  if (size < 8)
    return fail_number (h, SEG_NPY_ETRUNCATED,
                        N_ ("the file is too short for a .npy header"), size);

  h->version = b[6];
  if (b[6] < 1 || b[6] > 3 || b[7] != 0)
    {
      h->reason = N_ ("the .npy format version is not 1.0, 2.0 or 3.0");
      snprintf (h->detail, sizeof h->detail, "%d.%d", b[6], b[7]);
      return SEG_NPY_EVERSION;
    }
  prelude = b[6] == 1 ? 10 : 12;
  if (size < prelude)
    return fail_number (h, SEG_NPY_ETRUNCATED,
                        N_ ("the file is too short for a .npy header"), size);
  header_len = (size_t) b[8] | (size_t) b[9] << 8;
  if (prelude == 12)
    header_len |= (size_t) b[10] << 16 | (size_t) b[11] << 24;
  if (header_len > SEG_NPY_MAX_HEADER_SIZE)
    return fail_number (h, SEG_NPY_EHEADER,
                        N_ ("the header is longer than 1 MiB"), header_len);

  h->data_offset = prelude + header_len;
  if (size < h->data_offset)
    return fail_number (h, SEG_NPY_ETRUNCATED,
                        N_ ("the header is longer than the file"),
                        h->data_offset);

  c.p   = (const char *) b + prelude;
  c.end = (const char *) b + h->data_offset;
  c.h   = h;
  if ((status = parse_dictionary (&c)) != SEG_NPY_OK ||
      (status = compute_sizes (h)) != SEG_NPY_OK)
    return status;
  h->reason = NULL;
  return SEG_NPY_OK;
}

bool
seg_npy_dtype_string (const SegNpyHeader *h, char *out, size_t out_size)
{
  char kind;
  bool ok;

  switch (h->kind)
    {
    case SEG_NPY_BOOL:
      kind = 'b';
      ok   = h->item_size == 1;
      break;
    case SEG_NPY_UINT:
    case SEG_NPY_INT:
      kind = h->kind == SEG_NPY_UINT ? 'u' : 'i';
      ok   = h->item_size == 1 || h->item_size == 2 || h->item_size == 4 ||
           h->item_size == 8;
      break;
    case SEG_NPY_FLOAT:
      kind = 'f';
      ok   = h->item_size == 2 || h->item_size == 4 || h->item_size == 8;
      break;
    default: return false;
    }
  if (!ok || out_size < 4)
    return false;
  out[0] = h->item_size == 1 ? '|' : h->big_endian ? '>' : '<';
  out[1] = kind;
  out[2] = (char) ('0' + h->item_size);
  out[3] = '\0';
  return true;
}

static size_t
decimal_digits (uint64_t v)
{
  size_t n = 1;

  while (v >= 10)
    v /= 10, n++;
  return n;
}

size_t
seg_npy_header_write (const SegNpyHeader *h, void *out, size_t out_size)
{
  char           dict[SEG_NPY_WRITE_MAX_SIZE];
  char           descr[8];
  SegNpyHeader   sizes = *h;
  unsigned char *o     = out;
  size_t         n, dict_len, prelude, total, header_len;
  int            written;

  if (h->n_dims < 0 || h->n_dims > SEG_NPY_MAX_DIMS ||
      !seg_npy_dtype_string (h, descr, sizeof descr) ||
      compute_sizes (&sizes) != SEG_NPY_OK)
    return 0;

  /* NumPy writes repr () of the dictionary, keys sorted. */
  written = snprintf (dict, sizeof dict,
                      "{'descr': '%s', 'fortran_order': %s, 'shape': (", descr,
                      h->fortran_order ? "True" : "False");
  n       = (size_t) written;
  for (int i = 0; i < h->n_dims; i++)
    {
      written = snprintf (dict + n, sizeof dict - n, "%s%" PRIu64,
                          i > 0 ? ", " : "", h->shape[i]);
      n += (size_t) written;
    }
  written =
    snprintf (dict + n, sizeof dict - n, "%s), }", h->n_dims == 1 ? "," : "");
  dict_len = n + (size_t) written;

  /* Room for the growing axis (the first; the last in Fortran order) to
   * reach NPY_GROWTH_DIGITS digits, then spaces and a newline so that the
   * data starts on a multiple of 64 bytes: like NumPy, a whole 64 bytes of
   * padding rather than none. */
  n = dict_len + 1;
  if (h->n_dims > 0)
    n += NPY_GROWTH_DIGITS -
         decimal_digits (h->shape[h->fortran_order ? h->n_dims - 1 : 0]);
  prelude = 10;
  total   = prelude + n + NPY_ALIGN - (prelude + n) % NPY_ALIGN;
  if (total - prelude > 65535)
    {
      prelude = 12;
      total   = prelude + n + NPY_ALIGN - (prelude + n) % NPY_ALIGN;
    }
  header_len = total - prelude;
  if (total > out_size)
    return 0;

  memcpy (o, npy_magic, sizeof npy_magic);
  o[6] = prelude == 10 ? 1 : 2;
  o[7] = 0;
  for (size_t i = 0; i < prelude - 8; i++)
    o[8 + i] = (unsigned char) (header_len >> (8 * i));
  memcpy (o + prelude, dict, dict_len);
  memset (o + prelude + dict_len, ' ', total - prelude - dict_len - 1);
  o[total - 1] = '\n';
  return total;
}

const char *
seg_npy_status_name (SegNpyStatus status)
{
  switch (status)
    {
    case SEG_NPY_OK: return "SEG_NPY_OK";
    case SEG_NPY_ETRUNCATED: return "SEG_NPY_ETRUNCATED";
    case SEG_NPY_EMAGIC: return "SEG_NPY_EMAGIC";
    case SEG_NPY_EVERSION: return "SEG_NPY_EVERSION";
    case SEG_NPY_EHEADER: return "SEG_NPY_EHEADER";
    case SEG_NPY_EDTYPE: return "SEG_NPY_EDTYPE";
    case SEG_NPY_ESHAPE: return "SEG_NPY_ESHAPE";
    }
  return "unknown SegNpyStatus";
}
