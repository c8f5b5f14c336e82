// Patterns and checks: the expected result of every op is exact for every dtype x redop, whatever
// order a library reduces in, and the checker counts exactly the elements that are wrong.
//
// Every op is simulated in memory for n ranks from the op's own definition (not from the
// descriptor's segments), out of place and in place (NCCL and MPI conventions), and the
// descriptor's segments must then find zero wrong elements; corrupting the result must then be
// caught element for element.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "collectives/dtype.hpp"
#include "collectives/op.hpp"
#include "collectives/pattern.hpp"
#include "collectives/reduce.hpp"

namespace fb {
namespace {

using Buf = std::vector<unsigned char>;

constexpr std::size_t kCount = 2 * kPatternPeriod + 37;  // wraps the period twice, odd tail
const std::uint64_t kSeeds[] = {0, 0x5eedf00dull};

std::string name_of(DType t) {
  return std::string(dtype_name(t));
}
std::string name_of(RedOp op) {
  return std::string(redop_name(op));
}

std::string trace(DType t, RedOp op, int n, std::uint64_t seed) {
  return name_of(t) + " " + name_of(op) + " n=" + std::to_string(n) + " seed=" + std::to_string(seed);
}

Buf filled(const Pattern& p, std::size_t count, int rank, std::size_t offset) {
  Buf b(count * dtype_size(p.dtype()));
  p.fill(b.data(), count, rank, offset);
  return b;
}

Buf poisoned(std::size_t count, DType t) {
  Buf b(count * dtype_size(t));
  fill_poison(b.data(), count, t);
  return b;
}

// Elements whose bytes differ: an independent recount of what the checker should report.
std::size_t count_diff(const Buf& a, const Buf& b, DType t) {
  const std::size_t es = dtype_size(t);
  EXPECT_EQ(a.size(), b.size());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i + es <= std::min(a.size(), b.size()); i += es)
    if (std::memcmp(a.data() + i, b.data() + i, es) != 0) ++wrong;
  return wrong;
}

// Elements of `b` equal to the poison element, byte for byte.
std::size_t count_poison(const Buf& b, DType t) {
  const Buf p = poisoned(1, t);
  const std::size_t es = dtype_size(t);
  std::size_t hits = 0;
  for (std::size_t i = 0; i + es <= b.size(); i += es)
    if (std::memcmp(b.data() + i, p.data(), es) == 0) ++hits;
  return hits;
}

double decode(DType t, const unsigned char* p) {
  switch (t) {
    case DType::int8: {
      std::int8_t x;
      std::memcpy(&x, p, 1);
      return x;
    }
    case DType::uint8: {
      std::uint8_t x;
      std::memcpy(&x, p, 1);
      return x;
    }
    case DType::int32: {
      std::int32_t x;
      std::memcpy(&x, p, 4);
      return x;
    }
    case DType::uint32: {
      std::uint32_t x;
      std::memcpy(&x, p, 4);
      return x;
    }
    case DType::int64: {
      std::int64_t x;
      std::memcpy(&x, p, 8);
      return static_cast<double>(x);
    }
    case DType::uint64: {
      std::uint64_t x;
      std::memcpy(&x, p, 8);
      return static_cast<double>(x);
    }
    case DType::float16: {
      std::uint16_t x;
      std::memcpy(&x, p, 2);
      return half_to_float(x);
    }
    case DType::bfloat16: {
      std::uint16_t x;
      std::memcpy(&x, p, 2);
      return bf16_to_float(x);
    }
    case DType::float32: {
      float x;
      std::memcpy(&x, p, 4);
      return x;
    }
    case DType::float64: {
      double x;
      std::memcpy(&x, p, 8);
      return x;
    }
  }
  return 0;
}

// ---- reductions in several orders ----------------------------------------------------------

enum class Order { sequential, reverse, tree, rotated };
const Order kOrders[] = {Order::sequential, Order::reverse, Order::tree, Order::rotated};
const char* order_name(Order o) {
  switch (o) {
    case Order::sequential:
      return "sequential";
    case Order::reverse:
      return "reverse";
    case Order::tree:
      return "tree";
    case Order::rotated:
      return "rotated";
  }
  return "?";
}

// Reduce the ranks' buffers the way different libraries would:
//  sequential  ((r0 op r1) op r2) op ...
//  reverse     r0 op (r1 op (... op r(n-1))), operands swapped relative to sequential
//  tree        pairwise: (r0 op r1) op (r2 op r3), level by level (recursive halving)
//  rotated     a ring: starts at rank n/2 and wraps around, as one chunk of a ring all-reduce
Buf reduce_all(const std::vector<Buf>& in, std::size_t count, DType t, RedOp op, Order order) {
  const std::size_t n = in.size();
  switch (order) {
    case Order::sequential: {
      Buf acc = in[0];
      for (std::size_t i = 1; i < n; ++i) reduce_into(acc.data(), acc.data(), in[i].data(), count, t, op);
      return acc;
    }
    case Order::reverse: {
      Buf acc = in[n - 1];
      for (std::size_t i = n - 1; i-- > 0;) reduce_into(acc.data(), in[i].data(), acc.data(), count, t, op);
      return acc;
    }
    case Order::tree: {
      std::vector<Buf> level = in;
      while (level.size() > 1) {
        std::vector<Buf> next;
        for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
          reduce_inplace(level[i].data(), level[i + 1].data(), count, t, op);
          next.push_back(std::move(level[i]));
        }
        if (level.size() % 2 == 1) next.push_back(std::move(level.back()));
        level = std::move(next);
      }
      return level[0];
    }
    case Order::rotated: {
      const std::size_t start = n / 2;
      Buf acc = in[start];
      for (std::size_t k = 1; k < n; ++k) {
        const Buf& x = in[(start + k) % n];
        // Alternate operand order as a ring would between its reduce and copy steps.
        if (k % 2)
          reduce_into(acc.data(), x.data(), acc.data(), count, t, op);
        else
          reduce_inplace(acc.data(), x.data(), count, t, op);
      }
      return acc;
    }
  }
  return {};
}

