"""Prints, as JSON, the instructions BuildKit's own parser (PyPI `dockerfile`, which wraps
moby/buildkit's frontend/dockerfile/parser) finds in each file given on the command line:
{path: {"instructions": [[KEYWORD, start_line, end_line], ...]} | {"error": message}}.
Used by tests/lint_corpus.rs as the parsing oracle."""
import json
import sys

import dockerfile

out = {}
for path in sys.argv[1:]:
    try:
        cmds = dockerfile.parse_file(path)
        out[path] = {"instructions": [[c.cmd.upper(), c.start_line, c.end_line] for c in cmds]}
    except dockerfile.GoParseError as e:
        out[path] = {"error": str(e)}
json.dump(out, sys.stdout)
