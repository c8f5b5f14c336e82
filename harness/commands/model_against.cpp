#include "harness/commands/model_against.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>

#include "harness/commands/model.hpp"
#include "harness/data_lookup.hpp"
#include "harness/fabric_lookup.hpp"
#include "harness/results_reader.hpp"
#include "harness/sinks/annotate.hpp"
#include "harness/sinks/sink.hpp"
#include "model/cost.hpp"
#include "model/rates.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace {

// The NCCL release a row's nccl_version starts with ("2.21.5+cuda12.4" -> "2.21.5", as NCCL prints
// it); "" when it starts with none, so a free-form note never fails the row.
std::string leading_release(const std::string& v) {
  std::size_t n = 0;
  while (n < v.size() && ((v[n] >= '0' && v[n] <= '9') || v[n] == '.')) ++n;
  std::string release = v.substr(0, n);
  while (!release.empty() && release.back() == '.') release.pop_back();
  return model::nccl_release(release) >= 0 ? release : "";
}

}  // namespace

RowTarget row_target(const Record& r, const Provenance* p, const std::string& fallback,
                     const std::vector<std::string>& sets) {
  RowTarget t;
  t.fabric = p && !p->fabric.empty() ? p->fabric : !r.model_fabric.empty() ? r.model_fabric : fallback;
  // The NCCL release a row states picks the behaviour modelled where releases differ; the row's
  // fabric_set and the command line's --set come after it and win.
  if (const std::string v = p ? leading_release(p->nccl_version) : ""; !v.empty())
    t.sets.push_back("nccl_version=" + v);
  if (p) {
    const auto row_sets = fabric_sets(*p);
    t.sets.insert(t.sets.end(), row_sets.begin(), row_sets.end());
  }
  t.sets.insert(t.sets.end(), sets.begin(), sets.end());
  const int rpd = p && p->ranks_per_domain > 0 ? p->ranks_per_domain : r.ranks_per_node;
  t.ranks_per_domain = static_cast<std::uint64_t>(std::clamp(rpd, 1, std::max(1, r.nranks)));
  return t;
}

std::pair<std::string, std::string> against_algorithm(const Record& r) {
  if (r.source == "model") {
    const auto slash = r.algo.find('/');
    if (slash == std::string::npos) return {r.algo, "auto"};
    return {r.algo.substr(0, slash), r.algo.substr(slash + 1)};
  }
  if (r.backend == "nccl" && !r.algo.empty() && r.algo.find_first_of("/+") == std::string::npos) {
    Record forced = r;
    forced.algo += "/auto";
    return model_algorithm_for(forced);
  }
  return model_algorithm_for(r);
}

ErrorSummary summarize(const std::vector<double>& errors_pct) {
  ErrorSummary s;
  s.rows = errors_pct.size();
  if (errors_pct.empty()) return s;
  std::vector<double> a;
  for (double e : errors_pct) a.push_back(std::abs(e));
  std::sort(a.begin(), a.end());
  const std::size_t n = a.size();
  s.median_abs = n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
  s.max_abs = a.back();
  return s;
}

