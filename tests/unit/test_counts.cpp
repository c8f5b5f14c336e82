// alltoallv's counts distributions (vocab/counts.hpp): parsing, the shapes the distributions
// promise, scaling to the requested average, determinism under a seed, and the matrix file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "vocab/counts.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/fb_counts_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Counts, ParsesEveryDistribution) {
  EXPECT_EQ(parse_counts("uniform", 1).kind, CountsSpec::Kind::uniform);
  const CountsSpec z = parse_counts("zipf:1.2", 3);
  EXPECT_EQ(z.kind, CountsSpec::Kind::zipf);
  EXPECT_DOUBLE_EQ(z.exponent, 1.2);
  EXPECT_EQ(z.seed, 3u);
  const CountsSpec h = parse_counts("hot:2:0.75", 1);
  EXPECT_EQ(h.kind, CountsSpec::Kind::hot);
  EXPECT_EQ(h.hot, 2);
  EXPECT_DOUBLE_EQ(h.fraction, 0.75);
  EXPECT_EQ(h.text, "hot:2:0.75");
}

TEST(Counts, BadValuesAreUsageErrorsNamingThem) {
  for (const char* bad :
       {"", "uniform:1", "zipf", "zipf:", "zipf:x", "zipf:-1", "hot:2", "hot:0:0.5", "hot:1.5:0.5",
        "hot:2:1.5", "hot:2:-0.1", "matrix:", "matrix:/nonexistent/m.txt", "poisson:3"}) {
    try {
      parse_counts(bad, 1);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(Counts, UniformIsAlltoallsSplit) {
  for (int n = 1; n <= 9; ++n)
    for (std::size_t elems : {0ul, 1ul, 7ul, 1000ul, 12345ul}) {
      const CountsMatrix m(parse_counts("uniform", 1), n, elems);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) ASSERT_EQ(m.at(i, j), elems / n);
      EXPECT_DOUBLE_EQ(m.imbalance(), 1.0);
      EXPECT_EQ(m.max_rank(), elems / n * n);
    }
}

// Every rank sends the average; receivers follow 1/(k+1)^S of their seeded place, so the most
// popular rank receives the most and the imbalance grows with S.
TEST(Counts, ZipfSkewsTheReceivers) {
  const int n = 8;
  const std::size_t elems = 1 << 20;
  double last = 1;
  for (double s : {0.0, 0.5, 1.2, 2.0}) {
    const CountsMatrix m(parse_counts("zipf:" + std::to_string(s), 5), n, elems);
    for (int i = 0; i < n; ++i) {
      EXPECT_LE(m.sent(i), elems);
      EXPECT_GE(m.sent(i), elems - n);  // floor of each of n pairs
    }
    std::size_t most = 0;
    for (int j = 0; j < n; ++j) most = std::max(most, m.received(j));
    EXPECT_EQ(m.max_rank(), most);
    if (s == 0.0) {
      EXPECT_NEAR(m.imbalance(), 1.0, 1e-5);
    } else {
      EXPECT_GT(m.imbalance(), last);
    }
    last = m.imbalance();
    // zipf:1.2 on 8 ranks: the top rank's share is 1 / H(8, 1.2) = 0.42863 of all traffic.
    if (s == 1.2) {
      EXPECT_NEAR(static_cast<double>(most) / m.total(), 0.42863, 1e-4);
    }
  }
}

TEST(Counts, TheSeedChoosesThePopularRanksDeterministically) {
  const auto top = [](std::uint64_t seed) {
    const CountsMatrix m(parse_counts("zipf:1.5", seed), 16, 1 << 16);
    int best = 0;
    for (int j = 1; j < 16; ++j)
      if (m.received(j) > m.received(best)) best = j;
    return best;
  };
  EXPECT_EQ(top(1), top(1));
  const CountsMatrix a(parse_counts("zipf:1.5", 1), 16, 1 << 16), b(parse_counts("zipf:1.5", 1), 16, 1 << 16);
  EXPECT_EQ(a.digest(), b.digest());
  bool moved = false;
  for (std::uint64_t seed = 2; seed < 10 && !moved; ++seed) moved = top(seed) != top(1);
  EXPECT_TRUE(moved) << "the seed never changes the ranking";
}

TEST(Counts, HotDestinationsCarryTheirFraction) {
  const int n = 8;
  const std::size_t elems = 800000;
  const CountsMatrix m(parse_counts("hot:2:0.6", 9), n, elems);
  int hot = 0;
  std::size_t hot_bytes = 0;
  for (int j = 0; j < n; ++j)
    if (m.at(0, j) > elems / n) {
      ++hot;
      hot_bytes += m.received(j);
    }
  EXPECT_EQ(hot, 2);
  EXPECT_NEAR(static_cast<double>(hot_bytes) / m.total(), 0.6, 1e-5);  // up to the cold pairs' flooring
  // Each hot rank receives 0.3 of everything: 0.3 x 8 = 2.4 times the mean.
  EXPECT_NEAR(m.imbalance(), 2.4, 1e-5);
  EXPECT_FALSE(parse_counts("hot:9:0.5", 1).unrunnable(8).empty());
  EXPECT_THROW(CountsMatrix(parse_counts("hot:9:0.5", 1), 8, 100), UsageError);
}

TEST(Counts, ScaledToTheAverageAndMonotoneInTheSize) {
  const CountsSpec spec = parse_counts("zipf:1.1", 4);
  const int n = 6;
  CountsMatrix prev(spec, n, 0);
  for (std::size_t elems = 1; elems < 200000; elems = elems * 3 + 1) {
    const CountsMatrix m(spec, n, elems);
    EXPECT_LE(m.total(), elems * n);
    EXPECT_GE(m.total() + static_cast<std::size_t>(n * n), elems * n);
    // The buffers of the largest size hold every smaller one: no pair shrinks as the size grows.
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) ASSERT_LE(prev.at(i, j), m.at(i, j));
    prev = m;
  }
}

TEST(Counts, MatrixFileGivesRelativeWeights) {
  const std::string path = write_temp("# 3 ranks\n1 2 1\n0, 0, 4  # rank 1 sends to rank 2 only\n1 1 2\n");
  const CountsSpec spec = parse_counts("matrix:" + path, 1);
  EXPECT_EQ(spec.matrix_n, 3);
  const CountsMatrix m(spec, 3, 1200);  // 3600 elements over weights summing to 12: 300 each
  EXPECT_EQ(m.at(0, 0), 300u);
  EXPECT_EQ(m.at(0, 1), 600u);
  EXPECT_EQ(m.at(1, 0), 0u);
  EXPECT_EQ(m.at(1, 2), 1200u);
  EXPECT_EQ(m.at(2, 2), 600u);
  EXPECT_EQ(m.total(), 3600u);
  // Rank 2 receives 300 + 1200 + 600 = 2100: 1.75 times the mean of 1200.
  EXPECT_EQ(m.max_rank(), 2100u);
  EXPECT_DOUBLE_EQ(m.imbalance(), 1.75);
  EXPECT_FALSE(spec.unrunnable(4).empty());
  EXPECT_TRUE(spec.unrunnable(3).empty());
  std::remove(path.c_str());

  for (const char* bad : {"1 2\n3\n", "1 -1\n1 1\n", "0 0\n0 0\n", "1 x\n1 1\n", "# nothing\n"}) {
    const std::string p = write_temp(bad);
    EXPECT_THROW(parse_counts("matrix:" + p, 1), UsageError) << bad;
    std::remove(p.c_str());
  }
}

}  // namespace
}  // namespace fb
