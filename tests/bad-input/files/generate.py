#!/usr/bin/env python3
"""Writes the bad-input corpus's input files (tests/bad-input/cases.json names them).
Deterministic: run it again after a schema change and commit what changes.

  good.csv / good.json    three valid measured pingpong rows (2 ranks, one host): the good side
                          of a compare and the starting point of every broken results file
  bad-*.csv, bad-*.json   results files broken one way each (truncated, wrong types, ...)
  fabric-*.yaml           fabric files broken one way each
  plan-*.yaml             plan files broken one way each
  garbage.bin, empty      binary garbage and an empty file, for every kind of input
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
from fbtest import CSV_COLUMNS  # noqa: E402


def row(nbytes, time_us):
    gbps = nbytes / time_us / 1e3
    return {
        "schema_version": 1, "source": "measured", "timestamp": "2025-01-02T03:04:05Z", "backend": "mpi",
        "op": "pingpong", "algo": "native", "transport": "sm", "mem": "host", "dtype": "uint8", "redop": "",
        "root": -1, "inplace": False, "nranks": 2, "nnodes": 1, "ranks_per_node": 2,
        "requested_bytes": nbytes, "bytes": nbytes, "count": nbytes, "iters": 4, "warmup": 1,
        "ops_per_sample": 1, "check_iters": 1, "time_us": time_us, "time_min_us": time_us * 0.9,
        "time_p50_us": time_us, "time_mean_us": time_us, "time_p99_us": time_us * 1.1,
        "time_max_us": time_us * 1.1, "algbw_GBps": gbps, "busbw_GBps": gbps, "msg_rate_Mps": 1 / time_us,
        "wrong": 0, "slowest_rank": 1, "slowest_host": "node1", "slowest_share": 0.5, "skew": 1.0,
        "model_fabric": "", "model_algo": "", "model_time_us": None, "model_busbw_GBps": None,
        "model_err_pct": None, "model_bottleneck": "",
    }


ROWS = [row(8, 1.5), row(65536, 9.0), row(1048576, 110.0)]


def csv_value(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


def csv_text(rows, columns=CSV_COLUMNS, edit=None):
    """The CSV of `rows`; `edit(line_number, fields)` may change a line's fields (header = 1)."""
    lines = [list(columns)] + [[csv_value(r[c]) for c in columns] for r in rows]
    if edit:
        for i, fields in enumerate(lines, start=1):
            edit(i, fields)
    return "".join(",".join(f) + "\n" for f in lines)


def json_doc(rows):
    rows = [dict(r, samples_us=[r["time_us"]] * r["iters"]) for r in rows]
    meta = {"fabricbench_version": "0.1.0", "git_describe": "fixture", "command_line": "fabricbench run (fixture)",
            "started_utc": "2025-01-02T03:00:00Z", "mpi_library": "Open MPI", "backend_versions": [],
            "nranks": 2, "nnodes": 1, "ranks_per_node": 2, "hosts": ["node1"], "rank_hosts": ["node1", "node1"],
            "environment": {}}
    return {"schema_version": 1, "meta": meta, "rows": rows, "status": "ok"}


def json_text(doc):
    return json.dumps(doc, indent=1) + "\n"


def set_field(line, column, value):
    def edit(i, fields):
        if i == line:
            fields[CSV_COLUMNS.index(column)] = value
    return edit


def with_row(i, **changes):
    doc = json_doc(ROWS)
    doc["rows"][i].update(changes)
    return doc


def without(i, key):
    doc = json_doc(ROWS)
    del doc["rows"][i][key]
    return doc


