#!/usr/bin/env python3
"""The bad-input corpus (tests/bad-input/cases.json, input files in tests/bad-input/files/): every
command of fabricbench given bad flags and broken plan, fabric and results files. Each case must
exit 2 (no crash signal), write exactly one line to stderr, "fabricbench: ...", naming the offending
value or FILE:LINE, and leave its directory as it found it: no file created, none changed
(pre-existing outputs included). One subtest per case; cases run a few at a time."""

import concurrent.futures
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, mpirun_cmd, singleton_cmd  # noqa: E402

MISSING_DIR = "/nonexistent-fabricbench-dir"
# What mpirun prints when a rank dies of a signal (its exit code is then not 2 either).
SIGNAL_WORDS = ("Segmentation fault", "core dumped", "Aborted", "signal")


def corpus_dir():
    return os.path.join(CONFIG.source, "tests", "bad-input")


def load_cases():
    with open(os.path.join(corpus_dir(), "cases.json")) as f:
        cases = json.load(f)["cases"]
    names = [c["name"] for c in cases]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise AssertionError(f"cases.json: names given twice: {dupes}")
    return cases


def snapshot(top):
    """{relative path: bytes, or None for a directory} of everything under `top`."""
    out = {}
    for root, dirs, files in os.walk(top):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), top)] = None
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, top)] = f.read()
    return out


class Case:
    """One case set up in its own directory: inputs copied, existing outputs written."""

    def __init__(self, spec, top):
        self.spec = spec
        self.name = spec["name"]
        self.ranks = spec.get("ranks", 0)
        unknown = set(spec) - {"name", "ranks", "args", "expect", "inputs", "existing", "mkdir"}
        if unknown:
            raise AssertionError(f"case {self.name!r}: unknown keys {sorted(unknown)}")
        self.dir = os.path.join(top, f"case{len(os.listdir(top)):03d}")
        os.mkdir(self.dir)
        files = os.path.join(corpus_dir(), "files")
        for name in spec.get("inputs", []):
            shutil.copyfile(os.path.join(files, name), os.path.join(self.dir, name))
        for name in spec.get("mkdir", []):
            os.makedirs(os.path.join(self.dir, name))
        for name, content in spec.get("existing", {}).items():
            path = os.path.join(self.dir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(content)
        self.before = snapshot(self.dir)
        args = [self.fill(a) for a in spec["args"]]
        self.cmd = mpirun_cmd(self.ranks, args) if self.ranks else singleton_cmd(args)
        self.expect = [self.fill(e) for e in spec["expect"]]

    def fill(self, text):
        return text.replace("{dir}", self.dir).replace("{missing}", MISSING_DIR)

    def run(self):
        return fbtest.run(self.cmd, cwd=self.dir, timeout=120)


class BadInputCorpus(fbtest.FbTestCase):
    def test_corpus(self):
        self.assertFalse(os.path.exists(MISSING_DIR))
        specs = load_cases()
        if not CONFIG.mpirun:
            self.skipTest("no mpirun")  # fbtest.main() already skips the script then
        cases = [Case(s, self.tmp) for s in specs]
        # Without a launcher a run takes milliseconds; under mpirun a second or two, mostly asleep.
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(Case.run, cases))
        for case, res in zip(cases, results):
            with self.subTest(case=case.name):
                self.check(case, res)
        print(f"  {len(cases)} cases")

    def check(self, case, res):
        self.assertEqual(res.rc, fbtest.EXIT_USAGE, f"exit code 2\n{res.describe()}")
        lines = res.stderr.splitlines()
        if case.ranks == 0:
            # Nothing but fabricbench writes to stderr: all of it is the one line.
            self.assertEqual(len(lines), 1, f"stderr is exactly one line\n{res.describe()}")
            self.assertTrue(res.stderr.endswith("\n"), res.describe())
        else:
            # mpirun may add its own notes about the exit code; fabricbench's lines are counted.
            self.assertEqual(len(res.fb_lines()), 1, f"exactly one line from fabricbench\n{res.describe()}")
            lines = res.fb_lines()
            for word in SIGNAL_WORDS:
                self.assertNotIn(word, res.stderr, f"a rank died of a signal\n{res.describe()}")
        line = lines[0]
        self.assertTrue(line.startswith(fbtest.FB_PREFIX), f"the line starts with {fbtest.FB_PREFIX!r}\n{res.describe()}")
        for text in case.expect:
            self.assertIn(text, line, f"the error names {text!r}\n{res.describe()}")
        after = snapshot(case.dir)
        self.assertEqual(sorted(after), sorted(case.before), f"files created or removed in {case.dir}\n{res.describe()}")
        for path, content in case.before.items():
            self.assertEqual(after[path], content, f"{path} was changed\n{res.describe()}")


if __name__ == "__main__":
    fbtest.main()
