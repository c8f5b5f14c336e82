"""scripts/ci-compare, smoke test in modes that cannot be flaky: no timed run, a results file is
compared with itself (--candidate), so the verdict is always "no regression". The timed path
(run the CI plan, compare with results/baselines/ci-2core.json) is deliberately not a test: timing
on a shared CI machine is too noisy to gate CI itself. Needs no mpirun."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG  # noqa: E402


def script():
    return os.path.join(CONFIG.source, "scripts", "ci-compare")


def fixture(name):
    return os.path.join(CONFIG.source, "tests", "fixtures", "compare", name)


def committed_baseline():
    return os.path.join(CONFIG.source, "results", "baselines", "ci-2core.json")


class CiCompare(fbtest.FbTestCase):
    def ci_compare(self, *args, env=None):
        saved = dict(os.environ)
        for k in ("FABRICBENCH_SUMMARY", "GITHUB_STEP_SUMMARY"):
            os.environ.pop(k, None)
        os.environ.update(env or {})
        try:
            return fbtest.run(["bash", script(), "--binary", CONFIG.binary, *args], timeout=120)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def test_self_compare_writes_markdown(self):
        out = self.path("out")
        res = self.ci_compare("--baseline", fixture("base.json"), "--candidate", fixture("base.json"),
                              "--out", out)
        self.assertRc(res, fbtest.EXIT_OK)
        md = os.path.join(out, "ci-compare.md")
        self.assertTrue(os.path.isfile(md), res.describe())
        with open(md) as f:
            text = f.read()
        self.assertIn("no regression", text)
        self.assertIn("time_p50", text)
        self.assertIn("| op |", text)
        self.assertIn(text.strip().splitlines()[0], res.stdout)  # printed too

    def test_committed_baseline_is_valid(self):
        # The baseline of the CI plan reads back and matches itself row for row.
        base = committed_baseline()
        self.assertTrue(os.path.isfile(base), f"{base} is missing")
        self.assertTrue(os.path.isfile(base[:-len(".json")] + ".csv"), "the baseline's CSV is missing")
        res = self.ci_compare("--baseline", base, "--candidate", base, "--out", self.path("out"))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertIn("0 slower", res.stdout)
        self.assertIn("0 missing", res.stdout)

    def test_summary_environment_variables(self):
        summary = self.path("summary.md")
        step = self.path("step-summary.md")
        with open(step, "w") as f:
            f.write("earlier step\n")
        res = self.ci_compare("--baseline", fixture("base.json"), "--candidate", fixture("base.csv"),
                              "--out", self.path("out"),
                              env={"FABRICBENCH_SUMMARY": summary, "GITHUB_STEP_SUMMARY": step})
        self.assertRc(res, fbtest.EXIT_OK)
        with open(summary) as f:
            self.assertIn("no regression", f.read())
        with open(step) as f:
            text = f.read()
        self.assertTrue(text.startswith("earlier step\n"), "GITHUB_STEP_SUMMARY must be appended to")
        self.assertIn("no regression", text)
        self.assertFalse(os.path.exists(os.path.join(self.path("out"), "ci-compare.md")))

    def test_regression_passes_compare_exit_code(self):
        # A 30x slowdown is past the default 2000% threshold on time_p50: compare's exit 1 comes through.
        cand = self.path("slow.json")
        doc = fbtest.load_json(fixture("base.json"))
        for r in doc["rows"]:
            for k in ("time_us", "time_min_us", "time_p50_us", "time_mean_us", "time_p99_us", "time_max_us"):
                r[k] *= 30
            if r.get("samples_us"):
                r["samples_us"] = [s * 30 for s in r["samples_us"]]
        with open(cand, "w") as f:
            json.dump(doc, f)
        res = self.ci_compare("--baseline", fixture("base.json"), "--candidate", cand, "--out", self.path("out"))
        self.assertRc(res, 1)
        self.assertIn("slower", res.stdout)

    def test_gate_fails_on_missing_rows_and_bad_status(self):
        # A candidate cut short (rows missing, status interrupted) fails the gate, and the report
        # says why; a second call replaces the script's own report (compare -o ... --force).
        doc = fbtest.load_json(fixture("base.json"))
        partial = self.path("partial.json")
        doc["rows"] = doc["rows"][:2]
        with open(partial, "w") as f:
            json.dump(doc, f)
        out = self.path("out")
        res = self.ci_compare("--baseline", fixture("base.json"), "--candidate", partial, "--out", out)
        self.assertRc(res, 1)
        self.assertIn("3 rows of base are missing from cand", res.stdout)
        res = self.ci_compare("--baseline", fixture("base.json"), "--candidate", partial, "--out", out,
                              "--allow-missing")
        self.assertRc(res, fbtest.EXIT_OK)
        doc["status"] = "interrupted (SIGTERM)"
        with open(partial, "w") as f:
            json.dump(doc, f)
        res = self.ci_compare("--baseline", fixture("base.json"), "--candidate", partial, "--out", out,
                              "--allow-missing=3")
        self.assertRc(res, 1)
        with open(os.path.join(out, "ci-compare.md")) as f:
            self.assertIn("cand's status is 'interrupted (SIGTERM)'", f.read())

    def test_bad_input_exits_2(self):
        res = self.ci_compare("--baseline", self.path("nope.json"), "--candidate", fixture("base.json"))
        self.assertRc(res, fbtest.EXIT_USAGE)
        res = self.ci_compare("--bogus")
        self.assertRc(res, fbtest.EXIT_USAGE)


if __name__ == "__main__":
    fbtest.main(needs_mpirun=False)
