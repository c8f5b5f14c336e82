#include "collectives/pattern.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace fb {

namespace {

// Store an integer-valued double into one element of `dtype` (exact by construction).
void store(DType t, void* dst, double v) {
  switch (t) {
    case DType::int8: {
      auto x = static_cast<std::int8_t>(v);
      std::memcpy(dst, &x, 1);
      break;
    }
    case DType::uint8: {
      auto x = static_cast<std::uint8_t>(v);
      std::memcpy(dst, &x, 1);
      break;
    }
    case DType::int32: {
      auto x = static_cast<std::int32_t>(v);
      std::memcpy(dst, &x, 4);
      break;
    }
    case DType::uint32: {
      auto x = static_cast<std::uint32_t>(v);
      std::memcpy(dst, &x, 4);
      break;
    }
    case DType::int64: {
      auto x = static_cast<std::int64_t>(v);
      std::memcpy(dst, &x, 8);
      break;
    }
    case DType::uint64: {
      auto x = static_cast<std::uint64_t>(v);
      std::memcpy(dst, &x, 8);
      break;
    }
    case DType::float16: {
      auto x = float_to_half(static_cast<float>(v));
      std::memcpy(dst, &x, 2);
      break;
    }
    case DType::bfloat16: {
      auto x = float_to_bf16(static_cast<float>(v));
      std::memcpy(dst, &x, 2);
      break;
    }
    case DType::float32: {
      auto x = static_cast<float>(v);
      std::memcpy(dst, &x, 4);
      break;
    }
    case DType::float64:
      std::memcpy(dst, &v, 8);
      break;
  }
}

void store_poison(DType t, void* dst) {
  const std::uint64_t bits = pattern_poison_bits(t);
  std::memcpy(dst, &bits, dtype_size(t));  // little-endian: the low bytes
}

// The magnitude bound every value and result must stay below (strictly below the poison).
double bound(DType t) {
  return std::min(dtype_exact_max(t) - 1.0, 1048576.0);
}

// Cyclic copy of a one-period table into dst, starting at table element `offset % period`.
void cyclic_copy(unsigned char* dst, std::size_t count, const std::vector<unsigned char>& table,
                 std::size_t esize, std::size_t offset) {
  std::size_t j = offset % kPatternPeriod;
  while (count > 0) {
    const std::size_t n = std::min(count, kPatternPeriod - j);
    std::memcpy(dst, table.data() + j * esize, n * esize);
    dst += n * esize;
    count -= n;
    j = 0;
  }
}

}  // namespace

PatternParams make_pattern_params(DType dtype, bool reduces, RedOp redop, int nranks, std::uint64_t seed) {
  PatternParams p;
  p.dtype = dtype;
  p.reduces = reduces;
  p.redop = redop;
  p.is_signed = dtype_is_signed(dtype);
  p.nranks = nranks;
  p.seed = seed;
  const std::uint64_t n = static_cast<std::uint64_t>(std::max(nranks, 1));
  const double range = std::min(bound(dtype), 1048576.0);
  p.range = static_cast<std::uint64_t>(range);
  p.half = std::floor(range / 2);
  const double per = p.is_signed ? 1.0 : 3.0;
  const auto contributors = static_cast<std::uint64_t>(std::max(1.0, std::floor(bound(dtype) / per)));
  p.sum_stride = (n + contributors - 1) / contributors;
  const auto max_twos = static_cast<std::uint64_t>(std::max(1.0, std::floor(std::log2(bound(dtype)))));
  p.prod_stride = (n + max_twos - 1) / max_twos;
  return p;
}

Pattern::Pattern(DType dtype, bool reduces, RedOp redop, int nranks, std::uint64_t seed)
    : dtype_(dtype),
      reduces_(reduces),
      params_(make_pattern_params(dtype, reduces, redop, nranks, seed)),
      esize_(dtype_size(dtype)) {
  if (!reduces_) return;
  expected_.resize(kPatternPeriod * esize_);
  for (std::size_t j = 0; j < kPatternPeriod; ++j)
    store(dtype_, expected_.data() + j * esize_, expected_reduced(j));
}

