// Deterministic data patterns whose expected results are exact for every dtype x redop, and the
// checks that count wrong elements. No float tolerance is ever needed:
//  - data-movement values are integers inside the dtype's exact range;
//  - sum: each rank contributes an integer in [-1, 1] (signed) or [1, 3] (unsigned), and only
//    enough ranks contribute per element that every partial sum stays exact in the dtype;
//  - prod: factors are 1, 2 (and -1 for signed types), with at most log2(range) factors of 2;
//  - min/max: any values in range (no arithmetic happens).
// Patterns repeat with a prime period (kPatternPeriod elements), so fill is a cyclic copy and
// the expected reduction is precomputed once per (dtype, redop, nranks, seed) in O(period x n).
// The receive buffer is poisoned before a checked op with a value no pattern produces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "collectives/dtype.hpp"
#include "collectives/op.hpp"
#include "collectives/pattern_math.hpp"

namespace fb {

// Rank `rank`'s pattern (for `op`'s role: reduced ops use the reduction pattern) over one period.
class Pattern {
 public:
  // `reduces`: whether the data will be reduced with `redop` (else the redop is ignored).
  Pattern(DType dtype, bool reduces, RedOp redop, int nranks, std::uint64_t seed);

  DType dtype() const { return dtype_; }
  // The resolved parameters, for device kernels that compute the same values
  // (collectives/pattern_math.hpp).
  const PatternParams& params() const { return params_; }
  // Write `count` elements of rank `rank`'s data, starting at pattern element `offset`.
  void fill(void* dst, std::size_t count, int rank, std::size_t offset) const;
  // Count elements of `src` that differ from rank `source`'s data from element `offset` on.
  std::size_t check_source(const void* src, std::size_t count, int source, std::size_t offset) const;
  // Count elements that differ from the reduction over all ranks from element `offset` on.
  std::size_t check_reduced(const void* src, std::size_t count, std::size_t offset) const;
  // Count wrong elements in a receive region against a descriptor's segments.
  std::size_t check(const void* recv, const std::vector<Segment>& segments) const;
  // Count wrong elements of one summed segment (moe_combine); `region` holds its `count`
  // elements (the receive buffer from the segment's recv_offset on).
  std::size_t check_sum(const void* region, const SummedSegment& s) const;

  // One element value (as double) of rank `rank` at pattern index `index`; for tests.
  double value(int rank, std::size_t index) const;
  double expected_reduced(std::size_t index) const;

 private:
  const std::vector<unsigned char>& table_for(int rank) const;
  std::size_t compare(const void* src, std::size_t count, const std::vector<unsigned char>& table,
                      std::size_t offset) const;

  DType dtype_;
  bool reduces_;
  PatternParams params_;
  std::size_t esize_;
  mutable int cached_rank_ = -1;
  mutable std::vector<unsigned char> cached_table_;  // one period of cached_rank_'s data
  std::vector<unsigned char> expected_;              // one period of the reduction (reduces_ only)
};

// Fill `count` elements with the poison value for `dtype` (NaN for floats, the type's maximum for
// integers: no pattern or expected result ever takes it).
void fill_poison(void* dst, std::size_t count, DType dtype);

}  // namespace fb
