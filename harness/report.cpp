#include "harness/report.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <tuple>

#include "harness/compare.hpp"
#include "harness/data_lookup.hpp"
#include "harness/results_reader.hpp"
#include "harness/validate.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Above this measured / model bandwidth a row is faster than the model allows (validate's upper
// bound, issue 23 item 5): drawn as a warn band.
constexpr double kBwUpperBand = 1.25;

const char* kNeedsMatplotlib = "report: needs python3-matplotlib (apt-get install python3-matplotlib)";

json opt(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

std::string base_name(const std::string& p) {
  return fs::path(p).filename().string();
}

// Runs argv with stdout and stderr as given (-1: inherit, -2: /dev/null); returns the exit status
// (127 when it could not be started, 128+N for a signal).
int run_process(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("report: fork: ") + std::strerror(errno));
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    if (out_fd == -2)
      ::dup2(null, 1);
    else if (out_fd >= 0)
      ::dup2(out_fd, 1);
    if (err_fd == -2)
      ::dup2(null, 2);
    else if (err_fd >= 0)
      ::dup2(err_fd, 2);
    ::setenv("MPLBACKEND", "Agg", 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error(std::string("report: waitpid: ") + std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

// A measured series: one line on a plot.
using SeriesKey = std::tuple<std::size_t, std::string, std::string, std::string, std::string, std::string,
                             std::string, bool, int, int, int>;

}  // namespace

std::string size_label(std::uint64_t bytes) {
  const std::string f = format_bytes(bytes);  // "1G", "1.5K", or the exact number of bytes
  if (f.back() >= '0' && f.back() <= '9') return f + " B";
  return f.substr(0, f.size() - 1) + " " + f.back() + "iB";
}

namespace {

std::string place_name(bool inplace) {
  return inplace ? "in-place" : "out-of-place";
}

}  // namespace

std::string report_python() {
  if (const char* p = std::getenv("FABRICBENCH_PYTHON"); p && *p) return p;
  return "/usr/bin/python3";
}

std::string find_plot_script() {
  try {
    return find_data_file(DataKind::plot_script, "fabricbench-plot.py");
  } catch (const UsageError& e) {
    throw UsageError(std::string("report: ") + e.what() + " (set FABRICBENCH_SCRIPTS)");
  }
}

namespace {

// A model row's group: (file, op, bytes, ranks per domain, mem).
using ModelKey = std::tuple<std::size_t, std::string, std::uint64_t, int, std::string>;

// The rows of the inputs grouped into series, in the order they first appear.
struct Grouped {
  json inputs = json::array();
  std::map<SeriesKey, json> measured;
  std::vector<SeriesKey> measured_order;
  std::map<ModelKey, std::vector<const Record*>> model;
  std::vector<ModelKey> model_order;
};

// A new measured series (no points yet) for the row that opens it.
json measured_series(const Record& r, const ResultsFile& f, bool many) {
  std::string label = r.backend + " " + r.algo;
  if (!r.dtype.empty()) label += " " + r.dtype;
  if (!r.redop.empty()) label += " " + r.redop;
  label += " " + place_name(r.inplace) + " np=" + std::to_string(r.nranks);
  if (many) label += " [" + base_name(f.path) + "]";
  return {{"file", base_name(f.path)},
          {"backend", r.backend},
          {"op", r.op},
          {"algo", r.algo},
          {"mem", r.mem},
          {"dtype", r.dtype},
          {"redop", r.redop},
          {"inplace", r.inplace},
          {"nranks", r.nranks},
          {"ranks_per_node", r.ranks_per_node},
          {"model_fabric", r.model_fabric},
          {"label", label},
          {"points", json::array()}};
}

json measured_point(const Record& r) {
  return {{"bytes", r.bytes},
          {"time_us", r.time_us},
          {"time_p50_us", r.time_p50_us},
          {"time_p99_us", r.time_p99_us},
          {"busbw_GBps", r.busbw_GBps},
          {"algbw_GBps", r.algbw_GBps},
          {"model_time_us", opt(r.model_time_us)},
          {"model_busbw_GBps", opt(r.model_busbw_GBps)},
          {"model_algo", r.model_algo},
          {"model_bottleneck", r.model_bottleneck}};
}

json input_entry(const ResultsFile& f, int n_measured, int n_model) {
  return {{"path", f.path},
          {"name", base_name(f.path)},
          {"format", f.format},
          {"rows", f.rows.size()},
          {"measured_rows", n_measured},
          {"model_rows", n_model},
          {"hosts", f.has_meta ? json(f.meta.hosts) : json::array()},
          {"started_utc", f.has_meta ? f.meta.started_utc : ""},
          {"status", f.status}};
}

// Measured rows into series by what ran, model rows into groups by ModelKey; one input entry per file.
// Rows that `taken` marks (per file, per row; empty: none) go to the against section instead of a
// series, and still count as measured rows of their file.
Grouped group_rows(const std::vector<ResultsFile>& files, const std::vector<std::vector<bool>>& taken) {
  Grouped g;
  const bool many = files.size() > 1;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const ResultsFile& f = files[i];
    int n_measured = 0, n_model = 0;
    for (const Record& r : f.rows) {
      if (r.source == "model") {
        ++n_model;
        const ModelKey k{i, r.op, r.bytes, r.ranks_per_node, r.mem};
        auto [it, fresh] = g.model.try_emplace(k);
        if (fresh) g.model_order.push_back(k);
        it->second.push_back(&r);
        continue;
      }
      ++n_measured;
      if (!taken[i].empty() && taken[i][&r - f.rows.data()]) continue;
      const SeriesKey k{i,       r.backend, r.op,     r.algo,           r.mem, r.dtype,
                        r.redop, r.inplace, r.nranks, r.ranks_per_node, r.root};
      auto [it, fresh] = g.measured.try_emplace(k);
      json& s = it->second;
      if (fresh) {
        g.measured_order.push_back(k);
        s = measured_series(r, f, many);
      }
      if (s["model_fabric"].get<std::string>().empty() && !r.model_fabric.empty())
        s["model_fabric"] = r.model_fabric;
      s["points"].push_back(measured_point(r));
    }
    g.inputs.push_back(input_entry(f, n_measured, n_model));
  }
  return g;
}

// The measured series, each with its sizes ascending (a plan may list them in any order).
json measured_spec(Grouped& g) {
  json out = json::array();
  for (const auto& k : g.measured_order) {
    json s = g.measured[k];
    std::stable_sort(s["points"].begin(), s["points"].end(), [](const json& a, const json& b) {
      return a["bytes"].get<std::uint64_t>() < b["bytes"].get<std::uint64_t>();
    });
    out.push_back(std::move(s));
  }
  return out;
}

// One group of model rows as curves over GPUs: one per scale, or one per algorithm when the file
// holds several at a scale (--algo a,b); appended to `out`.
void model_curves(const ModelKey& k, const std::vector<const Record*>& rows,
                  const std::vector<ResultsFile>& files, json& out) {
  const bool many = files.size() > 1;
  std::set<int> scales;
  bool repeats = false;
  for (const Record* r : rows) repeats |= !scales.insert(r->nranks).second;
  std::map<std::string, json> curves;
  std::vector<std::string> curve_order;
  for (const Record* r : rows) {
    const std::string name = repeats ? r->algo : std::string();
    auto [it, fresh] = curves.try_emplace(name);
    if (fresh) {
      curve_order.push_back(name);
      std::string label = std::get<1>(k) + " " + size_label(std::get<2>(k));
      if (!name.empty()) label += " " + name;
      label += " on " + r->model_fabric;
      if (many) label += " [" + base_name(files[std::get<0>(k)].path) + "]";
      it->second = {{"file", base_name(files[std::get<0>(k)].path)},
                    {"op", r->op},
                    {"bytes", r->bytes},
                    {"fabric", r->model_fabric},
                    {"algo", name},
                    {"ranks_per_domain", r->ranks_per_node},
                    {"label", label},
                    {"points", json::array()}};
    }
    it->second["points"].push_back({{"gpus", r->nranks},
                                    {"domains", r->nnodes},
                                    {"time_us", r->time_us},
                                    {"busbw_GBps", r->busbw_GBps},
                                    {"algbw_GBps", r->algbw_GBps},
                                    {"algo", r->algo},
                                    {"bottleneck", r->model_bottleneck}});
  }
  for (const auto& n : curve_order) {
    json c = curves[n];
    std::stable_sort(c["points"].begin(), c["points"].end(), [](const json& a, const json& b) {
      return a["gpus"].get<int>() < b["gpus"].get<int>();
    });
    out.push_back(std::move(c));
  }
}

json compare_spec(const CompareReport& cmp) {
  json c = {{"base", cmp.base_desc},
            {"cand", cmp.cand_desc},
            {"metric", cmp.options.metric},
            {"threshold_pct", cmp.options.threshold_pct},
            {"rows", json::array()}};
  for (const auto& r : cmp.rows) {
    std::string label = r.op + " " + r.backend + " " + r.algo;
    if (!r.dtype.empty()) label += " " + r.dtype;
    label += " np=" + std::to_string(r.nranks) + " " + size_label(r.bytes);
    c["rows"].push_back({{"label", label},
                         {"op", r.op},
                         {"bytes", r.bytes},
                         {"verdict", verdict_name(r.verdict)},
                         {"change_pct", opt(r.change_pct)},
                         {"base", opt(r.base_value)},
                         {"cand", opt(r.cand_value)},
                         {"p_value", opt(r.p_value)}});
  }
  return c;
}

// A row held against the model: a measurement (or published figure) with a prediction beside it.
bool predicted(const Record& r) {
  return r.source != "model" && !r.model_fabric.empty() && r.model_time_us && r.model_busbw_GBps;
}

// Per file, the rows that go to "Model against measurements": every predicted row of a file that
// holds published rows or whose predicted rows come from many runs (more than one GPU count, node
// count or fabric: `model --against` output). A single run with --fabric keeps its series.
std::vector<std::vector<bool>> against_rows(const std::vector<ResultsFile>& files) {
  std::vector<std::vector<bool>> taken(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    const ResultsFile& f = files[i];
    bool published = false;
    std::set<std::tuple<int, int, std::string>> runs;
    for (const Record& r : f.rows) {
      if (!predicted(r)) continue;
      published |= r.source == "published";
      runs.emplace(r.nranks, r.nnodes, r.model_fabric);
    }
    if (!published && runs.size() < 2) continue;
    taken[i].resize(f.rows.size());
    for (std::size_t j = 0; j < f.rows.size(); ++j) taken[i][j] = predicted(f.rows[j]);
  }
  return taken;
}

json against_point(const Record& r, const Provenance* p, const ResultsFile& f) {
  const std::string ref = p ? p->ref : "";
  const std::string label =
      !ref.empty() ? "#" + ref : r.op + " " + std::to_string(r.nranks) + " GPUs " + size_label(r.bytes);
  const double model = *r.model_time_us;
  const double err = r.model_err_pct ? *r.model_err_pct
                     : model > 0     ? 100.0 * (r.time_us - model) / model
                                     : 0.0;
  return {{"label", label},
          {"ref", ref},
          {"system", p ? p->system : ""},
          {"trust", p ? p->trust : ""},
          {"file", base_name(f.path)},
          {"source", r.source},
          {"op", r.op},
          {"nranks", r.nranks},
          {"nnodes", r.nnodes},
          {"bytes", r.bytes},
          {"time_us", r.time_us},
          {"busbw_GBps", r.busbw_GBps},
          {"model_time_us", *r.model_time_us},
          {"model_busbw_GBps", *r.model_busbw_GBps},
          {"model_algo", r.model_algo},
          {"model_bottleneck", r.model_bottleneck},
          {"err_pct", err}};
}

// The against section: the taken rows per fabric (fabrics by name, rows in file order), and how
// many rows of those files have no prediction (they are drawn as measurements). Null when no row
// is taken.
json against_spec(const std::vector<ResultsFile>& files, const std::vector<std::vector<bool>>& taken) {
  std::map<std::string, json> by_fabric;
  int unpredicted = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const ResultsFile& f = files[i];
    for (std::size_t j = 0; j < taken[i].size(); ++j) {
      const Record& r = f.rows[j];
      if (!taken[i][j]) {
        unpredicted += r.source != "model";
        continue;
      }
      const Provenance* p = f.provenance.empty() ? nullptr : &f.provenance[j];
      auto [it, fresh] = by_fabric.try_emplace(r.model_fabric);
      if (fresh) it->second = {{"fabric", r.model_fabric}, {"points", json::array()}};
      it->second["points"].push_back(against_point(r, p, f));
    }
  }
  if (by_fabric.empty()) return nullptr;
  json fabrics = json::array();
  for (auto& [name, fab] : by_fabric) fabrics.push_back(std::move(fab));
  return {{"fabrics", std::move(fabrics)}, {"unpredicted_rows", unpredicted}};
}

json spec_of(const ReportOptions& o, const std::vector<ResultsFile>& files,
             const std::optional<CompareReport>& cmp) {
  json spec;
  spec["spec_version"] = 1;
  spec["title"] = o.title;
  // validate's bandwidth grades, drawn as bands on the measured / model plots.
  const ValidateOptions grades;
  spec["bands"] = {{"bw_pass", grades.bw_pass}, {"bw_warn", grades.bw_warn}, {"bw_upper", kBwUpperBand}};
  const auto taken = against_rows(files);
  Grouped g = group_rows(files, taken);
  spec["inputs"] = std::move(g.inputs);
  spec["measured"] = measured_spec(g);
  spec["model"] = json::array();
  for (const auto& k : g.model_order) model_curves(k, g.model[k], files, spec["model"]);
  if (cmp) spec["compare"] = compare_spec(*cmp);
  if (json a = against_spec(files, taken); !a.is_null()) spec["against"] = std::move(a);
  return spec;
}

struct Loaded {
  std::vector<ResultsFile> files;
  std::vector<ValidateMatrix> matrices;
  std::optional<CompareReport> cmp;
};

// A validate pair matrix as heat-map data: per pair of ranks, bandwidth and latency against the
// model (1 = as predicted, lower = worse) and the verdict.
json matrix_spec(const ValidateMatrix& m) {
  json cells = json::array();
  for (const MatrixPair& p : m.pairs)
    cells.push_back({{"a", p.a},
                     {"b", p.b},
                     {"bw_ratio", p.bw_ratio >= 0 ? json(p.bw_ratio) : json(nullptr)},
                     {"lat_ratio", p.lat_ratio >= 0 ? json(p.lat_ratio) : json(nullptr)},
                     {"verdict", p.verdict},
                     {"bw_verdict", p.bw_verdict},
                     {"lat_verdict", p.lat_verdict},
                     {"transport", p.transport}});
  return {{"name", base_name(m.path)}, {"nranks", m.nranks}, {"hosts", m.hosts}, {"pairs", std::move(cells)}};
}

Loaded load(const ReportOptions& o) {
  if (o.inputs.empty() && o.compare.empty()) throw UsageError("report: no results files given");
  if (!o.compare.empty() && o.compare.size() != 2) throw UsageError("report: --compare takes BASE CAND");
  Loaded l;
  for (const auto& p : o.inputs) {
    if (is_validate_matrix(p)) {
      l.matrices.push_back(read_validate_matrix(p));
      continue;
    }
    l.files.push_back(read_results(p));
    if (l.files.back().rows.empty()) throw UsageError(p + ": no rows to plot");
  }
  if (!o.compare.empty()) {
    CompareOptions co;
    co.metric = o.metric;
    co.base = o.compare[0];
    co.cand = o.compare[1];
    l.cmp = compare_results(read_results(co.base), read_results(co.cand), co);
  }
  return l;
}

json full_spec(const ReportOptions& o, const Loaded& l) {
  json spec = spec_of(o, l.files, l.cmp);
  spec["matrices"] = json::array();
  for (const auto& m : l.matrices) spec["matrices"].push_back(matrix_spec(m));
  return spec;
}

}  // namespace

