#!/usr/bin/env python3
"""Print scalar columns of the first binary table of a FITS file, one row per line, tab-separated
(`fits_columns.py FILE COLUMN...`). Stdlib only, so test scripts can read Tessera's catalogs on a
machine without astropy or fitsio: reads the 2880-byte blocks and the TFORMs D, E, K, J, I, L."""
import struct, sys

from fits_table_bytes import first_table  # the same stdlib FITS block parser

FORMATS = {"D": (">d", 8), "E": (">f", 4), "K": (">q", 8), "J": (">i", 4), "I": (">h", 2), "L": (">c", 1), "B": (">B", 1)}
cards, data = first_table(sys.argv[1])
fields, offset = {}, 0
for k in range(1, int(cards["TFIELDS"]) + 1):
    form = cards[f"TFORM{k}"]
    repeat = int(form[:-1] or 1)
    code = form[-1]
    width = FORMATS[code][1] * repeat if code in FORMATS else int(form[:-1] or 1)
    fields[cards[f"TTYPE{k}"].lower()] = (offset, code, repeat)
    offset += width
row_bytes, rows = int(cards["NAXIS1"]), int(cards["NAXIS2"])
wanted = [c.lower() for c in sys.argv[2:]]
for name in wanted:
    if name not in fields or fields[name][2] != 1 or fields[name][1] not in FORMATS:
        sys.exit(f"{sys.argv[1]}: no scalar numeric column {name}")
for r in range(rows):
    values = []
    for name in wanted:
        off, code, _ = fields[name]
        fmt, width = FORMATS[code]
        v = struct.unpack(fmt, data[r * row_bytes + off:r * row_bytes + off + width])[0]
        values.append(str(v == b"T") if code == "L" else repr(v))
    print("\t".join(values))
