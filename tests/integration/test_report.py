"""fabricbench report, end to end: PNG and SVG plots with index.md / index.html from a measured run
(mpirun -np 2) and from `fabricbench model` output; bad input and a missing plotting tool exit 2
without creating the output directory."""

import atexit
import csv
import os
import re
import statistics
import shutil
import stat
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, CSV_COLUMNS, mpirun_cmd, singleton_cmd  # noqa: E402

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

    def test_missing_parent_directories_are_created(self):
        # report -o a/b/rep where neither a nor a/b exists: made as mkdir -p would (failed before:
        # "no such directory").
        out = os.path.join(self.path("a"), "b", "rep")
        res = report(Inputs.model, "-o", out)
        self.assertRc(res, fbtest.EXIT_OK)
        self.check_plots(out, ["extrapolation_allreduce_1073741824"])

    def test_failed_report_removes_the_parents_it_made(self):
        # A plotting script that fails: nothing is left, not even the directories -o asked for.
        fake = self.path("python-failing")
        with open(fake, "w") as f:
            f.write('#!/bin/sh\n[ "$1" = -c ] && exit 0\necho plot failed >&2\nexit 1\n')
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
        res = report(Inputs.model, "-o", os.path.join(self.path("made"), "deeper", "rep"),
                     env={"FABRICBENCH_PYTHON": fake})
        self.assertNotEqual(res.rc, fbtest.EXIT_OK, res.describe())
        self.assertNoOutputs(self.path("made"))


PROVENANCE_COLUMNS = ["ref", "system", "fabric", "fabric_set", "ranks_per_domain", "nccl_version", "citation",
                      "trust", "note"]
BUSBW_FACTOR = {"allreduce": lambda n: 2 * (n - 1) / n, "allgather": lambda n: (n - 1) / n,
                "alltoall": lambda n: (n - 1) / n}


