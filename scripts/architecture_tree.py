#!/usr/bin/env python3
"""Print the README's file-by-file architecture listing from the tree.

Every file under Sources/ (and the benchmark executable) appears once, under its target, with
the first sentence of its first doc comment (`///`) or, for C bindings and resources, a fixed
note. ArchitectureTests.testReadmeListsEveryFile checks that the README's block between
`<!-- files:begin -->` and `<!-- files:end -->` names exactly the files in the tree, so paste
this script's output there after adding, moving or removing a file:

    python3 scripts/architecture_tree.py > /tmp/files.md   # then replace the README block
    python3 scripts/architecture_tree.py --update-readme   # or let it replace the block
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = ["Sources", "Benchmarks/TesseraBench"]
WIDTH = 46


def summary(path):
    name = os.path.basename(path)
    if name == "module.modulemap":
        return "module map of the system library"
    if name.endswith(".h"):
        return "static-inline shims for macros Swift cannot import"
    if not name.endswith(".swift"):
        return "bundled resource"
    blocks, current = [], []
    decl = re.compile(r"^\s*(public |internal |package |final |@\w+ )*(struct|enum|class|protocol|extension|actor|func|typealias)\s+([A-Za-z_][A-Za-z0-9_.]*)")
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if s.startswith("///"):
                current.append(s[3:].strip())
            elif current:
                m = decl.match(line)
                blocks.append((m.group(3) if m else "", " ".join(current)))
                current = []
    stem = os.path.splitext(name)[0].split("+")[0]
    # The doc comment of the type the file is named after, else the file's first doc comment.
    text = next((t for n, t in blocks if n.split(".")[0] == stem), blocks[0][1] if blocks else "")
    m = re.match(r"(.+?[.;])(\s|$)", text.replace("`", ""))
    first = (m.group(1) if m else text.replace("`", "")).rstrip(".;:")
    if len(first) > 96:
        first = first[:95].rsplit(" ", 1)[0] + " …"
    return first or "(no doc comment)"


def listing():
    out = []
    for top in FOLDERS:
        base = os.path.join(ROOT, top)
        targets = sorted(os.listdir(base)) if top == "Sources" else [""]
        for t in targets:
            folder = os.path.join(base, t) if t else base
            if not os.path.isdir(folder):
                continue
            rel_folder = os.path.relpath(folder, ROOT)
            out.append(f"{rel_folder}/")
            files = []
            for dirpath, _, names in os.walk(folder):
                for n in names:
                    files.append(os.path.relpath(os.path.join(dirpath, n), folder))
            for rel in sorted(files):
                out.append(f"  {rel:<{WIDTH}} {summary(os.path.join(folder, rel))}")
    return out


def main():
    text = "\n".join(["```"] + listing() + ["```"])
    if "--update-readme" in sys.argv:
        path = os.path.join(ROOT, "README.md")
        readme = open(path, encoding="utf-8").read()
        begin, end = "<!-- files:begin -->", "<!-- files:end -->"
        if begin not in readme or end not in readme:
            sys.exit("README.md has no <!-- files:begin --> / <!-- files:end --> block")
        head, rest = readme.split(begin, 1)
        _, tail = rest.split(end, 1)
        open(path, "w", encoding="utf-8").write(head + begin + "\n" + text + "\n" + end + tail)
    else:
        print(text)


if __name__ == "__main__":
    main()
