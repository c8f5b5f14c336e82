// alltoallv's counts distributions (vocab/counts.hpp).
#include "vocab/counts.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace {

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw UsageError(why + " ('" + text + "'; expected uniform, zipf:S, hot:K:F or matrix:FILE)");
}

double number(const std::string& text, const std::string& s, const char* what) {
  const auto x = parse_number(s);
  if (!x) bad(text, std::string("bad ") + what + " '" + s + "'");
  return *x;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

void read_matrix(CountsSpec& spec, const std::string& text, const std::string& path) {
  std::ifstream in(path);
  if (!in) bad(text, "cannot read the matrix file '" + path + "'");
  std::vector<std::vector<double>> rows;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream ls(line);
    std::vector<double> row;
    std::string tok;
    while (ls >> tok) {
      const double w = number(text, tok, "weight");
      if (w < 0) bad(text, path + ":" + std::to_string(lineno) + ": negative weight '" + tok + "'");
      row.push_back(w);
    }
    if (!row.empty()) rows.push_back(std::move(row));
  }
  if (rows.empty()) bad(text, path + ": no rows");
  const std::size_t n = rows.size();
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (rows[i].size() != n)
      bad(text, path + ": row " + std::to_string(i + 1) + " has " + std::to_string(rows[i].size()) +
                    " weights; a matrix of " + std::to_string(n) + " rows needs " + std::to_string(n));
    for (double w : rows[i]) {
      spec.weights.push_back(w);
      sum += w;
    }
  }
  if (!(sum > 0)) bad(text, path + ": every weight is 0");
  spec.matrix_n = static_cast<int>(n);
}

// splitmix64: a portable seeded sequence (the same on every rank and every standard library).
std::uint64_t mix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// order[k]: who holds place k in a seeded ranking of n (0 = the most popular).
std::vector<int> seeded_order(int n, std::uint64_t seed) {
  std::vector<int> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::uint64_t state = seed;
  for (int i = n - 1; i > 0; --i) std::swap(order[i], order[mix(state) % static_cast<std::uint64_t>(i + 1)]);
  return order;
}

// place[j]: rank j's place in a seeded ranking of the n ranks (0 = the most popular).
std::vector<int> seeded_places(int n, std::uint64_t seed) {
  const std::vector<int> order = seeded_order(n, seed);
  std::vector<int> place(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) place[order[k]] = k;
  return place;
}

}  // namespace

std::string CountsSpec::unrunnable(int n) const {
  if (kind == Kind::hot && hot > n)
    return "counts " + text + ": " + std::to_string(hot) + " hot destinations on " + std::to_string(n) +
           " ranks";
  if (kind == Kind::matrix && matrix_n != n)
    return "counts " + text + ": the matrix is " + std::to_string(matrix_n) + " x " +
           std::to_string(matrix_n) + ", the job has " + std::to_string(n) + " ranks";
  return "";
}

CountsSpec parse_counts(const std::string& text, std::uint64_t seed) {
  CountsSpec s;
  s.text = text;
  s.seed = seed;
  const std::string::size_type colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (kind == "uniform" && colon == std::string::npos) {
    s.kind = CountsSpec::Kind::uniform;
  } else if (kind == "zipf" && colon != std::string::npos) {
    s.kind = CountsSpec::Kind::zipf;
    s.exponent = number(text, rest, "exponent");
    if (s.exponent < 0 || s.exponent > 16) bad(text, "zipf's exponent must be in [0, 16]");
  } else if (kind == "hot" && colon != std::string::npos) {
    const auto parts = split(rest, ':');
    if (parts.size() != 2) bad(text, "hot takes K:F");
    const double k = number(text, parts[0], "hot count");
    if (k < 1 || k != std::floor(k) || k > (1 << 24)) bad(text, "K must be a whole number >= 1");
    s.kind = CountsSpec::Kind::hot;
    s.hot = static_cast<int>(k);
    s.fraction = number(text, parts[1], "fraction");
    if (s.fraction < 0 || s.fraction > 1) bad(text, "F must be a fraction in [0, 1]");
  } else if (kind == "matrix" && !rest.empty()) {
    s.kind = CountsSpec::Kind::matrix;
    read_matrix(s, text, rest);
  } else {
    bad(text, "unknown counts distribution");
  }
  return s;
}

