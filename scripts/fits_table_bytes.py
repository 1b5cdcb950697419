#!/usr/bin/env python3
"""Exit 0 if the first binary table HDU of two FITS files holds the same bytes (data and column
definitions), ignoring header cards that describe how the file was made (chunk counts, dates).
Stdlib only: reads 2880-byte FITS blocks and parses the headers itself."""
import sys

def hdus(path):
    data = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(data):
        cards, end = {}, False
        while not end:
            block = data[pos:pos + 2880]; pos += 2880
            for i in range(0, 2880, 80):
                card = block[i:i + 80].decode("ascii")
                key = card[:8].strip()
                if key == "END":
                    end = True; break
                if card[8:10] == "= ":
                    cards[key] = card[10:].split("/")[0].strip().strip("'").strip()
        naxis = int(cards.get("NAXIS", 0))
        size = 1 if naxis else 0
        for k in range(1, naxis + 1): size *= int(cards[f"NAXIS{k}"])
        size = abs(int(cards.get("BITPIX", 8))) // 8 * (size + int(cards.get("PCOUNT", 0))) if naxis else 0
        out.append((cards, data[pos:pos + size]))
        pos += (size + 2879) // 2880 * 2880
    return out

def first_table(path):
    """(header cards, data bytes) of the first binary table HDU of `path`."""
    for cards, data in hdus(path):
        if cards.get("XTENSION") == "BINTABLE":
            return cards, data
    sys.exit(f"{path}: no binary table")

if __name__ == "__main__":
    ta, tb = first_table(sys.argv[1]), first_table(sys.argv[2])
    cols = lambda c: {k: v for k, v in c.items() if k.startswith(("TTYPE", "TFORM", "TUNIT", "NAXIS", "TFIELDS"))}
    same = ta[1] == tb[1] and cols(ta[0]) == cols(tb[0])
    if not same:
        print(f"tables differ: {len(ta[1])} vs {len(tb[1])} data bytes", file=sys.stderr)
    sys.exit(0 if same else 1)
