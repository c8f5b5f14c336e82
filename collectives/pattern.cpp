#include "collectives/pattern.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace fb {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Store an integer-valued double into one element of `dtype` (exact by construction).
void store(DType t, void* dst, double v) {
  switch (t) {
    case DType::int8: { auto x = static_cast<std::int8_t>(v); std::memcpy(dst, &x, 1); break; }
    case DType::uint8: { auto x = static_cast<std::uint8_t>(v); std::memcpy(dst, &x, 1); break; }
    case DType::int32: { auto x = static_cast<std::int32_t>(v); std::memcpy(dst, &x, 4); break; }
    case DType::uint32: { auto x = static_cast<std::uint32_t>(v); std::memcpy(dst, &x, 4); break; }
    case DType::int64: { auto x = static_cast<std::int64_t>(v); std::memcpy(dst, &x, 8); break; }
    case DType::uint64: { auto x = static_cast<std::uint64_t>(v); std::memcpy(dst, &x, 8); break; }
    case DType::float16: { auto x = float_to_half(static_cast<float>(v)); std::memcpy(dst, &x, 2); break; }
    case DType::bfloat16: { auto x = float_to_bf16(static_cast<float>(v)); std::memcpy(dst, &x, 2); break; }
    case DType::float32: { auto x = static_cast<float>(v); std::memcpy(dst, &x, 4); break; }
    case DType::float64: std::memcpy(dst, &v, 8); break;
  }
}

void store_poison(DType t, void* dst) {
  switch (t) {
    case DType::int8: { auto x = std::numeric_limits<std::int8_t>::max(); std::memcpy(dst, &x, 1); break; }
    case DType::uint8: { auto x = std::numeric_limits<std::uint8_t>::max(); std::memcpy(dst, &x, 1); break; }
    case DType::int32: { auto x = std::numeric_limits<std::int32_t>::max(); std::memcpy(dst, &x, 4); break; }
    case DType::uint32: { auto x = std::numeric_limits<std::uint32_t>::max(); std::memcpy(dst, &x, 4); break; }
    case DType::int64: { auto x = std::numeric_limits<std::int64_t>::max(); std::memcpy(dst, &x, 8); break; }
    case DType::uint64: { auto x = std::numeric_limits<std::uint64_t>::max(); std::memcpy(dst, &x, 8); break; }
    case DType::float16:
    case DType::bfloat16: { std::uint16_t x = 0x7fc1; if (t == DType::float16) x = 0x7e01; std::memcpy(dst, &x, 2); break; }
    case DType::float32: { std::uint32_t x = 0x7fc00001u; std::memcpy(dst, &x, 4); break; }
    case DType::float64: { std::uint64_t x = 0x7ff8000000000001ull; std::memcpy(dst, &x, 8); break; }
  }
}

// The magnitude bound every value and result must stay below (strictly below the poison).
double bound(DType t) { return std::min(dtype_exact_max(t) - 1.0, 1048576.0); }

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

Pattern::Pattern(DType dtype, bool reduces, RedOp redop, int nranks, std::uint64_t seed)
    : dtype_(dtype), reduces_(reduces), redop_(redop), nranks_(nranks), seed_(seed), esize_(dtype_size(dtype)) {
  if (!reduces_) return;
  expected_.resize(kPatternPeriod * esize_);
  for (std::size_t j = 0; j < kPatternPeriod; ++j) store(dtype_, expected_.data() + j * esize_, expected_reduced(j));
}

double Pattern::value(int rank, std::size_t index) const {
  const std::size_t j = (index + seed_ * 7) % kPatternPeriod;
  const bool is_signed = dtype_is_signed(dtype_);
  const std::uint64_t r = static_cast<std::uint64_t>(rank);
  const std::uint64_t n = static_cast<std::uint64_t>(std::max(nranks_, 1));
  // Per (seed, rank, element) hash: every reduction below varies from element to element, so a
  // shifted, misplaced or swapped block never matches the expected data by accident.
  const auto h = splitmix64((seed_ << 40) ^ (r << 20) ^ j ^ (r * 0x100000001b3ull));
  if (!reduces_) {
    const double range = std::min(bound(dtype_), 1048576.0);
    double v = static_cast<double>(h % static_cast<std::uint64_t>(range));
    if (is_signed) v -= std::floor(range / 2);
    return v;
  }
  switch (redop_) {
    case RedOp::sum: {
      // At most `contributors` ranks hold a non-zero value per element: partial sums stay exact.
      const double per = is_signed ? 1.0 : 3.0;
      const auto contributors = static_cast<std::uint64_t>(std::max(1.0, std::floor(bound(dtype_) / per)));
      const std::uint64_t stride = (n + contributors - 1) / contributors;
      if ((r + j) % stride != 0) return 0.0;
      const double k = static_cast<double>(h % 3);
      return is_signed ? k - 1.0 : k + 1.0;
    }
    case RedOp::prod: {
      // Factors 1 and 2 (and -1 for signed): the product is +-2^k with k below log2(bound).
      // Only ranks on the stride may hold a 2, and each of those does so with probability 1/2.
      const auto max_twos = static_cast<std::uint64_t>(std::max(1.0, std::floor(std::log2(bound(dtype_)))));
      const std::uint64_t stride = (n + max_twos - 1) / max_twos;
      double v = ((r + j) % stride == 0 && (h & 1u) != 0) ? 2.0 : 1.0;
      if (is_signed && (h >> 1) % 7 == 0) v = -v;
      return v;
    }
    case RedOp::min:
    case RedOp::max: {
      // Values in [lo, lo + 60]. One rank per element (the "winner") holds the element's result;
      // every other rank holds a value on the losing side of it, so the result varies per element
      // for any number of ranks.
      const double lo = is_signed ? -30.0 : 0.0;
      const std::uint64_t g = splitmix64((seed_ * 0x2545f4914f6cdd1dull) ^ (j << 1) ^ 0x5bd1e995ull);
      const double target = lo + static_cast<double>((g >> 32) % 61);
      if (r == g % n) return target;
      const auto span = [](double x) { return static_cast<std::uint64_t>(x) + 1; };
      if (redop_ == RedOp::max) return lo + static_cast<double>(h % span(target - lo));
      return target + static_cast<double>(h % span(lo + 60.0 - target));
    }
  }
  return 0.0;
}

double Pattern::expected_reduced(std::size_t index) const {
  double acc = value(0, index);
  for (int r = 1; r < nranks_; ++r) {
    const double v = value(r, index);
    switch (redop_) {
      case RedOp::sum: acc += v; break;
      case RedOp::prod: acc *= v; break;
      case RedOp::min: acc = std::min(acc, v); break;
      case RedOp::max: acc = std::max(acc, v); break;
    }
  }
  return acc;
}

const std::vector<unsigned char>& Pattern::table_for(int rank) const {
  if (cached_rank_ != rank) {
    cached_table_.resize(kPatternPeriod * esize_);
    for (std::size_t j = 0; j < kPatternPeriod; ++j) store(dtype_, cached_table_.data() + j * esize_, value(rank, j));
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
