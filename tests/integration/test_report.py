"""fabricbench report, end to end: PNG and SVG plots with index.md / index.html from a measured run
(mpirun -np 2) and from `fabricbench model` output; bad input and a missing plotting tool exit 2
without creating the output directory."""

import atexit
import csv
import glob
import json
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


def svg_texts(path):
    """Every text of an SVG the plot script wrote (svg.fonttype none keeps text as <text>)."""
    return ["".join(t.itertext()).strip() for t in ET.parse(path).getroot().iter() if t.tag.endswith("text")]


# What a reader must never see: powers-of-ten tick labels, binary "Ki" counts, sizes in raw bytes,
# numbers in exponent notation.
POWER_TICK = re.compile(r"\u00d710|×10|\\times")
EXPONENT = re.compile(r"\d[eE][+-]\d")
RAW_GIB = "1073741824"


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
        self.assertReadable(out, md)
        tables = Against.tables(self, md)
        # The extrapolation: 1 GiB all-reduce on hgx-h100, times in ms/s and bandwidths in GB/s with
        # fixed decimals, GPU counts as 8 .. 1M.
        extra = tables["allreduce 1 GiB: extrapolation"]
        self.assertEqual(extra[0], ["curve", "GPUs", "busbw", "time", "bottleneck"])
        self.assertEqual(extra[1][0], "allreduce 1 GiB on hgx-h100 [model.csv]")
        self.assertRegex(extra[1][1], r"^\d+ \.\. \d+(k|M)?$")
        self.assertRegex(extra[1][2], r"^\d+(\.\d+)? GB/s -> \d+(\.\d+)? GB/s$")
        self.assertRegex(extra[1][3], r"^\d+(\.\d+)? (µs|ms|s) -> \d+(\.\d+)? (µs|ms|s)$")
        svg = svg_texts(os.path.join(out, "extrapolation_allreduce_1073741824.svg"))
        self.assertIn("allreduce 1 GiB on hgx-h100 [model.csv]", svg)
        self.assertIn("time per op", svg)
        # Time ticks carry their own unit: "2 ms", "5 ms", "1 s".
        self.assertGreaterEqual(len([t for t in svg if re.fullmatch(r"\d+(\.\d+)? (µs|ms|s)", t)]), 2, svg)
        # The ratio plot: validate's grades as bands, ticks in plain decimals including the band edges.
        ratio = svg_texts(os.path.join(out, "ratio_allreduce.svg"))
        self.assertIn("pass (0.85 - 1.25)", ratio)
        self.assertIn("fail (< 0.7)", ratio)
        for tick in ("0.7", "0.85", "1", "1.25"):
            self.assertIn(tick, ratio)
        # Latency table cells: a time with its unit for p50 and p99.
        lat = tables["allreduce: latency p50 / p99"]
        self.assertRegex(lat[1][1], r"^[\d.]+ (µs|ms|s) / [\d.]+ (µs|ms|s) at 1 KiB$")

    def assertReadable(self, out, md):
        """No plot or index of `out` reads 6×10⁻¹, 128Ki, 1073741824 B or 3.54e+04."""
        self.assertNotRegex(md, EXPONENT)
        self.assertNotIn(RAW_GIB, md.replace("1073741824.png", "").replace("1073741824.svg", ""))
        for f in glob.glob(os.path.join(out, "*.svg")):
            for t in svg_texts(f):
                self.assertNotRegex(t, POWER_TICK, f)
                self.assertNotRegex(t, r"\d+Ki$|\d+Mi$", f)
                self.assertNotIn(RAW_GIB, t, f)
                self.assertNotRegex(t, EXPONENT, f)

    def test_json_input_and_compare(self):
        out = self.path("rep")
        res = report(Inputs.json, "-o", out, "--compare", Inputs.csv, Inputs.json, "--title", "nightly")
        self.assertRc(res, fbtest.EXIT_OK)
        md = self.check_plots(out, ["busbw_allreduce", "latency_pingpong", "compare"])
        self.assertTrue(md.startswith("# nightly"))
        self.assertReadable(out, md)
        # The compare chart names sizes in binary units.
        bars = svg_texts(os.path.join(out, "compare.svg"))
        self.assertIn("allreduce mpi native float32 np=2 64 KiB", bars)
        self.assertFalse([t for t in bars if re.search(r"\d{4,} B$", t)], bars)

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
        self.assertTrue(table[2].startswith("| 1-3 | h0 - h1 | 0.250 | 0.887 |"), table[2])
        self.assertTrue(table[3].startswith("| 0-3 | h0 - h1 | 0.257 | 0.900 |"), table[3])
        # Pairs 1-3 and 0-3 failed on bandwidth only: the bandwidth map marks both (each pair
        # twice, (a, b) and (b, a)), the latency map marks nothing.
        texts = svg_texts(os.path.join(out, "matrix_matrix-4ranks.svg"))
        self.assertEqual(texts.count("!"), 4, texts)
        self.assertEqual(texts.count("?"), 0, texts)
        self.assertReadable(out, md)

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
        self.assertIn("alltoall 16 GPUs 1 GiB", svg)
        self.assertIn("allreduce 16 GPUs 8 GiB", svg)

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


