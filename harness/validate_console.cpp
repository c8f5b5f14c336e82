// validate's console (harness/validate_console.hpp).
#include "harness/validate_console.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "vocab/units.hpp"

namespace fb {

ValidateConsole::ValidateConsole(const ValidateOptions& o, const std::vector<std::string>& hostnames)
    : o_(o), hostnames_(hostnames) {
  std::size_t longest = 1;
  for (const auto& h : hostnames_) longest = std::max(longest, h.size());
  hosts_width_ = static_cast<int>(std::max<std::size_t>(5, 2 * longest + 5));
  const std::size_t digits = std::to_string(std::max<std::size_t>(1, hostnames_.size()) - 1).size();
  pair_width_ = static_cast<int>(std::max<std::size_t>(4, 2 * digits + 5));
}

std::string ValidateConsole::pair_header() const {
  return fmt::format(
             "# pairs: bidir {} for bandwidth (per direction, both at once), pingpong {} for latency (one "
             "way);\n# ratio: bandwidth measured/model, latency model/measured; bandwidth in GB/s inside a "
             "host, Gbit/s between hosts\n",
             format_bytes(o_.bw_bytes), format_bytes(o_.lat_bytes)) +
         fmt::format("# {:>5} {:<{}} {:<{}} {:<14} {:>11} {:>11} {:>6} {:>9} {:>9} {:>6}  {}\n", "round",
                     "pair", pair_width_, "hosts", hosts_width_, "transport", "bandwidth", "model", "ratio",
                     "latency", "model", "ratio", "verdict");
}

std::string ValidateConsole::pair_verdict(const PairResult& p, bool transport_checked) {
  std::vector<std::string> why;
  if (p.has_bw && p.bw != Grade::pass) why.push_back("bandwidth");
  if (p.has_lat && p.lat != Grade::pass) why.push_back("latency");
  if (!p.transport_why.empty() && transport_checked) why.push_back("transport");
  if (p.wrong) why.push_back("wrong data");
  std::string word = p.overall == Grade::fail ? "FAIL" : p.overall == Grade::warn ? "warn" : "pass";
  if (p.bw_fast) {
    if (p.overall == Grade::pass) word = "WARN";
    why.push_back("faster than the model");
  }
  std::string s = word;
  for (std::size_t i = 0; i < why.size(); ++i) s += (i ? ", " : " (") + why[i];
  return why.empty() ? s : s + ")";
}

std::string ValidateConsole::pair_line(const PairResult& p) const {
  const auto host = [&](int r) {
    const auto i = static_cast<std::size_t>(r);
    return i < hostnames_.size() ? hostnames_[i] : std::string("?");
  };
  const bool bits = p.tier > 0;
  return fmt::format("  {:>5} {:<{}} {:<{}} {:<14} {:>11} {:>11} {:>6.2f} {:>9} {:>9} {:>6.2f}  {}\n",
                     p.round, fmt::format("{} <-> {}", p.a, p.b), pair_width_,
                     fmt::format("{} <-> {}", host(p.a), host(p.b)), hosts_width_,
                     p.transport.empty() ? "-" : p.transport, format_rate(p.bw_GBps, bits),
                     format_rate(p.model_bw_GBps, bits), p.bw_ratio, format_time_us(p.lat_us),
                     format_time_us(p.model_lat_us), p.lat_ratio, pair_verdict(p, !o_.no_transport_check));
}

std::string ValidateConsole::collective_header(bool bits) const {
  return fmt::format(
             "# collectives: time per op (median of samples started together) against the model; ratio = "
             "model/measured time; busbw in {}\n",
             bits ? "Gbit/s" : "GB/s") +
         fmt::format("# {:<22} {:>7} {:>10} {:>10} {:>6} {:>11}  {:<8} {}\n", "op/algo", "bytes", "time",
                     "model", "ratio", "busbw", "verdict", "model bottleneck");
}

std::string ValidateConsole::collective_line(const CollectiveResult& c, bool bits) const {
  const Record& r = *c.row;
  std::string verdict = c.row->wrong                       ? fmt::format("FAIL ({} wrong elements)", r.wrong)
                        : !c.modelled                      ? std::string("- (no model for this algorithm)")
                        : c.fast && c.grade == Grade::pass ? std::string("WARN (faster than the model)")
                        : c.grade == Grade::fail           ? std::string("FAIL")
                        : c.grade == Grade::warn           ? std::string("warn")
                                                           : std::string("pass");
  return fmt::format("  {:<22} {:>7} {:>10} {:>10} {:>6} {:>11}  {:<8} {}\n", r.op + "/" + r.algo,
                     format_bytes(r.bytes), format_time_us(r.time_us),
                     c.modelled ? format_time_us(*r.model_time_us) : "-",
                     c.modelled ? fmt::format("{:.2f}", c.ratio) : "-", format_rate(r.busbw_GBps, bits),
                     verdict, c.modelled ? r.model_bottleneck : "");
}

std::string ValidateConsole::ending(const Verdict& v, std::size_t npairs) const {
  std::string s;
  if (v.pair_counts[2] > 0) {
    s += fmt::format("# pairs: {} pass, {} warn, {} fail of {}; hosts (failing / all their pairs):",
                     v.pair_counts[0], v.pair_counts[1], v.pair_counts[2], npairs);
    for (const auto& h : v.hosts) s += fmt::format(" {} {}/{}", h.host, h.failing, h.all);
    s += "\n";
  }
  for (const auto& w : v.warnings) s += w + "\n";
  return s + v.line + "\n";
}

}  // namespace fb
