"""fabricbench report, end to end: PNG and SVG plots with index.md / index.html from a measured run
(mpirun -np 2) and from `fabricbench model` output; bad input and a missing plotting tool exit 2
without creating the output directory."""

import atexit
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, mpirun_cmd, singleton_cmd  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NEEDS = "fabricbench: report: needs python3-matplotlib (apt-get install python3-matplotlib)"


def have_matplotlib():
    try:
        return subprocess.run(["/usr/bin/python3", "-c", "import matplotlib"], capture_output=True).returncode == 0
    except OSError:
        return False


def report(*args, env=None):
    old = dict(os.environ)
    try:
        if env:
            os.environ.update(env)
        return fbtest.run(singleton_cmd(["report", *args]), timeout=180)
    finally:
        os.environ.clear()
        os.environ.update(old)


class Inputs:
    """The measured run and the model output, made once for every test."""
    dir = None
    csv = json = model = None

    @classmethod
    def make(cls, tc):
        if cls.dir:
            return
        cls.dir = tempfile.mkdtemp(prefix="fbtest-report-inputs-")
        if not os.environ.get("FBTEST_KEEP"):
            atexit.register(shutil.rmtree, cls.dir, True)
        cls.csv, cls.json = os.path.join(cls.dir, "run.csv"), os.path.join(cls.dir, "run.json")
        res = fbtest.run(mpirun_cmd(2, ["run", "--op", "allreduce,pingpong", "-b", "1K", "-e", "64K", "-n", "3",
                                        "--fabric", "localhost", "-q", "--csv", cls.csv, "--json", cls.json]))
        tc.assertRc(res, fbtest.EXIT_OK)
        cls.model = os.path.join(cls.dir, "model.csv")
        res = fbtest.run(singleton_cmd(["model", "--fabric", "hgx-h100", "--op", "allreduce", "--csv", cls.model, "-q"]))
        tc.assertRc(res, fbtest.EXIT_OK)