// For thousands of ranks: one streaming pass over the ranks feeds three reductions at once
// (left-to-right, operand-swapped, and a binary-counter pairwise tree) without storing all buffers.
struct StreamingReductions {
  DType t;
  RedOp op;
  std::size_t count;
  Buf seq, swapped;
  std::vector<std::pair<int, Buf>> tree;  // (level, partial), levels strictly decreasing

  void add(const Buf& x) {
    if (seq.empty()) {
      seq = swapped = x;
    } else {
      reduce_inplace(seq.data(), x.data(), count, t, op);
      reduce_into(swapped.data(), x.data(), swapped.data(), count, t, op);
    }
    tree.emplace_back(0, x);
    while (tree.size() >= 2 && tree[tree.size() - 1].first == tree[tree.size() - 2].first) {
      auto top = std::move(tree.back());
      tree.pop_back();
      reduce_inplace(tree.back().second.data(), top.second.data(), count, t, op);
      ++tree.back().first;
    }
  }
  Buf tree_result() {
    while (tree.size() >= 2) {
      auto top = std::move(tree.back());
      tree.pop_back();
      reduce_inplace(tree.back().second.data(), top.second.data(), count, t, op);
    }
    return tree.back().second;
  }
};

class PatternByDType : public ::testing::TestWithParam<DType> {};

std::string dtype_param_name(const ::testing::TestParamInfo<DType>& info) {
  return name_of(info.param);
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, PatternByDType, ::testing::ValuesIn(all_dtypes()), dtype_param_name);

// Every element is an integer inside the dtype's exact range (unsigned: not negative) and is not
// the poison value. Returns the number of failing elements.
std::size_t count_out_of_range(const Buf& b, DType t) {
  const std::size_t es = dtype_size(t);
  const double lim = dtype_exact_max(t);
  std::size_t bad = count_poison(b, t);
  for (std::size_t i = 0; i + es <= b.size(); i += es) {
    const double v = decode(t, b.data() + i);
    if (!(v == std::floor(v)) || !(std::fabs(v) < lim) || (!dtype_is_signed(t) && v < 0)) ++bad;
  }
  return bad;
}

// Adjacent elements that differ. A checker comparing against a constant would pass shifted or
// misplaced data, so every expected reduction must vary along the buffer.
std::size_t count_changes(const Buf& b, DType t) {
  const std::size_t es = dtype_size(t);
  std::size_t changes = 0;
  for (std::size_t i = es; i + es <= b.size(); i += es)
    if (std::memcmp(b.data() + i - es, b.data() + i, es) != 0) ++changes;
  return changes;
}

// Order independence holds for every order, not just the ones simulated, if the worst case is
// bounded: per element, the sum of |v| over all ranks (sum) or the product of |v| (prod) stays
// inside the exact range, so every partial result of every order is exact. Random data rarely
// gets near the worst case, so this is asserted directly.
struct WorstCase {
  DType t;
  RedOp op;
  std::vector<double> acc;
  WorstCase(DType t_, RedOp op_, std::size_t count)
      : t(t_), op(op_), acc(count, op_ == RedOp::prod ? 1.0 : 0.0) {}
  void add(const Buf& b) {
    const std::size_t es = dtype_size(t);
    for (std::size_t i = 0; i < acc.size(); ++i) {
      const double v = std::fabs(decode(t, b.data() + i * es));
      if (op == RedOp::sum) acc[i] += v;
      if (op == RedOp::prod) acc[i] *= v;
    }
  }
  double max() const { return acc.empty() ? 0.0 : *std::max_element(acc.begin(), acc.end()); }
};