def published_row(ref, system, fabric, op, nranks, nnodes, nbytes, busbw, trust="A"):
    """A published row in the results schema (configs/reference/README.md), made by hand."""
    algbw = busbw / BUSBW_FACTOR[op](nranks)
    t = nbytes / algbw / 1e3
    row = {c: "" for c in CSV_COLUMNS + PROVENANCE_COLUMNS}
    row.update({"schema_version": 1, "source": "published", "backend": "nccl", "op": op, "mem": "cuda",
                "dtype": "float32", "redop": "sum" if op == "allreduce" else "", "root": -1, "inplace": 0,
                "nranks": nranks, "nnodes": nnodes, "ranks_per_node": nranks // nnodes, "requested_bytes": nbytes,
                "bytes": nbytes, "count": nbytes // 4 if op == "allreduce" else nbytes // 4 // nranks,
                "iters": 0, "warmup": 0, "ops_per_sample": 1, "check_iters": 0, "cycle": 1, "algbw_GBps": algbw,
                "busbw_GBps": busbw, "msg_rate_Mps": 1 / t, "wrong": 0, "slowest_rank": -1, "slowest_share": 0,
                "skew": 0, "ref": ref, "system": system, "fabric": fabric,
                "ranks_per_domain": nranks // nnodes if fabric else "", "citation": "by hand", "trust": trust})
    for c in ("time_us", "time_min_us", "time_p50_us", "time_mean_us", "time_p99_us", "time_max_us"):
        row[c] = t
    return row


def write_rows(path, rows, columns):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


class Against(fbtest.FbTestCase):
    """`model --against` output of published rows on two fabrics: "Model against measurements"."""
    # Five rows on hgx-h200 and aws-p5, one (trust C) that names no fabric (unmapped by --against).
    ROWS = [published_row("1", "HGX H200 node", "hgx-h200", "allreduce", 8, 1, 16 << 30, 360.0),
            published_row("2", "HGX H200 node", "hgx-h200", "allreduce", 8, 1, 1 << 30, 300.0),
            published_row("3", "HGX H200 node", "hgx-h200", "allgather", 8, 1, 8 << 30, 330.0, trust="B"),
            published_row("4", "two p5 nodes", "aws-p5", "allreduce", 16, 2, 8 << 30, 300.0),
            published_row("5", "two p5 nodes", "aws-p5", "alltoall", 16, 2, 1 << 30, 60.0, trust="C"),
            published_row("6", "unknown GPUs", "", "allreduce", 8, 1, 1 << 30, 100.0, trust="C")]

    def setUp(self):
        super().setUp()
        if not have_matplotlib():
            self.skipTest("no python3-matplotlib at /usr/bin/python3")
        self.published = self.path("published.csv")
        write_rows(self.published, self.ROWS, CSV_COLUMNS + PROVENANCE_COLUMNS)
        self.against = self.path("against.csv")
        res = fbtest.run(singleton_cmd(["model", "--against", self.published, "--csv", self.against]))
        self.assertRc(res, fbtest.EXIT_OK)
        # --against's own summary per fabric: name -> (rows, median, max)
        self.summary = {m.group(1): (m.group(2), m.group(3), m.group(4)) for m in re.finditer(
            r"^#   (\S+)\s+(\d+)\s+([\d.]+)%\s+([\d.]+)%$", res.stdout, re.M)}
        with open(self.against) as f:
            self.predicted = [r for r in csv.DictReader(f) if r["model_fabric"]]

    def tables(self, md):
        """Every markdown table under a ### heading: heading -> rows of cells (header first)."""
        out = {}
        for block in md.split("\n### ")[1:]:
            lines = block.splitlines()
            out[lines[0]] = [[c.strip() for c in ln.strip("|").split(" | ")] for ln in lines if ln.startswith("| ")]
        return out

    def expected(self, rows):
        errs = [abs(float(r["model_err_pct"])) for r in rows]
        return [str(len(rows)), f"{statistics.median(errs):.1f}", f"{max(errs):.1f}"]

    def test_section_per_fabric(self):
        self.assertEqual(len(self.predicted), 5)
        out = self.path("rep")
        res = report(self.against, "-o", out)
        self.assertRc(res, fbtest.EXIT_OK)
        Plots.check_plots(self, out, ["against_error_vs_gpus", "against_hgx-h200", "against_aws-p5"])
        md = open(os.path.join(out, "index.md")).read()
        self.assertIn("## Model against measurements", md)
        # The unmapped row has no prediction: drawn as a measurement, the predicted ones are not.
        self.assertIn("## Measurements", md)
        self.assertEqual(sorted(f for f in os.listdir(out) if f.startswith("busbw_")),
                         ["busbw_allreduce.png", "busbw_allreduce.svg"])
        tables = self.tables(md)
        overall = tables["model error against GPUs: 5 rows on 2 fabrics "
                         "(1 rows without a prediction are under Measurements)"]
        self.assertEqual(overall[0], ["fabric", "rows", "median \\|err\\| (%)", "max \\|err\\| (%)", "worst row"])
        by_fabric = {r[0]: r for r in overall[1:]}
        self.assertEqual(sorted(by_fabric), ["all", "aws-p5", "hgx-h200"])
        for fabric in ("hgx-h200", "aws-p5"):
            rows = [r for r in self.predicted if r["model_fabric"] == fabric]
            # The figures are those --against prints.
            self.assertEqual(by_fabric[fabric][1:4], self.expected(rows))
            self.assertEqual(tuple(by_fabric[fabric][1:4]), self.summary[fabric])
            worst = max(rows, key=lambda r: abs(float(r["model_err_pct"])))
            self.assertTrue(by_fabric[fabric][4].endswith(f": {float(worst['model_err_pct']):+.1f}%"),
                            by_fabric[fabric][4])
            n = len(rows)
            table = tables[f"{fabric}: model against {n} measurements"]
            self.assertEqual(table[-1][:4], ["all"] + self.expected(rows)[:3])
            self.assertEqual(len(table), 1 + len({r["op"] for r in rows}) + 1)  # header, one per op, all
        self.assertEqual(by_fabric["all"][1:4], self.expected(self.predicted))
        # --against's CSV carries no provenance: points are labelled op, GPUs, size.
        svg = open(os.path.join(out, "against_aws-p5.svg")).read()
        self.assertIn("alltoall 16 GPUs 1G", svg)
        self.assertIn("allreduce 16 GPUs 8G", svg)

    def test_provenance_labels_and_trust(self):
        # The same predictions with the published rows' provenance columns: labelled by `ref`.
        with open(self.against) as f:
            rows = list(csv.DictReader(f))
        for r, p in zip(rows, self.ROWS):
            r.update({c: p[c] for c in PROVENANCE_COLUMNS})
        both = self.path("against-provenance.csv")
        write_rows(both, rows, CSV_COLUMNS + PROVENANCE_COLUMNS)
        out = self.path("rep")
        self.assertRc(report(both, "-o", out), fbtest.EXIT_OK)
        svg = open(os.path.join(out, "against_aws-p5.svg")).read()
        self.assertIn("#4", svg)
        self.assertIn("#5", svg)
        self.assertIn("hollow: trust C", svg)
        self.assertNotIn("hollow", open(os.path.join(out, "against_hgx-h200.svg")).read())
        md = open(os.path.join(out, "index.md")).read()
        self.assertRegex(md, r"\| all \| 2 \| [\d.]+ \| [\d.]+ \| #[45] two p5 nodes (allreduce 16 GPUs 8 GiB|"
                             r"alltoall 16 GPUs 1 GiB): [+-][\d.]+% \|")

    def test_published_without_prediction(self):
        # Published rows given as they are: no prediction, so only measurements.
        out = self.path("rep")
        self.assertRc(report(self.published, "-o", out), fbtest.EXIT_OK)
        md = Plots.check_plots(self, out, ["busbw_allreduce", "busbw_allgather", "busbw_alltoall"])
        self.assertNotIn("Model against measurements", md)
        self.assertEqual([f for f in os.listdir(out) if f.startswith("against")], [])


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
