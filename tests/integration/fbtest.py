"""Shared helpers for fabricbench's integration tests (Python standard library only).

Every test script is invoked by ctest as

    python3 test_X.py --binary PATH --mpirun PATH --source SRCDIR [unittest args...]

and uses `main()` below, which parses those arguments, runs the script's unittest.TestCase
classes, prints "N passed, M failed[, K skipped]" as its last line and exits 0 (all passed),
1 (a failure or an error) or 77 (everything was skipped, e.g. no mpirun: ctest's skip code).

Set FBTEST_KEEP=1 to keep each test's temporary directory (its path is printed).
"""

import argparse
import atexit
import concurrent.futures
import csv
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

SKIP_CODE = 77

# Exit codes of fabricbench (harness/main.cpp, DESIGN.md).
EXIT_OK = 0
EXIT_WRONG_DATA = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3

# The CSV columns (and JSON row keys), in the order harness/record_fields.hpp writes them.
CSV_COLUMNS = [
    "schema_version", "source", "timestamp", "backend", "op", "algo", "transport", "mem", "dtype",
    "redop", "root", "inplace", "nranks", "nnodes", "ranks_per_node", "requested_bytes", "bytes",
    "count", "iters", "warmup", "ops_per_sample", "check_iters", "timing", "cycle", "time_us", "time_min_us",
    "time_p50_us", "time_mean_us", "time_p99_us", "time_max_us", "algbw_GBps", "busbw_GBps",
    "msg_rate_Mps", "wrong", "slowest_rank", "slowest_host", "slowest_share", "skew",
    "model_fabric", "model_algo", "model_basis", "model_time_us", "model_busbw_GBps", "model_err_pct",
    "model_bottleneck", "max_rank_bytes", "load_imbalance", "group", "group_size", "ngroups",
    "total_bytes", "counts", "tokens_per_s",
]
# Empty in CSV, null in JSON, when no prediction was made (load_imbalance: not an alltoallv row).
OPTIONAL_FLOAT_COLUMNS = {"model_time_us", "model_busbw_GBps", "model_err_pct", "load_imbalance", "tokens_per_s"}
INT_COLUMNS = {
    "schema_version", "root", "nranks", "nnodes", "ranks_per_node", "requested_bytes", "bytes",
    "count", "iters", "warmup", "ops_per_sample", "check_iters", "cycle", "wrong", "slowest_rank",
    "max_rank_bytes", "group_size", "ngroups", "total_bytes",
}
FLOAT_COLUMNS = {
    "time_us", "time_min_us", "time_p50_us", "time_mean_us", "time_p99_us", "time_max_us",
    "algbw_GBps", "busbw_GBps", "msg_rate_Mps", "slowest_share", "skew",
}
BOOL_COLUMNS = {"inplace"}

ALL_OPS = ["allreduce", "alltoall", "allgather", "reducescatter", "broadcast", "unidir", "bidir",
           "pingpong", "relay", "reduce", "gather", "scatter", "alltoallv", "sendrecv", "moe_dispatch",
           "moe_combine"]
MOE_OPS = {"moe_dispatch", "moe_combine"}
REDUCING_OPS = {"allreduce", "reducescatter", "reduce"}
ROOTED_OPS = {"broadcast", "reduce", "gather", "scatter"}
# buffer split into per-rank blocks (alltoallv: at uniform counts)
BLOCK_OPS = {"alltoall", "allgather", "reducescatter", "gather", "scatter", "alltoallv"}
PAIR_OPS = {"sendrecv", "unidir", "bidir", "pingpong", "relay"}   # point-to-point: no in-place variant
DTYPE_SIZE = {
    "int8": 1, "uint8": 1, "int32": 4, "uint32": 4, "int64": 8, "uint64": 8,
    "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8,
}

# mpirun's own output (Open MPI banners) is ignored; fabricbench's lines start with this.
FB_PREFIX = "fabricbench: "


class Config:
    binary = None
    mpirun = None
    source = None


CONFIG = Config()


# ---- arguments and the test runner ----------------------------------------------------------

def _parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True, help="the fabricbench executable")
    p.add_argument("--mpirun", default="", help="the mpirun executable (Open MPI)")
    p.add_argument("--source", required=True, help="the source tree (for configs/ and fixtures)")
    return p.parse_known_args(argv)