// The expected reduction is exact whatever order the ranks are combined in: no tolerance.
void expect_exact_for_every_order(DType t, RedOp op, int n, std::uint64_t seed, std::size_t count,
                                  std::size_t offset) {
  SCOPED_TRACE(trace(t, op, n, seed) + " offset=" + std::to_string(offset));
  const Pattern p(t, true, op, n, seed);
  std::vector<Buf> in;
  in.reserve(static_cast<std::size_t>(n));
  WorstCase worst(t, op, count);
  for (int r = 0; r < n; ++r) {
    in.push_back(filled(p, count, r, offset));
    ASSERT_EQ(count_out_of_range(in.back(), t), 0u) << "rank " << r << "'s data: out of range or poison";
    worst.add(in.back());
  }
  EXPECT_LT(worst.max(), dtype_exact_max(t)) << "a partial result could leave the exact range";
  for (Order o : kOrders) {
    const Buf got = reduce_all(in, count, t, op, o);
    EXPECT_EQ(p.check_reduced(got.data(), count, offset), 0u) << order_name(o);
    if (o == Order::sequential) {
      EXPECT_EQ(count_out_of_range(got, t), 0u) << "result out of range or poison";
      EXPECT_GT(count_changes(got, t), count / 4) << "the expected result barely varies";
    }
  }
  // No expected element is the poison value: a poisoned buffer is wrong everywhere.
  const Buf poison = poisoned(count, t);
  EXPECT_EQ(p.check_reduced(poison.data(), count, offset), count);
}

TEST_P(PatternByDType, ReductionIsExactInEveryOrderSmallRankCounts) {
  const DType t = GetParam();
  for (RedOp op : all_redops())
    for (int n = 1; n <= 8; ++n)
      for (std::uint64_t seed : kSeeds)
        expect_exact_for_every_order(t, op, n, seed, kCount, seed == 0 ? 0 : 1234);
}

TEST_P(PatternByDType, ReductionIsExactInEveryOrder300Ranks) {
  const DType t = GetParam();
  // 1037 elements from pattern element 4000: crosses the period boundary. Cost is dominated by
  // building each rank's one-period table, not by the count. 300 ranks exceed the sum
  // contributor limit of the 8- and 16-bit types (126, 84, 255; float16: at 2047, see below) and
  // the product limit of all types; the wide types' sums are unlimited at this count, so they
  // run prod and min only.
  std::vector<RedOp> ops = {RedOp::prod, RedOp::min};
  if (dtype_size(t) <= 2) ops = all_redops();
  for (RedOp op : ops) expect_exact_for_every_order(t, op, 300, 17, 1037, 4000);
}

// 5000 ranks: beyond float16's 2047 sum contributors, and 5000 factors of at most 2^7 in bfloat16.
// 300 ranks already exceed the sum limits of the 8-bit types and bfloat16 and every dtype's
// product limit; these cases add what only thousands of ranks reach. One streaming pass feeds
// three reduction orders; building 5000 one-period tables is most of the cost.
struct BigCase {
  DType t;
  RedOp op;
};
class Pattern5000Ranks : public ::testing::TestWithParam<BigCase> {};
INSTANTIATE_TEST_SUITE_P(Cases, Pattern5000Ranks,
                         ::testing::Values(BigCase{DType::float16, RedOp::sum},
                                           BigCase{DType::bfloat16, RedOp::prod}),
                         [](const ::testing::TestParamInfo<BigCase>& info) {
                           return name_of(info.param.t) + "_" + name_of(info.param.op);
                         });

TEST_P(Pattern5000Ranks, ReductionIsExactInEveryOrder) {
  const auto [t, op] = GetParam();
  const int n = 5000;
  const std::size_t count = 1037;
  const std::size_t offset = 4000;
  SCOPED_TRACE(trace(t, op, n, 3));
  const Pattern p(t, true, op, n, 3);
  StreamingReductions s{t, op, count, {}, {}, {}};
  Buf x(count * dtype_size(t));
  std::size_t bad_inputs = 0;
  WorstCase worst(t, op, count);
  for (int r = 0; r < n; ++r) {
    p.fill(x.data(), count, r, offset);
    bad_inputs += count_out_of_range(x, t);
    worst.add(x);
    s.add(x);
  }
  EXPECT_EQ(bad_inputs, 0u);
  EXPECT_LT(worst.max(), dtype_exact_max(t)) << "a partial result could leave the exact range";
  EXPECT_EQ(p.check_reduced(s.seq.data(), count, offset), 0u) << "sequential";
  EXPECT_EQ(p.check_reduced(s.swapped.data(), count, offset), 0u) << "operand-swapped";
  const Buf tree = s.tree_result();
  EXPECT_EQ(p.check_reduced(tree.data(), count, offset), 0u) << "tree";
  EXPECT_EQ(count_out_of_range(s.seq, t), 0u);
  EXPECT_GT(count_changes(s.seq, t), count / 4);
  const Buf poison = poisoned(count, t);
  EXPECT_EQ(p.check_reduced(poison.data(), count, offset), count);
}

