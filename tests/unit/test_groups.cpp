// run --split and --ranks: the spellings, the colour of each rank, the rank counts.
#include <gtest/gtest.h>

#include "harness/groups.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

TEST(SplitSpec, CanonicalAndNcclTestsSpellingsAgree) {
  for (const char* t : {"stride:2", "mod:2", "%2", "MOD 2", "mod2"})
    EXPECT_EQ(parse_split(t).name(), "stride:2") << t;
  for (const char* t : {"mask:0x7", "&0x7", "AND 0x7", "and:7"})
    EXPECT_EQ(parse_split(t).name(), "mask:0x7") << t;
  for (const char* t : {"div:8", "/8", "DIV 8"}) EXPECT_EQ(parse_split(t).name(), "div:8") << t;
  for (const char* t : {"or:0x1", "|0x1", "OR 1"}) EXPECT_EQ(parse_split(t).name(), "or:0x1") << t;
  EXPECT_EQ(parse_split("node").name(), "node");
  EXPECT_EQ(parse_split("RAIL").name(), "rail");
}

TEST(SplitSpec, BadSpellingsAreUsageErrors) {
  for (const char* t :
       {"", "nodes", "stride:", "stride:0", "%0", "/0", "mask:0xzz", "stride:-1", "stride:2x", "xor 1"})
    EXPECT_THROW(parse_split(t), UsageError) << t;
}

TEST(SplitSpec, ColorOfEachKind) {
  // rank, local rank, node: 6 ranks on 2 hosts of 3.
  const int local[] = {0, 1, 2, 0, 1, 2};
  const int node[] = {0, 0, 0, 1, 1, 1};
  const auto colors = [&](const char* spec) {
    std::vector<int> out;
    for (int r = 0; r < 6; ++r) out.push_back(split_color(parse_split(spec), r, local[r], node[r]));
    return out;
  };
  EXPECT_EQ(colors("node"), (std::vector<int>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(colors("rail"), (std::vector<int>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(colors("stride:2"), (std::vector<int>{0, 1, 0, 1, 0, 1}));
  EXPECT_EQ(colors("stride:4"), (std::vector<int>{0, 1, 2, 3, 0, 1}));
  EXPECT_EQ(colors("mask:0x2"), (std::vector<int>{0, 0, 2, 2, 0, 0}));
  EXPECT_EQ(colors("div:2"), (std::vector<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(colors("or:0x1"), (std::vector<int>{1, 1, 3, 3, 5, 5}));
}

TEST(RankCounts, ListsAndRanges) {
  EXPECT_EQ(parse_rank_counts("2,4,8", 8), (std::vector<int>{2, 4, 8}));
  EXPECT_EQ(parse_rank_counts("2,3", 4), (std::vector<int>{2, 3}));
  EXPECT_EQ(parse_rank_counts("2:4", 4), (std::vector<int>{2, 4}));
  EXPECT_EQ(parse_rank_counts("2:max", 8), (std::vector<int>{2, 4, 8}));
  EXPECT_EQ(parse_rank_counts("2:max", 6), (std::vector<int>{2, 4, 6}));  // as IMB: the job's size last
  EXPECT_EQ(parse_rank_counts("4:4", 4), (std::vector<int>{4}));
}

TEST(RankCounts, BadCountsAreUsageErrors) {
  for (const char* t : {"", "0", "2,,4", "4,2", "2,2", "8", "2:8", "4:2", "a:max", "2:", "x"})
    EXPECT_THROW(parse_rank_counts(t, 4), UsageError) << t;
}

TEST(SplitGroups, SizesInOrderOfFirstRank) {
  EXPECT_EQ(group_sizes({0, 1, 2, 3, 0, 1}), (std::vector<int>{2, 2, 1, 1}));  // stride:4 on 6 ranks
  EXPECT_EQ(group_sizes({5, 5, 1, -1, 1, 5}), (std::vector<int>{3, 2}));       // -1: in no group
  EXPECT_EQ(group_sizes({}), (std::vector<int>{}));
}

TEST(SplitGroups, UnequalSizesNamedEqualSizesPass) {
  EXPECT_EQ(unequal_groups_error({2, 2, 2}), "");
  EXPECT_EQ(unequal_groups_error({}), "");
  const std::string tail =
      "; groups must be of equal size (a row has one group size, which busbw and the model use): choose a "
      "split whose groups divide the ranks evenly";
  EXPECT_EQ(unequal_groups_error({2, 2, 1, 1}),
            "4 groups of 2, 2, 1 and 1 ranks (in order of their first rank)" + tail);
  EXPECT_EQ(unequal_groups_error({3, 2}), "2 groups of 3 and 2 ranks (in order of their first rank)" + tail);
  // Many groups: the distinct sizes with their counts, largest first.
  std::vector<int> many(60, 8);
  many.insert(many.end(), 40, 7);
  EXPECT_EQ(unequal_groups_error(many), "100 groups: 60 of 8 ranks, 40 of 7" + tail);
}

}  // namespace
}  // namespace fb