std::vector<double> count_weights(const CountsSpec& spec, int n) {
  const std::size_t N = static_cast<std::size_t>(n);
  std::vector<double> w(N * N, 1.0);
  if (spec.kind == CountsSpec::Kind::matrix) return spec.weights;
  if (spec.kind == CountsSpec::Kind::uniform) return w;
  const std::vector<int> place = seeded_places(n, spec.seed);
  std::vector<double> col(N);
  for (std::size_t j = 0; j < N; ++j) {
    if (spec.kind == CountsSpec::Kind::zipf) {
      col[j] = std::pow(static_cast<double>(place[j] + 1), -spec.exponent);
    } else {  // hot: the first K places
      const bool hot = place[j] < spec.hot;
      col[j] = spec.hot >= n ? 1.0 : hot ? spec.fraction / spec.hot : (1 - spec.fraction) / (n - spec.hot);
    }
  }
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < N; ++j) w[i * N + j] = col[j];
  return w;
}

CountsMatrix::CountsMatrix(const CountsSpec& spec, int n, std::size_t elems) : n_(n) {
  if (auto why = spec.unrunnable(n); !why.empty()) throw UsageError(why);
  const std::size_t N = static_cast<std::size_t>(n);
  c_.assign(N * N, 0);
  if (spec.kind == CountsSpec::Kind::uniform) {
    std::fill(c_.begin(), c_.end(), elems / N);  // exactly alltoall's blocks
  } else {
    const std::vector<double> w = count_weights(spec, n);
    long double sum = 0;
    for (double x : w) sum += x;
    const long double target = static_cast<long double>(elems) * N;
    // floor(w / sum x target), a hair above the exact quotient so equal weights split exactly.
    for (std::size_t k = 0; k < N * N; ++k)
      c_[k] = static_cast<std::size_t>(std::floor(w[k] / sum * target * (1 + 1e-15L)));
  }
  sum_up();
}

CountsMatrix::CountsMatrix(std::vector<std::size_t> counts, int n) : n_(n), c_(std::move(counts)) {
  sum_up();
}

void CountsMatrix::sum_up() {
  total_ = max_rank_ = 0;
  for (std::size_t v : c_) total_ += v;
  for (int r = 0; r < n_; ++r) max_rank_ = std::max({max_rank_, sent(r), received(r)});
}

std::vector<double> expert_weights(const CountsSpec& spec, int n, int source) {
  const int epr = std::max(spec.moe.experts_per_rank, 1);
  const std::size_t E = static_cast<std::size_t>(n) * static_cast<std::size_t>(epr);
  std::vector<double> w(E, 1.0);
  if (spec.kind == CountsSpec::Kind::uniform) return w;
  if (spec.kind == CountsSpec::Kind::matrix) {
    for (std::size_t e = 0; e < E; ++e)
      w[e] = spec.weights[static_cast<std::size_t>(source) * static_cast<std::size_t>(spec.matrix_n) +
                          e / static_cast<std::size_t>(epr)] /
             epr;
    return w;
  }
  // Each weight set where its place is known (the expert at place k), with no place array.
  const std::vector<int> order = seeded_order(static_cast<int>(E), spec.seed);
  const int K = spec.hot, En = static_cast<int>(E);
  if (spec.kind == CountsSpec::Kind::zipf) {
    for (std::size_t k = 0; k < E; ++k)
      w[static_cast<std::size_t>(order[k])] = std::pow(static_cast<double>(k + 1), -spec.exponent);
  } else if (K < En) {  // hot: the first K places
    std::fill(w.begin(), w.end(), (1 - spec.fraction) / (En - K));
    for (int k = 0; k < K; ++k)
      w[static_cast<std::size_t>(order[static_cast<std::size_t>(k)])] = spec.fraction / K;
  }
  return w;
}