// Data-movement values: integers inside the exact range, never the poison, spread over it.
// (Reduction patterns are checked the same way, rank by rank, in the reduction tests above.)
TEST_P(PatternByDType, DataValuesStayInsideTheExactRange) {
  const DType t = GetParam();
  for (int n : {1, 8}) {
    const Pattern p(t, false, RedOp::sum, n, 5);
    for (int r = 0; r < n; ++r) {
      const Buf b = filled(p, kPatternPeriod, r, 0);
      EXPECT_EQ(count_out_of_range(b, t), 0u) << "rank " << r;
      EXPECT_GT(count_changes(b, t), kPatternPeriod * 9 / 10) << "rank " << r;
    }
  }
}

// ---- the Pattern interface -----------------------------------------------------------------

TEST_P(PatternByDType, FillIsPeriodicOffsetableAndMatchesValue) {
  const DType t = GetParam();
  const std::size_t es = dtype_size(t);
  for (bool reduces : {false, true}) {
    const Pattern p(t, reduces, RedOp::sum, 4, 9);
    const Buf whole = filled(p, 3 * kPatternPeriod, 2, 0);
    for (std::size_t j = 0; j < 3 * kPatternPeriod; j += 13)
      ASSERT_EQ(decode(t, whole.data() + j * es), p.value(2, j)) << j;
    for (std::size_t off :
         {std::size_t{0}, std::size_t{1}, kPatternPeriod - 1, kPatternPeriod, kPatternPeriod + 5}) {
      const Buf part = filled(p, 100, 2, off);
      ASSERT_EQ(std::memcmp(part.data(), whole.data() + off * es, part.size()), 0) << off;
      EXPECT_EQ(p.check_source(whole.data() + off * es, 100, 2, off), 0u);
      EXPECT_EQ(p.check_source(part.data(), 100, 2, off + kPatternPeriod), 0u);  // offsets are periodic
    }
    EXPECT_EQ(p.check_source(whole.data(), 0, 2, 0), 0u);
  }
}

TEST_P(PatternByDType, DeterministicAndDistinctPerRankAndSeed) {
  const DType t = GetParam();
  const Pattern a(t, false, RedOp::sum, 8, 1);
  const Pattern b(t, false, RedOp::sum, 8, 1);
  const Pattern other_seed(t, false, RedOp::sum, 8, 2);
  const Buf a3 = filled(a, kCount, 3, 0);
  EXPECT_EQ(a3, filled(b, kCount, 3, 0));
  // Data-movement values spread over the dtype's range: another rank's or seed's data is wrong
  // almost everywhere.
  EXPECT_GT(a.check_source(a3.data(), kCount, 4, 0), kCount * 9 / 10);
  EXPECT_GT(other_seed.check_source(a3.data(), kCount, 3, 0), kCount * 9 / 10);
  EXPECT_EQ(b.check_source(a3.data(), kCount, 3, 0), 0u);
  EXPECT_GT(a.check_source(a3.data(), kCount, 3, 1), kCount * 9 / 10);  // off by one element
}

TEST(Pattern, CheckReducedNeedsAReducingPattern) {
  const Pattern p(DType::float32, false, RedOp::sum, 4, 0);
  const Buf b = filled(p, 10, 0, 0);
  EXPECT_THROW(p.check_reduced(b.data(), 10, 0), std::logic_error);
}

TEST_P(PatternByDType, PoisonIsNeverAValue) {
  const DType t = GetParam();
  const Buf poison = poisoned(kCount, t);
  EXPECT_EQ(count_poison(poison, t), kCount);
  const Pattern data(t, false, RedOp::sum, 8, 0);
  for (int r = 0; r < 8; ++r) EXPECT_EQ(data.check_source(poison.data(), kCount, r, 0), kCount);
  // Floats: a NaN; integers: the type's maximum.
  if (dtype_is_float(t)) {
    EXPECT_TRUE(std::isnan(decode(t, poison.data())));
  } else if (t == DType::int64) {
    std::int64_t x;
    std::memcpy(&x, poison.data(), 8);
    EXPECT_EQ(x, std::numeric_limits<std::int64_t>::max());
  } else if (t == DType::uint64) {
    std::uint64_t x;
    std::memcpy(&x, poison.data(), 8);
    EXPECT_EQ(x, std::numeric_limits<std::uint64_t>::max());
  } else {
    EXPECT_EQ(decode(t, poison.data()), dtype_exact_max(t));
  }
  Buf empty;
  fill_poison(empty.data(), 0, t);  // count 0 writes nothing
}

// ---- ops simulated in memory ---------------------------------------------------------------

struct SimResult {
  std::vector<OpLayout> layouts;
  std::vector<Buf> buffers;          // per rank: the receive buffer, or the one in-place buffer
  std::vector<std::size_t> offsets;  // per rank: where the receive region starts in buffers[r]
};

