// Console sink: an nccl-tests-shaped table. A '#' header with the run metadata, then for every
// sweep (backend, op, the algo asked for, dtype, redop, root, placement) a title line and a
// two-line column header, then one right-aligned line per record, flushed as it is written.
// Times and rates carry the unit that fits their magnitude (ns/us/ms/s, kB/s/MB/s/GB/s); optional
// columns (algo, Mmsg/s, the model's) are chosen per sweep from its first row and the options.
#include <fmt/format.h>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "harness/sinks/guard.hpp"
#include "harness/sinks/sink.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace {

std::string redop_label(const std::string& redop) {
  return redop.empty() ? "none" : redop;
}

const char* place_label(bool inplace) {
  return inplace ? "in-place" : "out-of-place";
}

// The algo a sweep is grouped by: what the test asked for, else (rows not from a test) what ran.
const std::string& sweep_algo(const Record& r) {
  return r.algo_asked.empty() ? r.algo : r.algo_asked;
}

// run --ranks and --split: a table per rank count and group layout too.
using SeriesKey =
    std::tuple<std::string, std::string, std::string, std::string, std::string, int, bool, int, std::string>;

SeriesKey series_of(const Record& r) {
  return {r.backend, r.op, sweep_algo(r), r.dtype, r.redop, r.root, r.inplace, r.nranks, r.group};
}

// " nranks=2" when the row ran on fewer ranks than the job's (--ranks), " split=... (G groups of
// N)" under --split.
std::string ranks_label(const Record& r, int job_nranks) {
  if (!r.group.empty()) return fmt::format(" split={} ({} groups of {})", r.group, r.ngroups, r.nranks);
  return r.nranks != job_nranks && job_nranks > 0 ? fmt::format(" nranks={}", r.nranks) : std::string();
}

bool pairwise_op(const std::string& op) {
  return op == "sendrecv" || op == "unidir" || op == "bidir";
}

// One column: its width (negative: left-aligned), and its two header lines (name, unit).
enum class Optional { none, rate, model_time, model_busbw, ratio, algo };
struct Column {
  int width;
  std::string name, unit;
  Optional what = Optional::none;  // an optional column's content
};

// The columns of a sweep. rate: the pairwise ops; model: with --fabric; algo (last, left-aligned:
// NCCL's choices are long): when what ran differs from what was asked (auto, NCCL's logged choice).
std::vector<Column> columns_for(bool algo, bool rate, bool model) {
  std::vector<Column> c = {
      {10, "size", "(B)"},  {12, "count", "(elements)"}, {8, "type", ""},  {6, "redop", ""},
      {6, "root", ""},      {12, "place", ""},           {10, "time", ""}, {12, "algbw", ""},
      {12, "busbw", ""},    {6, "#wrong", ""},           {10, "p99", ""},  {7, "slowest", "(rank)"},
      {5, "batch", "(ops)"}};
  if (rate) c.push_back({12, "rate", "(messages)", Optional::rate});
  if (model) {
    c.push_back({10, "model", "(time)", Optional::model_time});
    c.push_back({12, "model", "(busbw)", Optional::model_busbw});
    c.push_back({7, "ratio", "(m/t)", Optional::ratio});
  }
  if (algo) c.push_back({-18, "algo", "", Optional::algo});
  return c;
}

// A message rate given in millions per second, in the unit that fits: "1.23 Mmsg/s", "0.52 msg/s".
std::string format_msg_rate(double Mps) {
  if (Mps >= 1.0 || Mps == 0.0) return fmt::format("{:.2f} Mmsg/s", Mps);
  if (Mps >= 1e-3) return fmt::format("{:.2f} kmsg/s", Mps * 1e3);
  return fmt::format("{:.2f} msg/s", Mps * 1e6);
}

// A line of cells aligned in the columns; the first cell's width is 12 on a row line and 10 after
// "# " on a header line (nccl-tests' layout). Trailing blanks go.
std::string line_of(const std::vector<Column>& cols, const std::vector<std::string>& cells, bool header) {
  std::string line = header ? "# " : "";
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i > 0) line += "  ";
    const int w = i == 0 && !header ? cols[i].width + 2 : cols[i].width;
    line += w < 0 ? fmt::format("{:<{}}", cells[i], -w) : fmt::format("{:>{}}", cells[i], w);
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

class ConsoleSink final : public Sink {
 public:
  ConsoleSink(std::ostream& out, const ConsoleOptions& o) : out_(out), show_model_(o.show_model) {}