double Pattern::value(int rank, std::size_t index) const {
  return pattern_value(params_, rank, index);
}

double Pattern::expected_reduced(std::size_t index) const {
  return pattern_expected_reduced(params_, index);
}

const std::vector<unsigned char>& Pattern::table_for(int rank) const {
  if (cached_rank_ != rank) {
    cached_table_.resize(kPatternPeriod * esize_);
    for (std::size_t j = 0; j < kPatternPeriod; ++j)
      store(dtype_, cached_table_.data() + j * esize_, value(rank, j));
    cached_rank_ = rank;
  }
  return cached_table_;
}

void Pattern::fill(void* dst, std::size_t count, int rank, std::size_t offset) const {
  cyclic_copy(static_cast<unsigned char*>(dst), count, table_for(rank), esize_, offset);
}

std::size_t Pattern::compare(const void* src, std::size_t count, const std::vector<unsigned char>& table,
                             std::size_t offset) const {
  const auto* p = static_cast<const unsigned char*>(src);
  std::size_t wrong = 0;
  std::size_t j = offset % kPatternPeriod;
  while (count > 0) {
    const std::size_t n = std::min(count, kPatternPeriod - j);
    const unsigned char* want = table.data() + j * esize_;
    if (std::memcmp(p, want, n * esize_) != 0) {
      for (std::size_t i = 0; i < n; ++i)
        if (std::memcmp(p + i * esize_, want + i * esize_, esize_) != 0) ++wrong;
    }
    p += n * esize_;
    count -= n;
    j = 0;
  }
  return wrong;
}

std::size_t Pattern::check_source(const void* src, std::size_t count, int source, std::size_t offset) const {
  return compare(src, count, table_for(source), offset);
}

std::size_t Pattern::check_reduced(const void* src, std::size_t count, std::size_t offset) const {
  // Without a reduction there is no expected_ table to compare against (it would be read empty).
  if (!reduces_) throw std::logic_error("Pattern::check_reduced on a pattern built without a reduction");
  return compare(src, count, expected_, offset);
}

std::size_t Pattern::check(const void* recv, const std::vector<Segment>& segments) const {
  const auto* base = static_cast<const unsigned char*>(recv);
  std::size_t wrong = 0;
  for (const Segment& s : segments) {
    const void* at = base + s.recv_offset * esize_;
    wrong += s.reduced ? check_reduced(at, s.count, s.source_offset)
                       : check_source(at, s.count, s.source, s.source_offset);
  }
  return wrong;
}

std::size_t Pattern::check_sum(const void* region, const SummedSegment& s) const {
  std::vector<double> want(s.count, 0.0);
  for (const Segment& p : s.parts)
    for (std::size_t i = 0; i < p.count && p.recv_offset + i < s.count; ++i)
      want[p.recv_offset + i] += value(p.source, p.source_offset + i);
  const auto* got = static_cast<const unsigned char*>(region);
  std::vector<unsigned char> one(esize_);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < s.count; ++i) {
    store(dtype_, one.data(), want[i]);
    if (std::memcmp(got + i * esize_, one.data(), esize_) != 0) ++wrong;
  }
  return wrong;
}

void fill_poison(void* dst, std::size_t count, DType dtype) {
  const std::size_t es = dtype_size(dtype);
  auto* p = static_cast<unsigned char*>(dst);
  if (count == 0) return;
  store_poison(dtype, p);
  // Doubling copy: log2(count) memcpy calls.
  std::size_t done = 1;
  while (done < count) {
    const std::size_t n = std::min(done, count - done);
    std::memcpy(p + done * es, p, n * es);
    done += n;
  }
}

}  // namespace fb
