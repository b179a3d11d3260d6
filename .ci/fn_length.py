#!/usr/bin/env python3
"""List Rust functions in src/ longer than a limit (default 80 lines).

A function's length runs from the line holding `fn` to the line of its closing brace, both
included. Test code is skipped: `#[cfg(test)]` modules (inline or in their own file), `#[test]`
functions and files named `tests.rs` or under a `tests/` folder. A function that is a table
(one arm or entry per line) may be allowed by a `// fn-length: table` comment on one of the three
lines above its `fn` line.

Usage: .ci/fn_length.py [--limit N] [ROOT]     (ROOT defaults to src/)
Exit status: 0 when no function is over the limit, 1 otherwise.
"""

import argparse
import os
import re
import sys

FN_RE = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?"
    r"(?:extern\s+\"[^\"]*\"\s+)?fn\s+([A-Za-z_][A-Za-z0-9_]*)"
)
CFG_TEST_MOD_FILE_RE = re.compile(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;")
RAW_RE = re.compile(r'b?r(#*)"')
CHAR_RE = re.compile(r"'(?:\\u\{[0-9a-fA-F]+\}|\\.|[^\\'\n])'")
TABLE_MARK = "fn-length: table"


def blank_code(text):
    """Return `text` with comments, string and char literals replaced by spaces.

    Newlines are kept so line numbers stay the same; only braces in real code remain.
    """
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif (c in "br" and RAW_RE.match(text, i)
              and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"))):
            m = RAW_RE.match(text, i)
            close = '"' + m.group(1)
            j = text.find(close, m.end())
            j = n if j < 0 else j + len(close)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}') or a lifetime ('a): only blank literals.
            m = CHAR_RE.match(text, i)
            if m:
                out.append(" " * (m.end() - i))
                i = m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def block_end(code, open_index):
    """Index of the brace closing the one at `open_index` in blanked `code`."""
    depth = 0
    for k in range(open_index, len(code)):
        if code[k] == "{":
            depth += 1
        elif code[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return len(code) - 1


def body_start(code, pos):
    """Index of the `{` opening the body of the function whose signature starts at `pos`, or
    None for a declaration without a body (a trait method ending in `;`). Brackets and
    parentheses are skipped, so `[u8; 4]` in a parameter type ends nothing."""
    depth = 0
    for k in range(pos, len(code)):
        c = code[k]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0 and c == "{":
            return k
        elif depth == 0 and c == ";":
            return None
    return None


def test_files(root):
    """Files holding `#[cfg(test)] mod x;` modules (x.rs or x/mod.rs next to the parent)."""
    skipped = set()
    for path in rust_files(root):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        base = os.path.dirname(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem not in ("mod", "lib", "main"):
            base = os.path.join(base, stem)
        for name in CFG_TEST_MOD_FILE_RE.findall(text):
            skipped.add(os.path.normpath(os.path.join(base, name + ".rs")))
            skipped.add(os.path.normpath(os.path.join(base, name, "mod.rs")))
    return skipped


def rust_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "tests")
        for name in sorted(filenames):
            if name.endswith(".rs") and name != "tests.rs":
                yield os.path.join(dirpath, name)


def long_functions(path, limit):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    code = blank_code(text)
    lines = code.split("\n")
    raw_lines = text.split("\n")
    line_starts = [0]
    for line in lines[:-1]:
        line_starts.append(line_starts[-1] + len(line) + 1)

    # Line ranges of #[cfg(test)] inline modules.
    test_ranges = []
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", code):
        start = code.count("\n", 0, m.start())
        end = code.count("\n", 0, block_end(code, m.end() - 1))
        test_ranges.append((start, end))

    found = []
    for idx, line in enumerate(lines):
        m = FN_RE.match(line)
        if not m or any(a <= idx <= b for a, b in test_ranges):
            continue
        above = raw_lines[max(0, idx - 3):idx]
        if any(l.strip() == "#[test]" for l in above):
            continue
        brace = body_start(code, line_starts[idx] + m.end())
        if brace is None:
            continue
        end_line = code.count("\n", 0, block_end(code, brace))
        length = end_line - idx + 1
        if length > limit and not any(TABLE_MARK in l for l in above):
            found.append((length, path, idx + 1, m.group(1)))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=80)
    parser.add_argument("root", nargs="?", default="src")
    args = parser.parse_args()
    skipped = test_files(args.root)
    found = []
    for path in rust_files(args.root):
        if os.path.normpath(path) not in skipped:
            found.extend(long_functions(path, args.limit))
    for length, path, line, name in sorted(found, reverse=True):
        print(f"{length:5} {path}:{line} {name}")
    print(f"{len(found)} function(s) over {args.limit} lines", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
