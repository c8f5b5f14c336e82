// Sizes and their spellings. Parsing is exact: the number is kept as decimal digits, scaled by the
// unit in decimal, and accepted only when the result is a whole number of bytes that fits 64 bits.
#include "vocab/units.hpp"

#include <cstddef>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

namespace fb {

namespace {

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  throw std::invalid_argument("invalid size '" + std::string(text) + "': " + std::string(why));
}

[[noreturn]] void fail_syntax(std::string_view text) {
  fail(text, "expected a number with an optional unit (K, M, G, T, KiB..., KB...)");
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_space(char c) {
  return c == ' ' || c == '\t';
}

struct Unit {
  bool binary = true;  // 1024^power, else 1000^power
  int power = 0;
};

// "" or "B": bytes. "K", "KiB": binary. "KB": decimal. The prefix may be K/k, M, G or T; nothing
// else is accepted (lower-case m/g/t and a lower-case "b", which means bits, are rejected).
bool parse_unit(std::string_view u, Unit& out) {
  if (u.empty() || u == "B") {
    out = Unit{true, 0};
    return true;
  }
  int power = 0;
  switch (u.front()) {
    case 'K':
    case 'k':
      power = 1;
      break;
    case 'M':
      power = 2;
      break;
    case 'G':
      power = 3;
      break;
    case 'T':
      power = 4;
      break;
    default:
      return false;
  }
  const std::string_view rest = u.substr(1);
  if (rest.empty() || rest == "iB") {
    out = Unit{true, power};
    return true;
  }
  if (rest == "B") {
    out = Unit{false, power};
    return true;
  }
  return false;
}

// Multiplies a big-endian decimal digit string by a small factor in place.
void multiply(std::vector<int>& digits, int factor) {
  int carry = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    const int v = *it * factor + carry;
    *it = v % 10;
    carry = v / 10;
  }
  while (carry > 0) {
    digits.insert(digits.begin(), carry % 10);
    carry /= 10;
  }
}

}  // namespace

std::uint64_t parse_bytes(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  if (s.empty()) fail(text, "empty; expected a number with an optional unit (K, M, G, T, KiB..., KB...)");
  if (s.front() == '-') fail(text, "a size cannot be negative");

  // Number: digits, optionally '.' and more digits.
  std::size_t pos = 0;
  std::vector<int> digits;  // integer and fraction digits together
  while (pos < s.size() && is_digit(s[pos])) digits.push_back(s[pos++] - '0');
  if (digits.empty()) fail_syntax(text);
  std::size_t scale = 0;  // digits after the decimal point
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && is_digit(s[pos])) {
      digits.push_back(s[pos++] - '0');
      ++scale;
    }
    if (scale == 0) fail_syntax(text);
  }
  while (pos < s.size() && is_space(s[pos])) ++pos;

  Unit unit;
  if (!parse_unit(s.substr(pos), unit)) fail_syntax(text);

  for (int i = 0; i < unit.power; ++i) {
    if (unit.binary) {
      multiply(digits, 1024);
    } else if (scale >= 3) {
      scale -= 3;  // x1000 moves the decimal point
    } else {
      multiply(digits, 1000);
    }
  }

  // Whatever is left after the decimal point must be zero.
  for (std::size_t i = digits.size() - scale; i < digits.size(); ++i)
    if (digits[i] != 0) fail(text, "not a whole number of bytes");

  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < digits.size() - scale; ++i) {
    const auto d = static_cast<std::uint64_t>(digits[i]);
    if (value > (kMax - d) / 10) fail(text, "larger than 2^64-1 bytes");
    value = value * 10 + d;
  }
  return value;
}

std::string format_bytes(std::uint64_t bytes) {
  struct Suffix {
    const char* name;
    std::uint64_t size;
  };
  static constexpr Suffix kSuffixes[] = {
      {"T", 1ULL << 40}, {"G", 1ULL << 30}, {"M", 1ULL << 20}, {"K", 1ULL << 10}};
  for (const auto& u : kSuffixes) {
    if (bytes < u.size) continue;
    const std::uint64_t whole = bytes / u.size;
    const std::uint64_t rest = bytes % u.size;
    if (rest == 0) return std::to_string(whole) + u.name;
    // One decimal place, only when it is exact (rest * 10 < 10 * 2^40: no overflow).
    if (rest * 10 % u.size == 0)
      return std::to_string(whole) + "." + std::to_string(rest * 10 / u.size) + u.name;
  }
  return std::to_string(bytes);
}

namespace {
std::string scaled(const char* format, double value, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value, unit);
  return buf;
}
}  // namespace

std::string format_duration_us(double us) {
  const double a = us < 0 ? -us : us;
  if (a < 1.0) return scaled("%.1f %s", us * 1e3, "ns");
  if (a < 1e3) return scaled("%.2f %s", us, "us");
  if (a < 1e6) return scaled("%.2f %s", us / 1e3, "ms");
  return scaled("%.2f %s", us / 1e6, "s");
}

std::string format_rate_GBps(double GBps) {
  const double a = GBps < 0 ? -GBps : GBps;
  if (a >= 1.0 || a == 0.0) return scaled("%.2f %s", GBps, "GB/s");
  if (a >= 1e-3) return scaled("%.2f %s", GBps * 1e3, "MB/s");
  if (a >= 1e-6) return scaled("%.2f %s", GBps * 1e6, "kB/s");
  return scaled("%.0f %s", GBps * 1e9, "B/s");
}

}  // namespace fb
