#!/usr/bin/python3
"""Draws the plots of `fabricbench report` (harness/report.cpp) with matplotlib.

    fabricbench-plot.py SPEC.json OUTDIR

SPEC is the plot spec the C++ command writes: the rows it read and validated, grouped into
series. Writes PNG and SVG for every plot and an index.md and index.html that link them.
Exit codes: 0 done, 3 matplotlib missing, 1 anything else.
"""

import html
import json
import math
import os
import re
import statistics
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter
except ImportError as e:  # the C++ side checks first; this is the fallback
    print(f"fabricbench: report: needs python3-matplotlib (apt-get install python3-matplotlib): {e}",
          file=sys.stderr)
    sys.exit(3)

# Reproducible SVGs: no random ids, no date.
matplotlib.rcParams["svg.hashsalt"] = "fabricbench"
matplotlib.rcParams["svg.fonttype"] = "none"
METADATA = {"svg": {"Date": None}, "png": {}}


def human_bytes(n, _pos=None):
    """A size with binary units: 1073741824 -> "1 GiB", 1536 -> "1.5 KiB", 8 -> "8 B"."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:g} {unit}" if n == int(n) else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:g}"


def human_count(n, _pos=None):
    """A count (GPUs) as a short label: plain up to 9999, then k and M: 16384 -> "16k", 131072 ->
    "128k", 1048576 -> "1M" (k = 1024 and M = 1024^2 when the count is a multiple of them, as GPU
    counts of powers of two are; else 1000 and 10^6: 100000 -> "100k")."""
    n = float(n)
    if n != int(n) or abs(n) < 10000:
        return f"{n:g}"
    n = int(n)
    for suffix, binary, decimal in (("M", 1 << 20, 10**6), ("k", 1 << 10, 1000)):
        if n >= binary and n % binary == 0:
            return f"{n // binary}{suffix}"
        if n >= decimal:
            return f"{n / decimal:.3g}{suffix}"
    return str(n)


def decimal_tick(v, _pos=None):
    """A tick label in plain decimals, never 6x10^-1 or 3e+03: 0.6 -> "0.6", 3000 -> "3000"."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else ""
    digits = max(0, 2 - int(math.floor(math.log10(abs(v)))))
    return f"{v:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:.0f}"


TIME_UNITS = (("s", 1e6), ("ms", 1e3), ("µs", 1.0))


def time_unit(max_us):
    """The unit (name, microseconds per unit) that suits times up to max_us: µs below 1 ms, ms below
    1 s, else s."""
    for name, scale in TIME_UNITS:
        if max_us >= scale:
            return name, scale
    return TIME_UNITS[-1]


def time_tick(us):
    """A tick of a time axis (values in µs) with its own unit: "5 µs", "1 ms", "20 ms", "2 s"."""
    name, scale = time_unit(us)
    return f"{decimal_tick(us / scale)} {name}"


def fmt_time(us):
    """A time given in µs with the unit its magnitude calls for: "35.4 µs", "3.54 ms", "1.92 s"."""
    if us is None or not math.isfinite(us):
        return "-"
    name, scale = time_unit(abs(us))
    return f"{fixed3(us / scale)} {name}"


def fmt_bw(gbps):
    """A bandwidth given in GB/s (10^9 B/s): "354 GB/s", "12.5 GB/s", "3.54 MB/s" below 1 GB/s."""
    if gbps is None or not math.isfinite(gbps):
        return "-"
    if abs(gbps) < 1 and gbps != 0:
        return f"{fixed3(gbps * 1e3)} MB/s"
    return f"{fixed3(gbps)} GB/s"


