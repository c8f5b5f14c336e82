// Sub-groups of the job's ranks for `run`: --split (every group runs the op at once, as
// nccl-tests' NCCL_TESTS_SPLIT) and --ranks (the op on the first k ranks, k growing, as IMB's
// -npmin). Parsing and the colour function are pure; the run command splits the World with them.
#pragma once

#include <string>
#include <vector>

namespace fb {

struct SplitSpec {
  enum class Kind { none, node, rail, mod, mask, div, bit_or };
  Kind kind = Kind::none;
  unsigned long long value = 0;  // mod/div: K (>= 1); mask/bit_or: the mask
  // The canonical spelling rows carry (`group`): node, rail, stride:K, mask:0xM, div:K, or:0xM;
  // "" for none.
  std::string name() const;
};

// node | rail | stride:K | mask:0xM, and nccl-tests' NCCL_TESTS_SPLIT spellings: "MOD K", "%K",
// "AND 0xM", "&0xM", "DIV K", "/K", "OR 0xM", "|0xM" (also mod:K, and:M, div:K, or:M; any case).
// Throws UsageError naming the text.
SplitSpec parse_split(const std::string& text);

// The group a rank joins: ranks with the same colour run together. `node` is the index of the
// rank's host and `local_rank` its rank on that host (World::node(), World::local_rank()).
int split_color(const SplitSpec& spec, int rank, int local_rank, int node);

// The size of each group that ranks with these colours form (negative: in none), groups in order of
// their first rank: {0, 1, 2, 3, 0, 1} -> {2, 2, 1, 1}.
std::vector<int> group_sizes(const std::vector<int>& colours);

// Why groups of these sizes cannot run as one split, as one line ("4 groups of 2, 2, 1 and 1
// ranks; ..."); "" when every group has the same size. Long lists are cut to the distinct sizes
// with their counts ("100 groups: 60 of 8 ranks, 40 of 7").
std::string unequal_groups_error(const std::vector<int>& sizes);

// --ranks: "2,4,8" (ascending, each >= 1) or "A:B" (A, 2A, 4A, ... below B, then B; B may be
// "max": the job's size). Every count must be at most `job_size`. Throws UsageError.
std::vector<int> parse_rank_counts(const std::string& text, int job_size);

}  // namespace fb
