"""fabricbench compare, end to end: exit codes 0/1/2, the four formats, -o, warnings and bad input.
Runs without mpirun (compare needs no MPI); the inputs are tests/fixtures/compare/."""

import csv
import io
import json
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, singleton_cmd  # noqa: E402

EXIT_REGRESSION = 1
EXIT_GATE_FAILED = 1


def fx(name):
    return os.path.join(CONFIG.source, "tests", "fixtures", "compare", name)


def compare(*args):
    return fbtest.run(singleton_cmd(["compare", *args]), timeout=60)


class ExitCodes(fbtest.FbTestCase):
    def test_regression_exits_1(self):
        for base, cand in [("base.json", "regression.json"), ("base.csv", "regression.csv"),
                           ("base.json", "regression.csv")]:
            with self.subTest(base=base, cand=cand):
                res = compare(fx(base), fx(cand))
                self.assertRc(res, EXIT_REGRESSION)
                self.assertIn("REGRESSION: 1 slower", res.stdout)
                self.assertEqual(res.fb_lines(), [])

    def test_improvement_and_noise_exit_0(self):
        for cand, words in [("improvement.json", "1 faster"), ("noise.json", "5 same"), ("noise.csv", "5 same")]:
            with self.subTest(cand=cand):
                base = "base.csv" if cand.endswith(".csv") else "base.json"
                res = compare(fx(base), fx(cand))
                self.assertRc(res, fbtest.EXIT_OK)
                self.assertIn("no regression: 0 slower", res.stdout)
                self.assertIn(words, res.stdout)

    def test_missing_and_new(self):
        # A row of base missing from cand fails the gate (it passed before: issue 23 item 1) unless
        # --allow-missing says it may.
        res = compare(fx("base.csv"), fx("missing-new.csv"), "--format", "csv")
        self.assertRc(res, EXIT_GATE_FAILED)
        self.assertEqual(res.fb_lines(), ["fabricbench: compare: FAIL: 1 rows of base are missing from cand "
                                          "(compare --allow-missing accepts that)"])
        rows = list(csv.DictReader(io.StringIO(res.stdout)))
        verdicts = {(r["op"], r["bytes"]): r["verdict"] for r in rows}
        self.assertEqual(verdicts[("broadcast", str(1 << 20))], "missing")
        self.assertEqual(verdicts[("allreduce", str(64 << 20))], "new")
        for allow in ("--allow-missing", "--allow-missing=1", "--allow-missing=all"):
            with self.subTest(allow=allow):
                res = compare(fx("base.csv"), fx("missing-new.csv"), allow)
                self.assertRc(res, fbtest.EXIT_OK)
                self.assertIn("no regression: 0 slower", res.stdout)
        res = compare(fx("base.csv"), fx("missing-new.csv"), "--allow-missing=0")
        self.assertRc(res, EXIT_GATE_FAILED)
        self.assertIn("\nFAIL: 1 rows of base are missing from cand", res.stdout)

    def write_json(self, name, status, rows=None):
        doc = fbtest.load_json(fx("base.json"))
        doc["status"] = status
        if rows is not None:
            doc["rows"] = doc["rows"][:rows]
        path = self.path(name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def test_broken_candidates_fail(self):
        # Each of these passed with "no regression" before.
        empty_csv = self.path("empty.csv")
        with open(fx("base.csv")) as f:
            header = f.readline()
        with open(empty_csv, "w") as f:
            f.write(header)
        cases = [
            ("empty CSV", fx("base.csv"), empty_csv, ["5 rows of base are missing", "no row of cand matched"]),
            ("partial CSV", fx("base.csv"), fx("missing-new.csv"), ["1 rows of base are missing"]),
            ("interrupted, no rows", fx("base.json"), self.write_json("int.json", "interrupted (SIGTERM)", 0),
             ["cand's status is 'interrupted (SIGTERM)'", "no row of cand matched"]),
            ("timeout, all rows", fx("base.json"), self.write_json("to.json", "timeout"), ["cand's status is 'timeout'"]),
            ("never ended", fx("base.json"), self.write_json("run.json", "running"), ["cand's status is 'running'"]),
        ]
        for name, base, cand, why in cases:
            with self.subTest(case=name):
                res = compare(base, cand, "--allow-missing") if name == "interrupted, no rows" else compare(base, cand)
                self.assertRc(res, EXIT_GATE_FAILED)
                self.assertIn("FAIL: 0 slower", res.stdout)
                for w in why:
                    self.assertIn(w, res.stdout)

    def test_wrong_data_in_candidate_fails(self):
        doc = fbtest.load_json(fx("base.json"))
        doc["rows"][1]["wrong"] = 7
        cand = self.path("wrong.json")
        with open(cand, "w") as f:
            json.dump(doc, f)
        res = compare(fx("base.json"), cand, "--format", "junit")
        self.assertRc(res, EXIT_GATE_FAILED)
        root = ET.fromstring(res.stdout)
        failures = root.findall("./testsuite/testcase/failure")
        self.assertEqual([f.get("type") for f in failures], ["wrong-data", "wrong-data"])
        self.assertEqual(root.get("failures"), "2")  # the row's testcase and the gate's

    def test_output_is_not_replaced_without_force(self):
        out = self.path("report.md")
        with open(out, "w") as f:
            f.write("yesterday's report\n")
        res = compare(fx("base.json"), fx("noise.json"), "--format", "markdown", "-o", out)
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(res.fb_lines(), [f"fabricbench: '{out}' exists (use --force to replace it)"])
        with open(out) as f:
            self.assertEqual(f.read(), "yesterday's report\n")
        res = compare(fx("base.json"), fx("noise.json"), "--format", "markdown", "-o", out, "--force")
        self.assertRc(res, fbtest.EXIT_OK)
        with open(out) as f:
            self.assertTrue(f.read().startswith("### fabricbench compare"))

    def test_threshold_and_metric_options(self):
        # A threshold above the 25 % slowdown lets it pass; the time metric sees it too.
        self.assertRc(compare(fx("base.json"), fx("regression.json"), "--threshold", "30%"), fbtest.EXIT_OK)
        self.assertRc(compare(fx("base.json"), fx("regression.json"), "--threshold", "30"), fbtest.EXIT_OK)
        res = compare(fx("base.json"), fx("regression.json"), "--metric", "time_p50", "--format", "csv")
        self.assertRc(res, EXIT_REGRESSION)
        slow = [r for r in csv.DictReader(io.StringIO(res.stdout)) if r["verdict"] == "slower"]
        self.assertEqual(len(slow), 1)
        self.assertEqual(slow[0]["metric"], "time_p50")
        self.assertGreater(float(slow[0]["change_pct"]), 15)
        self.assertLess(float(slow[0]["p_value"]), 0.05)

    def test_u_test_not_applied_is_stated(self):
        # 5 samples: the medians of so few move by more than 5 %, so a wide threshold here.
        res = compare(fx("base.json"), fx("few-samples.json"), "--format", "csv", "--threshold", "50%")
        self.assertRc(res, fbtest.EXIT_OK)
        for r in csv.DictReader(io.StringIO(res.stdout)):
            self.assertEqual(r["p_value"], "")
            self.assertIn("fewer than 8 samples", r["note"])
        text = compare(fx("base.csv"), fx("noise.csv"))
        self.assertIn("not applied to 5 rows: no per-iteration samples", text.stdout)

    def test_warnings_on_other_host(self):
        res = compare(fx("base.json"), fx("other-host.json"))
        self.assertRc(res, fbtest.EXIT_OK)
        lines = res.fb_lines()
        self.assertTrue(lines and all(l.startswith("fabricbench: warning: ") for l in lines), res.describe())
        joined = "\n".join(lines)
        for words in ("hosts differ", "MPI library differs", "backend versions differ", "transport column differs"):
            self.assertIn(words, joined)


class Formats(fbtest.FbTestCase):
    def test_junit_is_valid_xml(self):
        out = self.path("report.xml")
        res = compare(fx("base.json"), fx("regression.json"), "--format", "junit", "-o", out)
        self.assertRc(res, EXIT_REGRESSION)
        self.assertEqual(res.stdout, "")
        root = ET.parse(out).getroot()
        self.assertEqual(root.tag, "testsuites")
        cases = root.findall("./testsuite/testcase")
        self.assertEqual(len(cases), 5)
        failures = [c for c in cases if c.find("failure") is not None]
        self.assertEqual(len(failures), 1)
        self.assertIn("allreduce", failures[0].get("name"))
        self.assertEqual(root.get("failures"), "1")
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp." in n], [])

    def test_markdown_headline_and_table(self):
        ok = compare(fx("base.json"), fx("noise.json"), "--format", "markdown")
        self.assertRc(ok, fbtest.EXIT_OK)
        self.assertTrue(ok.stdout.startswith("### fabricbench compare: :white_check_mark: no regression"), ok.stdout)
        bad = compare(fx("base.json"), fx("regression.json"), "--format", "markdown")
        self.assertTrue(bad.stdout.startswith("### fabricbench compare: :x: REGRESSION"), bad.stdout)
        table = [l for l in bad.stdout.splitlines() if l.startswith("| mpi |")]
        self.assertEqual(len(table), 5)
        self.assertEqual(sum("**slower**" in l for l in table), 1)

    def test_csv_report(self):
        res = compare(fx("base.json"), fx("improvement.json"), "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(res.stdout)))
        self.assertEqual(len(rows), 5)
        self.assertEqual(list(rows[0].keys()),
                         ["backend", "op", "algo", "mem", "dtype", "redop", "inplace", "nranks", "ranks_per_node",
                          "bytes", "metric", "base", "cand", "change_pct", "p_value", "verdict", "note"])
        self.assertEqual(sorted(r["verdict"] for r in rows), ["faster", "same", "same", "same", "same"])

    def test_text_has_geomean_summary(self):
        res = compare(fx("base.json"), fx("improvement.json"))
        self.assertIn("geometric mean of cand/base per op", res.stdout)
        self.assertRegex(res.stdout, r"allreduce\s+3 rows\s+1\.\d{4}")


class BadInput(fbtest.FbTestCase):
    def assertBad(self, res, *fragments):
        self.assertRc(res, fbtest.EXIT_USAGE)
        lines = [l for l in res.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, res.describe())
        self.assertTrue(lines[0].startswith("fabricbench: "), lines[0])
        for f in fragments:
            self.assertIn(f, lines[0])
        self.assertEqual(res.stdout, "")

    def test_bad_files_name_file_and_line(self):
        cases = [
            ("bad-empty.csv", ":1: ", "empty"),
            ("bad-truncated.csv", ":4: ", "truncated"),
            ("bad-missing-column.csv", ":1: ", "busbw_GBps"),
            ("bad-non-numeric.csv", ":3: ", "'fast'"),
            ("bad-truncated.json", ":", "invalid JSON"),
        ]
        for name, where, why in cases:
            for pos in (0, 1):
                with self.subTest(file=name, position=pos):
                    args = [fx(name), fx("base.csv")] if pos == 0 else [fx("base.csv"), fx(name)]
                    self.assertBad(compare(*args), fx(name) + where, why)

    def test_schema_versions_differ(self):
        self.assertBad(compare(fx("base.csv"), fx("schema2.csv")), "schema_version", "schema2.csv")

    def test_missing_file_and_bad_options(self):
        self.assertBad(compare(fx("base.csv"), self.path("nope.csv")), "nope.csv")
        self.assertBad(compare(fx("base.csv")), "cand")
        self.assertBad(compare(fx("base.csv"), fx("noise.csv"), "--metric", "algbw"), "metric")
        self.assertBad(compare(fx("base.csv"), fx("noise.csv"), "--threshold", "lots"), "threshold")
        self.assertBad(compare(fx("base.csv"), fx("noise.csv"), "--alpha", "2"), "alpha")
        self.assertBad(compare(fx("base.csv"), fx("noise.csv"), "--format", "html"), "format")
        self.assertBad(compare(fx("base.csv"), fx("noise.csv"), "-o", self.path("no/such/dir/r.txt")), "r.txt")
        self.assertBad(compare(fx("base.csv"), fx("noise.csv"), "--allow-missing=some"), "allow-missing")


if __name__ == "__main__":
    fbtest.main(needs_mpirun=False)