def fixed3(v):
    """Three significant digits in fixed notation (no exponent): 35412.3 -> "35412", 0.00354 -> "0.00354"."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else "-"
    digits = max(0, 2 - int(math.floor(math.log10(abs(v)))))
    return f"{v:.{digits}f}"


def fmt_ratio(v):
    """A measured/model ratio with three decimals: "0.953"."""
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.3f}"


# validate's default bandwidth grades (harness/validate.hpp); the spec's "bands" overrides them.
DEFAULT_BANDS = {"bw_pass": 0.85, "bw_warn": 0.70, "bw_upper": 1.25}
METRIC_MARKS = {"fail": "!", "warn": "?"}


def metric_marks(pairs, key):
    """The marks of one heat-map panel (key "bw" or "lat"): (rank a, rank b, "!" or "?") for each
    pair whose grade on that metric fails or warns. A pair that failed on the other metric only,
    or on its transport or data, is not marked here."""
    return [(c["a"], c["b"], METRIC_MARKS[c[f"{key}_verdict"]]) for c in pairs
            if c[f"{key}_ratio"] is not None and c[f"{key}_verdict"] in METRIC_MARKS]


RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 2, 3, 5, 10, 20, 50, 100)


def ratio_ticks(lo, hi, bands):
    """Ticks of a ratio axis from lo to hi: 1, the band edges, and round values that keep clear of them."""
    edges = [1.0] + [bands[k] for k in ("bw_warn", "bw_pass", "bw_upper")]
    extra = [t for t in RATIO_TICKS if all(abs(math.log(t / e)) > 0.25 for e in edges)]
    return sorted(t for t in edges + extra if lo <= t <= hi)


def log_ticks(lo, hi):
    """Ticks of a log axis from lo to hi: 1, 2, 5 x 10^k, or 1..9 x 10^k when that gives fewer than 3."""
    lo, hi = min(lo, hi), max(lo, hi)
    if not (lo > 0 and math.isfinite(hi)):
        return []
    decades = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
    for subs in ((1, 2, 5), range(1, 10)):
        ticks = [float(f"{m}e{k}") for k in decades for m in subs if lo <= float(f"{m}e{k}") <= hi]
        if len(ticks) >= 3:
            return ticks
    return ticks


def slug(*parts):
    s = "_".join(str(p) for p in parts if p not in ("", None))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "plot"


class Report:
    def __init__(self, spec, outdir):
        self.spec = spec
        self.outdir = outdir
        self.sections = []  # (heading, [(title, stem, table rows, table header)])
        self.names = set()

    def save(self, fig, stem):
        base = stem
        i = 2
        while stem in self.names:
            stem = f"{base}-{i}"
            i += 1
        self.names.add(stem)
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(os.path.join(self.outdir, f"{stem}.{ext}"), format=ext, dpi=110, metadata=METADATA[ext])
        plt.close(fig)
        return stem

    # ---- measured rows --------------------------------------------------------------------

    def measured(self):
        by_op = {}
        for s in self.spec.get("measured", []):
            by_op.setdefault(s["op"], []).append(s)
        if not by_op:
            return
        plots = []
        for op, series in by_op.items():
            plots += self.busbw(op, series)
            plots += self.latency(op, series)
            plots += self.ratio(op, series)
        self.sections.append(("Measurements", plots))

    @staticmethod
    def size_axis(ax):
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(FuncFormatter(human_bytes))
        ax.set_xlabel("message size")
        ax.grid(True, which="both", alpha=0.3)

    @staticmethod
    def log_decimal_y(ax, label=decimal_tick):
        """The y axis on a log scale with plain decimal ticks (no 10^k notation), for the data drawn;
        `label` formats a tick (time_tick: times in µs read "5 µs", "20 ms")."""
        ax.set_yscale("log")
        lo, hi = ax.get_ylim()
        ax.yaxis.set_major_locator(FixedLocator(log_ticks(lo, hi)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: label(v)))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(lo, hi)

    def busbw(self, op, series):
        fig, ax = plt.subplots(figsize=(8, 5))
        rows = []
        for i, s in enumerate(series):
            pts = [p for p in s["points"] if p["bytes"] > 0]
            if not pts:
                continue
            c = f"C{i % 10}"
            x = [p["bytes"] for p in pts]
            ax.plot(x, [p["busbw_GBps"] for p in pts], "o-", color=c, label=f"{s['label']} (measured)")
            mp = [p for p in pts if p["model_busbw_GBps"] is not None]
            if mp:
                ax.plot([p["bytes"] for p in mp], [p["model_busbw_GBps"] for p in mp], "--", color=c, alpha=0.8,
                        label=f"{s['label']} (model {s.get('model_fabric') or ''})".replace(" )", ")"))
            peak = max(pts, key=lambda p: p["busbw_GBps"])
            model_peak = max((p["model_busbw_GBps"] for p in mp), default=None)
            rows.append([s["label"], f"{human_bytes(x[0])} .. {human_bytes(x[-1])}", str(len(pts)),
                         f"{fmt_bw(peak['busbw_GBps'])} at {human_bytes(peak['bytes'])}", fmt_bw(model_peak)])
        if not rows:
            plt.close(fig)
            return []
        self.size_axis(ax)
        ax.set_ylabel("bus bandwidth (GB/s)")
        ax.set_title(f"{op}: bus bandwidth vs size")
        ax.legend(fontsize=7)
        stem = self.save(fig, slug("busbw", op))
        return [(f"{op}: bus bandwidth", stem,
                 ["series", "sizes", "points", "peak busbw", "model peak busbw"], rows)]

    def latency(self, op, series):
        drawn = [(i, s, [p for p in s["points"] if p["bytes"] > 0]) for i, s in enumerate(series)]
        drawn = [d for d in drawn if d[2]]
        if not drawn:
            return []
        fig, ax = plt.subplots(figsize=(8, 5))
        rows = []
        for i, s, pts in drawn:
            c = f"C{i % 10}"
            x = [p["bytes"] for p in pts]
            ax.plot(x, [p["time_p50_us"] for p in pts], "o-", color=c, label=f"{s['label']} p50")
            ax.plot(x, [p["time_p99_us"] for p in pts], "^:", color=c, alpha=0.8, label=f"{s['label']} p99")
            small, large = pts[0], pts[-1]
            rows.append([s["label"],
                         f"{fmt_time(small['time_p50_us'])} / {fmt_time(small['time_p99_us'])} at {human_bytes(small['bytes'])}",
                         f"{fmt_time(large['time_p50_us'])} / {fmt_time(large['time_p99_us'])} at {human_bytes(large['bytes'])}"])
        self.size_axis(ax)
        self.log_decimal_y(ax, time_tick)
        ax.set_ylabel("time per op")
        ax.set_title(f"{op}: latency p50 and p99 vs size")
        ax.legend(fontsize=7)
        stem = self.save(fig, slug("latency", op))
        return [(f"{op}: latency p50 / p99", stem, ["series", "smallest size: p50 / p99", "largest size: p50 / p99"], rows)]

    def bands(self):
        """validate's bandwidth grades (measured / model): pass from bw_pass to bw_upper, warn from
        bw_warn and above bw_upper, fail below bw_warn."""
        return {**DEFAULT_BANDS, **(self.spec.get("bands") or {})}

    @staticmethod
    def ratio_bands(ax, b):
        """Shade the fail, warn and pass bands of a measured / model bandwidth axis."""
        lo, hi = ax.get_ylim()
        ax.axhspan(lo, b["bw_warn"], color="tab:red", alpha=0.10, lw=0,
                   label=f"fail (< {decimal_tick(b['bw_warn'])})")
        ax.axhspan(b["bw_warn"], b["bw_pass"], color="tab:orange", alpha=0.14, lw=0,
                   label=f"warn ({decimal_tick(b['bw_warn'])} - {decimal_tick(b['bw_pass'])}, "
                         f"> {decimal_tick(b['bw_upper'])})")
        ax.axhspan(b["bw_pass"], b["bw_upper"], color="tab:green", alpha=0.10, lw=0,
                   label=f"pass ({decimal_tick(b['bw_pass'])} - {decimal_tick(b['bw_upper'])})")
        ax.axhspan(b["bw_upper"], hi, color="tab:orange", alpha=0.14, lw=0)
        ax.set_ylim(lo, hi)

    def ratio(self, op, series):
        fig, ax = plt.subplots(figsize=(8, 5))
        rows = []
        lo, hi = 1.0, 1.0
        for i, s in enumerate(series):
            pts = [p for p in s["points"] if p["model_time_us"] and p["time_us"] > 0 and p["bytes"] > 0]
            if not pts:
                continue
            # measured / model bandwidth = model time / measured time: 1 = as predicted, < 1 = slower.
            r = [p["model_time_us"] / p["time_us"] for p in pts]
            ax.plot([p["bytes"] for p in pts], r, "o-", color=f"C{i % 10}", label=s["label"])
            srt = sorted(r)
            rows.append([s["label"], s.get("model_fabric") or "", fmt_ratio(srt[len(srt) // 2]), fmt_ratio(srt[0]),
                         fmt_ratio(srt[-1])])
            lo, hi = min(lo, srt[0]), max(hi, srt[-1])
        if not rows:
            plt.close(fig)
            return []
        ax.axhline(1.0, color="grey", lw=1, ls="--")
        self.size_axis(ax)
        ax.set_yscale("log")
        b = self.bands()
        ax.set_ylim(min(lo, b["bw_warn"]) / 1.15, max(hi, b["bw_upper"]) * 1.15)
        self.ratio_bands(ax, b)
        ax.yaxis.set_major_locator(FixedLocator(ratio_ticks(*ax.get_ylim(), b)))
        ax.yaxis.set_major_formatter(FuncFormatter(decimal_tick))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("measured / model bandwidth")
        ax.set_title(f"{op}: measurement against the model (1 = as predicted)")
        ax.legend(fontsize=7)
        stem = self.save(fig, slug("ratio", op))
        return [(f"{op}: measured / model", stem, ["series", "fabric", "median ratio", "min", "max"], rows)]

    @staticmethod
    def gpu_axis(ax):
        """A log2 axis of GPU counts, labelled 8, 1024, 16k, 1M."""
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(FuncFormatter(human_count))
        ax.set_xlabel("GPUs")
        ax.grid(True, which="both", alpha=0.3)

    # ---- model against measurements (published rows, `model --against` output) --------------

    OP_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")

    def against(self):
        a = self.spec.get("against")
        if not a:
            return
        ops = sorted({p["op"] for f in a["fabrics"] for p in f["points"]})
        markers = {op: self.OP_MARKERS[i % len(self.OP_MARKERS)] for i, op in enumerate(ops)}
        plots = [self.against_errors(a, markers)]
        plots += [self.against_fabric(f, markers) for f in a["fabrics"]]
        self.sections.append(("Model against measurements", plots))

    @staticmethod
    def error_row(points):
        """rows, median and max |error| (%) and the worst row of a group, as `model --against` counts them."""
        errs = [abs(p["err_pct"]) for p in points]
        w = max(points, key=lambda p: abs(p["err_pct"]))
        desc = w["label"]
        if w["ref"]:
            desc += f" {w['system']}" if w["system"] else ""
            desc += f" {w['op']} {w['nranks']} GPUs {human_bytes(w['bytes'])}"
        return [str(len(points)), f"{statistics.median(errs):.1f}", f"{max(errs):.1f}", f"{desc}: {w['err_pct']:+.1f}%"]

    def against_errors(self, a, markers):
        fabrics = a["fabrics"]
        cmap = plt.get_cmap("tab20" if len(fabrics) > 10 else "tab10")
        fig, ax = plt.subplots(figsize=(9, 5.5))
        rows = []
        handles = []
        for i, f in enumerate(fabrics):
            col = cmap(i % cmap.N)
            for op in markers:
                pts = [p for p in f["points"] if p["op"] == op]
                if pts:
                    ax.scatter([p["nranks"] for p in pts], [p["err_pct"] for p in pts], marker=markers[op], color=col,
                               s=28, alpha=0.85)
            handles.append(Line2D([], [], ls="", marker="o", color=col, label=f["fabric"]))
            rows.append([f["fabric"]] + self.error_row(f["points"]))
        handles += [Line2D([], [], ls="", marker=m, color="black", label=op) for op, m in markers.items()]
        rows.append(["all"] + self.error_row([p for f in fabrics for p in f["points"]]))
        ax.axhline(0, color="black", lw=0.8)
        for v in (20, -20):
            ax.axhline(v, color="grey", lw=1, ls="--")
        self.gpu_axis(ax)
        ax.set_ylabel("model error (%): measured time vs model time")
        ax.set_title("model error against GPU count (dashed: +-20 %)")
        ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
        stem = self.save(fig, "against_error_vs_gpus")
        n = sum(len(f["points"]) for f in fabrics)
        title = f"model error against GPUs: {n} rows on {len(fabrics)} fabrics"
        if a.get("unpredicted_rows"):
            title += f" ({a['unpredicted_rows']} rows without a prediction are under Measurements)"
        return (title, stem, ["fabric", "rows", "median |err| (%)", "max |err| (%)", "worst row"], rows)

    @staticmethod
    def label_points(ax, points, colors):
        """Label the points of a log-log measured/model plot, the largest errors first, leaving out a
        label that would print over one already placed (the tables below the plot name every row).
        Returns how many were left out."""
        placed, skipped = [], 0
        for p in sorted(points, key=lambda p: -abs(p["err_pct"])):
            x, y = math.log10(p["busbw_GBps"]), math.log10(p["model_busbw_GBps"])
            # A label is about 0.03 decades high and 0.35 wide at this size, to the right of its point.
            if any(abs(y - py) < 0.03 and abs(x - px) < 0.35 for px, py in placed):
                skipped += 1
                continue
            placed.append((x, y))
            ax.annotate(p["label"], (p["busbw_GBps"], p["model_busbw_GBps"]), textcoords="offset points",
                        xytext=(4, 3), fontsize=6, color=colors[p["op"]])
        return skipped

    def against_fabric(self, f, markers):
        fig, ax = plt.subplots(figsize=(8, 6.5))
        drawn = [p for p in f["points"] if p["busbw_GBps"] > 0 and p["model_busbw_GBps"] > 0]
        hollow = False
        for i, op in enumerate(markers):
            pts = [p for p in drawn if p["op"] == op]
            if not pts:
                continue
            col = f"C{i % 10}"
            # Trust C rows (sanity checks only) hollow.
            for group, face in (([p for p in pts if p["trust"] != "C"], col), ([p for p in pts if p["trust"] == "C"], "none")):
                if group:
                    ax.scatter([p["busbw_GBps"] for p in group], [p["model_busbw_GBps"] for p in group],
                               marker=markers[op], facecolors=face, edgecolors=col, s=34)
                    hollow |= face == "none"
            ax.scatter([], [], marker=markers[op], color=col, label=op)
        skipped = self.label_points(ax, drawn, {op: f"C{i % 10}" for i, op in enumerate(markers)})
        vals = [v for p in drawn for v in (p["busbw_GBps"], p["model_busbw_GBps"])]
        lo, hi = (min(vals) / 1.5, max(vals) * 1.5) if vals else (0.1, 1000.0)
        xs = [lo, hi]
        ax.plot(xs, xs, color="black", lw=0.8, label="model = measured")
        ax.fill_between(xs, [0.8 * v for v in xs], [1.2 * v for v in xs], color="grey", alpha=0.15,
                        label="|error| <= 20 %")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
            axis.set_major_formatter(FuncFormatter(decimal_tick))
            axis.set_minor_formatter(NullFormatter())
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("measured bus bandwidth (GB/s)")
        ax.set_ylabel("model bus bandwidth (GB/s)")
        notes = (["hollow: trust C"] if hollow else []) + ([f"{skipped} overlapping labels left out"] if skipped else [])
        ax.set_title(f"{f['fabric']}: model against measurements" + (f" ({'; '.join(notes)})" if notes else ""))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
        stem = self.save(fig, slug("against", f["fabric"]))
        rows = []
        for op in markers:
            pts = [p for p in f["points"] if p["op"] == op]
            if pts:
                rows.append([op] + self.error_row(pts))
        rows.append(["all"] + self.error_row(f["points"]))
        title = f"{f['fabric']}: model against {len(f['points'])} measurements"
        if len(drawn) < len(f["points"]):
            title += f" ({len(f['points']) - len(drawn)} with busbw 0 not drawn)"
        return (title, stem, ["op", "rows", "median |err| (%)", "max |err| (%)", "worst row"], rows)

    # ---- fabricbench model output ----------------------------------------------------------

    def extrapolation(self):
        groups = {}
        for c in self.spec.get("model", []):
            groups.setdefault((c["op"], c["bytes"]), []).append(c)
        plots = []
        for (op, nbytes), curves in groups.items():
            fig, (ax_bw, ax_t) = plt.subplots(1, 2, figsize=(12, 5))
            rows = []
            for i, c in enumerate(curves):
                pts = c["points"]
                col = f"C{i % 10}"
                g = [p["gpus"] for p in pts]
                ax_bw.plot(g, [p["busbw_GBps"] for p in pts], "o-", color=col, label=c["label"])
                ax_t.plot(g, [p["time_us"] for p in pts], "o-", color=col, label=c["label"])
                # Annotate the bottleneck where it changes (and at the first point), above and below
                # the curve in turn so that changes at neighbouring points do not overprint.
                prev, n_changes = None, 0
                for p in pts:
                    if p["bottleneck"] != prev:
                        dy = 6 if n_changes % 2 == 0 else -14
                        for ax, y in ((ax_bw, p["busbw_GBps"]), (ax_t, p["time_us"])):
                            ax.annotate(p["bottleneck"] or "?", (p["gpus"], y), textcoords="offset points",
                                        xytext=(4, dy), fontsize=7, color=col)
                        prev, n_changes = p["bottleneck"], n_changes + 1
                bns = []
                for p in pts:
                    if not bns or bns[-1][0] != p["bottleneck"]:
                        bns.append((p["bottleneck"], p["gpus"]))
                rows.append([c["label"], f"{human_count(g[0])} .. {human_count(g[-1])}",
                             f"{fmt_bw(pts[0]['busbw_GBps'])} -> {fmt_bw(pts[-1]['busbw_GBps'])}",
                             f"{fmt_time(pts[0]['time_us'])} -> {fmt_time(pts[-1]['time_us'])}",
                             ", ".join(f"{b or '?'} from {human_count(x)}" for b, x in bns)])
            for ax, ylab in ((ax_bw, "bus bandwidth (GB/s)"), (ax_t, "time per op")):
                self.gpu_axis(ax)
                ax.set_ylabel(ylab)
            self.log_decimal_y(ax_t, time_tick)
            ax_bw.set_title(f"{op} {human_bytes(nbytes)}: bus bandwidth vs GPUs")
            ax_t.set_title(f"{op} {human_bytes(nbytes)}: time vs GPUs")
            ax_bw.legend(fontsize=7)
            stem = self.save(fig, slug("extrapolation", op, nbytes))
            plots.append((f"{op} {human_bytes(nbytes)}: extrapolation", stem,
                          ["curve", "GPUs", "busbw", "time", "bottleneck"], rows))
        if plots:
            self.sections.append(("Model extrapolation", plots))

    # ---- compare ---------------------------------------------------------------------------

    def compare(self):
        c = self.spec.get("compare")
        if not c:
            return
        rows = [r for r in c["rows"] if r["change_pct"] is not None]
        counts = {}
        for r in c["rows"]:
            counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        colors = {"faster": "tab:green", "slower": "tab:red", "same": "tab:grey"}
        fig, ax = plt.subplots(figsize=(9, max(3.0, 0.28 * len(rows) + 1.5)))
        if rows:
            y = list(range(len(rows)))
            ax.barh(y, [r["change_pct"] for r in rows], color=[colors.get(r["verdict"], "tab:blue") for r in rows])
            ax.set_yticks(y)
            ax.set_yticklabels([r["label"] for r in rows], fontsize=7)
            ax.invert_yaxis()
        t = c["threshold_pct"]
        for v in (t, -t):
            ax.axvline(v, color="grey", ls="--", lw=1)
        ax.axvline(0, color="black", lw=0.8)
        legend = {"slower": "slower", "same": "same (within the threshold, or not significant)", "faster": "faster"}
        ax.legend(handles=[Patch(color=colors[v], label=legend[v]) for v in legend if counts.get(v)], fontsize=7,
                  loc="best")
        ax.set_xlabel(f"change of {c['metric']} (%), candidate vs base")
        ax.set_title(f"compare: {c['metric']} (threshold {t:g} %)")
        ax.grid(True, axis="x", alpha=0.3)
        stem = self.save(fig, "compare")
        table = [[c["base"], c["cand"], c["metric"]] + [str(counts.get(v, 0)) for v in
                                                       ("faster", "slower", "same", "missing", "new")]]
        self.sections.append(("Compare", [("compare: relative change", stem,
                                           ["base", "candidate", "metric", "faster", "slower", "same", "missing", "new"],
                                           table)]))

    # ---- validate pair matrices -------------------------------------------------------------

    def matrices(self):
        plots = []
        for m in self.spec.get("matrices", []):
            n = m["nranks"]
            hosts = m.get("hosts") or [""] * n
            labels = [f"{r} {hosts[r]}".strip() if r < len(hosts) else str(r) for r in range(n)]
            fig, axes = plt.subplots(1, 2, figsize=(min(16, 4 + 1.2 * n), min(7.5, 2.5 + 0.55 * n)))
            image = None
            for ax, key, what in ((axes[0], "bw", "bandwidth"), (axes[1], "lat", "latency")):
                grid = [[float("nan")] * n for _ in range(n)]
                for c in m["pairs"]:
                    if c[f"{key}_ratio"] is not None:
                        for i, j in ((c["a"], c["b"]), (c["b"], c["a"])):
                            grid[i][j] = c[f"{key}_ratio"]
                marks = metric_marks(m["pairs"], key)
                image = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1.2, interpolation="nearest")
                for i in range(n):
                    for j in range(n):
                        if grid[i][j] == grid[i][j]:  # not NaN
                            ax.text(j, i, f"{grid[i][j]:.2f}", ha="center", va="center", fontsize=7)
                for a, b, t in marks:
                    for i, j in ((a, b), (b, a)):
                        ax.text(j + 0.32, i - 0.3, t, ha="center", va="center", fontsize=9, fontweight="bold")
                ax.set_xticks(range(n))
                ax.set_yticks(range(n))
                ax.set_xticklabels(labels, rotation=90, fontsize=7)
                ax.set_yticklabels(labels, fontsize=7)
                ax.set_title(f"{what}: model time / measured time")
            fig.colorbar(image, ax=axes[1], shrink=0.8, label="1 = as the model predicts; lower is worse")
            fig.suptitle(f"validate pair matrix {m['name']} (per metric: ! fails, ? warns)")
            stem = self.save(fig, slug("matrix", os.path.splitext(m["name"])[0]))
            rows = [[f"{c['a']}-{c['b']}", f"{hosts[c['a']]} - {hosts[c['b']]}", fmt_ratio(c["bw_ratio"]),
                     fmt_ratio(c["lat_ratio"]) if c["lat_ratio"] is not None else "", c["transport"], c["verdict"]]
                    for c in self.worst_pairs(m["pairs"])]
            plots.append((f"pair matrix {m['name']}: {n} ranks, {len(m['pairs'])} pairs", stem,
                          ["pair", "hosts", "bw ratio", "latency ratio", "transport", "verdict"], rows))
        if plots:
            self.sections.append(("Validate pair matrices", plots))

    @staticmethod
    def worst_pairs(pairs, n=8):
        """The pairs to table: the lowest bandwidth ratios first, then every other failing pair (a
        transport or data failure does not show in the ratios)."""
        worst = sorted((c for c in pairs if c["bw_ratio"] is not None), key=lambda c: c["bw_ratio"])[:n]
        return worst + [c for c in pairs if c["verdict"] == "fail" and c not in worst]

    # ---- index -----------------------------------------------------------------------------

    def index(self):
        title = self.spec.get("title") or "fabricbench report"
        inputs_header = ["file", "format", "rows", "measured", "model", "hosts", "started"]
        inputs = [[i["name"], i["format"], str(i["rows"]), str(i["measured_rows"]), str(i["model_rows"]),
                   ", ".join(i.get("hosts") or []), i.get("started_utc") or ""] for i in self.spec["inputs"]]

        def md_cell(s):
            return str(s).replace("|", "\\|").replace("\n", " ")

        def md_table(header, rows):
            out = ["| " + " | ".join(md_cell(h) for h in header) + " |",
                   "|" + "|".join("---" for _ in header) + "|"]
            out += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
            return out

        md = [f"# {title}", ""]
        if inputs:
            md += ["## Inputs", ""] + md_table(inputs_header, inputs) + [""]
        for heading, plots in self.sections:
            md += [f"## {heading}", ""]
            for t, stem, header, rows in plots:
                md += [f"### {t}", "", f"![{t}]({stem}.png)", "", f"[PNG]({stem}.png) · [SVG]({stem}.svg)", ""]
                md += md_table(header, rows) + [""]
        if not self.sections:
            md += ["No plots: the inputs hold no rows to plot.", ""]
        with open(os.path.join(self.outdir, "index.md"), "w") as f:
            f.write("\n".join(md))

        e = html.escape

        def h_table(header, rows):
            out = ["<table>", "<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in header) + "</tr>"]
            out += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows]
            return out + ["</table>"]

        h = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">", f"<title>{e(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}table{border-collapse:collapse;"
             "margin:0.5em 0 2em}td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}img{max-width:100%}</style>",
             "</head>", "<body>", f"<h1>{e(title)}</h1>"]
        if inputs:
            h += ["<h2>Inputs</h2>"] + h_table(inputs_header, inputs)
        for heading, plots in self.sections:
            h.append(f"<h2>{e(heading)}</h2>")
            for t, stem, header, rows in plots:
                h += [f"<h3>{e(t)}</h3>",
                      f"<p><a href=\"{e(stem)}.svg\"><img src=\"{e(stem)}.png\" alt=\"{e(t)}\"></a><br>"
                      f"<a href=\"{e(stem)}.png\">PNG</a> · <a href=\"{e(stem)}.svg\">SVG</a></p>"]
                h += h_table(header, rows)
        if not self.sections:
            h.append("<p>No plots: the inputs hold no rows to plot.</p>")
        h += ["</body>", "</html>", ""]
        with open(os.path.join(self.outdir, "index.html"), "w") as f:
            f.write("\n".join(h))


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    with open(argv[1]) as f:
        spec = json.load(f)
    if spec.get("spec_version") != 1:
        print(f"fabricbench: report: unknown plot spec version {spec.get('spec_version')!r}", file=sys.stderr)
        return 1
    r = Report(spec, argv[2])
    r.measured()
    r.against()
    r.extrapolation()
    r.compare()
    r.matrices()
    r.index()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
