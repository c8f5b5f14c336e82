"""fabricbench model --traffic and --compare-set (docs/routing.md), end to end."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, singleton_cmd  # noqa: E402


class Traffic(fbtest.FbTestCase):
    def test_permutation_json_contract(self):
        j = self.path("traffic.json")
        res = fbtest.run(singleton_cmd(["model", "--fabric", "roce-3tier-32k", "--traffic", "permutation",
                                        "--nranks", "512", "--ranks-per-domain", "8", "--seeds", "5",
                                        "--json", j]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertIn("traffic permutation", res.stdout)
        self.assertIn("ecmp", res.stdout)
        doc = json.load(open(j))
        for key in ("pattern", "nranks", "flows", "paths", "policy", "flow_Gbps", "max_load"):
            self.assertIn(key, doc)
        self.assertEqual(doc["pattern"], "permutation")
        self.assertEqual(doc["nranks"], 512)
        self.assertEqual(doc["policy"], "ecmp")
        g = doc["flow_Gbps"]
        self.assertLessEqual(g["min"], g["p10"])
        self.assertLessEqual(g["p10"], g["median"])
        self.assertGreater(g["min"], 0)
        self.assertGreater(doc["max_load"], 1)  # ECMP collides on a permutation
        self.assertEqual(doc["tiers"][0]["policy"], "ecmp")

    def test_compare_set_with_traffic_per_policy(self):
        j = self.path("t.json")
        res = fbtest.run(singleton_cmd(["model", "--fabric", "roce-3tier-32k", "--traffic", "ring", "--nranks",
                                        "256", "--compare-set", "scale_out.tiers.0.load_balancing=ecmp,static",
                                        "--seeds", "3", "--json", j]))
        self.assertRc(res, fbtest.EXIT_OK)
        doc = json.load(open(j))
        by = {t["set"]: t for t in doc["tiers"] if t["tier"] == "leaf"}
        static = by["scale_out.tiers.0.load_balancing=static"]
        ecmp = by["scale_out.tiers.0.load_balancing=ecmp"]
        self.assertEqual(static["max_load"], 1)  # a ring routed by destination never shares an up-link
        self.assertGreater(ecmp["max_load"], 1)
        self.assertLess(ecmp["flow_Gbps"]["min"], static["flow_Gbps"]["min"])

    def test_bad_input(self):
        j = self.path("x.json")
        cases = [
            (["--traffic", "zigzag"], "zigzag"),
            (["--traffic", "ring", "--seeds", "0"], "seeds"),
            (["--seeds", "3"], "--traffic"),
            (["--traffic", "ring", "--op", "allreduce"], "--op"),
            (["--compare-set", "nokey"], "compare-set"),
            (["--compare-set", "scale_out.tiers.0.load_balancing=ecmp,magic"], "load_balancing"),
            (["--set", "scale_out.tiers.0.flows_per_connection=0"], "flows_per_connection"),
        ]
        results = fbtest.run_parallel([singleton_cmd(["model", "--fabric", "roce-3tier-32k", *args, "--json", j])
                                       for args, _ in cases])
        for (args, word), res in zip(cases, results):
            with self.subTest(args=args):
                self.assertRc(res, fbtest.EXIT_USAGE)
                errs = res.errors()
                self.assertEqual(len(errs), 1, res.describe())
                self.assertIn(word, errs[0])
                self.assertFalse(os.path.exists(j))


    def test_existing_json_is_kept(self):
        j = self.path("keep.json")
        with open(j, "w") as f:
            f.write("precious\n")
        res = fbtest.run(singleton_cmd(["model", "--fabric", "roce-3tier-32k", "--traffic", "ring", "--json", j]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertIn("--force", res.errors()[0])
        self.assertEqual(open(j).read(), "precious\n")
        res = fbtest.run(singleton_cmd(["model", "--fabric", "roce-3tier-32k", "--traffic", "ring", "--json", j,
                                        "--force", "-q"]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(json.load(open(j))["pattern"], "ring")


class CompareSet(fbtest.FbTestCase):
    def test_side_by_side_ecmp_adaptive(self):
        c = self.path("cmp.csv")
        res = fbtest.run(singleton_cmd(["model", "--fabric", "roce-3tier-32k", "--op", "alltoall", "--algo",
                                        "pairwise", "--gpus", "1024,32768", "--set",
                                        "scale_out.tiers.0.load_balancing=adaptive", "--compare-set",
                                        "scale_out.tiers.1.load_balancing=ecmp,adaptive", "--csv", c]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertIn("time / first's", res.stdout)
        header, rows = fbtest.load_csv(c)
        self.assertEqual(len(rows), 4)  # 2 scales x 2 values
        fabrics = {r["model_fabric"] for r in rows}
        self.assertEqual(fabrics, {"roce-3tier-32k [scale_out.tiers.1.load_balancing=ecmp]",
                                   "roce-3tier-32k [scale_out.tiers.1.load_balancing=adaptive]"})
        t = {(r["model_fabric"].split("=")[-1][:-1], r["nranks"]): float(r["time_us"]) for r in rows}
        # At 32k the spine's up-links carry the shifts: ECMP collides there, adaptive spreads them.
        self.assertGreater(t[("ecmp", "32768")], t[("adaptive", "32768")])
        # Within a pod (1024 GPUs) nothing climbs above the spine: the spine's policy changes nothing.
        self.assertEqual(t[("ecmp", "1024")], t[("adaptive", "1024")])

    def test_every_tier_with_a_star(self):
        res = fbtest.run(singleton_cmd(["model", "--fabric", "million-gpu-multiplane", "--op", "allreduce",
                                        "--algo", "recursive_doubling", "--gpus", "1048576", "--compare-set",
                                        "scale_out.tiers.*.load_balancing=adaptive,ecmp"]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertIn("(ecmp collision)", res.stdout)


class BenchRoutingAgainstTheModel(fbtest.FbTestCase):
    """scripts/bench-routing --from: recorded TCP flows on the routed emulator (ECMP, L4 hash, 10
    seeds; docs/routing.md, "Measured on the routed emulator") held against the model's CLI."""

    def bench(self, *args):
        return fbtest.run([sys.executable, os.path.join(CONFIG.source, "scripts", "bench-routing"), "--from",
                           os.path.join(CONFIG.source, "tests", "fixtures", "routing", "bench-routing-ecmp-l4.json"),
                           *args], timeout=120)

    def test_measured_flows_agree_with_the_model_cli(self):
        res = self.bench("--model-cmd", f"{CONFIG.binary} model")
        lines = {}
        for line in res.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                lines[(parts[0], parts[1].rstrip(":"))] = line
        # Median and worst within 15% for the permutation (spine->leaf collisions), the ring and
        # the all-to-all; the shift's median is a coin toss between R/2 and R (docs/routing.md).
        for pattern in ("permutation", "ring", "alltoall"):
            self.assertIn((pattern, "ok"), lines, res.stdout)
        self.assertIn(("shift", "OFF"), lines, res.stdout)
        self.assertRc(res, 1)
        # The model's permutation median is half a port: flows meet on the spine's link down.
        model = lines[("permutation", "model")].split()
        self.assertAlmostEqual(float(model[2]), 47.82 / 2, delta=0.01)
        self.assertIn(("permutation", "cross-check"), lines)

    def test_model_cmd_must_be_an_executable(self):
        res = self.bench("--model-cmd", "/nonexistent/fabricbench model")
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertIn("--model-cmd", res.stderr)


if __name__ == "__main__":
    fbtest.main(needs_mpirun=False)
