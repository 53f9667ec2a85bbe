#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Writes the hand-made part of tests/npy-corpus/: .npy files that are
malformed in one way each, and a few valid ones that NumPy does not write
but reads.  The tests replay every file of the corpus through the header
parser (tests/test-npy.c) and through seg:npy-load (tests/test-gegl-npy.c);
the fuzzer (tests/fuzz-npy-header.c) starts from it.  The prefix says what
must happen:

  bad-*   the header parser refuses the file
  op-*    the parser accepts the header, seg:npy-load refuses the file
  ok-*    both accept it; the data bytes are 0, 1, 2 … (mod 256)
  fuzz-*  kept from fuzzing runs (libFuzzer's -merge=1: each adds parser
          coverage beyond the files above); seg:npy-load loads it or
          refuses it with one message, and nothing crashes, hangs or leaks

Run from the repository root:  python3 tests/make-npy-corpus.py
"""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'npy-corpus')
MAGIC = b'\x93NUMPY'


def v1(header, data=b'', pad=True):
    """A version 1.0 file: header text, padded like NumPy when pad."""
    text = header.encode('latin1')
    if pad:
        text += b' ' * (63 - (10 + len(text)) % 64) + b'\n'
    return MAGIC + b'\x01\x00' + struct.pack('<H', len(text)) + text + data


def v2(header, data=b''):
    """A version 2.0 file (4-byte header length), unpadded."""
    text = header.encode('latin1') + b'\n'
    return MAGIC + b'\x02\x00' + struct.pack('<I', len(text)) + text + data


def dictionary(descr="'<u2'", fortran='False', shape='(3, 4)'):
    return "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (
        descr, fortran, shape)


def counting(n):
    return bytes(i & 0xff for i in range(n))


FILES = {
    # The prelude.
    'bad-empty': b'',
    'bad-magic-png': b'\x89PNG\r\n\x1a\n' + b'\0' * 56,
    'bad-magic-text': b'hello, this is not a NumPy file\n',
    'bad-magic-cut': b'\x93NU',
    'bad-prelude-cut': MAGIC + b'\x01\x00\x76',
    'bad-prelude-v2-cut': MAGIC + b'\x02\x00\x76\x00',
    'bad-version-4': MAGIC + b'\x04\x00\x76\x00' + b' ' * 118,
    'bad-version-1-1': MAGIC + b'\x01\x01\x76\x00' + b' ' * 118,
    'bad-version-0': MAGIC + b'\x00\x00\x76\x00' + b' ' * 118,
    'bad-header-cut': v1(dictionary(), counting(24))[:60],
    'bad-header-length-huge': MAGIC + b'\x02\x00' +
                              struct.pack('<I', 0xfffffff0) + b'{}',
    'bad-header-length-zero': MAGIC + b'\x01\x00\x00\x00',
    # The dictionary.
    'bad-not-dict': v1('[1, 2, 3]'),
    'bad-dict-unclosed': v1("{'descr': '<u2', 'fortran_order': False, "
                            "'shape': (3, 4), "),
    'bad-dict-no-colon': v1("{'descr' '<u2', 'fortran_order': False, "
                            "'shape': (3, 4), }"),
    'bad-dict-no-comma': v1("{'descr': '<u2' 'fortran_order': False, "
                            "'shape': (3, 4), }"),
    'bad-key-missing-descr': v1("{'fortran_order': False, 'shape': (3,), }"),
    'bad-key-missing-shape': v1("{'descr': '<u2', 'fortran_order': False, }"),
    'bad-key-missing-fortran': v1("{'descr': '<u2', 'shape': (3,), }"),
    'bad-key-unknown': v1("{'descr': '<u2', 'fortran_order': False, "
                          "'shape': (3,), 'colour': 'red', }"),
    'bad-key-twice': v1("{'descr': '<u2', 'fortran_order': False, "
                        "'shape': (3,), 'shape': (4,), }"),
    'bad-key-not-string': v1("{1: '<u2', 'fortran_order': False, "
                             "'shape': (3,), }"),
    'bad-string-unclosed': v1("{'descr: '<u2', 'fortran_order': False, "
                              "'shape': (3,), }"),
    'bad-string-backslash': v1("{'descr': '<u\\x32', 'fortran_order': "
                               "False, 'shape': (3,), }"),
    'bad-text-after': v1(dictionary() + ' and more'),
    'bad-nul-in-header': v1(dictionary().replace(', }', ',\0}')),
    # The dtype.
    'bad-descr-object': v1(dictionary(descr="'|O'")),
    'bad-descr-complex': v1(dictionary(descr="'<c8'")),
    'bad-descr-bytes': v1(dictionary(descr="'|S10'")),
    'bad-descr-unicode': v1(dictionary(descr="'<U5'")),
    'bad-descr-datetime': v1(dictionary(descr="'<M8[ns]'")),
    'bad-descr-structured': v1(dictionary(descr="[('a', '<i4'), "
                                                 "('b', '<f8')]")),
    'bad-descr-u3': v1(dictionary(descr="'<u3'")),
    'bad-descr-f16': v1(dictionary(descr="'<f16'")),
    'bad-descr-b2': v1(dictionary(descr="'|b2'")),
    'bad-descr-huge-size': v1(dictionary(descr="'<u99999999999'")),
    'bad-descr-number': v1(dictionary(descr='5')),
    'bad-descr-empty': v1(dictionary(descr="''")),
    'bad-descr-order-only': v1(dictionary(descr="'<'")),
    # fortran_order.
    'bad-fortran-string': v1(dictionary(fortran="'yes'")),
    'bad-fortran-number': v1(dictionary(fortran='1')),
    'bad-fortran-truex': v1(dictionary(fortran='Truex')),
    # The shape.
    'bad-shape-string': v1(dictionary(shape="'abc'")),
    'bad-shape-list': v1(dictionary(shape='[3, 4]')),
    'bad-shape-number': v1(dictionary(shape='(3)')),
    'bad-shape-negative': v1(dictionary(shape='(-3, 4)')),
    'bad-shape-float': v1(dictionary(shape='(3.5, 4)')),
    'bad-shape-no-comma': v1(dictionary(shape='(3 4)')),
    'bad-shape-double-comma': v1(dictionary(shape='(3,, 4)')),
    'bad-shape-unclosed': v1(dictionary(shape='(3, 4')),
    'bad-shape-dimension-overflow': v1(dictionary(
        shape='(99999999999999999999, 1)')),
    'bad-shape-int64-max-plus-1': v1(dictionary(
        shape='(9223372036854775808,)')),
    'bad-shape-product-overflow': v1(dictionary(
        shape='(4294967296, 4294967296, 4)')),
    'bad-shape-bytes-overflow': v1(dictionary(descr="'<u8'",
                                              shape='(1152921504606846976,)')),
    'bad-shape-5d': v1(dictionary(shape='(1, 1, 1, 1, 1)')),
    # Headers the parser accepts, files seg:npy-load cannot serve.
    'op-data-short': v1(dictionary(), counting(23)),
    'op-data-none': v1(dictionary()),
    'op-4d': v1(dictionary(shape='(2, 3, 4, 2)'), counting(96)),
    'op-empty-array': v1(dictionary(shape='(0, 5)')),
    'op-empty-volume': v1(dictionary(shape='(4, 0, 5)')),
    'op-too-wide': v1(dictionary(descr="'|u1'", shape='(3000000000,)')),
    'op-too-tall': v1(dictionary(descr="'|u1'",
                                 shape='(70000, 70000, 1)')),
    'op-huge-2d': v1(dictionary(descr="'|u1'",
                                shape='(4611686018427387903, 1)')),
    # Valid files that NumPy reads but does not write.
    'ok-python2-long': v1(dictionary(shape='(3L, 4L)'), counting(24)),
    'ok-double-quotes': v1('{"descr": "<u2", "fortran_order": False, '
                           '"shape": (3, 4)}', counting(24)),
    'ok-keys-reordered': v1("{'shape': (3, 4), 'fortran_order': False, "
                            "'descr': '<u2'}", counting(24)),
    'ok-unpadded': v1(dictionary(), counting(24), pad=False),
    'ok-spaces-and-newlines': v1("{ 'descr' :'<u2' ,\n 'fortran_order'\t: "
                                 "False,'shape':( 3 ,4 , ) }", counting(24)),
    'ok-bool-values-above-1': v1(dictionary(descr="'|b1'", shape='(2, 5)'),
                                 counting(10)),
    'ok-v2': v2(dictionary(), counting(24)),
    'ok-0d': v1(dictionary(descr="'<f8'", shape='()'), counting(8)),
    'ok-extra-data': v1(dictionary(), counting(40)),
}


def main():
    os.makedirs(HERE, exist_ok=True)
    for name, data in FILES.items():
        with open(os.path.join(HERE, name + '.npy'), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