std::string report_spec_json(const ReportOptions& o) {
  const Loaded l = load(o);
  return full_spec(o, l).dump(1);
}

int run_report_command(const ReportOptions& o) {
  if (o.output_dir.empty()) throw UsageError("report: -o DIR is required");
  const Loaded l = load(o);
  const json spec = full_spec(o, l);
  const std::string script = find_plot_script();
  const std::string python = report_python();
  if (::access(python.c_str(), X_OK) != 0 ||
      run_process({python, "-c", "import matplotlib, matplotlib.pyplot"}, -2, -2) != 0)
    throw UsageError(kNeedsMatplotlib);

  const fs::path dir(o.output_dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw UsageError("report: " + o.output_dir + " exists and is not a directory");
  // Stage beside DIR so the files are moved in only when the script succeeded. DIR's missing
  // parents are made here (mkdir -p) and removed again when the report fails.
  fs::path parent = dir.parent_path();
  if (parent.empty()) parent = ".";
  fs::path made;  // the outermost parent this report created
  for (fs::path p = parent; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    made = p;
    if (p == p.parent_path()) break;
  }
  if (!made.empty() && !fs::create_directories(parent, ec))
    throw UsageError("report: cannot create " + parent.string() + ": " + ec.message());
  struct UndoParents {
    fs::path p;
    ~UndoParents() {
      std::error_code e;
      if (!p.empty()) fs::remove_all(p, e);
    }
  } undo_parents{made};
  if (!fs::is_directory(parent, ec)) throw UsageError("report: '" + parent.string() + "' is not a directory");
  const fs::path stage = parent / (dir.filename().string() + ".tmp." + std::to_string(::getpid()));
  fs::remove_all(stage, ec);
  if (!fs::create_directory(stage, ec))
    throw UsageError("report: cannot create " + stage.string() + ": " + ec.message());
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{stage};
  const fs::path spec_path = stage / ".plot-spec.json";
  {
    std::ofstream out(spec_path);
    out << spec.dump(1);
    if (!out.flush()) throw std::runtime_error("report: cannot write " + spec_path.string());
  }
  const int rc = run_process({python, script, spec_path.string(), stage.string()}, -1, -1);
  if (rc == 3) throw UsageError(kNeedsMatplotlib);
  if (rc != 0) throw std::runtime_error("report: " + script + " failed with exit code " + std::to_string(rc));
  fs::remove(spec_path, ec);

  if (!fs::exists(dir, ec) && !fs::create_directory(dir, ec))
    throw UsageError("report: cannot create " + o.output_dir + ": " + ec.message());
  int n = 0;
  for (const auto& e : fs::directory_iterator(stage)) {
    fs::rename(e.path(), dir / e.path().filename(), ec);
    if (ec)
      throw std::runtime_error("report: cannot move " + e.path().string() + " into " + o.output_dir + ": " +
                               ec.message());
    ++n;
  }
  undo_parents.p.clear();
  std::cout << "report: " << n << " files in " << o.output_dir << " (" << (dir / "index.html").string()
            << ")\n";
  return 0;
}

}  // namespace fb
