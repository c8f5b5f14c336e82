#include "harness/groups.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <functional>

#include "vocab/error.hpp"

namespace fb {

namespace {

std::string lower_trimmed(const std::string& s) {
  std::string out;
  for (const char c : s)
    if (!std::isspace(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A whole number in decimal or 0x hex; nullopt-like false when the text is not one.
bool parse_number(const std::string& s, unsigned long long& out) {
  if (s.empty()) return false;
  int base = 10;
  std::size_t start = 0;
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x') {
    base = 16;
    start = 2;
  }
  const char* first = s.data() + start;
  const char* last = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(first, last, out, base);
  return ec == std::errc() && ptr == last && out <= static_cast<unsigned long long>(INT_MAX);
}

constexpr const char* kSplitForms =
    "node, rail, stride:K, mask:0xM, div:K, or:0xM (or nccl-tests' %K, &0xM, /K, |0xM, MOD K, AND M, DIV K, "
    "OR M)";

}  // namespace

std::string SplitSpec::name() const {
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", value);
  switch (kind) {
    case Kind::none:
      return "";
    case Kind::node:
      return "node";
    case Kind::rail:
      return "rail";
    case Kind::mod:
      return "stride:" + std::to_string(value);
    case Kind::mask:
      return std::string("mask:") + hex;
    case Kind::div:
      return "div:" + std::to_string(value);
    case Kind::bit_or:
      return std::string("or:") + hex;
  }
  return "";
}

SplitSpec parse_split(const std::string& text) {
  const std::string t = lower_trimmed(text);
  const auto bad = [&](const std::string& why) {
    return UsageError("--split: " + why + " in '" + text + "' (expected " + kSplitForms + ")");
  };
  SplitSpec s;
  if (t == "node" || t == "rail") {
    s.kind = t == "node" ? SplitSpec::Kind::node : SplitSpec::Kind::rail;
    return s;
  }
  struct Prefix {
    const char* text;
    SplitSpec::Kind kind;
  };
  static constexpr Prefix kPrefixes[] = {
      {"stride:", SplitSpec::Kind::mod}, {"mod:", SplitSpec::Kind::mod},   {"mod", SplitSpec::Kind::mod},
      {"%", SplitSpec::Kind::mod},       {"mask:", SplitSpec::Kind::mask}, {"and:", SplitSpec::Kind::mask},
      {"and", SplitSpec::Kind::mask},    {"&", SplitSpec::Kind::mask},     {"div:", SplitSpec::Kind::div},
      {"div", SplitSpec::Kind::div},     {"/", SplitSpec::Kind::div},      {"or:", SplitSpec::Kind::bit_or},
      {"or", SplitSpec::Kind::bit_or},   {"|", SplitSpec::Kind::bit_or},
  };
  for (const auto& p : kPrefixes) {
    const std::string prefix = p.text;
    if (t.rfind(prefix, 0) != 0) continue;
    s.kind = p.kind;
    if (!parse_number(t.substr(prefix.size()), s.value))
      throw bad("not a whole number after '" + prefix + "'");
    if ((s.kind == SplitSpec::Kind::mod || s.kind == SplitSpec::Kind::div) && s.value == 0)
      throw bad("K must be at least 1");
    return s;
  }
  throw bad("unknown split");
}

int split_color(const SplitSpec& spec, int rank, int local_rank, int node) {
  const auto r = static_cast<unsigned long long>(rank);
  switch (spec.kind) {
    case SplitSpec::Kind::none:
      return 0;
    case SplitSpec::Kind::node:
      return node;
    case SplitSpec::Kind::rail:
      return local_rank;
    case SplitSpec::Kind::mod:
      return static_cast<int>(r % spec.value);
    case SplitSpec::Kind::mask:
      return static_cast<int>(r & spec.value);
    case SplitSpec::Kind::div:
      return static_cast<int>(r / spec.value);
    case SplitSpec::Kind::bit_or:
      return static_cast<int>(r | spec.value);
  }
  return 0;
}

std::vector<int> group_sizes(const std::vector<int>& colours) {
  std::vector<int> order, sizes;  // colours in order of first rank, and their counts
  for (const int c : colours) {
    if (c < 0) continue;
    const auto at = std::find(order.begin(), order.end(), c);
    if (at == order.end()) {
      order.push_back(c);
      sizes.push_back(1);
    } else {
      ++sizes[static_cast<std::size_t>(at - order.begin())];
    }
  }
  return sizes;
}

std::string unequal_groups_error(const std::vector<int>& sizes) {
  if (sizes.empty() || std::all_of(sizes.begin(), sizes.end(), [&](int s) { return s == sizes.front(); }))
    return "";
  std::string text = std::to_string(sizes.size()) + " groups";
  if (sizes.size() <= 8) {
    text += " of ";
    for (std::size_t i = 0; i < sizes.size(); ++i)
      text += (i == 0 ? "" : i + 1 == sizes.size() ? " and " : ", ") + std::to_string(sizes[i]);
    text += " ranks (in order of their first rank)";
  } else {
    std::vector<int> distinct = sizes;
    std::sort(distinct.begin(), distinct.end(), std::greater<>());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    text += ":";
    for (std::size_t i = 0; i < distinct.size(); ++i)
      text += (i == 0 ? " " : ", ") + std::to_string(std::count(sizes.begin(), sizes.end(), distinct[i])) +
              " of " + std::to_string(distinct[i]) + (i == 0 ? " ranks" : "");
  }
  return text + "; groups must be of equal size (a row has one group size, which busbw and the model use): " +
         "choose a split whose groups divide the ranks evenly";
}

std::vector<int> parse_rank_counts(const std::string& text, int job_size) {
  const std::string t = lower_trimmed(text);
  const auto bad = [&](const std::string& why) {
    return UsageError("--ranks: " + why + " in '" + text +
                      "' (expected a list such as 2,4,8 or a range 2:N, N a count or max)");
  };
  const auto count = [&](const std::string& s) {
    unsigned long long v = 0;
    if (!parse_number(s, v) || v < 1) throw bad("'" + s + "' is not a rank count >= 1");
    if (v > static_cast<unsigned long long>(job_size))
      throw bad(std::to_string(v) + " ranks asked for, the job has " + std::to_string(job_size));
    return static_cast<int>(v);
  };
  std::vector<int> out;
  if (const auto colon = t.find(':'); colon != std::string::npos) {
    const int from = count(t.substr(0, colon));
    const std::string upto = t.substr(colon + 1);
    const int to = upto == "max" ? job_size : count(upto);
    if (to < from) throw bad("the range ends below its start");
    for (long long k = from; k < to; k *= 2) out.push_back(static_cast<int>(k));
    out.push_back(to);
    return out;
  }
  std::size_t start = 0;
  while (start <= t.size()) {
    std::size_t end = t.find(',', start);
    if (end == std::string::npos) end = t.size();
    const int k = count(t.substr(start, end - start));
    if (!out.empty() && k <= out.back()) throw bad("counts must ascend");
    out.push_back(k);
    start = end + 1;
  }
  return out;
}

}  // namespace fb
