#include "harness/compare.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <tuple>

#include "harness/mann_whitney.hpp"
#include "harness/record.hpp"
#include "vocab/error.hpp"

namespace fb {

namespace {

using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string, bool,
                       int, int, std::uint64_t>;

Key key_of(const Record& r) {
  return {r.backend, r.op, r.algo, r.mem, r.dtype, r.redop, r.inplace, r.nranks, r.ranks_per_node, r.bytes};
}

std::string key_text(const CompareRow& r) {
  return fmt::format("{} {} {} {} {}{}{} n={} rpn={} {} B", r.backend, r.op, r.algo, r.mem, r.dtype,
                     r.redop.empty() ? "" : " " + r.redop, r.inplace ? " in-place" : "", r.nranks,
                     r.ranks_per_node, r.bytes);
}

double metric_of(const Record& r, const std::string& metric) {
  if (metric == "busbw") return r.busbw_GBps;
  if (metric == "time_p50") return r.time_p50_us;
  return r.time_p99_us;
}

const char* metric_unit(const std::string& metric) {
  return metric == "busbw" ? "GB/s" : "us";
}

// Rows to compare: measured rows; model rows only when both files hold nothing else.
std::vector<const Record*> usable_rows(const ResultsFile& f, bool model_only) {
  std::vector<const Record*> out;
  for (const auto& r : f.rows)
    if ((r.source == "model") == model_only) out.push_back(&r);
  return out;
}

bool only_model(const ResultsFile& f) {
  return !f.rows.empty() &&
         std::all_of(f.rows.begin(), f.rows.end(), [](const Record& r) { return r.source == "model"; });
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "(none)" : s;
}

std::string pct(double v) {
  return fmt::format("{:+.1f}%", v);
}
std::string pval(double p) {
  return p < 1e-4 ? fmt::format("{:.1e}", p) : fmt::format("{:.4f}", p);
}
std::string num(double v) {
  return fmt::format("{:.6g}", v);
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
          o += ' ';
        else
          o += c;
    }
  }
  return o;
}

std::string md_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|')
      o += "\\|";
    else if (c == '\n')
      o += ' ';
    else
      o += c;
  }
  return o;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string verdict_line(const CompareReport& r) {
  return fmt::format("{}: {} slower, {} faster, {} same, {} missing, {} new",
                     r.regression() ? "REGRESSION" : "no regression", r.slower, r.faster, r.same, r.missing,
                     r.added);
}

std::string u_line(const CompareReport& r) {
  const int matched = r.faster + r.slower + r.same;
  std::string s = fmt::format("U test (alpha {}, at least {} samples each) applied to {} of {} matched rows",
                              r.options.alpha, r.options.min_samples, r.u_applied, matched);
  if (!r.u_not_applied.empty()) s += "; not applied to " + join(r.u_not_applied) + " (threshold alone)";
  return s;
}

std::string settings_line(const CompareReport& r) {
  const auto& o = r.options;
  return fmt::format("metric {} ({}, {} is better), threshold {}%, alpha {}, min samples {}", o.metric,
                     metric_unit(o.metric), o.metric == "busbw" ? "higher" : "lower", o.threshold_pct,
                     o.alpha, o.min_samples);
}

std::vector<std::string> cells(const CompareRow& r) {
  return {r.backend,
          r.op,
          r.algo,
          r.mem,
          r.dtype,
          r.redop.empty() ? "-" : r.redop,
          r.inplace ? "in" : "out",
          std::to_string(r.nranks),
          std::to_string(r.ranks_per_node),
          std::to_string(r.bytes),
          r.base_value ? num(*r.base_value) : "-",
          r.cand_value ? num(*r.cand_value) : "-",
          r.change_pct ? pct(*r.change_pct) : "-",
          r.p_value ? pval(*r.p_value) : "-",
          verdict_name(r.verdict),
          r.note};
}

const std::vector<std::string> kHeader = {"backend", "op",     "algo",    "mem",   "dtype", "redop",
                                          "place",   "nranks", "rpn",     "bytes", "base",  "cand",
                                          "change",  "p",      "verdict", "note"};