namespace {

// Water-filling: experts whose share would exceed `tokens` are capped there, the rest share what is
// left in proportion to their weights. Each expert's quota is a function of its weight and the
// final (wsum, left), so it is computed where needed rather than stored: no per-expert long double
// arrays (at 2^22 experts they were most of the time).
struct WaterFill {
  std::vector<char> capped;  // empty until an expert is capped (at scale, none is)
  bool is_capped(std::size_t e) const { return !capped.empty() && capped[e]; }
  long double cap = 0, left = 0, wsum = 0;
  long double quota(const std::vector<double>& w, std::size_t e) const {
    return is_capped(e) ? cap : wsum > 0 ? w[e] / wsum * left : 0;
  }
};

WaterFill water_fill(const std::vector<double>& w, long double tokens, int topk) {
  const std::size_t E = w.size(), k = static_cast<std::size_t>(topk);
  WaterFill f;
  const long double total = tokens * k;
  f.cap = tokens;
  std::size_t positive = 0;
  for (bool changed = true, first = true; changed; first = false) {
    changed = false;
    f.left = total;
    f.wsum = 0;
    double heaviest = -1;  // the largest weight not capped
    for (std::size_t e = 0; e < E; ++e) {
      if (first) positive += w[e] > 0 ? 1 : 0;
      if (f.is_capped(e)) {
        f.left -= tokens;
      } else {
        f.wsum += w[e];
        heaviest = std::max(heaviest, w[e]);
      }
    }
    if (first && (topk < 1 || k > positive))
      throw UsageError("topk " + std::to_string(topk) +
                       " needs that many experts with traffic; the routing has " + std::to_string(positive));
    // A quota rises with its weight (rounding is monotonic): when the heaviest expert left fits
    // under the cap every one does, and nothing changes. Otherwise, once a weight is seen to
    // exceed the cap every larger one does, and every smaller one of a weight seen not to: one
    // division per distinct weight at most.
    const auto over_cap = [&](double x) { return (f.wsum > 0 ? x / f.wsum * f.left : 0) > f.cap; };
    if (heaviest < 0 || !over_cap(heaviest)) break;
    double ok = -1, over = std::numeric_limits<double>::infinity();
    if (f.capped.empty()) f.capped.assign(E, 0);
    for (std::size_t e = 0; e < E; ++e) {
      if (f.capped[e] || w[e] <= ok) continue;
      if (w[e] >= over || over_cap(w[e])) {
        f.capped[e] = changed = true;
        over = std::min(over, w[e]);
      } else {
        ok = w[e];
      }
    }
  }
  return f;
}

}  // namespace

std::vector<double> expert_shares(const std::vector<double>& w, double tokens, int topk) {
  if (!(tokens > 0)) throw UsageError("tokens per rank must be positive");
  const WaterFill f = water_fill(w, tokens, topk);
  std::vector<double> s(w.size());
  for (std::size_t e = 0; e < w.size(); ++e) s[e] = static_cast<double>(f.quota(w, e));
  return s;
}

std::vector<std::size_t> expert_loads(const std::vector<double>& w, std::size_t tokens, int topk) {
  const std::size_t E = w.size(), k = static_cast<std::size_t>(topk);
  const WaterFill f = water_fill(w, static_cast<long double>(tokens), topk);
  const auto quota = [&](std::size_t e) { return f.quota(w, e); };
  // Largest remainders: floor every quota, then one more token to the largest fractional parts
  // (lower index first on ties) until the loads sum to tokens x topk.
  std::vector<std::size_t> load(E);
  std::size_t given = 0;
  // (Most quotas are below one at scale: their floor is 0 and their remainder the quota itself,
  // with no x87 rounding-mode switch.)
  const auto floor_of = [](long double x) { return x < 1 ? 0 : std::floor(x); };
  double zero = -1;  // the largest weight seen to floor to 0 (every smaller uncapped one does)
  for (std::size_t e = 0; e < E; ++e) {
    if (!f.is_capped(e) && w[e] <= zero) {
      load[e] = 0;
      continue;
    }
    const long double hair = quota(e) * (1 + 1e-15L);
    load[e] = hair < 1 ? 0 : std::min(tokens, static_cast<std::size_t>(std::floor(hair)));
    if (load[e] == 0 && !f.is_capped(e)) zero = std::max(zero, w[e]);
    given += load[e];
  }
  // The extra tokens go to the first want - given experts, in (remainder descending, index
  // ascending) order, that can take one: kept in a heap of that many whose top is the worst, one
  // pass over the experts (O(E) when few displace it, as when remainders repeat or fall).
  const std::size_t want = tokens * k;
  if (given < want) {
    struct Cand {
      long double rem;
      std::size_t e;
    };
    const auto before = [](const Cand& a, const Cand& b) {
      return a.rem > b.rem || (a.rem == b.rem && a.e < b.e);
    };
    std::vector<Cand> heap;
    const std::size_t extra = want - given;
    heap.reserve(std::min(extra, E));
    for (std::size_t e = 0; e < E; ++e) {
      if (load[e] >= tokens || w[e] <= 0) continue;
      // A full heap whose worst floored to 0 keeps it against an expert that floored to 0 with
      // no more weight: its remainder (its quota) is no larger, and its index is.
      if (heap.size() == extra && load[e] == 0 && load[heap.front().e] == 0 && w[e] <= w[heap.front().e])
        continue;
      const long double q = quota(e);
      const Cand c{q - floor_of(q), e};
      if (heap.size() < extra) {
        heap.push_back(c);
        std::push_heap(heap.begin(), heap.end(), before);
      } else if (before(c, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), before);
        heap.back() = c;
        std::push_heap(heap.begin(), heap.end(), before);
      }
    }
    for (const Cand& c : heap) ++load[c.e];
    given += heap.size();
  }
  for (std::size_t e = 0; given < want && e < E; ++e)  // only if rounding left some (never more than E)
    while (given < want && load[e] < tokens && w[e] > 0) {
      ++load[e];
      ++given;
    }
  return load;
}

