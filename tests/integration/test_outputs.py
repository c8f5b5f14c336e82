#!/usr/bin/env python3
"""Results files are never replaced silently: run, model and validate refuse an output path that
exists (exit 2, one error line naming it, the file untouched, no other output created) unless given
--force, which replaces it with a complete file."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd, singleton_cmd  # noqa: E402

OLD = "results of a 6-hour run\n"

RUN = ["run", "--op", "allreduce", "-b", "8", "-e", "64", "-n", "2", "-w", "0", "-q"]
MODEL = ["model", "--fabric", "hgx-h100", "--op", "allreduce", "--bytes", "1M", "--gpus", "8,16", "-q"]
VALIDATE = ["validate", "--fabric", "localhost", "--no-collectives", "-n", "2", "-q"]


class Outputs(fbtest.FbTestCase):
    def cases(self):
        """(name, command builder taking the output arguments, ranks, the options that write files)."""
        return [("run", RUN, 2, ("--csv", "--json")),
                ("model", MODEL, 0, ("--csv", "--json")),
                ("validate", VALIDATE, 2, ("--csv", "--json", "--matrix-csv"))]

    def command(self, args, ranks):
        return mpirun_cmd(ranks, args) if ranks else singleton_cmd(args)

    def test_existing_outputs_are_refused_then_replaced_with_force(self):
        for name, base, ranks, options in self.cases():
            for existing in options:
                with self.subTest(command=name, existing=existing):
                    paths = {opt: self.path(f"{name}{existing.replace('-', '_')}{opt.replace('-', '_')}")
                             for opt in options}
                    with open(paths[existing], "w") as f:
                        f.write(OLD)
                    outs = [x for opt in options for x in (opt, paths[opt])]
                    res = fbtest.run(self.command([*base, *outs], ranks))
                    self.assertRc(res, fbtest.EXIT_USAGE)
                    lines = res.fb_lines()
                    self.assertEqual(len(lines), 1, res.describe())
                    self.assertIn(f"'{paths[existing]}' exists (use --force to replace it)", lines[0])
                    with open(paths[existing]) as f:
                        self.assertEqual(f.read(), OLD)
                    self.assertNoOutputs(*[p for opt, p in paths.items() if opt != existing])

                    res = fbtest.run(self.command([*base, *outs, "--force"], ranks))
                    self.assertIn(res.rc, (fbtest.EXIT_OK, 1) if name == "validate" else (fbtest.EXIT_OK,),
                                  res.describe())
                    for opt, p in paths.items():
                        with open(p) as f:
                            text = f.read()
                        self.assertNotEqual(text, OLD)
                        if opt == "--json":
                            json.loads(text)
                        else:
                            self.assertTrue(text.startswith(("schema_version,", "round,")), text[:80])
                    for p in paths.values():
                        os.unlink(p)


if __name__ == "__main__":
    fbtest.main()
