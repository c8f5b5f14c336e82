"""fabricbench model --against: predictions beside the rows of results files, end to end."""

import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, singleton_cmd  # noqa: E402

PROVENANCE = ["ref", "system", "fabric", "fabric_set", "ranks_per_domain", "nccl_version", "citation", "trust",
              "note"]


def published_row(ref, fabric, op, nranks, nbytes, time_us, algo="", trust="A", rpn=8, nnodes=1, rpd=""):
    """A row as configs/reference/published.csv has them."""
    n = nranks
    factor = 2 * (n - 1) / n if op == "allreduce" else (n - 1) / n
    algbw = nbytes / time_us / 1e3
    row = {c: "" for c in fbtest.CSV_COLUMNS + PROVENANCE}
    row.update({
        "schema_version": 1, "source": "published", "backend": "nccl", "op": op, "algo": algo, "mem": "cuda",
        "dtype": "float32", "redop": "sum" if op in fbtest.REDUCING_OPS else "", "root": -1, "inplace": 0,
        "nranks": n, "nnodes": nnodes, "ranks_per_node": rpn, "requested_bytes": nbytes, "bytes": nbytes,
        "count": nbytes // 4 if op == "allreduce" else nbytes // 4 // n, "iters": 0, "warmup": 0,
        "ops_per_sample": 1, "check_iters": 0, "cycle": 1, "time_us": time_us, "time_min_us": time_us, "time_p50_us": time_us,
        "time_mean_us": time_us, "time_p99_us": time_us, "time_max_us": time_us, "algbw_GBps": algbw,
        "busbw_GBps": algbw * factor, "msg_rate_Mps": 1 / time_us, "wrong": 0, "slowest_rank": -1,
        "slowest_share": 0, "skew": 0, "ref": ref, "system": "test system", "fabric": fabric,
        "ranks_per_domain": rpd, "citation": "hand-made", "trust": trust,
    })
    return row


def write_rows(path, rows, columns=None):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns or fbtest.CSV_COLUMNS + PROVENANCE, lineterminator="\n",
                           extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def model_time(tc, fabric, op, gpus, nbytes, algo, protocol="auto"):
    """What `model --fabric` predicts for one op (time_us of its CSV row)."""
    c = tc.path(f"m-{fabric}-{op}-{gpus}-{nbytes}-{algo}-{protocol}.csv")
    res = fbtest.run(singleton_cmd(["model", "--fabric", fabric, "--op", op, "--gpus", str(gpus), "-b", str(nbytes),
                                    "--algo", algo, "--protocol", protocol, "-q", "--csv", c]))
    tc.assertRc(res, fbtest.EXIT_OK)
    _, rows = fbtest.load_csv(c)
    tc.assertEqual(len(rows), 1)
    return float(rows[0]["time_us"]), rows[0]["algo"]


def summary_counts(tc, res):
    """(total, predicted, unmapped, filtered) from the summary line."""
    for line in res.stdout.splitlines():
        if " rows in " in line and " predicted, " in line:
            words = line.replace(",", "").replace(":", "").split()
            return int(words[1]), int(words[words.index("predicted") - 1]), int(words[words.index("unmapped") - 1]), \
                int(words[words.index("filtered") - 1])
    tc.fail("no summary line\n" + res.stdout)


