// Sizes and their spellings. Parsing is exact: the number is kept as decimal digits, scaled by the
// unit in decimal, and accepted only when the result is a whole number of bytes that fits 64 bits.
#include "vocab/units.hpp"

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
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

std::optional<double> parse_number(std::string_view text, std::initializer_list<NumberSuffix> suffixes) {
  double scale = 1;
  for (const auto& u : suffixes)
    if (!text.empty() && text.back() == u.suffix) {
      scale = u.scale;
      text.remove_suffix(1);
      break;
    }
  if (text.empty()) return std::nullopt;
  const std::string t(text);  // NUL-terminated for strtod
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || errno == ERANGE) return std::nullopt;
  const double scaled = v * scale;
  if (!std::isfinite(scaled)) return std::nullopt;
  return scaled;
}

std::optional<long long> parse_integer(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const std::string t(text);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (end == t.c_str() || end != t.c_str() + t.size() || errno == ERANGE) return std::nullopt;
  return v;
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

// A unit 1000^power of the figure's base unit (us, GB/s, Gbit/s), and its decimals under
// Figures::two_decimals.
struct Scale {
  int power;
  const char* name;
  int decimals;
};

// `v` in the first of `units` (largest first) it reaches 1 of, else the last; zero in `zero`.
// Scaling divides by 1000^power (or multiplies by 1000^-power): both exact in the factor.
std::string scaled(double v, std::initializer_list<Scale> units, const char* zero, Figures f) {
  const auto size = [](int power) {
    double s = 1;
    for (int i = 0; i < (power < 0 ? -power : power); ++i) s *= 1000;
    return s;
  };
  const double a = v < 0 ? -v : v;
  const Scale* pick = units.end() - 1;
  for (const auto& u : units)
    if (a == 0 ? std::string_view(u.name) == zero : a >= (u.power < 0 ? 1 / size(-u.power) : size(u.power))) {
      pick = &u;
      break;
    }
  const double x = pick->power < 0 ? v * size(-pick->power) : v / size(pick->power);
  const double ax = x < 0 ? -x : x;
  // Three significant digits: rounding may carry into the next digit (999.7 -> "1000"), still exact to 3.
  const int decimals = f == Figures::two_decimals ? pick->decimals : ax >= 99.95 ? 0 : ax >= 9.995 ? 1 : 2;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f %s", decimals, x, pick->name);
  return buf;
}

}  // namespace

std::string format_duration_us(double us, Figures f) {
  return scaled(us, {{2, "s", 2}, {1, "ms", 2}, {0, "us", 2}, {-1, "ns", 1}}, "ns", f);
}

std::string format_rate_GBps(double GBps, Figures f) {
  return scaled(GBps, {{0, "GB/s", 2}, {-1, "MB/s", 2}, {-2, "kB/s", 2}, {-3, "B/s", 0}}, "GB/s", f);
}

std::string format_rate_Gbitps(double GBps, Figures f) {
  return scaled(GBps * 8,
                {{1, "Tbit/s", 2}, {0, "Gbit/s", 2}, {-1, "Mbit/s", 2}, {-2, "kbit/s", 2}, {-3, "bit/s", 0}},
                "Gbit/s", f);
}

}  // namespace fb
