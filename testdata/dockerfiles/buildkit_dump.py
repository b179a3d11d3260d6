"""Prints, as JSON, what BuildKit's own parser (PyPI `dockerfile`, which wraps
moby/buildkit's frontend/dockerfile/parser) finds in each file given on the command line:
{path: {"instructions": [{"cmd", "sub_cmd", "start", "end", "flags", "value", "json",
"heredocs": [[name, content], ...]}, ...]} | {"error": message}}.
Used by tests/it/lint_corpus.rs as the parsing oracle."""
import json
import sys

import dockerfile

out = {}
for path in sys.argv[1:]:
    try:
        cmds = dockerfile.parse_file(path)
        out[path] = {"instructions": [{
            "cmd": c.cmd.upper(),
            "sub_cmd": (c.sub_cmd or "").upper(),
            "start": c.start_line,
            "end": c.end_line,
            "flags": list(c.flags),
            "value": list(c.value),
            "json": c.json,
            "heredocs": [[h.name, h.content] for h in c.heredocs],
        } for c in cmds]}
    except dockerfile.GoParseError as e:
        out[path] = {"error": str(e)}
json.dump(out, sys.stdout)