// Every rank's send data: its pattern from element 0, `count` elements (the largest send buffer
// the caller needs; smaller sizes use a prefix). Built once per pattern: each rank's table costs
// a period of pattern values.
std::vector<Buf> inputs_for(const Pattern& pat, int n, std::size_t count) {
  std::vector<Buf> in;
  for (int r = 0; r < n; ++r) in.push_back(filled(pat, count, r, 0));
  return in;
}

// Run `op` for n ranks from its definition. Out of place: each rank's receive buffer starts
// poisoned. In place: one buffer per rank, poisoned, with the rank's send data where the op's
// in-place convention puts it (NCCL: all-gather input at rank*count, reduce-scatter output at
// rank*recvcount; MPI_IN_PLACE: reduce-scatter output at 0).
SimResult simulate(const OpDescriptor& op, const Pattern& pat, RedOp redop, int n, int root, std::size_t req,
                   bool inplace, InPlaceConvention conv, const std::vector<Buf>& sends) {
  const DType t = pat.dtype();
  const std::size_t es = dtype_size(t);
  const auto nn = static_cast<std::size_t>(n);
  SimResult s;
  for (int r = 0; r < n; ++r) s.layouts.push_back(op.layout(req, t, n, r, conv));
  const std::size_t block = s.layouts[0].block;

  std::vector<Buf> input(nn);  // what each rank contributes, read before anything is written
  for (int r = 0; r < n; ++r) {
    const OpLayout& l = s.layouts[static_cast<std::size_t>(r)];
    const Buf& send = sends[static_cast<std::size_t>(r)];
    EXPECT_GE(send.size(), l.send_count * es);
    input[static_cast<std::size_t>(r)].assign(send.begin(),
                                              send.begin() + static_cast<std::ptrdiff_t>(l.send_count * es));
    std::size_t send_at = 0;
    std::size_t recv_at = 0;
    if (inplace) {
      if (op.kind == OpKind::allgather || op.kind == OpKind::gather)
        send_at = static_cast<std::size_t>(r) * block;
      if ((op.kind == OpKind::reducescatter && conv == InPlaceConvention::nccl) || op.kind == OpKind::scatter)
        recv_at = static_cast<std::size_t>(r) * block;
      EXPECT_EQ(l.inplace_send_offset, send_at);
      EXPECT_EQ(l.inplace_recv_offset, recv_at);
      Buf b = poisoned(l.buffer_count(true), t);
      if (l.send_count)
        std::memcpy(b.data() + send_at * es, input[static_cast<std::size_t>(r)].data(), l.send_count * es);
      s.buffers.push_back(std::move(b));
    } else {
      s.buffers.push_back(poisoned(l.recv_count, t));
    }
    s.offsets.push_back(recv_at);
  }

  const auto reduce_range = [&](std::size_t from, std::size_t count) {
    Buf acc(input[0].begin() + static_cast<std::ptrdiff_t>(from * es),
            input[0].begin() + static_cast<std::ptrdiff_t>((from + count) * es));
    for (std::size_t k = 1; k < nn; ++k)
      reduce_inplace(acc.data(), input[k].data() + from * es, count, t, redop);
    return acc;
  };
  for (int r = 0; r < n; ++r) {
    const auto ur = static_cast<std::size_t>(r);
    unsigned char* out = s.buffers[ur].data() + s.offsets[ur] * es;
    const auto put = [&](std::size_t at, const unsigned char* from, std::size_t count) {
      if (count) std::memcpy(out + at * es, from, count * es);
    };
    const int peer = pair_peer(r, n);
    switch (op.kind) {
      case OpKind::allreduce: {
        const Buf red = reduce_range(0, s.layouts[ur].count);
        put(0, red.data(), s.layouts[ur].count);
        break;
      }
      case OpKind::reducescatter: {
        const Buf red = reduce_range(ur * block, block);
        put(0, red.data(), block);
        break;
      }
      case OpKind::allgather:
        for (std::size_t k = 0; k < nn; ++k) put(k * block, input[k].data(), block);
        break;
      case OpKind::alltoall:
        for (std::size_t k = 0; k < nn; ++k) put(k * block, input[k].data() + ur * block * es, block);
        break;
      case OpKind::broadcast:
        put(0, input[static_cast<std::size_t>(root)].data(), s.layouts[ur].count);
        break;
      case OpKind::sendrecv:  // ring shift: from r - 1
        put(0, input[static_cast<std::size_t>((r + n - 1) % n)].data(), s.layouts[ur].count);
        break;
      case OpKind::unidir:
        if (peer >= 0 && !pair_is_sender(r, n))
          put(0, input[static_cast<std::size_t>(peer)].data(), s.layouts[ur].count);
        break;
      case OpKind::bidir:
      case OpKind::pingpong:
        if (peer >= 0) put(0, input[static_cast<std::size_t>(peer)].data(), s.layouts[ur].count);
        break;
      case OpKind::relay:  // the sender gets its own message back
        if (peer >= 0)
          put(0, input[static_cast<std::size_t>(pair_is_sender(r, n) ? r : peer)].data(),
              s.layouts[ur].count);
        break;
      case OpKind::reduce:  // the root alone
        if (r == root) {
          const Buf red = reduce_range(0, s.layouts[ur].count);
          put(0, red.data(), s.layouts[ur].count);
        }
        break;
      case OpKind::gather:
        if (r == root)
          for (std::size_t k = 0; k < nn; ++k) put(k * block, input[k].data(), block);
        break;
      case OpKind::scatter:
        put(0, input[static_cast<std::size_t>(root)].data() + ur * block * es, block);
        break;
      case OpKind::alltoallv:  // each source's block for r, where the counts put it
      case OpKind::moe_dispatch:
      case OpKind::moe_combine:  // the exchange (combine's sum: test_moe.cpp)
        for (std::size_t k = 0; k < nn; ++k) {
          const OpLayout& mine = s.layouts[ur];
          const OpLayout& src = s.layouts[k];
          put(mine.recv_off(static_cast<int>(k)), input[k].data() + src.send_off(r) * es,
              mine.recv_len(static_cast<int>(k)));
        }
        break;
    }
  }
  return s;
}

