"""What the lab's own tests share: tools/lab on the import path, ROOT, and the
`ok - NAME` / `FAIL - NAME: DETAIL` lines with their closing count
(`N passed, N failed`, the line tools/check.sh sums)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tools", "lab"))


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok - " + name)
        else:
            self.failed += 1
            print("FAIL - %s: %s" % (name, detail))

    def close(self):
        """Prints the count line; the exit status."""
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0