class Against(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        # Three rows on shipped fabrics, each at 1.1 x what the model predicts for it.
        self.expect = {
            "1": model_time(self, "hgx-h100", "allreduce", 8, 1 << 30, "nccl_ring", "simple"),
            "2": model_time(self, "hgx-h200", "allgather", 8, 1 << 34, "nccl_ring"),
            "3": model_time(self, "hgx-h100", "allreduce", 16, 1 << 20, "nccl_auto"),
        }
        self.rows = [
            published_row("1", "hgx-h100", "allreduce", 8, 1 << 30, 1.1 * self.expect["1"][0], algo="RING/SIMPLE"),
            published_row("2", "hgx-h200", "allgather", 8, 1 << 34, 1.1 * self.expect["2"][0], algo="RING"),
            published_row("3", "hgx-h100", "allreduce", 16, 1 << 20, 1.1 * self.expect["3"][0], nnodes=2, trust="C"),
        ]
        self.file = self.path("rows.csv")
        write_rows(self.file, self.rows)

    def test_rows_get_the_models_prediction(self):
        c, j, out = self.outputs()
        res = fbtest.run(singleton_cmd(["model", "--against", self.file, *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(summary_counts(self, res), (3, 3, 0, 0))
        header, rows = fbtest.load_csv(c)
        self.assertEqual(header, fbtest.CSV_COLUMNS)
        self.assertEqual(len(fbtest.load_json(j)["rows"]), 3)
        for r, ref in zip(rows, ["1", "2", "3"]):
            with self.subTest(ref=ref):
                want, algo = self.expect[ref]
                self.assertAlmostEqual(float(r["model_time_us"]), want, delta=want * 1e-9)
                self.assertEqual(r["model_algo"], algo)
                self.assertAlmostEqual(float(r["model_err_pct"]), 10.0, places=6)
                self.assertNotEqual(r["model_bottleneck"], "")
        self.assertIn("hgx-h200", res.stdout)
        self.assertRegex(res.stdout, r"# all\s+3\s+10\.0%\s+10\.0%")

    def test_max_error_sets_the_exit_code(self):
        ok = fbtest.run(singleton_cmd(["model", "--against", self.file, "--max-error", "15"]))
        self.assertRc(ok, fbtest.EXIT_OK)
        self.assertIn("within --max-error 15%", ok.stdout)
        bad = fbtest.run(singleton_cmd(["model", "--against", self.file, "--max-error", "5%", "-q"]))
        self.assertRc(bad, 1)
        verdict = [l for l in bad.stdout.splitlines() if l.startswith("verdict:")]
        self.assertEqual(len(verdict), 1, bad.stdout)
        self.assertIn("exceeds --max-error 5%", verdict[0])

    def test_filters(self):
        res = fbtest.run(singleton_cmd(["model", "--against", self.file, "--trust", "A,B"]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(summary_counts(self, res), (3, 2, 0, 1))
        res = fbtest.run(singleton_cmd(["model", "--against", self.file, "--min-bytes", "32M", "--max-bytes", "1G"]))
        self.assertEqual(summary_counts(self, res), (3, 1, 0, 2))

    def test_unmapped_rows_are_counted_with_the_reason(self):
        rows = self.rows + [
            published_row("4", "no-such-fabric", "allreduce", 8, 1 << 20, 100.0),
            published_row("5", "", "allreduce", 8, 1 << 20, 100.0),
            published_row("6", "hgx-h100", "broadcast", 8, 1 << 20, 100.0, algo="NVLS"),
        ]
        write_rows(self.file, rows)
        res = fbtest.run(singleton_cmd(["model", "--against", self.file, "--max-error", "15"]))
        self.assertRc(res, fbtest.EXIT_OK)  # unmapped rows do not count against --max-error
        self.assertEqual(summary_counts(self, res), (6, 3, 3, 0))
        self.assertRegex(res.stdout, r"unmapped \(1\): fabric 'no-such-fabric' not found: #4")
        self.assertRegex(res.stdout, r"unmapped \(1\): no fabric .*: #5")
        self.assertRegex(res.stdout, r"unmapped \(1\): no model: .*: #6")
        # --fabric maps the row that names none.
        res = fbtest.run(singleton_cmd(["model", "--against", self.file, "--fabric", "hgx-h200"]))
        self.assertEqual(summary_counts(self, res), (6, 4, 2, 0))

    def test_measured_rows_without_provenance(self):
        # A run's own file has no provenance columns: --fabric maps every row, ranks_per_node is the domain.
        plain = self.path("measured.csv")
        rows = [dict(r, source="measured", algo="RING/SIMPLE") for r in self.rows[:1]]
        write_rows(plain, rows, columns=fbtest.CSV_COLUMNS)
        c, j, out = self.outputs()
        res = fbtest.run(singleton_cmd(["model", "--against", plain, "--fabric", "hgx-h100", "--csv", c]))
        self.assertRc(res, fbtest.EXIT_OK)
        _, got = fbtest.load_csv(c)
        self.assertAlmostEqual(float(got[0]["model_time_us"]), self.expect["1"][0], delta=self.expect["1"][0] * 1e-9)
        self.assertIn("measured.csv:1", res.stdout)

    def test_outputs_are_not_replaced_without_force(self):
        c, j, out = self.outputs()
        open(c, "w").close()
        res = fbtest.run(singleton_cmd(["model", "--against", self.file, "--csv", c]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertIn("--force", res.errors()[0])
        res = fbtest.run(singleton_cmd(["model", "--against", self.file, "--csv", c, "--force"]))
        self.assertRc(res, fbtest.EXIT_OK)

    def test_bad_input(self):
        broken = self.path("broken.csv")
        with open(broken, "w") as f:
            f.write("schema_version,source\n1\n")
        c, j, out = self.outputs("bad")
        cases = [
            (["--against", self.path("missing.csv")], "missing.csv"),
            (["--against", broken], "broken.csv"),
            (["--against", self.file, "--trust", "A,D"], "'D'"),
            (["--against", self.file, "--max-error", "lots"], "lots"),
            (["--against", self.file, "--min-bytes", "12X"], "12X"),
            (["--against", self.file, "--gpus", "8"], "--gpus"),
            (["--against", self.file, "--fabric", "no-such-fabric"], "no-such-fabric"),
            (["--fabric", "hgx-h100", "--trust", "A"], "--trust"),
            ([], "--fabric is required"),
        ]
        results = fbtest.run_parallel([singleton_cmd(["model", *args, *out]) for args, _ in cases])
        for (args, needle), res in zip(cases, results):
            with self.subTest(args=args):
                self.assertRc(res, fbtest.EXIT_USAGE)
                errs = res.errors()
                self.assertEqual(len(errs), 1, res.describe())
                self.assertIn(needle, errs[0])
                self.assertNoOutputs(c, j)


class ShippedReference(fbtest.FbTestCase):
    def test_published_csv_loads_every_row(self):
        path = os.path.join(CONFIG.source, "configs", "reference", "published.csv")
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        c, j, out = self.outputs()
        res = fbtest.run(singleton_cmd(["model", "--against", path, "--csv", c]))
        self.assertRc(res, fbtest.EXIT_OK)
        total, predicted, unmapped, filtered = summary_counts(self, res)
        self.assertEqual((total, filtered), (len(rows), 0))
        self.assertEqual(predicted + unmapped, total)
        self.assertGreater(predicted, 0, "the shipped fabrics model some published rows")
        _, out_rows = fbtest.load_csv(c)
        self.assertEqual(len(out_rows), len(rows))
        # Rows without a fabric (GPU unknown, misconfigured) are unmapped, never guessed.
        for r, o in zip(rows, out_rows):
            if not r["fabric"]:
                self.assertEqual(o["model_time_us"], "", r["ref"])
        res = fbtest.run(singleton_cmd(["model", "--against", path, "--trust", "A,B", "-q"]))
        self.assertEqual(summary_counts(self, res)[3], sum(r["trust"] == "C" for r in rows))

    def annotated(self, *args):
        """The predicted rows of `model --against published.csv --trust A,B ARGS`."""
        path = os.path.join(CONFIG.source, "configs", "reference", "published.csv")
        c = self.path("guard-" + "-".join(a.strip("-") for a in args) + ".csv")
        res = fbtest.run(singleton_cmd(["model", "--against", path, "--trust", "A,B", *args, "-q", "--csv", c]))
        self.assertRc(res, fbtest.EXIT_OK)
        _, out = fbtest.load_csv(c)
        return [o for o in out if o["model_err_pct"] != ""]

    def errors_by_fabric(self, *args):
        """{fabric: [|model_err_pct|, ...]} of `model --against published.csv --trust A,B ARGS`."""
        by = {}
        for o in self.annotated(*args):
            by.setdefault(o["model_fabric"], []).append(abs(float(o["model_err_pct"])))
        return by

    def test_no_regression_against_the_published_rows(self):
        """A guard on the model's accuracy on the shipped calibration set (issue 21): the figures
        of `scripts/bench-model-published` when this test was written, with a little room. A model
        change that moves them must move these bounds on purpose, and say why."""
        def median(v):
            s = sorted(v)
            return (s[(len(s) - 1) // 2] + s[len(s) // 2]) / 2

        big = self.errors_by_fabric("--min-bytes", "32M")
        every = [e for v in big.values() for e in v]
        self.assertGreaterEqual(len(every), 45)
        self.assertLessEqual(median(every), 3.0)  # 2.8% when written, 1.9% with multi-rail striping; the target is 8%
        # Systems the model holds within a few percent at large sizes (hgx-b200: its one row runs
        # NVLSTree, whose in-domain share is fitted on other systems' rows: 6.5%).
        for fabric, bound in [("hgx-h200", 2.0), ("hgx-h100", 1.0), ("aws-p6-b200", 1.0), ("hgx-b200", 7.0),
                              ("gcp-a3-mega", 5.0), ("hgx-a100", 17.0), ("gb200-nvl72", 14.0),
                              # p4d/p4de: rows 109-111 on the NCCL 2.9.9 stack (EFA v1's older share,
                              # nccl_version), row 36 on a recent one
                              ("aws-p4d", 8.0)]:
            self.assertLessEqual(max(big[fabric]), bound, fabric)
        # aws-p5 since multi-rail striping (rows 21 and 33 from 77.1 and 66.1% to 12.4 and 0.5%; its
        # median from 5.1 to 3.8%): its worst large row is row 25 (all-gather, 64 GPUs, 2 GiB: 12.7%).
        self.assertLessEqual(median(big["aws-p5"]), 5.0)
        self.assertLessEqual(max(big["aws-p5"]), 13.0)
        self.assertLessEqual(median(big["gb200-nvl72"]), 5.0)  # 4.4%
        small = self.errors_by_fabric("--max-bytes", "1M")
        self.assertLessEqual(median([e for v in small.values() for e in v]), 22.0)  # 20.1%; the target is 25%

    def test_every_large_row_within_20_percent_but_the_named_misses(self):
        """The bandwidth target's max (20%) over the A and B rows at >= 32 MiB holds on every row but
        the misses docs/model.md names as open (none since multi-rail striping fixed the p5 2-node 32 MiB
        rows 21 and 33, 77.1 and 66.1% before, and nccl_version the p4dn rows 109-111 on their 2021
        stack, 35.9, 30.3 and 39.2% before): every row is held to the 20%."""
        open_misses = {}
        path = os.path.join(CONFIG.source, "configs", "reference", "published.csv")
        with open(path, newline="") as f:
            # The annotated rows carry no provenance: a row is known by its op, scale, size and time.
            key = lambda r: (r["op"], r["nranks"], r["bytes"], round(float(r["time_us"]), 3))
            ref_of = {key(r): r["ref"] for r in csv.DictReader(f)}
        rows = self.annotated("--min-bytes", "32M")
        self.assertGreaterEqual(len(rows), 45)
        seen = set()
        for o in rows:
            ref = ref_of[key(o)]
            seen.add(ref)
            err = abs(float(o["model_err_pct"]))
            self.assertLessEqual(err, open_misses.get(ref, 20.0), f"row {ref} ({o['model_fabric']})")
        self.assertTrue(set(open_misses) <= seen, "the named misses are still A/B rows >= 32 MiB")

if __name__ == "__main__":
    fbtest.main(needs_mpirun=False)