std::string render_text(const CompareReport& r) {
  std::vector<std::vector<std::string>> table{kHeader};
  for (const auto& row : r.rows) table.push_back(cells(row));
  std::vector<std::size_t> w(kHeader.size(), 0);
  for (const auto& t : table)
    for (std::size_t i = 0; i < t.size(); ++i) w[i] = std::max(w[i], t[i].size());
  std::string s = "fabricbench compare: " + settings_line(r) + "\n";
  s += "base: " + r.base_desc + "\ncand: " + r.cand_desc + "\n\n";
  for (const auto& t : table) {
    std::string line;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const bool right = i >= 7 && i <= 13;  // numbers
      line +=
          (i ? "  " : "") + (right ? fmt::format("{:>{}}", t[i], w[i]) : fmt::format("{:<{}}", t[i], w[i]));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s += line + "\n";
  }
  if (r.rows.empty()) s += "(no rows)\n";
  s += "\ngeometric mean of cand/base per op:\n";
  for (const auto& o : r.ops)
    s += fmt::format("  {:<14} {:>4} rows  {:.4f} ({})\n", o.op, o.matched, o.geomean_ratio,
                     pct(100 * (o.geomean_ratio - 1)));
  if (r.ops.empty()) s += "  (no matched rows)\n";
  s += u_line(r) + "\n";
  s += verdict_line(r) + "\n";
  return s;
}

std::string render_markdown(const CompareReport& r) {
  std::string s = fmt::format("### fabricbench compare: {} {}\n\n",
                              r.regression() ? ":x:" : ":white_check_mark:", md_escape(verdict_line(r)));
  s += md_escape(settings_line(r)) + "  \n";
  s += "base: `" + md_escape(r.base_desc) + "`  \ncand: `" + md_escape(r.cand_desc) + "`\n\n";
  std::string head = "|", rule = "|";
  for (const auto& h : kHeader) {
    head += " " + h + " |";
    rule += (h == "nranks" || h == "rpn" || h == "bytes" || h == "base" || h == "cand" || h == "change" ||
             h == "p")
                ? " ---: |"
                : " --- |";
  }
  s += head + "\n" + rule + "\n";
  for (const auto& row : r.rows) {
    auto c = cells(row);
    if (row.verdict == Verdict::slower) c[14] = "**slower**";
    std::string line = "|";
    for (const auto& x : c) line += " " + md_escape(x) + " |";
    s += line + "\n";
  }
  s += "\n| op | rows | geomean cand/base | change |\n| --- | ---: | ---: | ---: |\n";
  for (const auto& o : r.ops)
    s += fmt::format("| {} | {} | {:.4f} | {} |\n", md_escape(o.op), o.matched, o.geomean_ratio,
                     pct(100 * (o.geomean_ratio - 1)));
  s += "\n" + md_escape(u_line(r)) + "\n";
  for (const auto& wn : r.warnings) s += "\n> warning: " + md_escape(wn) + "\n";
  return s;
}

std::string render_junit(const CompareReport& r) {
  std::vector<const CompareRow*> matched;
  std::string other;
  for (const auto& row : r.rows) {
    if (row.verdict == Verdict::missing || row.verdict == Verdict::added)
      other += std::string(verdict_name(row.verdict)) + ": " + key_text(row) + "\n";
    else
      matched.push_back(&row);
  }
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += fmt::format("<testsuites name=\"fabricbench compare\" tests=\"{}\" failures=\"{}\">\n", matched.size(),
                   r.slower);
  s += fmt::format(
      "  <testsuite name=\"fabricbench compare {}\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
      "skipped=\"0\">\n",
      xml_escape(r.options.metric), matched.size(), r.slower);
  s += "    <properties>\n";
  s += "      <property name=\"base\" value=\"" + xml_escape(r.base_desc) + "\"/>\n";
  s += "      <property name=\"cand\" value=\"" + xml_escape(r.cand_desc) + "\"/>\n";
  s += "      <property name=\"settings\" value=\"" + xml_escape(settings_line(r)) + "\"/>\n";
  s += "    </properties>\n";
  for (const auto* row : matched) {
    const std::string detail = fmt::format(
        "{} {} -> {} {} ({}){}{}", r.options.metric, row->base_value ? num(*row->base_value) : "-",
        row->cand_value ? num(*row->cand_value) : "-", metric_unit(r.options.metric),
        row->change_pct ? pct(*row->change_pct) : "-", row->p_value ? ", p=" + pval(*row->p_value) : "",
        row->note.empty() ? "" : "; " + row->note);
    s += fmt::format("    <testcase classname=\"fabricbench.compare.{}\" name=\"{}\">\n", xml_escape(row->op),
                     xml_escape(key_text(*row)));
    if (row->verdict == Verdict::slower)
      s += fmt::format("      <failure type=\"regression\" message=\"{}\">{}</failure>\n",
                       xml_escape("slower: " + detail),
                       xml_escape(detail + fmt::format(" (threshold {}%)", r.options.threshold_pct)));
    else
      s += "      <system-out>" + xml_escape(std::string(verdict_name(row->verdict)) + ": " + detail) +
           "</system-out>\n";
    s += "    </testcase>\n";
  }
  s += "    <system-out>" + xml_escape(verdict_line(r) + "\n" + u_line(r) + "\n" + other) + "</system-out>\n";
  s += "  </testsuite>\n</testsuites>\n";
  return s;
}

