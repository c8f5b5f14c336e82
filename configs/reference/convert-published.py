#!/usr/bin/env python3
"""Convert the calibration set (published-measurements.md, its "## Table") into results-schema rows.

    python3 configs/reference/convert-published.py PATH/published-measurements.md > configs/reference/published.csv

Every table row becomes one row of the results CSV (results/SCHEMA.md, source=published) plus the
provenance columns of SCHEMA.md's "Published rows" section. How each value is read is written
next to the code that reads it; configs/reference/README.md says what the file is for.
Standard library only. Fails (exit 1, naming the row) on a row it cannot read, rather than guess.
"""

import csv
import re
import sys

# The results columns, in harness/record_fields.hpp's order, then the provenance columns.
RESULT_COLUMNS = [
    "schema_version", "source", "timestamp", "backend", "op", "algo", "transport", "mem", "dtype",
    "redop", "root", "inplace", "nranks", "nnodes", "ranks_per_node", "requested_bytes", "bytes",
    "count", "iters", "warmup", "ops_per_sample", "check_iters", "time_us", "time_min_us",
    "time_p50_us", "time_mean_us", "time_p99_us", "time_max_us", "algbw_GBps", "busbw_GBps",
    "msg_rate_Mps", "wrong", "slowest_rank", "slowest_host", "slowest_share", "skew",
    "model_fabric", "model_algo", "model_time_us", "model_busbw_GBps", "model_err_pct", "model_bottleneck",
]
PROVENANCE_COLUMNS = ["ref", "system", "fabric", "fabric_set", "ranks_per_domain", "nccl_version", "citation",
                      "trust", "note"]

OPS = {"all_reduce": "allreduce", "all_gather": "allgather", "reduce_scatter": "reducescatter",
       "alltoall": "alltoall"}
REDUCING = {"allreduce", "reducescatter"}
DTYPE_BYTES = 4  # float32, nccl-tests' default

# The shipped fabric that models each row (some are added with the model's achievable rates,
# issue 21 item 4). Rows not named here get no fabric: GPU unknown (67-68), H800 (116),
# misconfigured (119).
FABRIC = {}
for refs, name in [((12, 13, 14, 15, 45), "hgx-a100"),
                   (tuple(range(16, 41)), "aws-p5"),
                   ((35, 36, 108, 109, 110, 111), "aws-p4d"),
                   ((42, 43, 115, 118), "hgx-h100"),
                   ((46, 47, 77, 78, 79, 80, 81, 82, 83, 84, 85), "gb200-nvl72"),
                   ((48, 49, 50, 51, 52), "gcp-a3-mega"),
                   ((53, 54), "gcp-a3-high"),
                   ((64, 65, 66), "hgx-b200"),
                   (tuple(range(90, 97)), "hgx-h200"),
                   ((97, 98, 99), "aws-p6-b200")]:
    for r in refs:
        FABRIC[r] = name  # later lists win: 35-36 are p4de rows inside the p5 range
# --set overrides: CoreWeave's SHARP jobs (NCCL_COLLNET_ENABLE=1) reduce in the IB switches.
FABRIC_SET = {12: "scale_out.in_network_reduction=true", 13: "scale_out.in_network_reduction=true",
              14: "scale_out.in_network_reduction=true",
              # NVIDIA/nccl#527 is a thread about NCCL 2.9.9 (with the aws-ofi-nccl of its time); the
              # comment these rows come from does not print its version, so nccl_version stays empty
              # and the stack the model follows (model/rates.cpp: EFA v1 before 2.10) is set here.
              108: "nccl_version=2.9.9", 109: "nccl_version=2.9.9", 110: "nccl_version=2.9.9",
              111: "nccl_version=2.9.9"}
EXTRA_NOTE = {
    118: "1 GPU per node driving 4 NICs; hgx-h100 models one NIC per GPU",
}
# Grades lowered here, by the reference file's own rule (its Pitfalls: "Rows not to calibrate on are
# graded C and say why in their notes (superseded runs, ...)") where its table still says B.
TRUST_C = {
    13: "graded C here: a superseded run (its source replaced it with row 14, the same 64-GPU SHARP "
        "job on NCCL 2.14.3), as the reference file grades its other superseded rows (15)",
}