// The same, building the ranks' send data for this one size.
SimResult simulate(const OpDescriptor& op, const Pattern& pat, RedOp redop, int n, int root, std::size_t req,
                   bool inplace, InPlaceConvention conv) {
  const std::size_t send_count = op.layout(req, pat.dtype(), n, 0, conv).send_count;
  return simulate(op, pat, redop, n, root, req, inplace, conv, inputs_for(pat, n, send_count));
}

std::size_t check_rank(const OpDescriptor& op, const Pattern& pat, const SimResult& s, int r, int n,
                       int root) {
  const auto ur = static_cast<std::size_t>(r);
  const auto segs = op.segments(s.layouts[ur], r, n, root);
  return pat.check(s.buffers[ur].data() + s.offsets[ur] * dtype_size(pat.dtype()), segs);
}

// Sizes for one op: per-rank blocks of kBlock elements (each wraps the pattern period, and block
// offsets r * kBlock never line up with it) plus a remainder that rounding drops, a small odd size,
// and zero.
constexpr std::size_t kBlock = kPatternPeriod + 37;
std::vector<std::size_t> sizes_for(const OpDescriptor& op, DType t, int n) {
  const std::size_t es = dtype_size(t);
  const auto nn = static_cast<std::size_t>(n);
  const bool split = op.kind == OpKind::alltoall || op.kind == OpKind::allgather ||
                     op.kind == OpKind::reducescatter || op.kind == OpKind::gather ||
                     op.kind == OpKind::scatter || op.kind == OpKind::alltoallv;
  const std::size_t big = split ? (kBlock * nn + nn - 1) * es + es - 1 : kBlock * es + es - 1;
  if (n == 3 || n == 8) return {big, 1001, 0};  // small sizes: blocks of 0 or a few elements
  return {big};
}

TEST_P(PatternByDType, EveryOpSimulatedPassesItsCheck) {
  const DType t = GetParam();
  for (const OpDescriptor* op : all_ops()) {
    const std::vector<RedOp> redops = op->reduces ? all_redops() : std::vector<RedOp>{RedOp::sum};
    for (RedOp redop : redops) {
      // 1, powers of two, odd counts and an even count that is not a power of two.
      for (int n : {1, 2, 3, 5, 6, 8}) {
        if (n < op->min_ranks) continue;
        const std::uint64_t seed = static_cast<std::uint64_t>(n) * 31 + static_cast<std::uint64_t>(redop);
        const Pattern pat(t, op->reduces, redop, n, seed);
        std::vector<int> roots = {0};
        if (op->rooted && n > 1) roots.push_back(n - 1);
        const auto sizes = sizes_for(*op, t, n);  // the first is the largest
        const std::vector<Buf> sends =
            inputs_for(pat, n, op->layout(sizes[0], t, n, 0, InPlaceConvention::nccl).send_count);
        for (std::size_t req : sizes) {
          for (int root : roots) {
            for (int variant = 0; variant < (op->has_inplace ? 3 : 1); ++variant) {
              const bool inplace = variant > 0;
              const InPlaceConvention conv = variant == 2 ? InPlaceConvention::mpi : InPlaceConvention::nccl;
              if (variant == 2 && op->kind != OpKind::reducescatter) continue;  // only it differs
              SCOPED_TRACE(std::string(op->name) + " " + trace(t, redop, n, seed) +
                           " bytes=" + std::to_string(req) + " root=" + std::to_string(root) +
                           (inplace ? (conv == InPlaceConvention::nccl ? " in-place(nccl)" : " in-place(mpi)")
                                    : " out-of-place"));
              const SimResult s = simulate(*op, pat, redop, n, root, req, inplace, conv, sends);
              for (int r = 0; r < n; ++r) EXPECT_EQ(check_rank(*op, pat, s, r, n, root), 0u) << "rank " << r;
            }
          }
        }
      }
    }
  }
}

