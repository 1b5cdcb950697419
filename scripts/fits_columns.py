#!/usr/bin/env python3
"""Print scalar columns of the first binary table of a FITS file, one row per line, tab-separated
(`fits_columns.py FILE COLUMN...`). Stdlib only, so test scripts can read Tessera's catalogs on a
machine without astropy or fitsio: reads the 2880-byte blocks and the TFORMs D, E, K, J, I, L."""
import struct, sys

def first_table(path):
    data = open(path, "rb").read()
    pos = 0
    while pos < len(data):
        cards, end = {}, False
        while not end:
            block = data[pos:pos + 2880]; pos += 2880
            for i in range(0, 2880, 80):
                card = block[i:i + 80].decode("ascii")
                if card[:8].strip() == "END":
                    end = True; break
                if card[8:10] == "= ":
                    cards[card[:8].strip()] = card[10:].split("/")[0].strip().strip("'").strip()
        naxis = int(cards.get("NAXIS", 0))
        size = 1 if naxis else 0
        for k in range(1, naxis + 1): size *= int(cards[f"NAXIS{k}"])
        size = abs(int(cards.get("BITPIX", 8))) // 8 * (size + int(cards.get("PCOUNT", 0))) if naxis else 0
        if cards.get("XTENSION") == "BINTABLE":
            return cards, data[pos:pos + size]
        pos += (size + 2879) // 2880 * 2880
    sys.exit(f"{path}: no binary table")

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
