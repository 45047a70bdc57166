#!/usr/bin/python3
"""Golden file for export/: the schema history of every default-domain ONNX op up to opset 17,
as Debian's python3-onnx 1.12 knows it (no randomness, no seed).

    /usr/bin/python3 scripts/gen_opset_history.py   # rewrites export/testdata/opset_history.json

The file maps each op type to the sorted list of opsets (≤ 17) in which its schema was
introduced or revised (onnx.defs.get_all_schemas_with_history(), since_version).
export's TestOpsetHistoryMatchesONNX checks its hand-written opsetHistory table against it:
the revisions it lists in 14–17 must be exactly these, and every op in it must exist at 13.
"""
import json
import os

import onnx
import onnx.defs

MAX_OPSET = 17


def main():
    history = {}
    for s in onnx.defs.get_all_schemas_with_history():
        if s.domain not in ("", "ai.onnx") or s.since_version > MAX_OPSET:
            continue
        history.setdefault(s.name, set()).add(s.since_version)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "export", "testdata", "opset_history.json")
    # One op per line, so a diff after regenerating shows which ops changed.
    lines = ['  %s: %s' % (json.dumps(k), json.dumps(sorted(v))) for k, v in sorted(history.items())]
    with open(path, "w") as f:
        f.write('{\n "onnx_version": %s,\n' % json.dumps(onnx.__version__))
        f.write(' "command": "/usr/bin/python3 scripts/gen_opset_history.py",\n')
        f.write(' "max_opset": %d,\n "ops": {\n' % MAX_OPSET)
        f.write(",\n".join(lines))
        f.write("\n }\n}\n")
    print("wrote", path, len(lines), "ops")


if __name__ == "__main__":
    main()