FILES = {}
FILES["good.csv"] = csv_text(ROWS)
FILES["good.json"] = json_text(json_doc(ROWS))
FILES["empty"] = ""
FILES["blank.csv"] = "\n  \n\n"
FILES["header-only.csv"] = csv_text([])
good_csv = FILES["good.csv"]
FILES["bad-truncated.csv"] = good_csv[: good_csv.rindex("\n", 0, -1) + 40]  # line 4 cut after 40 bytes
FILES["bad-missing-column.csv"] = csv_text(ROWS, [c for c in CSV_COLUMNS if c != "bytes"])
FILES["bad-int-text.csv"] = csv_text(ROWS, edit=set_field(3, "bytes", "lots"))
FILES["bad-int-negative.csv"] = csv_text(ROWS, edit=set_field(2, "bytes", "-8"))
FILES["bad-int-fraction.csv"] = csv_text(ROWS, edit=set_field(4, "iters", "4.5"))
FILES["bad-int-overflow.csv"] = csv_text(ROWS, edit=set_field(2, "nranks", "4294967298"))
FILES["bad-float-nan.csv"] = csv_text(ROWS, edit=set_field(3, "time_us", "nan"))
FILES["bad-bool.csv"] = csv_text(ROWS, edit=set_field(2, "inplace", "yes"))
FILES["bad-control-char.csv"] = csv_text(ROWS, edit=set_field(3, "time_us", "9.0\r\x1b[2J"))
FILES["bad-schema2.csv"] = csv_text(ROWS, edit=lambda i, f: f.__setitem__(0, "2") if i > 1 else None)
FILES["bad-schema-mixed.csv"] = csv_text(ROWS, edit=set_field(4, "schema_version", "2"))
FILES["bad-schema-text.csv"] = csv_text(ROWS, edit=set_field(2, "schema_version", "one"))
FILES["bad-quote.csv"] = csv_text(ROWS, edit=set_field(3, "slowest_host", '"node1'))
FILES["bad-extra-field.csv"] = csv_text(ROWS, edit=lambda i, f: f.append("surplus") if i == 2 else None)
good_json = FILES["good.json"]
FILES["bad-truncated.json"] = good_json[: len(good_json) * 2 // 3]
FILES["bad-schema99.json"] = json_text(dict(json_doc(ROWS), schema_version=99))
FILES["bad-schema-text.json"] = json_text(dict(json_doc(ROWS), schema_version="1"))
FILES["bad-rows-object.json"] = json_text(dict(json_doc(ROWS), rows={"0": ROWS[0]}))
FILES["bad-top-array.json"] = "[\n" + json_text(json_doc(ROWS)) + "]\n"
FILES["bad-string-bytes.json"] = json_text(with_row(1, bytes="64K"))
FILES["bad-missing-op.json"] = json_text(without(2, "op"))
FILES["bad-negative.json"] = json_text(with_row(0, bytes=-8))
FILES["bad-int-overflow.json"] = json_text(with_row(1, nranks=4294967298))
FILES["bad-fraction.json"] = json_text(with_row(2, iters=4.5))
FILES["bad-samples.json"] = json_text(with_row(1, samples_us="9.0"))
FILES["bad-row-not-object.json"] = json_text(dict(json_doc(ROWS), rows=[ROWS[0], 42]))
FILES["bad-nested.json"] = '{"schema_version": 1, "rows": ' + "[" * 100000 + "]" * 100000 + "}\n"

rng = random.Random(20250102)
garbage = bytearray(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
garbage += bytes(rng.randrange(256) for _ in range(2000))
FILES["garbage.bin"] = bytes(garbage)
FILES["garbage.json"] = b'{"schema_version": 1, "rows": [' + bytes(garbage[8:200]) + b"]}\n"

LOCALHOST = """\
name: broken
endpoint:
  kind: host
  memory_bandwidth_GBps: 25.6
scale_up:
  domain_size: 256
  bandwidth_GBps: 12.8
  latency_us: 1.0
"""
CLUSTER = LOCALHOST + """\
scale_out:
  nic_bandwidth_Gbps: 400
  nics_per_domain: 8
  latency_us: 2.0
  tiers:
    - name: leaf
      radix: 64
      hop_latency_us: 0.5
"""
FILES["fabric-good.yaml"] = CLUSTER
FILES["fabric-invalid-yaml.yaml"] = LOCALHOST.replace("scale_up:\n", "scale_up: [\n")
FILES["fabric-unknown-key.yaml"] = LOCALHOST.replace("  bandwidth_GBps", "  bandwith_GBps")
FILES["fabric-wrong-type.yaml"] = LOCALHOST.replace("bandwidth_GBps: 12.8", "bandwidth_GBps: fast")
FILES["fabric-whole-fraction.yaml"] = LOCALHOST.replace("domain_size: 256", "domain_size: 2.5")
FILES["fabric-missing-key.yaml"] = LOCALHOST.replace("  latency_us: 1.0\n", "")
FILES["fabric-negative.yaml"] = LOCALHOST.replace("latency_us: 1.0", "latency_us: -1")
FILES["fabric-duplicate.yaml"] = LOCALHOST + "endpoint:\n  kind: gpu\n  memory_bandwidth_GBps: 1\n"
FILES["fabric-list.yaml"] = "- name: broken\n- endpoint: host\n"
FILES["fabric-scalar.yaml"] = "just some text\n"
FILES["fabric-tiers-not-list.yaml"] = CLUSTER.split("  tiers:")[0] + "  tiers: leaf\n"
FILES["fabric-radix.yaml"] = CLUSTER.replace("radix: 64", "radix: 1")
FILES["fabric-bool.yaml"] = LOCALHOST + "  in_switch_reduction: maybe\n"
FILES["fabric-key-not-scalar.yaml"] = LOCALHOST + "? [a, b]\n: 1\n"
FILES["fabric-kind.yaml"] = LOCALHOST.replace("kind: host", "kind: toaster")
FILES["fabric-control-char.yaml"] = LOCALHOST.replace("kind: host", 'kind: "ho\\rst\\e[2J"')

PLAN = """\
description: a plan broken one way
defaults:
  iters: 2
  warmup: 0
tests:
  - name: small
    op: allreduce
    minbytes: 8
    maxbytes: 64
"""
FILES["plan-key-not-scalar.yaml"] = PLAN + "    ? [a, b]\n    : 1\n"
FILES["plan-top-key-not-scalar.yaml"] = "? [a, b]\n: 1\n" + PLAN
FILES["plan-list.yaml"] = "- op: allreduce\n- op: alltoall\n"
FILES["plan-null-value.yaml"] = PLAN + "    dtype:\n"
FILES["plan-mapping-value.yaml"] = PLAN + "    dtype: {float32: yes}\n"
FILES["plan-nested-list.yaml"] = PLAN + "    dtype: [[float32, int8]]\n"
FILES["plan-defaults-list.yaml"] = PLAN.replace("defaults:\n  iters: 2\n  warmup: 0\n", "defaults: [iters, 2]\n")
FILES["plan-tab.yaml"] = PLAN.replace("    maxbytes", "\tmaxbytes")
FILES["plan-huge-size.yaml"] = PLAN.replace("maxbytes: 64", "maxbytes: 99999999999999999999999")
FILES["plan-bad-flag.yaml"] = PLAN + "    blocking: maybe\n"


def main():
    for name, content in FILES.items():
        data = content if isinstance(content, bytes) else content.encode()
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(FILES)} files in {HERE}")


if __name__ == "__main__":
    main()
