#!/usr/bin/python3
"""Every test method of the Python test files is a meson test.

The meson.build files list each test method by name (one meson test per
behaviour); a method written but not listed never runs in CI. Nineteen did
not (found 2026-11-30). This reads the meson.build files given (every
quoted 'test_...' name in them is listed) and the `def test_...` methods of
every test_*.py in the folders given, and fails naming each method not
listed (a listed name need not be a method: scenario tests are named after
their SIPp files).

usage: check-registered.py MESON_BUILD... -- TEST_FOLDER...
"""

import re
import sys
from pathlib import Path


def main(argv):
    if "--" not in argv:
        print(__doc__)
        return 2
    builds, folders = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    listed = set()
    for build in builds:
        listed |= set(re.findall(r"'(test_\w+)'", Path(build).read_text()))
    defined = {}
    for folder in folders:
        for script in sorted(Path(folder).glob("test_*.py")):
            for name in re.findall(r"^    def (test_\w+)\(", script.read_text(), re.M):
                defined.setdefault(name, script.name)
    problems = ["%s: %s is in no meson.build" % (script, name)
                for name, script in sorted(defined.items()) if name not in listed]
    if not defined:
        problems.append("no test methods found in %s" % " ".join(folders))
    for p in problems:
        print(p)
    print("%d test methods, %d problem(s)" % (len(defined), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
