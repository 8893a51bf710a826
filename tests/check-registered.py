#!/usr/bin/python3
"""Every test method of the Python test files is a meson test.

The meson.build files list each test method by name (one meson test per
behaviour); a method written but not listed never runs in CI. Eight did not
(found 2026-11-30). This reads each meson.build given, the
`'test_x.py' : ['Class', ['test_a', ...]]` entries in it, and the methods
`def test_...` of those files, and fails naming every method not listed,
and every listed name that is no method (a rename left behind).

usage: check-registered.py MESON_BUILD...
"""

import re
import sys
from pathlib import Path

ENTRY = re.compile(r"'(test_\w+\.py)'\s*:\s*\['(\w+)',\s*\[(.*?)\]", re.S)


def main(builds):
    problems = []
    listed_files = 0
    for build in map(Path, builds):
        text = build.read_text()
        by_file = {}
        for script, _cls, names in ENTRY.findall(text):
            by_file.setdefault(script, set()).update(re.findall(r"'(test_\w+)'", names))
        for script, listed in sorted(by_file.items()):
            listed_files += 1
            # beside the meson.build, or in its integration/ (tests/meson.build)
            path = build.parent / script
            if not path.exists():
                path = build.parent / "integration" / script
            source = path.read_text()
            defined = set(re.findall(r"^    def (test_\w+)\(", source, re.M))
            for name in sorted(defined - listed):
                problems.append("%s: %s is not in %s" % (script, name, build))
            for name in sorted(listed - defined):
                problems.append("%s: %s is listed in %s but not defined" %
                                (script, name, build))
    if not listed_files:
        problems.append("no test files found in %s" % " ".join(builds))
    for p in problems:
        print(p)
    print("%d test files checked, %d problem(s)" % (listed_files, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
