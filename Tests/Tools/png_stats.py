"""Prints statistics of a PNG screenshot as JSON, using only the standard library.

Used by the dashboard test to check that Chromium drew charts (many colours, a good share of
non-white pixels), not only that a file exists.
usage: python3 png_stats.py FILE.png
"""
import json
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path} is not a PNG")
    offset = 8
    width = height = depth = color = None
    compressed = b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
    if depth != 8 or color not in (2, 6):
        raise SystemExit(f"unsupported PNG: depth {depth}, colour type {color}")
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(compressed)
    stride = width * channels
    rows = []
    previous = bytearray(stride)
    position = 0
    for _ in range(height):
        kind = raw[position]
        line = bytearray(raw[position + 1:position + 1 + stride])
        position += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(line)
        previous = line
    return width, height, channels, rows


def main():
    width, height, channels, rows = read_png(sys.argv[1])
    colours = set()
    non_white = 0
    total = 0
    for y in range(0, height, 2):
        line = rows[y]
        for x in range(0, width, 2):
            r, g, b = line[x * channels], line[x * channels + 1], line[x * channels + 2]
            total += 1
            if r < 245 or g < 245 or b < 245:
                non_white += 1
            colours.add((r >> 3, g >> 3, b >> 3))
    print(json.dumps({"width": width, "height": height, "colours": len(colours),
                      "non_white_fraction": non_white / max(total, 1)}))


main()