# What NCCL ran, in the harness's convention for nccl rows (ALGO/PROTO as NCCL's tuner logs it):
# ALGO alone when the algorithm is forced or stated but the protocol is not (NCCL's choice);
# empty when NCCL chose and the source does not say what. Keyed on the table's Algo/proto cell.
def algo_of(cell):
    c = cell.strip()
    low = c.lower()
    if low.startswith("ring / simple"):
        return "RING/SIMPLE"
    if low.startswith("ring"):
        return "RING"
    if low.startswith("nvls/nvlstree"):
        return ""
    if low.startswith("nvls"):
        return "NVLS"
    if low.startswith("tree"):
        return "TREE"
    # "default", "default (ofi tuner)", "CollNet (SHARP)" (enabled, NCCL picks direct or chain),
    # row 45's impossible "NVLS" label (treated as default, as the table says).
    return ""

# Sizes as the table writes them where it gives no byte count.
SIZE_WORDS = {"sweep to 4 GiB": (4 << 30, "size: the sweep's largest, 4 GiB")}

# Rows left out: neither has a size, so neither has a time (and bytes is a required column).
#  116 (H800, "large (from screenshot)"), 117 (two values, 2 and 4 nodes, no size).
SKIP = {116: "no size", 117: "two values, no size"}


def fail(ref, why):
    sys.exit(f"convert-published: row {ref}: {why}")


def split_row(line):
    # Cells are split on '|' except the quoted output's escaped pipes ("\|", "\ |").
    cells = re.split(r"(?<!\\)(?<!\\ )\|", line.strip())
    return [c.strip() for c in cells[1:-1]]


def number(text):
    """The leading number of a cell ('58.23 (ip 56.02)' -> 58.23, '~476' -> 476), or None ('-', 'n/a')."""
    m = re.match(r"~?\s*([0-9]+(?:\.[0-9]+)?)", text.strip())
    return float(m.group(1)) if m else None


def topology(ref, system):
    """(nranks, nnodes, ranks_per_node, ranks_per_domain) from the System cell."""
    s = system.replace("×", "x")
    m = re.search(r"x(\d+)/node x (\d+) nodes = (\d+)", s)
    if m:
        rpn, nodes, n = map(int, m.groups())
        return n, nodes, rpn, rpn
    m = re.search(r"x(\d+)/node, (\d+) nodes? = (\d+)", s)
    if m:
        rpn, nodes, n = map(int, m.groups())
        return n, nodes, rpn, rpn
    m = re.search(r"x(\d+)/node, (\d+) GPUs", s)
    if m:
        rpn, n = map(int, m.groups())
        return n, n // rpn, rpn, rpn
    m = re.search(r"x(\d+)/tray, (\d+) \((\d+) trays?(?:, (?:same rack|(\d+) racks?))?\) GPUs", s)
    if m:  # GB200 NVL72: a tray (4 GPUs) is a host; a rack (18 trays) is one NVLink domain
        per_tray, n, trays, racks = int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4) or 1)
        return n, trays, per_tray, n // racks
    m = re.search(r"x(\d+)/tray, (\d+) \(([23]) racks\) GPUs", s)
    if m:
        per_tray, n, racks = map(int, m.groups())
        return n, n // per_tray, per_tray, n // racks
    m = re.search(r"x(\d+),? 1 tray/host", s)
    if m:
        n = int(m.group(1))
        return n, 1, n, n
    m = re.search(r"x\d+ node(?: \([^)]*\))?, (\d+) GPUs used", s)
    if m:  # a part of one node's GPUs
        n = int(m.group(1))
        return n, 1, n, n
    m = re.search(r"x(\d+), 1 node", s)
    if m:
        n = int(m.group(1))
        return n, 1, n, n
    m = re.search(r"(\d+) ranks on (\d+) HGX hosts", s)
    if m:
        n, nodes = map(int, m.groups())
        return n, nodes, n // nodes, n // nodes
    fail(ref, f"cannot read the GPU count from '{system}'")


def size_of(ref, cell):
    m = re.match(r"(\d+)(?:\s|$)", cell)
    if m:
        return int(m.group(1)), ""
    if cell in SIZE_WORDS:
        return SIZE_WORDS[cell]
    fail(ref, f"cannot read the size '{cell}'")


def busbw_factor(op, n):
    return 2.0 * (n - 1) / n if op == "allreduce" else (n - 1) / n