  void begin(const RunMeta& m) override {
    std::string version = "# fabricbench " + m.fabricbench_version;
    if (!m.git_describe.empty()) version += " (" + m.git_describe + ")";
    comment(version);
    if (!m.command_line.empty()) comment("# command: " + m.command_line);
    if (!m.started_utc.empty()) comment("# started: " + m.started_utc);
    if (!m.mpi_library.empty()) comment("# MPI library: " + m.mpi_library);
    for (const auto& v : m.backend_versions) comment("# backend " + v);
    comment(fmt::format("# nranks {} nnodes {} ranks per node {}", m.nranks, m.nnodes, m.ranks_per_node));
    for (std::size_t i = 0; i < m.stages.size(); ++i) {
      const StageMeta& st = m.stages[i];
      std::string backends;
      for (const auto& b : st.backends) backends += (backends.empty() ? "" : "; ") + b;
      comment(fmt::format("# stage {}/{} {}: ranks {}, {} communicator{} of {} rank{}: {}", i + 1,
                          m.stages.size(), st.label, st.ranks, st.ngroups, st.ngroups == 1 ? "" : "s",
                          st.group_size, st.group_size == 1 ? "" : "s", backends));
    }
    job_nranks_ = m.nranks;
    if (!m.hosts.empty()) {
      // A thousand-node run would print a screenful: name the first hosts only.
      constexpr std::size_t kMaxHosts = 16;
      std::string hosts = "# hosts:";
      for (std::size_t i = 0; i < m.hosts.size() && i < kMaxHosts; ++i) hosts += " " + m.hosts[i];
      if (m.hosts.size() > kMaxHosts) hosts += fmt::format(" ... ({} more)", m.hosts.size() - kMaxHosts);
      comment(hosts);
    }
    out_.flush();
  }

  void row(const Record& r) override {
    const SeriesKey key = series_of(r);
    if (!series_ || *series_ != key) {
      series_ = key;
      columns_ = columns_for(r.algo != sweep_algo(r), pairwise_op(r.op), show_model_);
      std::vector<std::string> names, units;
      for (const Column& c : columns_) {
        names.push_back(c.name);
        units.push_back(c.unit);
      }
      out_ << "#\n"
           << fmt::format("# {} {} algo={} dtype={} redop={} root={} {}{}\n", r.backend, r.op, sweep_algo(r),
                          r.dtype, redop_label(r.redop), r.root, place_label(r.inplace),
                          ranks_label(r, job_nranks_))
           << line_of(columns_, names, true) << '\n'
           << line_of(columns_, units, true) << '\n';
    }
    std::vector<std::string> cells = {std::to_string(r.bytes),
                                      std::to_string(r.count),
                                      r.dtype,
                                      redop_label(r.redop),
                                      std::to_string(r.root),
                                      place_label(r.inplace),
                                      format_duration_us(r.time_us),
                                      format_rate_GBps(r.algbw_GBps),
                                      format_rate_GBps(r.busbw_GBps),
                                      r.check_iters > 0 ? std::to_string(r.wrong) : std::string("N/A"),
                                      format_duration_us(r.time_p99_us),
                                      r.slowest_rank >= 0 ? std::to_string(r.slowest_rank) : std::string("-"),
                                      std::to_string(r.ops_per_sample)};
    for (std::size_t i = cells.size(); i < columns_.size(); ++i)
      cells.push_back(optional_cell(columns_[i], r));
    std::string line = line_of(columns_, cells, false);
    if (r.requested_bytes != r.bytes) line += fmt::format("  (asked {})", r.requested_bytes);
    out_ << line << '\n';
    out_.flush();
    busbw_sum_ += r.busbw_GBps;
    ++rows_;
  }

  void end(const std::string& status) override {
    out_ << "#\n";
    if (rows_ > 0)
      out_ << "# Avg bus bandwidth: " << format_rate_GBps(busbw_sum_ / static_cast<double>(rows_)) << '\n';
    else
      out_ << "# Avg bus bandwidth: n/a (no rows)\n";
    out_ << "# status: " << status << '\n';
    out_.flush();
  }

 private:
  // The cell of an optional column (algo, rate, the model's).
  static std::string optional_cell(const Column& c, const Record& r) {
    switch (c.what) {
      case Optional::algo:
        return r.algo;
      case Optional::rate:
        return format_msg_rate(r.msg_rate_Mps);
      case Optional::model_time:
        return r.model_time_us ? format_duration_us(*r.model_time_us) : "-";
      case Optional::model_busbw:
        return r.model_busbw_GBps ? format_rate_GBps(*r.model_busbw_GBps) : "-";
      case Optional::ratio: {
        if (!r.model_time_us || r.time_us <= 0) return "-";
        const double ratio = *r.model_time_us / r.time_us;
        return ratio >= 0.01 ? fmt::format("{:.2f}", ratio) : fmt::format("{:.1e}", ratio);
      }
      case Optional::none:
        break;
    }
    return "";
  }

  // A comment whose text may span lines (MPICH's library version does): each line starts with '#'.
  void comment(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
      text.remove_suffix(1);
    std::size_t start = 0;
    while (true) {
      const std::size_t nl = text.find('\n', start);
      std::string_view line =
          text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      out_ << (start == 0 ? "" : "#   ") << line << '\n';
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }

  std::ostream& out_;
  bool show_model_ = false;
  std::optional<SeriesKey> series_;
  int job_nranks_ = 0;  // 0: no begin() (rows alone, e.g. report): no nranks= label
  std::vector<Column> columns_;
  double busbw_sum_ = 0;
  std::size_t rows_ = 0;
};

}  // namespace

std::unique_ptr<Sink> make_console_sink(std::ostream& out, const ConsoleOptions& options) {
  return make_guarded_sink<ConsoleSink>(out, options);
}

}  // namespace fb
