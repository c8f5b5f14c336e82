// Helpers shared by the algorithms in collectives/algorithms/: block arithmetic for uneven
// splits and byte pointers.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstring>

#include "collectives/p2p.hpp"

namespace fb::algo {

// Block b of `count` elements split into n near-equal blocks: [begin, end).
inline std::size_t block_begin(std::size_t count, int n, int b) {
  return count / n * b + std::min<std::size_t>(b, count % n);
}
inline std::size_t block_len(std::size_t count, int n, int b) {
  return count / n + (static_cast<std::size_t>(b) < count % n ? 1 : 0);
}

inline unsigned char* at(void* base, std::size_t elems, std::size_t esize) {
  return static_cast<unsigned char*>(base) + elems * esize;
}
inline const unsigned char* at(const void* base, std::size_t elems, std::size_t esize) {
  return static_cast<const unsigned char*>(base) + elems * esize;
}

inline int mod(int a, int n) { return ((a % n) + n) % n; }

constexpr int kTag = 17;

// Declarations of every algorithm (one file each); collectives/algorithms/registry.cpp lists them.
extern const CollectiveAlgorithm ring;
extern const CollectiveAlgorithm pairwise;
extern const CollectiveAlgorithm recursive_doubling;

}  // namespace fb::algo