class _CountingResult(unittest.TextTestResult):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main(needs_mpirun=True):
    """Parse --binary/--mpirun/--source, run the calling script's tests, print the summary."""
    args, rest = _parse_args(sys.argv[1:])
    CONFIG.binary = os.path.abspath(args.binary)
    CONFIG.mpirun = args.mpirun
    CONFIG.source = os.path.abspath(args.source)
    script = os.path.basename(sys.argv[0])
    if not (os.path.isfile(CONFIG.binary) and os.access(CONFIG.binary, os.X_OK)):
        print(f"{script}: SKIP: fabricbench binary not found at {CONFIG.binary}")
        print("0 passed, 0 failed, all skipped")
        sys.exit(SKIP_CODE)
    if needs_mpirun:
        found = shutil.which(CONFIG.mpirun) if CONFIG.mpirun else None
        if not found:
            print(f"{script}: SKIP: mpirun not found ('{CONFIG.mpirun}')")
            print("0 passed, 0 failed, all skipped")
            sys.exit(SKIP_CODE)
        CONFIG.mpirun = found

    main_module = sys.modules["__main__"]
    suite = unittest.defaultTestLoader.loadTestsFromModule(main_module)
    if rest:
        # Names of tests to run, as unittest takes them ("Class.test_name").
        suite = unittest.defaultTestLoader.loadTestsFromNames(rest, main_module)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_CountingResult, stream=sys.stdout)
    t0 = time.monotonic()
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    summary = f"{result.passed} passed, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped"
    print(f"{script}: {time.monotonic() - t0:.1f} s")
    print(summary)
    sys.stdout.flush()
    if failed:
        sys.exit(1)
    if result.passed == 0 and skipped > 0:
        sys.exit(SKIP_CODE)
    sys.exit(0)


# ---- running fabricbench --------------------------------------------------------------------

_SESSION_BASE = []


def _session_dir():
    """A fresh directory for one mpirun's session files: Open MPI 4 launchers started at the same
    moment can race creating the shared one ("orte_init failed ... File exists")."""
    if not _SESSION_BASE:
        _SESSION_BASE.append(tempfile.mkdtemp(prefix="fbtest-ompi-"))
        atexit.register(shutil.rmtree, _SESSION_BASE[0], True)
    return tempfile.mkdtemp(dir=_SESSION_BASE[0])


def mpirun_prefix(np, extra=()):
    return [CONFIG.mpirun, "--allow-run-as-root", "--oversubscribe", "--mca", "orte_tmpdir_base", _session_dir(),
            "-np", str(np), *extra]


def mpirun_cmd(np, args, extra=()):
    """mpirun ... -np NP fabricbench ARGS."""
    return mpirun_prefix(np, extra) + [CONFIG.binary, *args]


def singleton_cmd(args):
    """fabricbench ARGS, without a launcher."""
    return [CONFIG.binary, *args]


def clean_env():
    """The environment for a run: without variables from an enclosing MPI job."""
    env = dict(os.environ)
    for k in list(env):
        if k.startswith(("OMPI_", "PMIX_", "PMI_")) and not k.startswith("OMPI_MCA_"):
            del env[k]
    return env


class Result:
    def __init__(self, cmd, rc, stdout, stderr, seconds):
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    def fb_lines(self):
        """The lines fabricbench wrote to stderr (mpirun's banners and notes excluded)."""
        return fb_lines(self.stderr)

    def errors(self):
        """fabricbench's stderr lines that are not notes."""
        return [l for l in self.fb_lines() if not l.startswith(FB_PREFIX + "note:")]

    def describe(self):
        return (f"command: {' '.join(self.cmd)}\nexit code: {self.rc} after {self.seconds:.1f} s\n"
                f"--- stderr ---\n{self.stderr[-4000:]}\n--- stdout (tail) ---\n{self.stdout[-2000:]}")


def fb_lines(text):
    return [l for l in text.splitlines() if l.startswith(FB_PREFIX)]


def run(cmd, cwd=None, timeout=180):
    """Run to completion; on a timeout the whole process group is killed and the test fails."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         errors="replace", env=clean_env(), start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate()
        raise AssertionError(f"timed out after {timeout} s: {' '.join(cmd)}\n--- stderr ---\n{err[-4000:]}")
    return Result(cmd, p.returncode, out, err, time.monotonic() - t0)


def run_parallel(cmds, jobs=6, timeout=180):
    """Runs commands (each with its own outputs) a few at a time; Results in the same order.
    Error exits under mpirun spend most of their second or two asleep, so this saves wall time."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda c: run(c, timeout=timeout), cmds))


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---- processes of one run, found by a marker in their command line --------------------------

