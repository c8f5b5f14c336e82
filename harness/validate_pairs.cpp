// validate's pair matrix (harness/validate_pairs.hpp).
#include "harness/validate_pairs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "harness/results_reader.hpp"

namespace fb {

namespace {

std::string csv_text(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string num(double v) {
  return fmt::format("{:.6g}", v);
}

}  // namespace

PairRounds pair_rounds(int n, const ValidateOptions& o) {
  PairRounds rounds;
  if (o.no_pairs) return rounds;
  if (o.pairs_alone) {
    for (int a = 0; a < n; ++a)
      for (int b = a + 1; b < n; ++b) rounds.push_back({{a, b}});
  } else {
    rounds = round_robin_rounds(n);
  }
  return rounds;
}

std::string round_context(const std::vector<std::string>& hostnames,
                          const std::vector<std::pair<int, int>>& round) {
  std::string context;
  for (auto [a, b] : round) {
    if (context.size() > 200) {
      context += ", ...";
      break;
    }
    context += fmt::format("{}{} {} <-> {} {}", context.empty() ? "pair " : ", ", a,
                           hostnames[static_cast<std::size_t>(a)], b, hostnames[static_cast<std::size_t>(b)]);
  }
  return context;
}

MatrixWriter::MatrixWriter(const std::string& path) : out_(path) {
  if (!out_) throw std::runtime_error("cannot open '" + path + "' for writing");
  out_ << kValidateMatrixHeader << "\n" << std::flush;
}

void MatrixWriter::pair(const PairResult& p, const ValidateOptions& o) {
  out_ << p.round << ',' << p.a << ',' << p.b << ',' << csv_text(p.host_a) << ',' << csv_text(p.host_b) << ','
       << p.tier << ',' << csv_text(p.transport) << ',' << (p.transport_why.empty() ? 1 : 0) << ','
       << (p.has_bw ? std::to_string(o.bw_bytes) : "") << ',' << (p.has_bw ? num(p.bw_time_us) : "") << ','
       << (p.has_bw ? num(p.bw_GBps) : "") << ',' << (p.has_bw ? num(p.model_bw_GBps) : "") << ','
       << (p.has_bw ? num(p.bw_ratio) : "") << ',' << (p.has_bw ? grade_name(p.bw) : "") << ','
       << (p.has_lat ? std::to_string(o.lat_bytes) : "") << ',' << (p.has_lat ? num(p.lat_us) : "") << ','
       << (p.has_lat ? num(p.model_lat_us) : "") << ',' << (p.has_lat ? num(p.lat_ratio) : "") << ','
       << (p.has_lat ? grade_name(p.lat) : "") << ',' << csv_text(p.bottleneck) << ',' << p.wrong << ','
       << grade_name(p.overall) << "\n"
       << std::flush;
}

SampleStats pair_stats(const std::vector<double>& all, int iters, int a, int b, double divisor) {
  std::vector<double> two;
  two.reserve(static_cast<std::size_t>(2 * iters));
  for (int r : {a, b})
    for (int i = 0; i < iters; ++i) two.push_back(all[static_cast<std::size_t>(r * iters + i)] / divisor);
  return compute_stats(two, 2, iters);
}

PairResult grade_pair(int a, int b, const model::FlowPrediction& pa, const model::FlowPrediction& pb,
                      const SampleStats& sb, const SampleStats& sl, const ValidateOptions& o,
                      double (&expected_us)[2]) {
  PairResult p;
  p.a = a;
  p.b = b;
  p.tier = pa.tier;
  p.bottleneck = pa.GBps <= pb.GBps ? pa.bottleneck : pb.bottleneck;
  const double expected_bw =
      std::max(pa.time_us(static_cast<double>(o.bw_bytes)), pb.time_us(static_cast<double>(o.bw_bytes)));
  const double expected_lat =
      std::max(pa.time_us(static_cast<double>(o.lat_bytes)), pb.time_us(static_cast<double>(o.lat_bytes)));
  expected_us[0] = expected_bw;
  expected_us[1] = expected_lat;
  p.has_bw = p.has_lat = true;
  p.bw_time_us = sb.p50;
  p.bw_GBps = sb.p50 > 0 ? static_cast<double>(o.bw_bytes) / sb.p50 / 1e3 : 0;
  p.model_bw_GBps = static_cast<double>(o.bw_bytes) / expected_bw / 1e3;
  p.bw_ratio = sb.p50 > 0 ? expected_bw / sb.p50 : 0;
  p.bw = classify(p.bw_ratio, o.bw_pass, o.bw_warn);
  p.bw_fast = above_max_ratio(p.bw_ratio, o);
  p.lat_us = sl.p50;
  p.model_lat_us = expected_lat;
  p.lat_ratio = sl.p50 > 0 ? expected_lat / sl.p50 : 0;
  p.lat = classify(p.lat_ratio, o.lat_pass, o.lat_warn);
  return p;
}

}  // namespace fb
