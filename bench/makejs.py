#!/usr/bin/env python3
"""Writes a deterministic stand-in for a minified JavaScript bundle (bench/compression.sh).

Minified bundles compress to a quarter or so with gzip: many short identifiers drawn from a
vocabulary, keywords, string and number literals, little whitespace. Seeded, so every machine
measures the same bytes. Usage: makejs.py SIZE OUT."""
import random, sys

size, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(2026)
letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$"
names = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 3))) for _ in range(600)]
words = ["render", "props", "state", "children", "useEffect", "createElement", "prototype", "length",
         "push", "map", "filter", "reduce", "forEach", "Object", "Array", "Promise", "then", "catch",
         "document", "window", "addEventListener", "querySelector", "className", "style", "value"]
keywords = ["function", "return", "var", "let", "const", "if", "else", "for", "new", "this", "typeof",
            "null", "void 0", "!0", "!1", "instanceof", "throw", "case", "break", "switch"]
ops = ["=", "==", "===", "!==", "&&", "||", "+", "-", "*", "?", ":", ",", ";", ".", "(", ")", "{", "}", "[", "]", "=>"]

def token():
    r = rng.random()
    if r < 0.35: return rng.choice(names)
    if r < 0.50: return rng.choice(words)
    if r < 0.62: return rng.choice(keywords) + " "
    if r < 0.70: return '"' + rng.choice(words) + rng.choice(["", "-", "_"]) + rng.choice(names) + '"'
    if r < 0.76: return str(rng.randint(0, 4096))
    return rng.choice(ops)

# Code repeats itself: statements built once and reused with a name changed here and there,
# as a bundle's components and helpers are.
snippets = ["".join(token() for _ in range(rng.randint(6, 40))) for _ in range(400)]
parts, total = [], 0
while total < size:
    t = rng.choice(snippets) if rng.random() < 0.8 else token()
    if rng.random() < 0.3:
        t = t.replace(rng.choice(names), rng.choice(names), 1)
    parts.append(t)
    total += len(t)
open(out, "w").write("".join(parts)[:size])
