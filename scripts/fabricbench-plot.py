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
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
except ImportError as e:  # the C++ side checks first; this is the fallback
    print(f"fabricbench: report: needs python3-matplotlib (apt-get install python3-matplotlib): {e}",
          file=sys.stderr)
    sys.exit(3)

# Reproducible SVGs: no random ids, no date.
matplotlib.rcParams["svg.hashsalt"] = "fabricbench"
matplotlib.rcParams["svg.fonttype"] = "none"
METADATA = {"svg": {"Date": None}, "png": {}}


def human_bytes(n, _pos=None):
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:g} {unit}" if n == int(n) else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:g}"


def human_count(n, _pos=None):
    n = float(n)
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{int(n) >> 20}Mi"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{int(n) >> 10}Ki"
    return f"{n:g}"


def slug(*parts):
    s = "_".join(str(p) for p in parts if p not in ("", None))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "plot"


def fmt(v, digits=3):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}g}"


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
                         f"{fmt(peak['busbw_GBps'])} at {human_bytes(peak['bytes'])}", fmt(model_peak)])
        if not rows:
            plt.close(fig)
            return []
        self.size_axis(ax)
        ax.set_ylabel("bus bandwidth (GB/s)")
        ax.set_title(f"{op}: bus bandwidth vs size")
        ax.legend(fontsize=7)
        stem = self.save(fig, slug("busbw", op))
        return [(f"{op}: bus bandwidth", stem,
                 ["series", "sizes", "points", "peak busbw (GB/s)", "model peak (GB/s)"], rows)]

    def latency(self, op, series):
        fig, ax = plt.subplots(figsize=(8, 5))
        rows = []
        for i, s in enumerate(series):
            pts = [p for p in s["points"] if p["bytes"] > 0]
            if not pts:
                continue
            c = f"C{i % 10}"
            x = [p["bytes"] for p in pts]
            ax.plot(x, [p["time_p50_us"] for p in pts], "o-", color=c, label=f"{s['label']} p50")
            ax.plot(x, [p["time_p99_us"] for p in pts], "^:", color=c, alpha=0.8, label=f"{s['label']} p99")
            small = pts[0]
            rows.append([s["label"], f"{fmt(small['time_p50_us'])} / {fmt(small['time_p99_us'])} at {human_bytes(small['bytes'])}",
                         f"{fmt(pts[-1]['time_p50_us'])} / {fmt(pts[-1]['time_p99_us'])} at {human_bytes(pts[-1]['bytes'])}"])
        if not rows:
            plt.close(fig)
            return []
        self.size_axis(ax)
        ax.set_yscale("log")
        ax.set_ylabel("time per op (us)")
        ax.set_title(f"{op}: latency p50 and p99 vs size")
        ax.legend(fontsize=7)
        stem = self.save(fig, slug("latency", op))
        return [(f"{op}: latency p50 / p99", stem, ["series", "smallest p50 / p99 (us)", "largest p50 / p99 (us)"], rows)]

    def ratio(self, op, series):
        fig, ax = plt.subplots(figsize=(8, 5))
        rows = []
        for i, s in enumerate(series):
            pts = [p for p in s["points"] if p["model_time_us"] and p["time_us"] > 0 and p["bytes"] > 0]
            if not pts:
                continue
            # measured / model bandwidth = model time / measured time: 1 = as predicted, < 1 = slower.
            r = [p["model_time_us"] / p["time_us"] for p in pts]
            ax.plot([p["bytes"] for p in pts], r, "o-", color=f"C{i % 10}", label=s["label"])
            srt = sorted(r)
            rows.append([s["label"], s.get("model_fabric") or "", fmt(srt[len(srt) // 2]), fmt(srt[0]), fmt(srt[-1])])
        if not rows:
            plt.close(fig)
            return []
        ax.axhline(1.0, color="grey", lw=1, ls="--")
        self.size_axis(ax)
        ax.set_yscale("log")
        ax.set_ylabel("measured / model bandwidth")
        ax.set_title(f"{op}: measurement against the model (1 = as predicted)")
        ax.legend(fontsize=7)
        stem = self.save(fig, slug("ratio", op))
        return [(f"{op}: measured / model", stem, ["series", "fabric", "median", "min", "max"], rows)]

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
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(FuncFormatter(human_count))
        ax.set_xlabel("GPUs")
        ax.set_ylabel("model error (%): measured time vs model time")
        ax.set_title("model error against GPU count (dashed: +-20 %)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
        stem = self.save(fig, "against_error_vs_gpus")
        n = sum(len(f["points"]) for f in fabrics)
        title = f"model error against GPUs: {n} rows on {len(fabrics)} fabrics"
        if a.get("unpredicted_rows"):
            title += f" ({a['unpredicted_rows']} rows without a prediction are under Measurements)"
        return (title, stem, ["fabric", "rows", "median |err| (%)", "max |err| (%)", "worst row"], rows)

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
            for p in pts:
                ax.annotate(p["label"], (p["busbw_GBps"], p["model_busbw_GBps"]), textcoords="offset points",
                            xytext=(4, 3), fontsize=6, color=col)
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
            axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
            axis.set_minor_formatter(NullFormatter())
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("measured bus bandwidth (GB/s)")
        ax.set_ylabel("model bus bandwidth (GB/s)")
        ax.set_title(f"{f['fabric']}: model against measurements" + (" (hollow: trust C)" if hollow else ""))
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
                # Annotate the bottleneck where it changes (and at the first point).
                prev = None
                for p in pts:
                    if p["bottleneck"] != prev:
                        for ax, key in ((ax_bw, "busbw_GBps"), (ax_t, "time_us")):
                            ax.annotate(p["bottleneck"] or "?", (p["gpus"], p[key]), textcoords="offset points",
                                        xytext=(4, 6), fontsize=7, color=col, rotation=30)
                        prev = p["bottleneck"]
                bns = []
                for p in pts:
                    if not bns or bns[-1][0] != p["bottleneck"]:
                        bns.append((p["bottleneck"], p["gpus"]))
                rows.append([c["label"], f"{human_count(g[0])} .. {human_count(g[-1])}",
                             f"{fmt(pts[0]['busbw_GBps'])} -> {fmt(pts[-1]['busbw_GBps'])}",
                             f"{fmt(pts[0]['time_us'])} -> {fmt(pts[-1]['time_us'])}",
                             ", ".join(f"{b or '?'} from {human_count(x)}" for b, x in bns)])
            for ax, ylab in ((ax_bw, "bus bandwidth (GB/s)"), (ax_t, "time per op (us)")):
                ax.set_xscale("log", base=2)
                ax.xaxis.set_major_formatter(FuncFormatter(human_count))
                ax.set_xlabel("GPUs")
                ax.set_ylabel(ylab)
                ax.grid(True, which="both", alpha=0.3)
            ax_t.set_yscale("log")
            ax_bw.set_title(f"{op} {human_bytes(nbytes)}: bus bandwidth vs GPUs")
            ax_t.set_title(f"{op} {human_bytes(nbytes)}: time vs GPUs")
            ax_bw.legend(fontsize=7)
            stem = self.save(fig, slug("extrapolation", op, nbytes))
            plots.append((f"{op} {human_bytes(nbytes)}: extrapolation", stem,
                          ["curve", "GPUs", "busbw (GB/s)", "time (us)", "bottleneck"], rows))
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
            for ax, key, what in ((axes[0], "bw_ratio", "bandwidth"), (axes[1], "lat_ratio", "latency")):
                grid = [[float("nan")] * n for _ in range(n)]
                marks = []
                for c in m["pairs"]:
                    v = c[key]
                    if v is None:
                        continue
                    for i, j in ((c["a"], c["b"]), (c["b"], c["a"])):
                        grid[i][j] = v
                    if c["verdict"] in ("fail", "warn"):
                        marks.append((c["a"], c["b"], "!" if c["verdict"] == "fail" else "?"))
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
            fig.suptitle(f"validate pair matrix {m['name']} (! fails, ? warns)")
            stem = self.save(fig, slug("matrix", os.path.splitext(m["name"])[0]))
            worst = sorted((c for c in m["pairs"] if c["bw_ratio"] is not None), key=lambda c: c["bw_ratio"])[:8]
            rows = [[f"{c['a']}-{c['b']}", f"{hosts[c['a']]} - {hosts[c['b']]}", fmt(c["bw_ratio"]),
                     fmt(c["lat_ratio"]) if c["lat_ratio"] is not None else "", c["transport"], c["verdict"]]
                    for c in worst]
            plots.append((f"pair matrix {m['name']}: {n} ranks, {len(m['pairs'])} pairs", stem,
                          ["pair", "hosts", "bw ratio", "latency ratio", "transport", "verdict"], rows))
        if plots:
            self.sections.append(("Validate pair matrices", plots))

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