std::string render_csv(const CompareReport& r) {
  std::string s =
      "backend,op,algo,mem,dtype,redop,inplace,nranks,ranks_per_node,bytes,metric,base,cand,change_pct,p_"
      "value,verdict,note\n";
  auto opt = [](const std::optional<double>& v) { return v ? fmt::format("{}", *v) : std::string(); };
  for (const auto& row : r.rows) {
    s += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(row.backend),
                     csv_field(row.op), csv_field(row.algo), csv_field(row.mem), csv_field(row.dtype),
                     csv_field(row.redop), row.inplace ? 1 : 0, row.nranks, row.ranks_per_node, row.bytes,
                     r.options.metric, opt(row.base_value), opt(row.cand_value), opt(row.change_pct),
                     opt(row.p_value), verdict_name(row.verdict), csv_field(row.note));
  }
  return s;
}

void check_options(const CompareOptions& o) {
  if (o.metric != "busbw" && o.metric != "time_p50" && o.metric != "time_p99")
    throw UsageError("command line: metric: expected busbw, time_p50 or time_p99, got '" + o.metric + "'");
  if (!(o.threshold_pct >= 0) || !std::isfinite(o.threshold_pct))
    throw UsageError(
        fmt::format("command line: threshold: expected a percentage >= 0, got {}", o.threshold_pct));
  if (!(o.alpha > 0 && o.alpha < 1))
    throw UsageError(fmt::format("command line: alpha: expected a value between 0 and 1, got {}", o.alpha));
  if (o.min_samples < 2)
    throw UsageError(fmt::format("command line: min-samples: expected at least 2, got {}", o.min_samples));
  if (o.format != "text" && o.format != "markdown" && o.format != "junit" && o.format != "csv")
    throw UsageError("command line: format: expected text, markdown, junit or csv, got '" + o.format + "'");
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::faster:
      return "faster";
    case Verdict::slower:
      return "slower";
    case Verdict::same:
      return "same";
    case Verdict::missing:
      return "missing";
    case Verdict::added:
      return "new";
  }
  return "?";
}

double parse_threshold_pct(const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '%') t.pop_back();
  std::size_t used = 0;
  double v = -1;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (t.empty() || used != t.size() || !std::isfinite(v) || v < 0)
    throw UsageError("command line: threshold: expected a percentage >= 0 such as 5% or 2.5, got '" + text +
                     "'");
  return v;
}

