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
#include "harness/sinks/sink.hpp"
#include "vocab/error.hpp"
#include "vocab/exit_code.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace {

// group: run --split's layout ("" without it), so rows of different splits with the same group size
// are different rows; ngroups: how many groups ran at once (run --ranks with --split: a k-prefix
// cut into groups of one size gives rows that differ only in it); counts: alltoallv's and the MoE ops'
// distribution, so rows of different distributions are different rows.
using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string, bool,
                       int, int, std::uint64_t, std::string, std::string, int>;

Key key_of(const Record& r) {
  return {r.backend,        r.op,    r.algo,  r.mem,    r.dtype,  r.redop, r.inplace, r.nranks,
          r.ranks_per_node, r.bytes, r.group, r.counts, r.ngroups};
}

double metric_of(const Record& r, const std::string& metric) {
  if (metric == "busbw") return r.busbw_GBps;
  if (metric == "time_p50") return r.time_p50_us;
  return r.time_p99_us;
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

const char* metric_unit(const std::string& metric) {
  return metric == "busbw" ? "GB/s" : "us";
}

std::string join_list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "(none)" : s;
}

std::string key_text(const CompareRow& r) {
  return fmt::format(
             "{} {} {} {} {}{}{} n={} rpn={}{} {} B", r.backend, r.op, r.algo, r.mem, r.dtype,
             r.redop.empty() ? "" : " " + r.redop, r.inplace ? " in-place" : "", r.nranks, r.ranks_per_node,
             r.group.empty() ? "" : " split=" + r.group + " groups=" + std::to_string(r.ngroups), r.bytes) +
         (r.counts.empty() ? "" : " counts=" + r.counts);
}

bool CompareReport::gate_failed(const std::string& kind) const {
  return std::any_of(gate_failures.begin(), gate_failures.end(),
                     [&](const GateFailure& g) { return g.kind == kind; });
}

int parse_allow_missing(const std::string& text) {
  if (text.empty() || text == "all" || text == "true") return -1;  // "true": the bare flag (CLI11)
  const auto v = parse_integer(text);
  if (!v || *v < 0 || *v > 1000000000)
    throw UsageError("command line: allow-missing: expected a number of rows >= 0 or 'all', got '" + text +
                     "'");
  return static_cast<int>(*v);
}

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

double parse_threshold_pct(const std::string& text, const std::string& option) {
  const auto v = parse_number(text, {{'%', 1}});
  if (!v || *v < 0)
    throw UsageError("command line: " + option + ": expected a percentage >= 0 such as 5% or 2.5, got '" +
                     text + "'");
  return *v;
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
    warnings.push_back("hosts differ: base ran on " + join_list(base.meta.hosts) + ", cand on " +
                       join_list(cand.meta.hosts));
  if (base.meta.mpi_library != cand.meta.mpi_library)
    warnings.push_back("MPI library differs: base '" + base.meta.mpi_library + "', cand '" +
                       cand.meta.mpi_library + "'");
  if (base.meta.backend_versions != cand.meta.backend_versions)
    warnings.push_back("backend versions differ: base " + join_list(base.meta.backend_versions) + "; cand " +
                       join_list(cand.meta.backend_versions));
}

void fill_key(CompareRow& row, const Record& r) {
  row.backend = r.backend, row.op = r.op, row.algo = r.algo, row.mem = r.mem, row.dtype = r.dtype;
  row.redop = r.redop, row.inplace = r.inplace, row.nranks = r.nranks, row.ranks_per_node = r.ranks_per_node;
  row.bytes = r.bytes, row.group = r.group, row.counts = r.counts, row.ngroups = r.ngroups;
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
// significant (true where the test cannot be applied, and the row says why in note and u_skipped).
bool significant_change(CompareRow& row, const Record& b, const Record& c, const CompareOptions& o) {
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
    return u.p_value < o.alpha;
  }
  row.u_skipped = why;
  row.note = "U test not applied: " + why;
  if (why == fmt::format("fewer than {} samples", o.min_samples))
    row.note += fmt::format(" ({} and {})", b.samples_us.size(), c.samples_us.size());
  return true;
}

}  // namespace

std::string key_text(const Record& r) {
  CompareRow row;
  fill_key(row, r);
  return key_text(row);
}

CompareRow compare_pair(const Record& b, const Record& c, const CompareOptions& o) {
  CompareRow row;
  fill_key(row, b);
  row.base_value = metric_of(b, o.metric);
  row.cand_value = metric_of(c, o.metric);
  row.cand_wrong = c.wrong;
  const double bv = *row.base_value, cv = *row.cand_value;
  if (!(bv > 0) || !(cv > 0)) {
    row.verdict = Verdict::same;
    row.note = fmt::format("{} is not positive in {}: not compared", o.metric, bv > 0 ? "cand" : "base");
    return row;
  }
  row.change_pct = 100.0 * (cv - bv) / bv;
  const bool higher_better = o.metric == "busbw";
  const double better_pct = higher_better ? *row.change_pct : -*row.change_pct;
  const bool significant = significant_change(row, b, c, o);
  if (significant && better_pct < -o.threshold_pct) {
    row.verdict = Verdict::slower;
  } else if (significant && better_pct > o.threshold_pct) {
    row.verdict = Verdict::faster;
  } else {
    row.verdict = Verdict::same;
    if (!significant && std::abs(better_pct) > o.threshold_pct)
      row.note = fmt::format("not significant (p >= {})", o.alpha);
  }
  return row;
}

