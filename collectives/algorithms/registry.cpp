// Every collective algorithm fabricbench implements over P2P (one file each beside this one).
#include <algorithm>

#include "collectives/algorithms/common.hpp"

namespace fb {

const std::vector<const CollectiveAlgorithm*>& collective_algorithms() {
  static const std::vector<const CollectiveAlgorithm*> v{&algo::ring, &algo::recursive_doubling, &algo::pairwise};
  return v;
}

const CollectiveAlgorithm* find_collective_algorithm(std::string_view name) {
  for (const auto* a : collective_algorithms())
    if (a->name == name) return a;
  return nullptr;
}

bool algorithm_supports(const CollectiveAlgorithm& a, OpKind op) {
  return std::find(a.ops.begin(), a.ops.end(), op) != a.ops.end();
}

}  // namespace fb
