"""fabricbench model, run --fabric and calibrate, end to end."""

import csv
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, mpirun_cmd, singleton_cmd  # noqa: E402


def fabrics():
    d = os.path.join(CONFIG.source, "configs", "fabrics")
    return sorted(f[:-5] for f in os.listdir(d) if f.endswith(".yaml"))


class ModelCommand(fbtest.FbTestCase):
    def test_sweep_writes_model_rows(self):
        c, j, out = self.outputs()
        res = fbtest.run(singleton_cmd(["model", "--fabric", "million-gpu-multiplane", "--op", "allreduce,alltoall",
                                        "--bytes", "1G,1M", *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        header, rows = fbtest.load_csv(c)
        self.assertEqual(header, fbtest.CSV_COLUMNS)
        doc = fbtest.load_json(j)
        self.assertEqual(len(doc["rows"]), len(rows))
        scales = sorted({int(r["nranks"]) for r in rows})
        self.assertEqual(scales[-1], 1 << 20, "the default sweep reaches 2^20 GPUs")
        for r in rows:
            self.assertEqual(r["source"], "model")
            t = float(r["time_us"])
            self.assertTrue(math.isfinite(t) and t > 0, r)
            self.assertTrue(math.isfinite(float(r["busbw_GBps"])))
            self.assertNotEqual(r["model_bottleneck"], "")
        self.assertIn("allreduce 1G", res.stdout)

    def test_every_shipped_fabric_sweeps(self):
        results = fbtest.run_parallel([singleton_cmd(["model", "--fabric", f, "--op",
                                                      "allreduce,alltoall,allgather,reducescatter,broadcast",
                                                      "-q"]) for f in fabrics()])
        for name, res in zip(fabrics(), results):
            with self.subTest(fabric=name):
                self.assertRc(res, fbtest.EXIT_OK)

    def test_set_changes_the_prediction(self):
        base = fbtest.run(singleton_cmd(["model", "--fabric", "roce-3tier-32k", "--op", "alltoall", "--gpus",
                                         "32768", "--algo", "pairwise"]))
        over = fbtest.run(singleton_cmd(["model", "--fabric", "roce-3tier-32k", "--op", "alltoall", "--gpus",
                                         "32768", "--algo", "pairwise", "--set",
                                         "scale_out.tiers.1.oversubscription=7"]))
        self.assertRc(base, fbtest.EXIT_OK)
        self.assertRc(over, fbtest.EXIT_OK)
        self.assertNotEqual(base.stdout.splitlines()[-1], over.stdout.splitlines()[-1])

    def test_bad_input(self):
        c, j, out = self.outputs()
        cases = [
            (["--fabric", "no-such-fabric"], "no-such-fabric"),
            (["--fabric", "hgx-h100", "--set", "scale_up.bandwith_GBps=9"], "bandwith_GBps"),
            (["--fabric", "hgx-h100", "--set", "scale_up.bandwidth_GBps=0"], "bandwidth_GBps"),
            (["--fabric", "hgx-h100", "--gpus", "4096"], "4096"),
            (["--fabric", "hgx-h100", "--op", "allsum"], "allsum"),
            (["--fabric", "hgx-h100", "--algo", "quantum"], "quantum"),
            (["--fabric", "hgx-h100", "--bytes", "12X"], "12X"),
            (["--fabric", "hgx-h100", "--gpus", "0"], "'0'"),
        ]
        results = fbtest.run_parallel([singleton_cmd(["model", *args, *out]) for args, _ in cases])
        for (args, needle), res in zip(cases, results):
            with self.subTest(args=args):
                self.assertRc(res, fbtest.EXIT_USAGE)
                errs = res.errors()
                self.assertEqual(len(errs), 1, res.describe())
                self.assertIn(needle, errs[0])
                self.assertNoOutputs(c, j)


class RunWithFabric(fbtest.FbTestCase):
    def test_rows_carry_the_prediction(self):
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(2, ["run", "--op", "pingpong,allreduce,alltoall", "-b", "1K", "-e", "64K",
                                        "-f", "8", "-n", "5", "--fabric", "localhost", *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j)
        self.assertTrue(rows)
        for r in rows:
            self.assertEqual(r["model_fabric"], "localhost")
            self.assertGreater(r["model_time_us"], 0)
            expect = 100.0 * (r["time_us"] - r["model_time_us"]) / r["model_time_us"]
            self.assertAlmostEqual(r["model_err_pct"], expect, places=6)

    def test_bad_fabric_is_usage_error_before_any_file(self):
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(2, ["run", "-e", "64", "--fabric", "nope", *out]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertNoOutputs(c, j)


class Calibrate(fbtest.FbTestCase):
    # Iterations per size for the rows calibrate fits: the rows' time is the median of the samples,
    # and with 40 of them one descheduled sample on a loaded CI machine moves no row, where with 5 it
    # could push a row off the line and fail the fit's error bounds (which stay as tight as ever).
    ITERS = "40"

    def measure(self, name, run_args):
        """Runs `fabricbench run RUN_ARGS` on 2 ranks into NAME (.csv or .json); returns its path."""
        out = self.path(name)
        res = fbtest.run(mpirun_cmd(2, ["run", *run_args, "-q", "--csv" if name.endswith(".csv") else "--json", out]))
        self.assertRc(res, fbtest.EXIT_OK)
        return out

    def calibrate(self, inputs, name, rc=fbtest.EXIT_OK):
        """fabricbench calibrate INPUTS -o NAME, expecting exit code rc; returns (result, fabric path)."""
        fabric = self.path(name)
        res = fbtest.run(singleton_cmd(["calibrate", *inputs, "-o", fabric]))
        self.assertRc(res, rc)
        return res, fabric

    def test_fit_from_pingpong_then_predict(self):
        pp = self.measure("pp.csv", ["--op", "pingpong", "-b", "8", "-e", "16M", "-f", "4", "-n", self.ITERS])
        res, fabric = self.calibrate([pp], "cal.yaml")
        self.assertIn("scale-up", res.stdout)
        text = open(fabric).read()
        self.assertIn("calibrate: fit of", text)
        # The calibrated file is a valid fabric.
        res = fbtest.run(singleton_cmd(["model", "--fabric", fabric, "--op", "allreduce", "--gpus", "2", "-q"]))
        self.assertRc(res, fbtest.EXIT_OK)
        # It is not overwritten without --force.
        res = fbtest.run(singleton_cmd(["calibrate", pp, "-o", fabric]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(open(fabric).read(), text)
        res = fbtest.run(singleton_cmd(["calibrate", pp, "-o", fabric, "--force"]))
        self.assertRc(res, fbtest.EXIT_OK)

    def test_fit_from_collective_rows_only(self):
        # A run of collectives alone: calibrate fits the shared-memory tier through the model, and
        # the written fabric predicts those rows; pingpong rows in the inputs take precedence.
        js = self.measure("coll.json", ["--op", "allreduce", "--algo", "ring", "-b", "8", "-e", "4M", "-f", "4",
                                        "-n", self.ITERS])
        res, fabric = self.calibrate([js], "coll.yaml")
        self.assertIn("scale-up (coll)", res.stdout)
        self.assertIn("collective rows predicted by it: 10", res.stdout)
        self.assertIn("fit through the model of 10 one-host collective rows (allreduce ring)", open(fabric).read())
        res = fbtest.run(singleton_cmd(["model", "--fabric", fabric, "--op", "allreduce", "--gpus", "2", "-q"]))
        self.assertRc(res, fbtest.EXIT_OK)
        pp = self.measure("pp.json", ["--op", "pingpong", "-b", "8", "-e", "4M", "-f", "4", "-n", self.ITERS])
        res, _ = self.calibrate([pp, js], "both.yaml")
        self.assertNotIn("(coll)", res.stdout)
        self.assertIn("collective rows predicted by it: 10", res.stdout)
        # Latency-bound rows alone cannot fix a bandwidth: a one-line error, nothing written.
        small = self.measure("small.json", ["--op", "allreduce", "--algo", "ring", "-b", "8", "-e", "64", "-n", self.ITERS])
        res, bad = self.calibrate([small], "bad.yaml", fbtest.EXIT_USAGE)
        self.assertIn("do not fix both a latency and a bandwidth", res.stderr)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
        self.assertFalse(os.path.exists(bad))

    def test_json_memory_probe_sets_memory_and_reduction_rates(self):
        js = self.path("pp.json")
        res = fbtest.run(mpirun_cmd(2, ["run", "--op", "pingpong", "-b", "64K", "-e", "1M", "-n", "5", "-q",
                                        "--json", js]))
        self.assertRc(res, fbtest.EXIT_OK)
        probe = json.load(open(js))["meta"]["host_memory"]
        self.assertEqual(probe["ranks"], 2)
        self.assertEqual(probe["bytes"], 256 << 10)
        self.assertGreater(probe["copy_GBps"], 0)
        self.assertGreater(probe["reduce_GBps"], 0)
        self.assertEqual(probe["spilled_bytes"], 8 << 20)
        self.assertGreater(probe["copy_spilled_GBps"], 0)
        self.assertGreater(probe["reduce_spilled_GBps"], 0)
        fabric = self.path("cal.yaml")
        res = fbtest.run(singleton_cmd(["calibrate", js, "-o", fabric]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertIn("host memory probe", res.stdout)
        lines = {l.split(":")[0].strip(): l for l in open(fabric).read().splitlines() if ":" in l}
        mem = float(lines["memory_bandwidth_GBps"].split(":")[1].split("#")[0])
        red = float(lines["reduce_bandwidth_GBps"].split(":")[1].split("#")[0])
        self.assertAlmostEqual(mem, 2 * probe["copy_GBps"], places=6)
        self.assertAlmostEqual(red, probe["reduce_GBps"], places=6)
        self.assertIn("2 x the copy rate", lines["memory_bandwidth_GBps"])
        # The spilled rates land in the fabric only with a cache knee to use them; the probe's
        # figures are in the calibrate output either way.
        self.assertIn("beyond the caches", res.stdout)

    def test_relay_rows_set_the_forward_rate(self):
        # Rows of a real run as the template; pingpong times on a straight line (2 us + 10 GB/s, so
        # no cache knee moves the sizes that count), relay rows the mean of a clean leg and a
        # forwarded one 3x as long, then the same with no penalty at all.
        pp = self.path("pp.csv")
        res = fbtest.run(mpirun_cmd(2, ["run", "--op", "pingpong", "-b", "64K", "-e", "1M", "-f", "2", "-n", "5",
                                        "-q", "--csv", pp]))
        self.assertRc(res, fbtest.EXIT_OK)
        with open(pp) as f:
            rows = list(csv.DictReader(f))
        for factor, expect_key in ((3.0, True), (1.0, False)):
            with self.subTest(factor=factor):
                both = self.path(f"relay{factor}.csv")
                with open(both, "w", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
                    w.writeheader()
                    for r in rows:
                        t = 2 + int(r["bytes"]) / 10e3
                        w.writerow(dict(r, time_us=repr(t)))
                        w.writerow(dict(r, op="relay", time_us=repr((t + factor * t) / 2)))
                fabric = self.path(f"cal{factor}.yaml")
                res = fbtest.run(singleton_cmd(["calibrate", both, "-o", fabric]))
                self.assertRc(res, fbtest.EXIT_OK)
                self.assertIn("scale-up fwd", res.stdout)
                lines = {l.split(":")[0].strip(): l for l in open(fabric).read().splitlines() if ":" in l}
                self.assertEqual("forward_bandwidth_GBps" in lines, expect_key, open(fabric).read())
                if expect_key:
                    bw = float(lines["bandwidth_GBps"].split(":")[1].split("#")[0])
                    fwd = float(lines["forward_bandwidth_GBps"].split(":")[1].split("#")[0])
                    self.assertLess(fwd, bw / 2.5)  # 3x the time, less a latency share
                    self.assertIn("relay rows", lines["forward_bandwidth_GBps"])

    def test_no_pingpong_rows(self):
        # Collectives of 8 B - 1 KiB alone: latency-bound, they fix no bandwidth.
        c = self.path("ar.csv")
        res = fbtest.run(mpirun_cmd(2, ["run", "--op", "allreduce", "-e", "1K", "-n", "2", "-q", "--csv", c]))
        self.assertRc(res, fbtest.EXIT_OK)
        out = self.path("x.yaml")
        res = fbtest.run(singleton_cmd(["calibrate", c, "-o", out]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertIn("pingpong", res.errors()[0])
        self.assertNoOutputs(out)


if __name__ == "__main__":
    fbtest.main()