namespace {

// One base row against its cand row (or none): its verdict, counted in the report.
CompareRow compare_row(const Record& b, const Record* cp, const CompareOptions& o, CompareReport& rep,
                       CompareTally& tally) {
  if (!cp) {
    CompareRow row;
    fill_key(row, b);
    row.base_value = metric_of(b, o.metric);
    row.verdict = Verdict::missing;
    row.note = "not in cand";
    ++rep.missing;
    return row;
  }
  const Record& c = *cp;
  CompareRow row = compare_pair(b, c, o);
  if (b.transport != c.transport) {
    if (tally.transport_diffs++ == 0)
      tally.transport_example = fmt::format("{}: '{}' vs '{}'", key_text(row), b.transport, c.transport);
  }
  if (row.change_pct) {
    if (std::find(tally.op_order.begin(), tally.op_order.end(), row.op) == tally.op_order.end())
      tally.op_order.push_back(row.op);
    tally.logsum[row.op].first += 1;
    tally.logsum[row.op].second += std::log(*row.cand_value / *row.base_value);
  }
  if (row.p_value) ++rep.u_applied;
  if (!row.u_skipped.empty() && tally.why_counts[row.u_skipped]++ == 0)
    tally.why_order.push_back(row.u_skipped);
  ++(row.verdict == Verdict::slower ? rep.slower : row.verdict == Verdict::faster ? rep.faster : rep.same);
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

// What fails the gate besides slower rows: rows missing beyond --allow-missing, cand's status,
// wrong data in cand, nothing matched. A base that did not end ok is only warned about.
void judge_gate(const ResultsFile& base, const ResultsFile& cand, const std::vector<const Record*>& cand_rows,
                CompareReport& rep) {
  const CompareOptions& o = rep.options;
  const int allowed = o.allow_missing;
  if (rep.missing > 0 && allowed >= 0 && rep.missing > allowed)
    rep.gate_failures.push_back(
        {"missing",
         allowed == 0
             ? fmt::format("{} rows of base are missing from cand (compare --allow-missing accepts that)",
                           rep.missing)
             : fmt::format("{} rows of base are missing from cand, more than --allow-missing={}", rep.missing,
                           allowed)});
  else if (rep.missing > 0)
    for (auto& row : rep.rows)
      if (row.verdict == Verdict::missing) row.note = "not in cand (allowed by --allow-missing)";
  if (cand.format == "json") {
    rep.cand_status = cand.status;
    if (cand.status.empty())
      rep.gate_failures.push_back({"status", "cand has no status: its run never ended"});
    else if (cand.status != "ok")
      rep.gate_failures.push_back(
          {"status",
           fmt::format("cand's status is '{}', not 'ok': its run did not complete cleanly", cand.status)});
  }
  if (base.format == "json" && base.status != "ok")
    rep.warnings.push_back(
        fmt::format("base's status is '{}', not 'ok': the baseline may be incomplete", base.status));
  std::uint64_t wrong = 0;
  for (const Record* c : cand_rows)
    if (c->wrong > 0) ++rep.cand_wrong_rows, wrong += c->wrong;
  if (rep.cand_wrong_rows > 0)
    rep.gate_failures.push_back(
        {"wrong-data", fmt::format("{} rows of cand have wrong data ({} wrong elements; the wrong column)",
                                   rep.cand_wrong_rows, wrong)});
  const int matched = rep.faster + rep.slower + rep.same;
  if (matched == 0)
    rep.gate_failures.push_back(
        {"no-match",
         fmt::format("no row of cand matched a row of base ({} and {} rows): nothing was compared",
                     rep.missing + matched, rep.added + matched)});
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
    row.cand_wrong = c->wrong;
    row.verdict = Verdict::added;
    row.note = "not in base";
    ++rep.added;
    rep.rows.push_back(std::move(row));
  }
  summarize_tally(tally, rep);
  judge_gate(base, cand, cand_order, rep);
  return rep;
}

int run_compare_command(const CompareOptions& o) {
  check_options(o);
  const bool to_file = !o.output.empty() && o.output != "-";
  if (to_file) {
    // The rule of every command's outputs: an existing file is replaced only with --force.
    try {
      check_outputs({o.output}, o.force);
    } catch (const UsageError&) {
      throw;
    } catch (const std::exception& e) {
      throw UsageError(std::string("cannot write the report: ") + e.what());
    }
  }
  const ResultsFile base = read_results(o.base);
  const ResultsFile cand = read_results(o.cand);
  const CompareReport rep = compare_results(base, cand, o);
  const std::string text = render_compare(rep, o.format);
  for (const auto& w : rep.warnings) std::fprintf(stderr, "fabricbench: warning: %s\n", w.c_str());
  // Where the report is not the text on the console, the log still says why the gate failed.
  if (to_file || o.format == "csv")
    for (const auto& g : rep.gate_failures)
      std::fprintf(stderr, "fabricbench: compare: FAIL: %s\n", g.message.c_str());
  std::fflush(stderr);
  if (!to_file) {
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
  return rep.failed() ? exit_code::gate_failed : exit_code::ok;
}

}  // namespace fb