def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def find_processes(marker):
    """[(pid, argv list, MPI rank or None)] of live processes whose command line contains `marker`
    (e.g. a run's unique CSV path). The rank comes from OMPI_COMM_WORLD_RANK/PMIX_RANK in the
    process's initial environment; mpirun itself has none."""
    out = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        raw = _read(f"/proc/{name}/cmdline")
        if not raw or marker.encode() not in raw:
            continue
        stat = _read(f"/proc/{name}/stat")
        if stat and b") Z" in stat:  # a zombie is gone already
            continue
        argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
        rank = None
        env = _read(f"/proc/{name}/environ") or b""
        for kv in env.split(b"\0"):
            for key in (b"OMPI_COMM_WORLD_RANK=", b"PMIX_RANK="):
                if kv.startswith(key):
                    try:
                        rank = int(kv[len(key):])
                    except ValueError:
                        pass
        out.append((int(name), argv, rank))
    return out


def rank_pids(marker):
    """{rank: pid} of the fabricbench ranks of the run marked by `marker`."""
    ranks = {}
    for pid, argv, rank in find_processes(marker):
        if rank is not None and argv and "fabricbench" in os.path.basename(argv[0]):
            ranks[rank] = pid
    return ranks


def wait_for_ranks(marker, n, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = rank_pids(marker)
        if len(r) == n:
            return r
        time.sleep(0.1)
    raise AssertionError(f"expected {n} fabricbench ranks with '{marker}' in their command line, "
                         f"found {rank_pids(marker)}")


def kill_leftovers(marker, popen=None):
    """SIGCONT and SIGKILL every process of the run (stopped ranks included), then mpirun."""
    for pid, _, _ in find_processes(marker):
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
    if popen is not None and popen.poll() is None:
        kill_group(popen)
        try:
            popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def wait_no_processes(marker, timeout=10.0):
    """Waits until no process of the run is left; returns those still there after `timeout`."""
    deadline = time.monotonic() + timeout
    left = find_processes(marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = find_processes(marker)
    return left


# ---- sizes ----------------------------------------------------------------------------------

def parse_size(text):
    """The subset of fabricbench's size syntax the tests use: digits with K/M/G (binary)."""
    m = re.fullmatch(r"(\d+)([KMG]?)", text)
    if not m:
        raise ValueError(text)
    return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]


def sweep(minbytes, maxbytes, factor=2.0, step=0):
    """The requested sizes of a sweep, as TestSpec::sizes(): min, then *factor (floored, at least
    +1) or +step while <= max."""
    lo = parse_size(minbytes) if isinstance(minbytes, str) else minbytes
    hi = parse_size(maxbytes) if isinstance(maxbytes, str) else maxbytes
    out = []
    s = lo
    while s <= hi:
        out.append(s)
        if step > 0:
            nxt = s + step
        else:
            nxt = int(math.floor(s * factor))
            if nxt <= s:
                nxt = s + 1
        s = nxt
    return out


def expected_bytes(op, dtype, nranks, requested, block_align=1, topk=2, hidden=1024):
    """(bytes, count) that run for `requested` bytes: whole elements, and for the block ops whole
    blocks of nranks (nccl-tests' rounding); with block_align=16 (the nccl backend) each block is
    a multiple of 16 bytes, nccl-tests' (count/nranks) & -(16/eltSize) (not alltoallv); the MoE
    ops whole tokens of topk x hidden elements (count: the average per-pair block)."""
    es = DTYPE_SIZE[dtype]
    elems = requested // es
    if op in MOE_OPS:
        per_rank = elems // (topk * hidden) * topk * hidden
        return per_rank * es, per_rank // nranks
    if op in BLOCK_OPS:
        a = max(1, block_align // es) if op != "alltoallv" else 1
        block = elems // nranks // a * a
        return block * nranks * es, block
    return elems * es, elems


def busbw_factor(op, n):
    if op == "allreduce":
        return 2.0 * (n - 1) / n
    if op in BLOCK_OPS or op in MOE_OPS:
        return (n - 1) / n
    if op == "bidir":
        return 2.0
    return 1.0


# ---- results files --------------------------------------------------------------------------

def load_csv(path):
    """(header, rows as dicts of strings). Fails on a ragged file or a truncated last line."""
    with open(path, newline="") as f:
        text = f.read()
    if text and not text.endswith("\n"):
        raise AssertionError(f"{path}: the last line is incomplete: {text.splitlines()[-1]!r}")
    reader = csv.reader(text.splitlines())
    lines = list(reader)
    if not lines:
        raise AssertionError(f"{path}: empty (no header)")
    header = lines[0]
    rows = []
    for i, values in enumerate(lines[1:], start=2):
        if len(values) != len(header):
            raise AssertionError(f"{path}:{i}: {len(values)} fields, the header has {len(header)}")
        rows.append(dict(zip(header, values)))
    return header, rows


def load_json(path):
    with open(path) as f:
        return json.load(f)


def typed_csv_row(row):
    """A CSV row with the JSON's types (ints, floats, bools)."""
    out = {}
    for k, v in row.items():
        if k in OPTIONAL_FLOAT_COLUMNS:
            out[k] = None if v == "" else float(v)
        elif k in INT_COLUMNS:
            out[k] = int(v)
        elif k in FLOAT_COLUMNS:
            out[k] = float(v)
        elif k in BOOL_COLUMNS:
            if v not in ("0", "1"):
                raise AssertionError(f"column {k}: expected 0 or 1, got {v!r}")
            out[k] = v == "1"
        else:
            out[k] = v
    return out


def row_key(r):
    """What identifies a row within a run of one test: the series and the size."""
    return (r["backend"], r["op"], r["dtype"], r["redop"], str(r["root"]), str(r["inplace"]),
            str(r["requested_bytes"]))


def check_results(tc, csv_path, json_path, status="ok", nranks=None):
    """Loads and checks both files against the schema and each other; returns the JSON rows
    (typed dicts with samples_us). `status`: the expected JSON status, or None to skip."""
    tc.assertTrue(os.path.isfile(csv_path), f"no CSV file at {csv_path}")
    tc.assertTrue(os.path.isfile(json_path), f"no JSON file at {json_path}")
    header, csv_rows = load_csv(csv_path)
    doc = load_json(json_path)
    tc.assertEqual(header[0], "schema_version", "the CSV header starts with schema_version")
    tc.assertEqual(header, CSV_COLUMNS, "CSV columns as results/SCHEMA.md / record_fields.hpp")
    tc.assertIsInstance(doc, dict)
    tc.assertEqual(list(doc.keys()), ["schema_version", "meta", "rows", "status"])
    tc.assertEqual(doc["schema_version"], 1)
    if status is not None:
        tc.assertEqual(doc["status"], status, f"JSON status (stderr may say why)")
    rows = doc["rows"]
    tc.assertIsInstance(rows, list)
    tc.assertEqual(len(csv_rows), len(rows), "the CSV and the JSON hold the same number of rows")
    for i, (c, j) in enumerate(zip(csv_rows, rows)):
        tc.assertEqual(list(j.keys()), CSV_COLUMNS + JSON_ONLY_KEYS, f"JSON row {i} keys")
        typed = typed_csv_row(c)
        for k in CSV_COLUMNS:
            if k in OPTIONAL_FLOAT_COLUMNS and (typed[k] is None or j[k] is None):
                tc.assertEqual(typed[k], j[k], f"row {i} column {k}: CSV {c[k]!r} vs JSON {j[k]!r}")
            elif k in FLOAT_COLUMNS or k in OPTIONAL_FLOAT_COLUMNS:
                # CSV doubles are written in shortest round-trip form: the same double.
                tc.assertEqual(typed[k], float(j[k]), f"row {i} column {k}: CSV {c[k]} vs JSON {j[k]}")
            else:
                tc.assertEqual(typed[k], j[k], f"row {i} column {k}: CSV {c[k]!r} vs JSON {j[k]!r}")
        tc.assertEqual(j["schema_version"], 1)
        tc.assertEqual(len(j["samples_us"]), j["iters"], f"row {i}: one sample per iteration")
        for v in j["samples_us"]:
            tc.assertTrue(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, f"row {i}: sample {v}")
        # --split: every group's ranks are timed (the job's ranks), each group is nranks of them.
        job_ranks = j["nranks"] * j["ngroups"]
        tc.assertEqual(len(j["rank_p50_us"]), job_ranks, f"row {i}: one median per rank")
        tc.assertEqual(len(j["rank_mean_us"]), job_ranks, f"row {i}: one mean per rank")
        if j["ngroups"] == 1:
            tc.assertEqual(len(j["host_p50_us"]), j["nnodes"], f"row {i}: one median per host")
        if nranks is not None:
            tc.assertEqual(j["nranks"], nranks)
    return rows


# JSON row keys after the CSV columns (results/SCHEMA.md, "Per-row, JSON only").
JSON_ONLY_KEYS = ["samples_us", "rank_p50_us", "rank_mean_us", "host_p50_us"]


def check_meta(tc, doc, nranks, command_fragment=None):
    m = doc["meta"]
    tc.assertEqual(m["nranks"], nranks)
    tc.assertIsInstance(m["hosts"], list)
    tc.assertGreaterEqual(len(m["hosts"]), 1)
    tc.assertTrue(all(isinstance(h, str) and h for h in m["hosts"]))
    tc.assertEqual(len(m["rank_hosts"]), nranks)
    tc.assertTrue(set(m["rank_hosts"]) <= set(m["hosts"]))
    tc.assertIsInstance(m["mpi_library"], str)
    tc.assertTrue(m["mpi_library"].strip(), "meta.mpi_library is empty")
    tc.assertIsInstance(m["command_line"], str)
    if command_fragment:
        tc.assertIn(command_fragment, m["command_line"])
    tc.assertIsInstance(m["environment"], dict)
    tc.assertEqual(m["nnodes"], len(m["hosts"]))
    tc.assertEqual(m["ranks_per_node"], max(m["rank_hosts"].count(h) for h in m["hosts"]))
    for r in doc["rows"]:
        tc.assertEqual((r["nranks"], r["nnodes"], r["ranks_per_node"]), (nranks, m["nnodes"], m["ranks_per_node"]))
    tc.assertTrue(all(isinstance(v, str) for v in m["environment"].values()))


def check_row_sanity(tc, r):
    """Invariants of one measured row."""
    where = f"{r['op']} {r['dtype']} {r['redop']} inplace={r['inplace']} {r['requested_bytes']} B"
    tc.assertEqual(r["wrong"], 0, f"{where}: wrong elements")
    tc.assertEqual(r["source"], "measured")
    tc.assertEqual(r["time_us"], r["time_p50_us"], where)
    tc.assertLessEqual(r["time_min_us"], r["time_p50_us"], where)
    tc.assertLessEqual(r["time_p50_us"], r["time_max_us"], where)
    tc.assertLessEqual(r["time_p99_us"], r["time_max_us"] * (1 + 1e-12), where)
    tc.assertLessEqual(r["time_min_us"], r["time_mean_us"] * (1 + 1e-12), where)
    tc.assertLessEqual(r["time_mean_us"], r["time_max_us"] * (1 + 1e-12), where)
    tc.assertGreaterEqual(r["ops_per_sample"], 1, where)
    tc.assertLessEqual(r["bytes"], r["requested_bytes"], where)
    if r["bytes"] > 0:
        tc.assertGreater(r["time_us"], 0, where)
        tc.assertGreater(r["algbw_GBps"], 0, where)
        tc.assertGreater(r["busbw_GBps"], 0, where)
        tc.assertAlmostEqual(r["busbw_GBps"], r["algbw_GBps"] * busbw_factor(r["op"], r["nranks"]),
                             delta=1e-9 * max(1.0, r["busbw_GBps"]), msg=where)
        # alltoallv: algbw over the most loaded rank's bytes (nccl-tests' alltoallv).
        bw_bytes = r["max_rank_bytes"] if r.get("max_rank_bytes") else r["bytes"]
        tc.assertAlmostEqual(r["algbw_GBps"], bw_bytes / r["time_us"] / 1e3,
                             delta=1e-9 * max(1.0, r["algbw_GBps"]), msg=where)
    tc.assertTrue(0 <= r["slowest_rank"] < r["nranks"] * r.get("ngroups", 1), where)  # a rank of the job
    tc.assertTrue(0 < r["slowest_share"] <= 1, where)
    tc.assertGreaterEqual(r["skew"], 1.0 - 1e-12, where)
    tc.assertRegex(r["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", where)
    tc.assertLessEqual(r["ops_per_sample"], 1024, where)  # --batch auto's cap (kMaxAutoBatch)
    samples = r.get("samples_us")
    if samples:
        # The statistics are over the samples the JSON holds.
        tc.assertEqual(len(samples), r["iters"], where)
        tc.assertAlmostEqual(min(samples), r["time_min_us"], delta=1e-9 * max(1.0, r["time_min_us"]), msg=where)
        tc.assertAlmostEqual(max(samples), r["time_max_us"], delta=1e-9 * max(1.0, r["time_max_us"]), msg=where)
        mean = sum(samples) / len(samples)
        tc.assertAlmostEqual(mean, r["time_mean_us"], delta=1e-6 * max(1.0, mean), msg=where)
        tc.assertTrue(min(samples) <= r["time_p50_us"] <= max(samples), where)


# ---- per-test temporary directories ---------------------------------------------------------

class FbTestCase(unittest.TestCase):
    """A TestCase with self.tmp, a fresh directory per test (removed unless FBTEST_KEEP=1)."""

    maxDiff = 4000

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=f"fbtest-{self._testMethodName}-")
        self.addCleanup(self._remove_tmp)

    def _remove_tmp(self):
        if os.environ.get("FBTEST_KEEP"):
            print(f"  (kept {self.tmp})")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def outputs(self, stem="out"):
        """(csv path, json path, the --csv/--json arguments) in this test's directory."""
        c, j = self.path(stem + ".csv"), self.path(stem + ".json")
        return c, j, ["--csv", c, "--json", j]

    def assertRc(self, res, rc):
        self.assertEqual(res.rc, rc, f"expected exit code {rc}\n{res.describe()}")

    def assertRefused(self, cases, np=2):
        """Each (fabricbench args, expected text) run under mpirun exits 2 with exactly one error
        line containing the text and writes no output file (the runs go a few at a time)."""
        outs, cmds = [], []
        for args, _ in cases:
            c, j, out = self.outputs()
            outs.append((c, j))
            cmds.append(mpirun_cmd(np, [*args, *out]))
        for (args, want), (c, j), res in zip(cases, outs, run_parallel(cmds, jobs=3)):
            with self.subTest(args=args):
                self.assertRc(res, EXIT_USAGE)
                self.assertEqual(len(res.errors()), 1, res.describe())
                self.assertIn(want, res.errors()[0])
                self.assertNoOutputs(c, j)

    def assertNoOutputs(self, *paths):
        for p in paths:
            self.assertFalse(os.path.exists(p), f"{p} was created")
        leftovers = [n for n in os.listdir(self.tmp) if ".tmp." in n]
        self.assertEqual(leftovers, [], "temporary files left behind")


# ---- a long run to stop or kill -------------------------------------------------------------

LONG_PLAN = """\
# Written by tests/integration/fbtest.py: a few quick rows, then one that runs for minutes.
tests:
  - name: quick
    op: allreduce
    minbytes: 8
    maxbytes: 1K
    iters: 5
    warmup: 1
  - name: long
    op: allreduce
    minbytes: 1M
    maxbytes: 1M
    iters: 100000
"""
LONG_PLAN_QUICK_ROWS = 8  # 8 B .. 1 KiB, doubling


class LongRun:
    """mpirun -np N fabricbench run --plan LONG_PLAN, in the background, with stdout and stderr in
    files. The run's processes are found by the unique CSV path in their command lines. Always
    call cleanup() (in a finally block or via addCleanup)."""

    def __init__(self, tc, np, extra=()):
        self.tc = tc
        self.np = np
        self.plan = tc.path("long-plan.yaml")
        with open(self.plan, "w") as f:
            f.write(LONG_PLAN)
        self.csv_path, self.json_path, files = tc.outputs("long")
        self.marker = self.csv_path
        self.cmd = mpirun_cmd(np, ["run", "--plan", self.plan, "-q", *extra, *files])
        self._out = open(tc.path("stdout.txt"), "w")
        self._err = open(tc.path("stderr.txt"), "w")
        self.started = time.monotonic()
        self.popen = subprocess.Popen(self.cmd, stdout=self._out, stderr=self._err, env=clean_env(),
                                      start_new_session=True)
        tc.addCleanup(self.cleanup)

    def csv_rows(self):
        try:
            with open(self.csv_path) as f:
                return max(0, sum(1 for l in f if l.endswith("\n")) - 1)
        except OSError:
            return -1

    def wait_rows(self, n, timeout=60.0):
        """Waits until the CSV holds `n` rows (the run must still be going)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(f"the run ended early with exit code {self.popen.returncode}\n{self.stderr()}")
            if self.csv_rows() >= n:
                return
            time.sleep(0.05)
        raise AssertionError(f"the CSV did not reach {n} rows in {timeout} s (has {self.csv_rows()})\n{self.stderr()}")

    def ranks(self):
        return wait_for_ranks(self.marker, self.np)

    def signal_rank(self, rank, sig):
        pid = self.ranks()[rank]
        os.kill(pid, sig)
        return time.monotonic()

    def wait(self, timeout):
        """(exit code or None when still running after `timeout` s)."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def check_ended(self, rc, what, end_within_s, json_lag=(0, 1)):
        """After a fault (`what`): the job ended non-zero within `end_within_s` (rc None: still
        running), no process is left, both files parse, the CSV holds exactly the completed rows of
        LONG_PLAN, each once, and the JSON the same rows, `json_lag` allowing it to be that many rows
        behind (the CSV row is written first). Returns (CSV rows typed, the JSON document)."""
        tc, err = self.tc, self.stderr()
        tc.assertIsNotNone(rc, f"mpirun still running {end_within_s} s after {what}\n{err}")
        tc.assertNotEqual(rc, 0, err)
        tc.assertEqual(wait_no_processes(self.marker), [], "processes left behind")
        header, csv_rows = load_csv(self.csv_path)
        tc.assertEqual(header, CSV_COLUMNS)
        doc = load_json(self.json_path)
        tc.assertEqual(list(doc), ["schema_version", "meta", "rows", "status"])
        tc.assertNotEqual(doc["status"], "ok", f"a run ended by {what} does not claim success")
        tc.assertEqual(len(csv_rows), LONG_PLAN_QUICK_ROWS, "the CSV holds the completed rows")
        tc.assertIn(len(csv_rows) - len(doc["rows"]), json_lag, "rows missing from the JSON")
        typed = [typed_csv_row(r) for r in csv_rows]
        tc.assertEqual(len({row_key(r) for r in typed}), len(typed), "a row repeated in the CSV")
        for c, j in zip(typed, doc["rows"]):
            tc.assertEqual(c, {k: v for k, v in j.items() if k not in JSON_ONLY_KEYS})
        for r in doc["rows"]:
            check_row_sanity(tc, r)
        return typed, doc

    def stderr(self):
        self._err.flush()
        with open(self.tc.path("stderr.txt"), errors="replace") as f:
            return f.read()

    def cleanup(self):
        kill_leftovers(self.marker, self.popen)
        for f in (self._out, self._err):
            if not f.closed:
                f.close()


# ---- backends: compiled in? (the nccl backend: a usable GPU?) --------------------------------

def backend_line(name):
    """The `fabricbench --list` line of backend `name` ("" when it is not listed)."""
    out = subprocess.run([CONFIG.binary, "--list"], capture_output=True, text=True).stdout
    return next((l.strip() for l in out.splitlines() if l.strip().startswith(name + " ")), "")


def backend_compiled(name):
    line = backend_line(name)
    return bool(line) and "not compiled in" not in line


def nccl_status():
    """("not-compiled", reason), ("no-gpu", fabricbench's error line) or ("ok", "").

    Asks the binary itself: `--list` for whether the backend is compiled in, then a one-rank,
    one-op run for whether a GPU is usable (the backend's own check, cudaGetDeviceCount)."""
    if not backend_compiled("nccl"):
        return "not-compiled", backend_line("nccl")
    res = run(mpirun_cmd(1, ["run", "--backend", "nccl", "-b", "8", "-e", "8", "-n", "1", "-w", "0", "-q"]),
              timeout=300)
    errors = res.errors()
    if res.rc == EXIT_USAGE and errors and "no usable GPU" in errors[0]:
        return "no-gpu", errors[0]
    if res.rc != EXIT_OK:
        raise AssertionError("nccl probe run failed\n" + res.describe())
    return "ok", ""
