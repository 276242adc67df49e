#!/usr/bin/env python3
"""Extracts the C prototypes of librdkafka's public functions into src/capi/prototypes.txt.

Usage: extract-capi-prototypes.py PREPROCESSED_HEADER FUNCTIONS_TSV > src/capi/prototypes.txt

PREPROCESSED_HEADER is `gcc -E -P` of a file including librdkafka 2.15's rdkafka.h and
rdkafka_mock.h. Only declarations (facts of the interface) are kept, one per line, whitespace
normalised, in functions.tsv order.
"""
import re
import sys

text = open(sys.argv[1]).read()
text = re.sub(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)", "", text)
names = [l.split("\t")[0] for l in open(sys.argv[2]).read().splitlines()[1:]]

for name in names:
    m = re.search(r"[;}]\s*([^;{}]*?\b" + name + r"\s*\()", text)
    if not m:
        sys.exit("not found: " + name)
    start = m.start(1)
    # Walk to the matching ')' of the parameter list.
    i = m.end(1)
    depth = 1
    while depth:
        c = text[i]
        depth += c == "("
        depth -= c == ")"
        i += 1
    decl = text[start:i]
    decl = re.sub(r"\s+", " ", decl).strip()
    decl = re.sub(r"^(extern\s+)", "", decl)
    decl = decl.replace("( ", "(").replace(" )", ")")
    print(decl + ";")