class Plots(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        if not have_matplotlib():
            self.skipTest("no python3-matplotlib at /usr/bin/python3")
        Inputs.make(self)

    def check_plots(self, out, expected_stems):
        files = sorted(os.listdir(out))
        for stem in expected_stems:
            for ext in ("png", "svg"):
                self.assertIn(f"{stem}.{ext}", files)
        pngs = [f for f in files if f.endswith(".png")]
        svgs = [f for f in files if f.endswith(".svg")]
        self.assertEqual(len(pngs), len(svgs))
        self.assertGreater(len(pngs), 0)
        for f in pngs:
            with open(os.path.join(out, f), "rb") as fh:
                data = fh.read()
            self.assertGreater(len(data), 1000, f)
            self.assertEqual(data[:8], PNG_SIGNATURE, f)
        for f in svgs:
            root = ET.parse(os.path.join(out, f)).getroot()
            self.assertTrue(root.tag.endswith("svg"), f"{f}: root element {root.tag}")
            self.assertGreater(len(list(root.iter())), 10, f)
        with open(os.path.join(out, "index.md")) as fh:
            md = fh.read()
        with open(os.path.join(out, "index.html")) as fh:
            page = fh.read()
        for f in pngs + svgs:
            self.assertIn(f"({f})", md)
            self.assertIn(f'href="{f}"', page)
        self.assertIn("|---|", md)
        self.assertIn("<table>", page)
        self.assertEqual([f for f in files if f.startswith(".")], [], "the plot spec is left behind")
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp." in n], [], "staging left behind")
        return md

    def test_measured_and_model(self):
        out = self.path("rep")
        res = report(Inputs.csv, Inputs.model, "-o", out)
        self.assertRc(res, fbtest.EXIT_OK)
        md = self.check_plots(out, ["busbw_allreduce", "busbw_pingpong", "latency_allreduce", "latency_pingpong",
                                    "ratio_allreduce", "ratio_pingpong", "extrapolation_allreduce_1073741824"])
        self.assertIn("run.csv", md)
        self.assertIn("model.csv", md)
        self.assertIn("in-network", md)  # the bottleneck column of the extrapolation table

    def test_json_input_and_compare(self):
        out = self.path("rep")
        res = report(Inputs.json, "-o", out, "--compare", Inputs.csv, Inputs.json, "--title", "nightly")
        self.assertRc(res, fbtest.EXIT_OK)
        md = self.check_plots(out, ["busbw_allreduce", "latency_pingpong", "compare"])
        self.assertTrue(md.startswith("# nightly"))

    def test_validate_matrix_heat_map(self):
        # A validate pair matrix (rank 3's link at a quarter of its rate) beside a results file:
        # a heat-map of bandwidth and latency against the model, the worst pairs first.
        matrix = os.path.join(CONFIG.source, "tests", "fixtures", "validate", "matrix-4ranks.csv")
        out = self.path("rep")
        res = report(matrix, Inputs.csv, "-o", out)
        self.assertRc(res, fbtest.EXIT_OK)
        md = self.check_plots(out, ["matrix_matrix-4ranks", "busbw_allreduce"])
        self.assertIn("pair matrix matrix-4ranks.csv: 4 ranks, 6 pairs", md)
        table = md[md.index("| pair | hosts |"):].splitlines()
        self.assertTrue(table[2].startswith("| 1-3 | h0 - h1 | 0.25 |"), table[2])
        self.assertTrue(table[3].startswith("| 0-3 | h0 - h1 | 0.257 |"), table[3])

    def test_existing_directory_is_reused(self):
        out = self.path("rep")
        os.mkdir(out)
        self.assertRc(report(Inputs.model, "-o", out), fbtest.EXIT_OK)
        self.check_plots(out, ["extrapolation_allreduce_1073741824"])


class Failures(fbtest.FbTestCase):
    def test_bad_input_exit_2(self):
        bad = self.path("bad.csv")
        with open(bad, "w") as f:
            f.write("schema_version,source\n1,measured,extra\n")
        empty = self.path("empty.csv")
        open(empty, "w").close()
        for path in (bad, empty, self.path("missing.csv")):
            with self.subTest(path=path):
                out = self.path("rep")
                res = report(path, "-o", out)
                self.assertRc(res, fbtest.EXIT_USAGE)
                errs = res.fb_lines()
                self.assertEqual(len(errs), 1, res.describe())
                self.assertIn(os.path.basename(path), errs[0])
                self.assertNoOutputs(out)

    def test_bad_validate_matrix_names_the_line(self):
        header = open(os.path.join(CONFIG.source, "tests", "fixtures", "validate", "matrix-4ranks.csv")).readline()
        cases = [("short.csv", header + "0,0,1,h0\n", r"short\.csv:2: expected 22 fields, got 4"),
                 ("rank.csv", header + "0,x,1" + ",0" * 19 + "\n", r"rank\.csv:2: rank_a: expected a rank, got 'x'"),
                 ("none.csv", header, r"none\.csv:2: no pairs in the matrix")]
        for name, text, pattern in cases:
            with self.subTest(name=name):
                bad = self.path(name)
                with open(bad, "w") as f:
                    f.write(text)
                res = report(bad, "-o", self.path("rep"))
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(len(res.fb_lines()), 1, res.describe())
                self.assertRegex(res.fb_lines()[0], pattern)
                self.assertNoOutputs(self.path("rep"))

    def test_bad_input_names_the_line(self):
        bad = self.path("trunc.csv")
        with open(bad, "w") as f:
            f.write(",".join(fbtest.CSV_COLUMNS) + "\n1,measured,2024\n")
        res = report(bad, "-o", self.path("rep"))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertRegex(res.fb_lines()[0], r"trunc\.csv:2")
        self.assertNoOutputs(self.path("rep"))

    def test_usage_errors(self):
        self.assertRc(report("-o", self.path("rep")), fbtest.EXIT_USAGE)  # no inputs
        fixture = os.path.join(CONFIG.source, "tests", "fixtures", "compare", "base.csv")
        self.assertRc(report(fixture), fbtest.EXIT_USAGE)  # no -o
        self.assertNoOutputs(self.path("rep"))

    def test_plotting_tool_absent(self):
        fixture = os.path.join(CONFIG.source, "tests", "fixtures", "compare", "base.csv")
        fake = self.path("python-without-matplotlib")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'matplotlib'\" >&2\nexit 1\n")
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
        for python in (fake, self.path("no-such-python")):
            with self.subTest(python=python):
                out = self.path("rep")
                res = report(fixture, "-o", out, env={"FABRICBENCH_PYTHON": python})
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(res.fb_lines(), [NEEDS], res.describe())
                self.assertNoOutputs(out)


if __name__ == "__main__":
    fbtest.main()
