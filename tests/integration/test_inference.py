#!/usr/bin/env python3
"""fabricbench inference: the model's inference view, end to end (the table, the files, the
arithmetic they carry, and bad input: one line, exit 2, no file)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import singleton_cmd  # noqa: E402

COLUMNS = ["fabric", "model", "tp", "ep", "pp", "gpus", "phase", "tokens", "name", "op", "calls", "bytes_per_call",
           "algo", "time_per_call_us", "time_us", "share", "bottleneck"]


class Inference(fbtest.FbTestCase):
    def run_ok(self, args):
        res = fbtest.run(singleton_cmd(["inference", *args]))
        self.assertRc(res, fbtest.EXIT_OK)
        return res

    def test_dense_decode_table(self):
        res = self.run_ok(["--fabric", "hgx-h100", "--preset", "llama-3.1-70b", "--scale", "8x1x1,8x1x2",
                           "--batch", "4"])
        self.assertIn("# model llama-3.1-70b: 80 layers, hidden 8192", res.stdout)
        self.assertIn("arXiv:2407.21783", res.stdout)
        lines = res.stdout.splitlines()
        ar = [l.split() for l in lines if l.split()[:2] == ["decode", "tp_allreduce"]]
        self.assertEqual(len(ar), 2, res.stdout)
        for f in ar:  # 2 x 80 calls of 4 tokens x 8192 x 2 bytes = 64K
            self.assertEqual(f[2:4], ["160", "64K"])
        self.assertTrue(any(l.split()[:2] == ["decode", "pp_send_scaleout"] for l in lines), res.stdout)
        self.assertEqual(len([l for l in lines if l.strip().startswith("request:")]), 2)

    def test_files_hold_the_arithmetic(self):
        c, j, out = self.outputs()
        self.run_ok(["--fabric", "hgx-h100", "--preset", "deepseek-v3", "--scale", "4x32x1,1x64x1", "--batch", "8",
                     "--prompt", "1024", "-q", *out])
        header, rows = fbtest.load_csv(c)
        self.assertEqual(header, COLUMNS)
        doc = fbtest.load_json(j)
        self.assertEqual(len(doc["rows"]), len(rows))
        self.assertEqual(doc["meta"]["batch"], 8)
        self.assertEqual(doc["meta"]["prompt"], 1024)
        groups = {}
        for r in doc["rows"]:
            groups.setdefault((r["tp"], r["ep"], r["pp"], r["phase"]), []).append(r)
        self.assertEqual(len(groups), 4)
        for (tp, ep, pp, phase), rs in groups.items():
            with self.subTest(scale=(tp, ep, pp), phase=phase):
                ops = [r for r in rs if r["name"] != "total"]
                total = [r for r in rs if r["name"] == "total"]
                self.assertEqual(len(total), 1)
                tokens = 8 if phase == "decode" else 1024
                self.assertAlmostEqual(sum(r["share"] for r in ops), 1.0, places=9)
                self.assertAlmostEqual(sum(r["time_us"] for r in ops), total[0]["time_us"],
                                       delta=1e-9 * total[0]["time_us"])
                for r in ops:
                    self.assertAlmostEqual(r["time_us"], r["calls"] * r["time_per_call_us"],
                                           delta=1e-9 * r["time_us"])
                by = {r["name"]: r for r in ops}
                # 58 MoE layers of 61; per rank tokens / tp x top-8 x 7168 x 2 bytes.
                self.assertEqual(by["ep_dispatch"]["calls"], 58)
                self.assertEqual(by["ep_dispatch"]["bytes_per_call"], tokens * 8 * 7168 * 2 / tp)
                self.assertEqual(by["ep_combine"]["bytes_per_call"], by["ep_dispatch"]["bytes_per_call"])
                if tp > 1:  # after every attention (61) and each of the 3 dense MLPs
                    self.assertEqual(by["tp_allreduce"]["calls"], 64)
                    self.assertEqual(by["tp_allreduce"]["bytes_per_call"], tokens * 7168 * 2)
                else:
                    self.assertNotIn("tp_allreduce", by)
                self.assertEqual(total[0]["bottleneck"], max(ops, key=lambda r: r["time_us"])["name"])

    def test_custom_shape_and_sequence_parallel(self):
        c, j, out = self.outputs()
        self.run_ok(["--fabric", "hgx-h100", "--layers", "10", "--hidden", "1000", "--dtype-bytes", "4",
                     "--scale", "4x1", "--sequence-parallel", "--batch", "3", "-q", *out])
        doc = fbtest.load_json(j)
        names = {r["name"] for r in doc["rows"] if r["phase"] == "decode"}
        self.assertEqual(names, {"tp_reducescatter", "tp_allgather", "total"})
        for r in doc["rows"]:
            if r["phase"] == "decode" and r["name"] != "total":
                self.assertEqual((r["calls"], r["bytes_per_call"], r["model"]), (20, 3 * 1000 * 4, "custom"))

    def test_default_sweep_and_one_gpu(self):
        res = self.run_ok(["--fabric", "hgx-h100", "--preset", "mixtral-8x7b", "--scale", "1x1x1"])
        self.assertIn("no communication", res.stdout)
        res = self.run_ok(["--fabric", "hgx-h100", "--preset", "llama-3.1-8b", "--gpus", "2,8,16", "-q"])
        self.assertEqual(res.stdout, "")

    def test_skewed_routing_prices_the_most_loaded_rank(self):
        base = ["--fabric", "hgx-h100", "--preset", "deepseek-v3", "--scale", "1x32x1", "--batch", "64", "-q"]

        def ep_times(stem, *extra):
            c, j, out = self.outputs(stem)
            self.run_ok([*base, *extra, "--json", j])
            doc = fbtest.load_json(j)
            return doc, {(r["phase"], r["name"]): r for r in doc["rows"]}

        doc, uniform = ep_times("uniform")
        self.assertEqual(doc["meta"]["counts"], "uniform")
        self.assertEqual(doc["meta"]["expert_placement"], "spread")
        doc, hot = ep_times("hot", "--counts", "hot:4:0.8", "--seed", "3")
        self.assertEqual(doc["meta"]["counts"], "hot:4:0.8 seed=3")
        _, local = ep_times("local", "--counts", "hot:4:0.8", "--seed", "3", "--expert-placement", "domain-local")
        for phase in ("decode", "prefill"):
            for name in ("ep_dispatch", "ep_combine"):
                with self.subTest(phase=phase, name=name):
                    u, h, l = uniform[phase, name], hot[phase, name], local[phase, name]
                    self.assertEqual(h["op"], "moe_" + name[3:])  # priced as model --op moe_* prices it
                    self.assertEqual(h["bytes_per_call"], u["bytes_per_call"])  # what each rank sends
                    self.assertGreater(h["time_per_call_us"], u["time_per_call_us"])
                    self.assertLess(l["time_per_call_us"], h["time_per_call_us"])
        res = self.run_ok(["--fabric", "hgx-h100", "--preset", "deepseek-v3", "--scale", "1x16x1", "--counts",
                           "zipf:1.2"])
        self.assertIn("# EP routing: zipf:1.2 seed=1, experts spread", res.stdout)

    def test_bad_input(self):
        c, j, out = self.outputs()
        base = ["--fabric", "hgx-h100"]
        cases = [
            (["--preset", "llama-3.1-70b"], "--fabric is required"),
            (base, "give --preset, or --layers and --hidden"),
            ([*base, "--preset", "gpt-9"], "gpt-9"),
            ([*base, "--preset", "llama-3.1-70b", "--scale", "8y1"], "8y1"),
            ([*base, "--preset", "llama-3.1-70b", "--scale", "8x8x1"], "needs an MoE model"),
            ([*base, "--preset", "deepseek-v3", "--scale", "4x6x1"], "multiple of tp"),
            ([*base, "--preset", "llama-3.1-70b", "--scale", "8x1x81"], "more pipeline stages than layers"),
            ([*base, "--preset", "llama-3.1-70b", "--gpus", "12"], "12"),
            ([*base, "--preset", "llama-3.1-70b", "--scale", "4x1x3", "--ranks-per-domain", "6"], "straddle"),
            ([*base, "--preset", "llama-3.1-70b", "--layers", "99999999999"], "at most"),
            ([*base, "--preset", "deepseek-v3", "--scale", "1x4096x1"], "exceed what fabric"),
            ([*base, "--preset", "deepseek-v3", "--counts", "zipf:x"], "counts"),
            ([*base, "--preset", "deepseek-v3", "--counts", "hot:3:0.5:1"], "counts"),
            ([*base, "--preset", "deepseek-v3", "--expert-placement", "nearby"], "expert-placement"),
            ([*base, "--preset", "llama-3.1-70b", "--counts", "zipf:1.2"], "dense model"),
            ([*base, "--preset", "mixtral-8x7b", "--scale", "1x16x1", "--counts", "zipf:1.2"], "split evenly"),
            ([*base, "--preset", "deepseek-v3", "--scale", "1x16x1", "--counts", "hot:300:0.5"], "hot"),
            ([*base, "--preset", "deepseek-v3", "--top-k", "300"], "top-k"),
            ([*base, "--preset", "llama-3.1-70b", "--batch", "0"], "batch"),
            ([*base, "--layers", "10", "--hidden", "x"], "hidden"),
            ([*base, "--preset", "llama-3.1-70b", "--csv", os.path.join(self.tmp, "no", "x.csv")], "no such directory"),
            (["--fabric", "no-such-fabric", "--preset", "llama-3.1-70b"], "no-such-fabric"),
        ]
        results = fbtest.run_parallel([singleton_cmd(["inference", *args, *([] if "--csv" in args else out)])
                                       for args, _ in cases])
        for (args, needle), res in zip(cases, results):
            with self.subTest(args=args):
                self.assertRc(res, fbtest.EXIT_USAGE)
                errs = res.errors()
                self.assertEqual(len(errs), 1, res.describe())
                self.assertIn(needle, errs[0])
                self.assertNoOutputs(c, j)

    def test_existing_file_is_kept_without_force(self):
        c = self.path("keep.csv")
        with open(c, "w") as f:
            f.write("precious\n")
        args = ["inference", "--fabric", "hgx-h100", "--preset", "llama-3.1-8b", "--scale", "8x1x1", "-q", "--csv", c]
        res = fbtest.run(singleton_cmd(args))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertIn("--force", res.errors()[0])
        self.assertEqual(open(c).read(), "precious\n")
        self.run_ok([*args[1:], "--force"])
        self.assertEqual(fbtest.load_csv(c)[0], COLUMNS)


if __name__ == "__main__":
    fbtest.main(needs_mpirun=False)