void parse_against_options(const AgainstTexts& t, const std::vector<std::string>& given, AgainstOptions& a) {
  static const std::vector<std::string> kSweep = {"--op",       "--bytes", "--algo",
                                                  "--protocol", "--gpus",  "--ranks-per-domain"};
  for (const auto& g : given) {
    const bool sweep = std::find(kSweep.begin(), kSweep.end(), g) != kSweep.end();
    if (sweep && !a.files.empty())
      throw UsageError("command line: " + g +
                       " does not apply to --against (it predicts the files' rows as they ran)");
    if (!sweep && a.files.empty()) throw UsageError("command line: " + g + " applies to --against only");
  }
  std::string cur;
  for (char c : t.trust.empty() ? std::string() : t.trust + ",") {
    if (c == ',') {
      if (cur != "A" && cur != "B" && cur != "C")
        throw UsageError("command line: trust: unknown grade '" + cur + "' (A, B or C, comma-separated)");
      a.trust.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  auto size = [](const char* key, const std::string& text) -> std::uint64_t {
    if (text.empty()) return 0;
    try {
      return parse_bytes(text);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("command line: ") + key + ": " + e.what());
    }
  };
  a.min_bytes = size("min-bytes", t.min_bytes);
  a.max_bytes = size("max-bytes", t.max_bytes);
  if (a.max_bytes && a.max_bytes < a.min_bytes)
    throw UsageError("command line: --max-bytes " + t.max_bytes + " is below --min-bytes " + t.min_bytes);
  if (!t.max_error.empty()) {
    const auto pct = parse_number(t.max_error, {{'%', 1}});
    if (!pct || *pct < 0)
      throw UsageError("command line: max-error: expected a percentage >= 0, got '" + t.max_error + "'");
    a.max_error_pct = *pct;
  }
}

namespace {

// Fabrics loaded once per (name, overrides); a fabric that cannot be loaded keeps its reason.
class FabricCache {
 public:
  struct Entry {
    std::optional<model::Fabric> fabric;
    std::string why;  // when it could not be loaded
  };
  const Entry& get(const std::string& name, const std::vector<std::string>& sets) {
    std::string key = name;
    for (const auto& s : sets) key += "\n" + s;
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    Entry e;
    std::string path;
    try {
      path = find_fabric_file(name);
    } catch (const UsageError&) {
      e.why = "fabric '" + name + "' not found";
    }
    if (!path.empty()) try {
        e.fabric = model::load_fabric(path, sets);
        e.fabric->name = name;  // as the rows name it, for the summary by fabric
      } catch (const std::invalid_argument& ex) {
        e.why = "fabric '" + name + "': " + ex.what();
      }
    return cache_.emplace(key, std::move(e)).first->second;
  }

 private:
  std::map<std::string, Entry> cache_;
};

struct Outcome {
  Record row;
  std::string id;        // "#12" (a published row's ref) or FILE:N
  std::string unmapped;  // why no prediction ("" when predicted)
  std::uint64_t ranks_per_domain = 0;
};

// Predicts one row into o.row's model_* fields, or says why not.
void predict_row(Outcome& out, const Provenance* p, const ModelOptions& o, FabricCache& fabrics) {
  Record& r = out.row;
  r.model_fabric.clear();  // a model file's own prediction is replaced, never kept half
  r.model_algo.clear();
  r.model_time_us.reset();
  r.model_busbw_GBps.reset();
  r.model_err_pct.reset();
  r.model_bottleneck.clear();
  const RowTarget t = row_target(r, p, o.fabric, o.sets);
  out.ranks_per_domain = t.ranks_per_domain;
  if (t.fabric.empty()) {
    out.unmapped = "no fabric (the row names none; give --fabric)";
    return;
  }
  const auto& e = fabrics.get(t.fabric, t.sets);
  if (!e.fabric) {
    out.unmapped = e.why;
    return;
  }
  const auto [algo, protocol] = against_algorithm(r);
  const model::Placement place{static_cast<std::uint64_t>(std::max(1, r.nranks)), t.ranks_per_domain};
  try {
    set_prediction(r, t.fabric,
                   model::predict(*e.fabric, r.op, algo, place, static_cast<double>(r.bw_bytes()), protocol),
                   algo);
  } catch (const std::invalid_argument& ex) {
    out.unmapped = std::string("no model: ") + ex.what();
  }
}

bool kept(const Record& r, const Provenance* p, const AgainstOptions& a) {
  if (!a.trust.empty() && p && !p->trust.empty() &&
      std::find(a.trust.begin(), a.trust.end(), p->trust) == a.trust.end())
    return false;
  return r.bytes >= a.min_bytes && (a.max_bytes == 0 || r.bytes <= a.max_bytes);
}

void print_group(const char* title, const std::map<std::string, std::vector<double>>& groups) {
  std::cout << fmt::format("# by {:<19} {:>5} {:>12} {:>10}\n", title, "rows", "median|err|", "max|err|");
  for (const auto& [name, errs] : groups) {
    const ErrorSummary s = summarize(errs);
    std::cout << fmt::format("#   {:<20} {:>5} {:>11.1f}% {:>9.1f}%\n", name, s.rows, s.median_abs,
                             s.max_abs);
  }
}

}  // namespace

namespace {

// The rows read from every --against file: those kept predicted and written to the sinks.
struct AgainstRows {
  std::vector<Outcome> outcomes;
  std::size_t total = 0, filtered = 0;
};

AgainstRows predict_files(const std::vector<ResultsFile>& files, const ModelOptions& o,
                          std::vector<std::unique_ptr<Sink>>& sinks) {
  AgainstRows rows;
  FabricCache fabrics;
  for (const auto& f : files)
    for (std::size_t i = 0; i < f.rows.size(); ++i) {
      ++rows.total;
      const Provenance* p = f.provenance.empty() ? nullptr : &f.provenance[i];
      if (!kept(f.rows[i], p, o.against)) {
        ++rows.filtered;
        continue;
      }
      Outcome out{f.rows[i],
                  p && !p->ref.empty()
                      ? "#" + p->ref
                      : fmt::format("{}:{}", std::filesystem::path(f.path).filename().string(), i + 1),
                  "", 0};
      predict_row(out, p, o, fabrics);
      for (auto& s : sinks) s->row(out.row);
      rows.outcomes.push_back(std::move(out));
    }
  return rows;
}

// The errors of the predicted rows, grouped, and the unmapped rows by reason.
struct AgainstErrors {
  std::map<std::string, std::vector<double>> by_op, by_fabric;
  std::map<std::string, std::vector<std::string>> unmapped;  // reason -> row ids
  std::vector<double> all;
  const Outcome* worst = nullptr;
};

// Prints a line per predicted row (unless --quiet) while gathering their errors.
AgainstErrors print_rows(const std::vector<Outcome>& outcomes, bool quiet) {
  AgainstErrors g;
  if (!quiet)
    std::cout << fmt::format(
        "# {:<16} {:<14} {:<13} {:>5} {:>4} {:>9} {:<20} {:>12} {:>12} {:>9} {:>9} {:>8}  {}\n", "row",
        "fabric", "op", "gpus", "rpd", "bytes", "model algo", "time(us)", "model(us)", "busbw", "model",
        "err", "bottleneck");
  for (const auto& out : outcomes) {
    const Record& r = out.row;
    if (!out.unmapped.empty()) {
      g.unmapped[out.unmapped].push_back(out.id);
      continue;
    }
    const double e = *r.model_err_pct;
    g.by_op[r.op].push_back(e);
    g.by_fabric[r.model_fabric].push_back(e);
    g.all.push_back(e);
    if (!g.worst || std::abs(e) > std::abs(*g.worst->row.model_err_pct)) g.worst = &out;
    if (!quiet)
      std::cout << fmt::format(
          "  {:<16} {:<14} {:<13} {:>5} {:>4} {:>9} {:<20} {:>12.2f} {:>12.2f} {:>9.2f} {:>9.2f} {:>+7.1f}%  "
          "{}\n",
          out.id, r.model_fabric, r.op, r.nranks, out.ranks_per_domain, format_bytes(r.bytes), r.model_algo,
          r.time_us, *r.model_time_us, r.busbw_GBps, *r.model_busbw_GBps, e, r.model_bottleneck);
  }
  return g;
}

void print_summary(const AgainstRows& rows, const AgainstErrors& g, std::size_t nfiles) {
  std::cout << fmt::format("# {} rows in {} file{}: {} predicted, {} unmapped, {} filtered out\n", rows.total,
                           nfiles, nfiles == 1 ? "" : "s", g.all.size(), rows.outcomes.size() - g.all.size(),
                           rows.filtered);
  if (!g.all.empty()) {
    print_group("op", g.by_op);
    print_group("fabric", g.by_fabric);
    const ErrorSummary s = summarize(g.all);
    std::cout << fmt::format("# {:<22} {:>5} {:>11.1f}% {:>9.1f}%\n", "all", s.rows, s.median_abs, s.max_abs);
  }
  for (const auto& [why, ids] : g.unmapped) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : " ") + id;
    std::cout << fmt::format("# unmapped ({}): {}: {}\n", ids.size(), why, list);
  }
}

