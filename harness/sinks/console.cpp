// Console sink: an nccl-tests-shaped table. A '#' header with the run metadata, then for every
// series (backend, op, algo, dtype, redop, root, in-place) a title line and a two-line column
// header, then one right-aligned line per record, flushed as it is written.
#include <fmt/format.h>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>

#include "harness/sinks/guard.hpp"
#include "harness/sinks/sink.hpp"

namespace fb {

namespace {

// Column layout: nccl-tests widths where it has the column ("# " + 10 = 12 for the size).
constexpr std::string_view kRowFormat =
    "{:>12}  {:>12}  {:>8}  {:>6}  {:>6}  {:>5}  {:>7}  {:>7}  {:>7}  {:>6}  {:>7}  {:>7}";
constexpr std::string_view kHeaderFormat =
    "# {:>10}  {:>12}  {:>8}  {:>6}  {:>6}  {:>5}  {:>7}  {:>7}  {:>7}  {:>6}  {:>7}  {:>7}";

// nccl-tests' time format: two decimals below 100 us, one below 10 ms, none above.
std::string format_time(double us) {
  if (us >= 10000.0) return fmt::format("{:.0f}", us);
  if (us >= 100.0) return fmt::format("{:.1f}", us);
  return fmt::format("{:.2f}", us);
}

std::string redop_label(const std::string& redop) {
  return redop.empty() ? "none" : redop;
}

using SeriesKey = std::tuple<std::string, std::string, std::string, std::string, std::string, int, bool>;

SeriesKey series_of(const Record& r) {
  return {r.backend, r.op, r.algo, r.dtype, r.redop, r.root, r.inplace};
}

class ConsoleSink final : public Sink {
 public:
  explicit ConsoleSink(std::ostream& out) : out_(out) {}

  void begin(const RunMeta& m) override {
    std::string version = "# fabricbench " + m.fabricbench_version;
    if (!m.git_describe.empty()) version += " (" + m.git_describe + ")";
    comment(version);
    if (!m.command_line.empty()) comment("# command: " + m.command_line);
    if (!m.started_utc.empty()) comment("# started: " + m.started_utc);
    if (!m.mpi_library.empty()) comment("# MPI library: " + m.mpi_library);
    for (const auto& v : m.backend_versions) comment("# backend " + v);
    comment(fmt::format("# nranks {} nnodes {} ranks per node {}", m.nranks, m.nnodes, m.ranks_per_node));
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
      out_ << "#\n"
           << fmt::format("# {} {} {} dtype={} redop={} root={} {}\n", r.backend, r.op, r.algo, r.dtype,
                          redop_label(r.redop), r.root, r.inplace ? "in-place" : "out-of-place")
           << fmt::format(fmt::runtime(kHeaderFormat), "size", "count", "type", "redop", "root", "place",
                          "time", "algbw", "busbw", "#wrong", "p99", "slowest")
           << '\n'
           << fmt::format(fmt::runtime(kHeaderFormat), "(B)", "(elements)", "", "", "", "", "(us)", "(GB/s)",
                          "(GB/s)", "", "(us)", "(rank)")
           << '\n';
    }
    std::string line = fmt::format(
        fmt::runtime(kRowFormat), r.bytes, r.count, r.dtype, redop_label(r.redop), r.root,
        r.inplace ? "ip" : "oop", format_time(r.time_us), fmt::format("{:.2f}", r.algbw_GBps),
        fmt::format("{:.2f}", r.busbw_GBps), r.check_iters > 0 ? std::to_string(r.wrong) : std::string("N/A"),
        format_time(r.time_p99_us), r.slowest_rank >= 0 ? std::to_string(r.slowest_rank) : std::string("-"));
    if (r.requested_bytes != r.bytes) line += fmt::format("  (asked {})", r.requested_bytes);
    if (r.ops_per_sample > 1) line += fmt::format("  x{}", r.ops_per_sample);
    if (r.op == "sendrecv" || r.op == "bidir") line += fmt::format("  {:.3f} Mmsg/s", r.msg_rate_Mps);
    out_ << line << '\n';
    out_.flush();
    busbw_sum_ += r.busbw_GBps;
    ++rows_;
  }

  void end(const std::string& status) override {
    out_ << "#\n";
    if (rows_ > 0)
      out_ << fmt::format("# Avg bus bandwidth: {:.3f} GB/s\n", busbw_sum_ / static_cast<double>(rows_));
    else
      out_ << "# Avg bus bandwidth: n/a (no rows)\n";
    out_ << "# status: " << status << '\n';
    out_.flush();
  }

 private:
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
  std::optional<SeriesKey> series_;
  double busbw_sum_ = 0;
  std::size_t rows_ = 0;
};

}  // namespace

std::unique_ptr<Sink> make_console_sink(std::ostream& out) {
  return make_guarded_sink<ConsoleSink>(out);
}

}  // namespace fb