std::vector<std::size_t> moe_token_counts(const CountsSpec& spec, int n, std::size_t tokens) {
  if (auto why = moe_unrunnable(spec, n); !why.empty()) throw UsageError(why);
  const std::size_t N = static_cast<std::size_t>(n),
                    epr = static_cast<std::size_t>(spec.moe.experts_per_rank);
  std::vector<std::size_t> c(N * N, 0);
  std::vector<std::size_t> loads;
  for (int i = 0; i < n; ++i) {
    // Every source sees the same weights except under a matrix: compute them once.
    if (i == 0 || spec.kind == CountsSpec::Kind::matrix)
      loads = expert_loads(expert_weights(spec, n, i), tokens, spec.moe.topk);
    for (std::size_t e = 0; e < loads.size(); ++e) c[static_cast<std::size_t>(i) * N + e / epr] += loads[e];
  }
  return c;
}

std::string counts_label(const CountsSpec& spec, bool moe) {
  std::string s = spec.text;
  if (spec.kind == CountsSpec::Kind::zipf || spec.kind == CountsSpec::Kind::hot)
    s += " seed=" + std::to_string(spec.seed);
  if (moe)
    s += " topk=" + std::to_string(spec.moe.topk) +
         " experts_per_rank=" + std::to_string(spec.moe.experts_per_rank) +
         " hidden=" + std::to_string(spec.moe.hidden);
  return s;
}

std::size_t moe_tokens(const MoeShape& m, std::size_t elems) {
  if (m.tokens > 0) return m.tokens;
  const std::size_t per = static_cast<std::size_t>(std::max(m.topk, 1)) * std::max<std::size_t>(m.hidden, 1);
  return elems / per;
}

std::string moe_unrunnable(const CountsSpec& spec, int n) {
  const long long experts = static_cast<long long>(n) * spec.moe.experts_per_rank;
  const std::string of_experts = std::to_string(experts) + " experts (" + std::to_string(n) + " ranks x " +
                                 std::to_string(spec.moe.experts_per_rank) + " per rank)";
  // hot:K picks K hot experts (expert_weights), not ranks: 8 hot experts on 4 ranks of 4 is fine.
  if (spec.kind == CountsSpec::Kind::hot) {
    if (spec.hot > experts)
      return "counts " + spec.text + ": " + std::to_string(spec.hot) + " hot experts on " + of_experts;
  } else if (auto why = spec.unrunnable(n); !why.empty()) {
    return why;
  }
  if (spec.moe.topk > experts)
    return "topk " + std::to_string(spec.moe.topk) + " is more than the " + of_experts;
  return "";
}

std::size_t CountsMatrix::sent(int i) const {
  std::size_t s = 0;
  for (int j = 0; j < n_; ++j) s += at(i, j);
  return s;
}

std::size_t CountsMatrix::received(int j) const {
  std::size_t s = 0;
  for (int i = 0; i < n_; ++i) s += at(i, j);
  return s;
}

double CountsMatrix::imbalance() const {
  if (total_ == 0) return 1;
  return static_cast<double>(max_rank_) * n_ / static_cast<double>(total_);
}

std::uint64_t CountsMatrix::digest() const {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t v : c_)
    for (int b = 0; b < 8; ++b) {
      h ^= (static_cast<std::uint64_t>(v) >> (8 * b)) & 0xff;
      h *= 1099511628211ull;
    }
  return h;
}

std::optional<CountsSpec> parse_counts_label(const std::string& label) {
  std::istringstream in(label);
  std::string text, kv;
  if (!(in >> text)) return std::nullopt;
  CountsSpec s;
  std::uint64_t seed = 1;
  MoeShape moe;
  try {
    while (in >> kv) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos) return std::nullopt;
      const std::string k = kv.substr(0, eq);
      const unsigned long long v = std::stoull(kv.substr(eq + 1));
      if (k == "seed")
        seed = v;
      else if (k == "topk")
        moe.topk = static_cast<int>(v);
      else if (k == "experts_per_rank")
        moe.experts_per_rank = static_cast<int>(v);
      else if (k == "hidden")
        moe.hidden = v;
      else
        return std::nullopt;
    }
    s = parse_counts(text, seed);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  s.moe = moe;
  return s;
}

}  // namespace fb