def nccl_version(cell):
    # A version only where the cell starts with one ("2.27.7 (Dockerfile)"); "not stated", "(see
    # above)" and image tags (pytorch:24.04) give none.
    m = re.match(r"(\d+\.\d+(?:\.\d+)?)", cell.strip())
    return m.group(1) if m else ""


def iters_of(source, notes):
    # The p5 CSVs ran -n 1000 -w 10; the dstack A3 Mega all_gather "iters 200". Else unknown (0).
    if "-n 1000 -w 10" in source:
        return 1000, 10
    m = re.search(r"iters (\d+)", notes)
    return (int(m.group(1)), 0) if m else (0, 0)


def convert(ref, cells):
    (_, system, config, _up, _out, nccl, coll, algo_cell, size_cell, bus_oop, bus_ip, time_cell, trust,
     source, _quote, notes) = cells
    if coll not in OPS:
        fail(ref, f"unknown collective '{coll}'")
    op = OPS[coll]
    if trust not in ("A", "B", "C"):
        fail(ref, f"unknown trust '{trust}'")
    n, nodes, rpn, rpd = topology(ref, system)
    nbytes, size_note = size_of(ref, size_cell)
    note = [size_note] if size_note else []
    busbw, inplace = number(bus_oop), 0
    if busbw is None:
        busbw, inplace = number(bus_ip), 1
        note.append("in-place busbw (only in-place published)")
    if busbw is None:
        fail(ref, "no busbw")
    factor = busbw_factor(op, n)
    time_us = number(time_cell)
    if time_us is not None:
        algbw = nbytes / time_us / 1e3
    else:
        if not busbw > 0:
            fail(ref, "neither a time nor a busbw to derive it from")
        algbw = busbw / factor
        time_us = nbytes / algbw / 1e3
        note.append("time derived from busbw")
    if ref in EXTRA_NOTE:
        note.append(EXTRA_NOTE[ref])
    if ref in TRUST_C:
        trust = "C"
        note.append(TRUST_C[ref])
    if notes:
        note.append(notes)
    # nccl-tests' count: elements per rank for all_reduce, per rank block for the others (as
    # fabricbench's count, results/SCHEMA.md); bytes stay as nccl-tests printed them.
    elems = nbytes // DTYPE_BYTES
    count = elems if op == "allreduce" else elems // n
    iters, warmup = iters_of(source, notes)
    row = {
        "schema_version": 1, "source": "published", "timestamp": "", "backend": "nccl", "op": op,
        "algo": algo_of(algo_cell), "transport": "", "mem": "cuda", "dtype": "float32",
        "redop": "sum" if op in REDUCING else "", "root": -1, "inplace": inplace, "nranks": n,
        "nnodes": nodes, "ranks_per_node": rpn, "requested_bytes": nbytes, "bytes": nbytes, "count": count,
        "iters": iters, "warmup": warmup, "ops_per_sample": 1, "check_iters": 0,
        "time_us": repr(time_us), "time_min_us": repr(time_us), "time_p50_us": repr(time_us),
        "time_mean_us": repr(time_us), "time_p99_us": repr(time_us), "time_max_us": repr(time_us),
        "algbw_GBps": repr(algbw), "busbw_GBps": repr(busbw), "msg_rate_Mps": repr(1.0 / time_us), "wrong": 0,
        "slowest_rank": -1, "slowest_host": "", "slowest_share": 0, "skew": 0,
        "model_fabric": "", "model_algo": "", "model_time_us": "", "model_busbw_GBps": "", "model_err_pct": "",
        "model_bottleneck": "",
        "ref": ref, "system": config, "fabric": FABRIC.get(ref, ""), "fabric_set": FABRIC_SET.get(ref, ""),
        "ranks_per_domain": rpd, "nccl_version": nccl_version(nccl), "citation": source, "trust": trust,
        "note": "; ".join(note),
    }
    return row


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: convert-published.py PATH/published-measurements.md > published.csv")
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = lines.index("## Table")
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        m = re.match(r"\|\s*(\d+)\s*\|", line)
        if not m:
            continue
        ref = int(m.group(1))
        cells = split_row(line)
        if len(cells) != 16:
            fail(ref, f"expected 16 cells, got {len(cells)}")
        if ref in SKIP:
            continue
        rows.append(convert(ref, cells))
    w = csv.DictWriter(sys.stdout, fieldnames=RESULT_COLUMNS + PROVENANCE_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)


if __name__ == "__main__":
    main()