// --max-error: 0 when the worst row is within it, else 1 (also when no row was predicted).
int max_error_verdict(const Outcome* worst, double max_error_pct) {
  if (!worst) {
    std::cout << fmt::format("verdict: no row predicted, nothing held against --max-error {}%\n",
                             max_error_pct);
    return 1;
  }
  const double m = std::abs(*worst->row.model_err_pct);
  const bool pass = m <= max_error_pct;
  std::cout << fmt::format("verdict: max |error| {:.1f}% ({} {} {} {}) {} --max-error {}%\n", m, worst->id,
                           worst->row.model_fabric, worst->row.op, format_bytes(worst->row.bytes),
                           pass ? "within" : "exceeds", max_error_pct);
  return pass ? 0 : 1;
}

}  // namespace

int run_model_against(const ModelOptions& o) {
  const AgainstOptions& a = o.against;
  // The command line's own fabric and overrides are checked before anything is read or written.
  if (!o.fabric.empty()) load_fabric_for_cli(o.fabric, o.sets);
  std::vector<ResultsFile> files;
  for (const auto& name : a.files) files.push_back(read_results(find_data_file(DataKind::reference, name)));

  std::vector<std::unique_ptr<Sink>> sinks = open_model_sinks(o);
  const AgainstRows rows = predict_files(files, o, sinks);
  for (auto& s : sinks) s->end("ok");

  const AgainstErrors g = print_rows(rows.outcomes, o.quiet);
  print_summary(rows, g, files.size());
  if (!a.max_error_pct) return 0;
  return max_error_verdict(g.worst, *a.max_error_pct);
}

}  // namespace fb