// ---- the checker catches corruption --------------------------------------------------------

void flip_bit(Buf& b, std::size_t element, std::size_t es, bool high) {
  unsigned char& byte = b[element * es + (high ? es - 1 : 0)];
  byte = static_cast<unsigned char>(byte ^ (high ? 0x80u : 0x01u));
}

TEST_P(PatternByDType, CatchesOneFlippedElement) {
  const DType t = GetParam();
  const std::size_t es = dtype_size(t);
  const std::size_t positions[] = {0, 1, 1234, kPatternPeriod - 1, kPatternPeriod, kBlock - 1, kBlock};
  const int n = 4;
  for (const OpDescriptor* op : all_ops()) {
    if (vocab::is_moe(op->kind)) continue;  // a summed region and whole tokens: test_moe.cpp
    const std::vector<RedOp> redops = op->reduces ? all_redops() : std::vector<RedOp>{RedOp::sum};
    for (RedOp redop : redops) {
      SCOPED_TRACE(std::string(op->name) + " " + trace(t, redop, n, 7));
      const Pattern pat(t, op->reduces, redop, n, 7);
      const int r = n - 1;                  // receives in every op (the upper half receives in sendrecv)
      const int root = op->rooted ? r : 0;  // reduce and gather: the root alone receives
      SimResult s =
          simulate(*op, pat, redop, n, root, sizes_for(*op, t, n)[0], false, InPlaceConvention::nccl);
      Buf& recv = s.buffers[static_cast<std::size_t>(r)];
      ASSERT_EQ(check_rank(*op, pat, s, r, n, root), 0u);
      const std::size_t elems = recv.size() / es;
      for (std::size_t at : positions) {
        for (bool high : {false, true}) {
          if (at >= elems) continue;
          flip_bit(recv, at, es, high);
          EXPECT_EQ(check_rank(*op, pat, s, r, n, root), 1u)
              << "element " << at << (high ? " high bit" : " low bit");
          flip_bit(recv, at, es, high);
        }
      }
      // Two flips, far apart: two wrong.
      flip_bit(recv, 3, es, false);
      flip_bit(recv, elems - 2, es, true);
      EXPECT_EQ(check_rank(*op, pat, s, r, n, root), 2u);
    }
  }
}

TEST_P(PatternByDType, CatchesOneElementLeftAsPoison) {
  const DType t = GetParam();
  const std::size_t es = dtype_size(t);
  const int n = 3;
  for (const OpDescriptor* op : all_ops()) {
    if (vocab::is_moe(op->kind)) continue;  // a summed region and whole tokens: test_moe.cpp
    const std::vector<RedOp> redops = op->reduces ? all_redops() : std::vector<RedOp>{RedOp::sum};
    for (RedOp redop : redops) {
      SCOPED_TRACE(std::string(op->name) + " " + trace(t, redop, n, 11));
      const Pattern pat(t, op->reduces, redop, n, 11);
      const int r = n - 2;  // rank 1 receives in every op with 3 ranks (pairs: 0 <-> 1, 2 sits out)
      const int root = op->rooted ? r : 0;  // reduce and gather: the root alone receives
      SimResult s =
          simulate(*op, pat, redop, n, root, sizes_for(*op, t, n)[0], false, InPlaceConvention::nccl);
      Buf& recv = s.buffers[static_cast<std::size_t>(r)];
      const Buf good = recv;
      for (std::size_t at : {std::size_t{0}, kPatternPeriod + 3, recv.size() / es - 1}) {
        fill_poison(recv.data() + at * es, 1, t);  // the op "forgot" this element
        EXPECT_EQ(check_rank(*op, pat, s, r, n, root), 1u) << "element " << at;
        recv = good;
      }
      // A whole run never written (a lost block or message): every element of it counted.
      const std::size_t elems = recv.size() / es;
      fill_poison(recv.data() + elems / 3 * es, elems / 3, t);
      EXPECT_EQ(check_rank(*op, pat, s, r, n, root), elems / 3);
      // Nothing written at all.
      fill_poison(recv.data(), recv.size() / es, t);
      EXPECT_EQ(check_rank(*op, pat, s, r, n, root), recv.size() / es);
    }
  }
}