namespace {

// Both files carry a schema version this fabricbench reads, and the same one.
void check_schema_versions(const ResultsFile& base, const ResultsFile& cand) {
  for (const auto* f : {&base, &cand})
    if (f->schema_version < 1 || f->schema_version > kSchemaVersion)
      throw UsageError(
          fmt::format("{}: schema_version {} is not one this fabricbench knows (it reads version {})",
                      f->path, f->schema_version, kSchemaVersion));
  if (base.schema_version != cand.schema_version)
    throw UsageError(fmt::format(
        "{} has schema_version {} but {} has {}: compare refuses results of different schema versions",
        base.path, base.schema_version, cand.path, cand.schema_version));
}

// The file's compared rows by key, in file order into `order`; a repeated key keeps its first row.
std::map<Key, const Record*> index_rows(const ResultsFile& f, bool model_only,
                                        std::vector<const Record*>& order,
                                        std::vector<std::string>& warnings) {
  std::map<Key, const Record*> m;
  int dups = 0;
  for (const Record* r : usable_rows(f, model_only)) {
    if (m.emplace(key_of(*r), r).second)
      order.push_back(r);
    else
      ++dups;
  }
  if (dups)
    warnings.push_back(fmt::format(
        "{}: {} rows repeat the key of an earlier row; the first of each is compared", f.path, dups));
  return m;
}

// Run metadata (JSON only): what differs between the two runs besides the rows.
void warn_meta_differs(const ResultsFile& base, const ResultsFile& cand, std::vector<std::string>& warnings) {
  if (!base.has_meta || !cand.has_meta) return;
  if (base.meta.hosts != cand.meta.hosts)
    warnings.push_back("hosts differ: base ran on " + join(base.meta.hosts) + ", cand on " +
                       join(cand.meta.hosts));
  if (base.meta.mpi_library != cand.meta.mpi_library)
    warnings.push_back("MPI library differs: base '" + base.meta.mpi_library + "', cand '" +
                       cand.meta.mpi_library + "'");
  if (base.meta.backend_versions != cand.meta.backend_versions)
    warnings.push_back("backend versions differ: base " + join(base.meta.backend_versions) + "; cand " +
                       join(cand.meta.backend_versions));
}

void fill_key(CompareRow& row, const Record& r) {
  row.backend = r.backend, row.op = r.op, row.algo = r.algo, row.mem = r.mem, row.dtype = r.dtype;
  row.redop = r.redop, row.inplace = r.inplace, row.nranks = r.nranks, row.ranks_per_node = r.ranks_per_node;
  row.bytes = r.bytes;
}

// What the matched rows add up to across the comparison, summarised into the report at the end.
struct CompareTally {
  std::map<std::string, std::pair<int, double>> logsum;  // op -> (rows, sum of log ratio)
  std::vector<std::string> op_order;
  std::map<std::string, int> why_counts;  // why the U test was not applied -> rows
  std::vector<std::string> why_order;
  int transport_diffs = 0;
  std::string transport_example;
};

// The Mann-Whitney U test on the two rows' samples where both have enough: whether the change is
// significant (true where the test cannot be applied, and the row's note says why).
bool significant_change(CompareRow& row, const Record& b, const Record& c, const CompareOptions& o,
                        CompareReport& rep, CompareTally& tally) {
  std::string why;
  if (b.samples_us.empty() || c.samples_us.empty()) {
    why = b.samples_us.empty() && c.samples_us.empty()
              ? std::string("no per-iteration samples")
              : fmt::format("no per-iteration samples in {}", b.samples_us.empty() ? "base" : "cand");
  } else if (static_cast<int>(std::min(b.samples_us.size(), c.samples_us.size())) < o.min_samples) {
    why = fmt::format("fewer than {} samples", o.min_samples);
  }
  if (why.empty()) {
    const auto u = mann_whitney_u(b.samples_us, c.samples_us);
    row.p_value = u.p_value;
    ++rep.u_applied;
    return u.p_value < o.alpha;
  }
  row.note = "U test not applied: " + why;
  if (why == fmt::format("fewer than {} samples", o.min_samples))
    row.note += fmt::format(" ({} and {})", b.samples_us.size(), c.samples_us.size());
  if (tally.why_counts[why]++ == 0) tally.why_order.push_back(why);
  return true;
}

// One base row against its cand row (or none): its verdict, counted in the report.
CompareRow compare_row(const Record& b, const Record* cp, const CompareOptions& o, CompareReport& rep,
                       CompareTally& tally) {
  CompareRow row;
  fill_key(row, b);
  row.base_value = metric_of(b, o.metric);
  if (!cp) {
    row.verdict = Verdict::missing;
    row.note = "not in cand";
    ++rep.missing;
    return row;
  }
  const Record& c = *cp;
  row.cand_value = metric_of(c, o.metric);
  if (b.transport != c.transport) {
    if (tally.transport_diffs++ == 0)
      tally.transport_example = fmt::format("{}: '{}' vs '{}'", key_text(row), b.transport, c.transport);
  }
  const double bv = *row.base_value, cv = *row.cand_value;
  if (!(bv > 0) || !(cv > 0)) {
    row.verdict = Verdict::same;
    row.note = fmt::format("{} is not positive in {}: not compared", o.metric, bv > 0 ? "cand" : "base");
    ++rep.same;
    return row;
  }
  row.change_pct = 100.0 * (cv - bv) / bv;
  const bool higher_better = o.metric == "busbw";
  const double better_pct = higher_better ? *row.change_pct : -*row.change_pct;
  if (std::find(tally.op_order.begin(), tally.op_order.end(), row.op) == tally.op_order.end())
    tally.op_order.push_back(row.op);
  tally.logsum[row.op].first += 1;
  tally.logsum[row.op].second += std::log(cv / bv);

  const bool significant = significant_change(row, b, c, o, rep, tally);
  if (significant && better_pct < -o.threshold_pct) {
    row.verdict = Verdict::slower;
    ++rep.slower;
  } else if (significant && better_pct > o.threshold_pct) {
    row.verdict = Verdict::faster;
    ++rep.faster;
  } else {
    row.verdict = Verdict::same;
    ++rep.same;
    if (!significant && std::abs(better_pct) > o.threshold_pct)
      row.note = fmt::format("not significant (p >= {})", o.alpha);
  }
  return row;
}

// The per-op geometric means, the reasons the U test was skipped, and the transport warning.
void summarize_tally(CompareTally& tally, CompareReport& rep) {
  for (const auto& op : tally.op_order) {
    const auto& [n, s] = tally.logsum[op];
    rep.ops.push_back(OpSummary{op, n, std::exp(s / n)});
  }
  for (const auto& why : tally.why_order)
    rep.u_not_applied.push_back(fmt::format("{} rows: {}", tally.why_counts[why], why));
  if (tally.transport_diffs)
    rep.warnings.push_back(fmt::format("the transport column differs in {} matched rows, e.g. {}",
                                       tally.transport_diffs, tally.transport_example));
}

}  // namespace