class Labels(fbtest.FbTestCase):
    """The label, tick and table formats of scripts/fabricbench-plot.py, evaluated by the interpreter
    `report` runs it with (/usr/bin/python3, which has matplotlib; the test's own may not)."""

    def setUp(self):
        super().setUp()
        if not have_matplotlib():
            self.skipTest("no python3-matplotlib at /usr/bin/python3")

    def values(self, exprs):
        """The values of Python expressions over the plot script imported as `m`."""
        code = ("import importlib.util, json, sys\n"
                "spec = importlib.util.spec_from_file_location('fabricbench_plot', sys.argv[1])\n"
                "m = importlib.util.module_from_spec(spec)\n"
                "spec.loader.exec_module(m)\n"
                "print(json.dumps([eval(e) for e in json.loads(sys.argv[2])]))\n")
        script = os.path.join(CONFIG.source, "scripts", "fabricbench-plot.py")
        res = subprocess.run(["/usr/bin/python3", "-c", code, script, json.dumps(exprs)], capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        return json.loads(res.stdout)

    def check(self, fn, cases):
        got = self.values([f"m.{fn}({v!r})" for v in cases])
        self.assertEqual(dict(zip(cases, got)), cases)

    def test_gpu_counts(self):
        self.check("human_count", {8: "8", 1024: "1024", 9999: "9999", 16384: "16k", 73728: "72k", 131072: "128k",
                                   1048576: "1M", 4194304: "4M", 100000: "100k", 1000000: "1M", 294912: "288k",
                                   12345: "12.3k"})

    def test_decimal_ticks(self):
        self.check("decimal_tick", {0.6: "0.6", 0.85: "0.85", 1.0: "1", 1.25: "1.25", 0.05: "0.05", 0.001: "0.001",
                                    2.0: "2", 30: "30", 3000: "3000", 1e6: "1000000", 0.5: "0.5"})

    def test_times_pick_their_unit(self):
        self.check("fmt_time", {0.512: "0.512 µs", 12.34: "12.3 µs", 612.3: "612 µs", 35412.3: "35.4 ms",
                                1916003: "1.92 s", 120e6: "120 s", None: "-"})
        self.check("time_tick", {5.0: "5 µs", 500.0: "500 µs", 1000.0: "1 ms", 20000.0: "20 ms", 2e6: "2 s",
                                 0.5: "0.5 µs"})
        self.assertEqual(self.values(["m.time_unit(999.0)", "m.time_unit(3000.0)", "m.time_unit(2.5e6)"]),
                         [["µs", 1.0], ["ms", 1e3], ["s", 1e6]])

    def test_bandwidths_ratios_and_sizes(self):
        self.check("fmt_bw", {354.2: "354 GB/s", 12.51: "12.5 GB/s", 0.003538: "3.54 MB/s", None: "-"})
        self.check("fmt_ratio", {0.25: "0.250", 1.0: "1.000", None: "-"})
        self.check("human_bytes", {1073741824: "1 GiB", 1536: "1.5 KiB", 8: "8 B", 65536: "64 KiB"})

    def test_ratio_ticks_hold_the_band_edges(self):
        narrow, wide = self.values(["m.ratio_ticks(0.5, 1.5, m.DEFAULT_BANDS)",
                                    "m.ratio_ticks(0.05, 20, m.DEFAULT_BANDS)"])
        self.assertEqual(narrow, [0.5, 0.7, 0.85, 1.0, 1.25])
        self.assertTrue({0.05, 0.1, 0.2, 0.7, 0.85, 1.0, 1.25, 2, 5, 10, 20} <= set(wide), wide)

    def test_heat_map_marks_only_the_failing_metric(self):
        pairs = [{"a": 0, "b": 1, "bw_ratio": 0.25, "bw_verdict": "fail", "lat_ratio": 0.9, "lat_verdict": "pass"},
                 {"a": 0, "b": 2, "bw_ratio": 0.9, "bw_verdict": "pass", "lat_ratio": 0.3, "lat_verdict": "warn"},
                 {"a": 1, "b": 2, "bw_ratio": None, "bw_verdict": "", "lat_ratio": 0.1, "lat_verdict": "fail"}]
        bw, lat = self.values([f"m.metric_marks({pairs!r}, 'bw')", f"m.metric_marks({pairs!r}, 'lat')"])
        self.assertEqual(bw, [[0, 1, "!"]])
        self.assertEqual(lat, [[0, 2, "?"], [1, 2, "!"]])


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