TEST_P(PatternByDType, CatchesDataShiftedByOneElement) {
  const DType t = GetParam();
  const std::size_t es = dtype_size(t);
  for (const OpDescriptor* op : all_ops()) {
    if (vocab::is_moe(op->kind)) continue;  // a summed region and whole tokens: test_moe.cpp
    const std::vector<RedOp> redops = op->reduces ? all_redops() : std::vector<RedOp>{RedOp::sum};
    for (RedOp redop : redops) {
      for (int n : {2, 5}) {
        SCOPED_TRACE(std::string(op->name) + " " + trace(t, redop, n, 13));
        const Pattern pat(t, op->reduces, redop, n, 13);
        const int r = n / 2;  // receives in every op (the odd rank out of the pairwise ops is n - 1)
        const int root = op->rooted ? r : 0;  // reduce and gather: the root alone receives
        SimResult s =
            simulate(*op, pat, redop, n, root, sizes_for(*op, t, n)[0], false, InPlaceConvention::nccl);
        Buf& recv = s.buffers[static_cast<std::size_t>(r)];
        const Buf good = recv;
        const std::size_t elems = recv.size() / es;
        // Early by one: element i holds what belongs at i + 1 (the last keeps its value).
        std::memmove(recv.data(), recv.data() + es, (elems - 1) * es);
        std::size_t expect = count_diff(recv, good, t);
        EXPECT_EQ(check_rank(*op, pat, s, r, n, root), expect) << "early";
        EXPECT_GT(expect, elems / 4) << "early";
        // Late by one: element i holds what belongs at i - 1, element 0 never written.
        recv = good;
        std::memmove(recv.data() + es, recv.data(), (elems - 1) * es);
        fill_poison(recv.data(), 1, t);
        expect = count_diff(recv, good, t);
        EXPECT_EQ(check_rank(*op, pat, s, r, n, root), expect) << "late";
        EXPECT_GT(expect, elems / 4) << "late";
      }
    }
  }
}

TEST_P(PatternByDType, CatchesSwappedRankBlocks) {
  const DType t = GetParam();
  const std::size_t es = dtype_size(t);
  const int n = 4;
  // All-gather and all-to-all: blocks from ranks 1 and 2 land in each other's place.
  for (OpKind k : {OpKind::allgather, OpKind::alltoall}) {
    const OpDescriptor& op = op_descriptor(k);
    SCOPED_TRACE(std::string(op.name) + " " + name_of(t));
    const Pattern pat(t, false, RedOp::sum, n, 21);
    SimResult s = simulate(op, pat, RedOp::sum, n, 0, sizes_for(op, t, n)[0], false, InPlaceConvention::nccl);
    for (int r = 0; r < n; ++r) {
      Buf& recv = s.buffers[static_cast<std::size_t>(r)];
      const Buf good = recv;
      const std::size_t block = s.layouts[0].block;
      std::swap_ranges(recv.begin() + static_cast<std::ptrdiff_t>(block * es),
                       recv.begin() + static_cast<std::ptrdiff_t>(2 * block * es),
                       recv.begin() + static_cast<std::ptrdiff_t>(2 * block * es));
      const std::size_t expect = count_diff(recv, good, t);
      EXPECT_EQ(check_rank(op, pat, s, r, n, 0), expect) << "rank " << r;
      EXPECT_GT(expect, block) << "rank " << r;  // nearly all of both blocks
    }
  }
  // Reduce-scatter: ranks 1 and 2 end up with each other's block of the reduction.
  for (RedOp redop : all_redops()) {
    const OpDescriptor& op = op_descriptor(OpKind::reducescatter);
    SCOPED_TRACE(std::string(op.name) + " " + trace(t, redop, n, 23));
    const Pattern pat(t, true, redop, n, 23);
    SimResult s = simulate(op, pat, redop, n, 0, sizes_for(op, t, n)[0], false, InPlaceConvention::nccl);
    const Buf good1 = s.buffers[1];
    std::swap(s.buffers[1], s.buffers[2]);
    const std::size_t expect = count_diff(s.buffers[1], good1, t);
    EXPECT_EQ(check_rank(op, pat, s, 1, n, 0), expect);
    EXPECT_EQ(check_rank(op, pat, s, 2, n, 0), count_diff(s.buffers[2], s.buffers[1], t));
    EXPECT_GT(expect, s.layouts[0].block / 4);
  }
  // All-reduce: a rank that added one rank's data twice and another's not at all.
  for (RedOp redop : {RedOp::sum, RedOp::prod}) {
    SCOPED_TRACE("allreduce duplicate " + trace(t, redop, n, 25));
    const Pattern pat(t, true, redop, n, 25);
    std::vector<Buf> in;
    for (int r = 0; r < n; ++r) in.push_back(filled(pat, kCount, r, 0));
    in[2] = in[1];
    const Buf got = reduce_all(in, kCount, t, redop, Order::sequential);
    in[2] = filled(pat, kCount, 2, 0);
    const Buf good = reduce_all(in, kCount, t, redop, Order::sequential);
    const std::size_t expect = count_diff(got, good, t);
    EXPECT_EQ(pat.check_reduced(got.data(), kCount, 0), expect);
    EXPECT_GT(expect, kCount / 8);
  }
}

}  // namespace
}  // namespace fb