CompareReport compare_results(const ResultsFile& base, const ResultsFile& cand, const CompareOptions& o) {
  check_options(o);
  check_schema_versions(base, cand);
  CompareReport rep;
  rep.options = o;
  const bool model_only = only_model(base) && only_model(cand);
  for (const auto* f : {&base, &cand})
    if (!model_only && only_model(*f))
      rep.warnings.push_back(
          f->path +
          " holds only model rows (source=model): they are ignored unless both files are model output");

  std::vector<const Record*> base_order, cand_order;
  const auto bm = index_rows(base, model_only, base_order, rep.warnings);
  const auto cm = index_rows(cand, model_only, cand_order, rep.warnings);
  rep.base_desc = fmt::format("{} ({}, {} rows)", base.path, base.format, base_order.size());
  rep.cand_desc = fmt::format("{} ({}, {} rows)", cand.path, cand.format, cand_order.size());
  warn_meta_differs(base, cand, rep.warnings);

  CompareTally tally;
  for (const Record* b : base_order) {
    auto it = cm.find(key_of(*b));
    rep.rows.push_back(compare_row(*b, it == cm.end() ? nullptr : it->second, o, rep, tally));
  }
  for (const Record* c : cand_order) {
    if (bm.count(key_of(*c))) continue;
    CompareRow row;
    fill_key(row, *c);
    row.cand_value = metric_of(*c, o.metric);
    row.verdict = Verdict::added;
    row.note = "not in base";
    ++rep.added;
    rep.rows.push_back(std::move(row));
  }
  summarize_tally(tally, rep);
  return rep;
}

std::string render_compare(const CompareReport& r, const std::string& format) {
  if (format == "text") return render_text(r);
  if (format == "markdown") return render_markdown(r);
  if (format == "junit") return render_junit(r);
  if (format == "csv") return render_csv(r);
  throw UsageError("command line: format: expected text, markdown, junit or csv, got '" + format + "'");
}

int run_compare_command(const CompareOptions& o) {
  check_options(o);
  const ResultsFile base = read_results(o.base);
  const ResultsFile cand = read_results(o.cand);
  const CompareReport rep = compare_results(base, cand, o);
  const std::string text = render_compare(rep, o.format);
  for (const auto& w : rep.warnings) std::fprintf(stderr, "fabricbench: warning: %s\n", w.c_str());
  std::fflush(stderr);
  if (o.output.empty() || o.output == "-") {
    std::cout << text << std::flush;
  } else {
    // Written beside the target and renamed: never a half-written report.
    const std::string tmp = o.output + ".tmp." + std::to_string(::getpid());
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw UsageError(o.output + ": cannot write the report: " + std::strerror(errno));
      out << text;
      out.flush();
      if (!out) {
        ::unlink(tmp.c_str());
        throw UsageError(o.output + ": cannot write the report");
      }
    }
    if (std::rename(tmp.c_str(), o.output.c_str()) != 0) {
      const std::string err = std::strerror(errno);
      ::unlink(tmp.c_str());
      throw UsageError(o.output + ": cannot write the report: " + err);
    }
  }
  return rep.regression() ? 1 : 0;
}

}  // namespace fb
