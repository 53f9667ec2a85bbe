# SPDX-License-Identifier: LGPL-3.0-or-later
"""Minimal PNG reading and writing for the data scripts, with NumPy only:
greyscale and RGB(A), 8 or 16 bits, no interlacing, no palette."""
import struct
import zlib

import numpy as np

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def write_png(path, pixels, bit_depth, colour_type):
    """No filtering, one IDAT, big-endian 16-bit samples."""
    height = pixels.shape[0]
    width = pixels.shape[1]
    raw = pixels.astype('>u2' if bit_depth == 16 else 'u1').tobytes()
    stride = len(raw) // height
    scanlines = b''.join(b'\0' + raw[y * stride:(y + 1) * stride]
                         for y in range(height))

    def chunk(kind, data):
        body = kind + data
        return (struct.pack('>I', len(data)) + body +
                struct.pack('>I', zlib.crc32(body) & 0xffffffff))

    header = struct.pack('>IIBBBBB', width, height, bit_depth, colour_type,
                         0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) +
                chunk(b'IDAT', zlib.compress(scanlines, 9)) +
                chunk(b'IEND', b''))


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    """(height, width[, channels]) array of uint8 or uint16 samples."""
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', path + ': not a PNG'
    pos, idat, header = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    width, height, depth, ctype, _, _, interlace = header
    assert interlace == 0 and ctype in CHANNELS and depth in (8, 16), path
    channels = CHANNELS[ctype]
    bpp = channels * depth // 8
    stride = width * bpp
    raw = zlib.decompress(idat)
    out = bytearray(height * stride)
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xff
            elif kind == 2:
                line[i] = (line[i] + b) & 0xff
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif kind == 4:
                line[i] = (line[i] + _paeth(a, b, c)) & 0xff
        out[y * stride:(y + 1) * stride] = line
        prev = line
    pixels = np.frombuffer(bytes(out), '>u2' if depth == 16 else 'u1')
    shape = (height, width) if channels == 1 else (height, width, channels)
    return pixels.astype(np.uint16 if depth == 16 else np.uint8).reshape(shape)
