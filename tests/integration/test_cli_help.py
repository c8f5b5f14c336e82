#!/usr/bin/env python3
"""Help text and the bare command: one usage-line style ("Usage: fabricbench CMD [OPTIONS]") and
one placeholder vocabulary across commands, defaults stated, no option cited that is refused, and
`fabricbench` alone is a usage error (usage on stderr, exit 2)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import run, singleton_cmd  # noqa: E402

COMMANDS = ["run", "validate", "model", "inference", "calibrate", "compare", "report"]


class Help(fbtest.FbTestCase):
    def help_of(self, command):
        res = run(singleton_cmd([command, "--help"]))
        self.assertRc(res, fbtest.EXIT_OK)
        return res.stdout

    def test_no_command_is_a_usage_error(self):
        res = run(singleton_cmd([]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(res.stdout, "", "nothing on stdout: a script piping it gets no help text")
        self.assertTrue(res.stderr.startswith("Benchmark and validate the fabric"), res.describe())
        self.assertIn("Usage: fabricbench [OPTIONS] [SUBCOMMAND]", res.stderr)
        self.assertEqual(res.fb_lines(), ["fabricbench: no command given (run, validate, model, ...)"])

    def test_top_level_help_is_not_an_error(self):
        res = run(singleton_cmd(["--help"]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertIn("Usage: fabricbench [OPTIONS] [SUBCOMMAND]", res.stdout)

    def test_every_command_has_the_same_usage_line(self):
        for command in COMMANDS:
            with self.subTest(command=command):
                text = self.help_of(command)
                self.assertTrue(text.endswith("\n"), text[-200:])
                first = text.splitlines()
                usage = [l for l in first if l.startswith("Usage:")]
                self.assertEqual(len(usage), 1, first)
                self.assertTrue(usage[0].startswith(f"Usage: fabricbench {command} [OPTIONS]"), usage[0])

    def test_placeholders_are_one_vocabulary(self):
        """Sizes are SIZE, counts N, files FILE, fabrics FABRIC, in every command."""
        want = {
            "run": ["-b,--minbytes SIZE", "-e,--maxbytes SIZE", "-n,--iters N", "--batch N|auto",
                    "-d,--dtype,--datatype LIST", "--place PLACE", "--csv FILE", "--fabric FABRIC",
                    "--timeout SECONDS", "--set PATH=VALUE"],
            "model": ["--bytes LIST", "--fabric FABRIC", "--csv FILE", "--gpus LIST", "--min-bytes SIZE"],
            "inference": ["--fabric FABRIC", "--preset NAME", "--scale LIST", "--gpus LIST", "--batch N", "--csv FILE"],
            "calibrate": ["results FILE ...", "-o,--output FILE", "--base FABRIC"],
            "compare": ["base FILE", "cand FILE", "-o,--output FILE", "--threshold PERCENT", "--min-samples N"],
            "report": ["results FILE ...", "-o,--output DIR", "--compare BASE CAND", "--metric NAME"],
        }
        for command, fragments in want.items():
            text = self.help_of(command)
            for f in fragments:
                with self.subTest(command=command, option=f):
                    self.assertIn(f, text)
            with self.subTest(command=command):
                # CLI11's defaults would read TEXT, INT, FLOAT, UINT or VALUE.
                self.assertIsNone(re.search(r"\b[a-z-]+ (TEXT|INT|FLOAT|UINT|VALUE)\b", text), text)

    def test_report_compare_takes_two_files(self):
        text = self.help_of("report")
        self.assertIn("--compare BASE CAND", text)
        self.assertNotIn("x 2", text)

    def test_run_states_its_defaults_and_cites_no_refused_flag(self):
        text = " ".join(self.help_of("run").split())
        self.assertIn("list or all (default float32)", text)
        self.assertIn("out-of-place, in-place or both (also: out, in; default out-of-place)", text)
        self.assertIn("so a sample lasts at least 20 us", text)
        self.assertNotIn("nccl-tests -z", text)
        self.assertNotIn("nccl-tests -C", text)

    def test_model_shows_bytes_without_run_s_short_flag(self):
        """-b is run's --minbytes; model shows --bytes only, and still takes -b from old scripts."""
        text = self.help_of("model")
        self.assertNotIn("-b,", text)
        fabric = os.path.join(fbtest.CONFIG.source, "configs", "fabrics", "hgx-h100.yaml")
        base = ["model", "--fabric", fabric, "--op", "allreduce", "--gpus", "8,16"]
        new = run(singleton_cmd([*base, "--bytes", "1M"]))
        old = run(singleton_cmd([*base, "-b", "1M"]))
        self.assertRc(new, fbtest.EXIT_OK)
        self.assertRc(old, fbtest.EXIT_OK)
        self.assertEqual(new.stdout, old.stdout)
        self.assertIn("# allreduce 1M ", new.stdout)

    def test_model_fabric_header_has_sensible_digits(self):
        fabric = os.path.join(fbtest.CONFIG.source, "configs", "fabrics", "hgx-h100.yaml")
        # A calibrated fabric's fitted rate has every digit of a double.
        res = run(singleton_cmd(["model", "--fabric", fabric, "--set", "scale_up.bandwidth_GBps=12.345678901234",
                                 "--op", "allreduce", "--gpus", "8"]))
        self.assertRc(res, fbtest.EXIT_OK)
        header = [l for l in res.stdout.splitlines() if l.startswith("# fabric ")]
        self.assertEqual(len(header), 1, res.stdout)
        self.assertIn(" at 12.3457 GB/s each way", header[0])
        self.assertIsNone(re.search(r"\d\.\d{7,}", header[0]), header[0])

    def test_every_option_is_documented(self):
        # Each command's long options appear in the README or a page of docs/ (as `--name`), so a
        # new option cannot land with --help as its only description.
        docs = os.path.join(fbtest.CONFIG.source, "docs")
        text = open(os.path.join(fbtest.CONFIG.source, "README.md")).read()
        for name in sorted(os.listdir(docs)):
            if name.endswith(".md"):
                text += open(os.path.join(docs, name)).read()
        for command in COMMANDS:
            options = set(re.findall(r"^\s+(?:-\w,)?(--[a-z0-9][a-z0-9-]*)", self.help_of(command), re.M))
            self.assertTrue(options, command)
            missing = sorted(o for o in options - {"--help"} if not re.search(re.escape(o) + r"(?![a-z0-9-])", text))
            self.assertEqual(missing, [], f"{command}: options in --help that no README/docs page names")


if __name__ == "__main__":
    fbtest.main(needs_mpirun=False)
