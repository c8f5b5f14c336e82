#include "harness/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

#include "collectives/p2p.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace {

constexpr std::size_t kMaxSizes = 10000;
constexpr std::uint64_t kMaxChunk = std::uint64_t{1} << 30;

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != ' ' && c != '\t') {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

[[noreturn]] void bad(const std::string& where, const std::string& key, const std::string& why) {
  throw UsageError(where + ": " + key + ": " + why);
}

long long parse_int(const std::string& where, const std::string& key, const std::string& v, long long lo,
                    long long hi) {
  long long x = 0;
  const char* b = v.data();
  const char* e = v.data() + v.size();
  auto [p, ec] = std::from_chars(b, e, x);
  if (ec != std::errc() || p != e || v.empty()) bad(where, key, "expected a whole number, got '" + v + "'");
  if (x < lo || x > hi)
    bad(where, key, "'" + v + "' is out of range (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
  return x;
}

double parse_double(const std::string& where, const std::string& key, const std::string& v) {
  const auto x = parse_number(v);
  if (!x) bad(where, key, "expected a number, got '" + v + "'");
  return *x;
}

std::uint64_t parse_size(const std::string& where, const std::string& key, const std::string& v) {
  try {
    return parse_bytes(v);
  } catch (const std::invalid_argument& e) {
    bad(where, key, e.what());
  }
}

template <class T, class Parse, class All, class Name>
std::vector<T> parse_list(const std::string& where, const std::string& key, const std::string& v, Parse parse,
                          All all, Name name, const std::string& known) {
  std::vector<T> out;
  for (const auto& item : split_list(v)) {
    if (item == "all") {
      for (const auto& x : all()) out.push_back(x);
      continue;
    }
    auto x = parse(item);
    if (!x) bad(where, key, "unknown " + key + " '" + item + "' (known: " + known + ", all)");
    out.push_back(*x);
  }
  // Keep the first occurrence of each.
  std::vector<T> uniq;
  for (const auto& x : out)
    if (std::find_if(uniq.begin(), uniq.end(), [&](const T& y) { return name(y) == name(x); }) == uniq.end())
      uniq.push_back(x);
  return uniq;
}

template <class Range, class Name>
std::string join_names(const Range& r, Name name) {
  std::string s;
  for (const auto& x : r) {
    if (!s.empty()) s += ", ";
    s += std::string(name(x));
  }
  return s;
}

bool parse_bool(const std::string& where, const std::string& key, const std::string& v) {
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  bad(where, key, "expected true or false, got '" + v + "'");
}

// NCCL_ALGO / NCCL_PROTO values: a comma-separated list of NCCL's names (any case), optionally
// prefixed with ^ to exclude them; "" or "auto" lets NCCL choose.
std::string parse_nccl_list(const std::string& where, const std::string& key, const std::string& v,
                            const std::vector<std::string>& names) {
  if (v.empty() || v == "auto") return "";
  const bool exclude = v[0] == '^';
  std::string out = exclude ? "^" : "";
  for (const auto& item : split_list(exclude ? v.substr(1) : v)) {
    auto lower = [](std::string x) {
      for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return x;
    };
    auto it = std::find_if(names.begin(), names.end(),
                           [&](const std::string& n) { return lower(n) == lower(item); });
    if (it == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      bad(where, key,
          "unknown NCCL name '" + item + "' (known: " + known + "; a list, ^ to exclude, or auto)");
    }
    out += (out.empty() || out == "^" ? "" : ",") + *it;
  }
  return out;
}

std::string fmt_double(double d) {
  std::ostringstream o;
  o << d;
  return o.str();
}

}  // namespace

const char* place_name(Place p) {
  switch (p) {
    case Place::out:
      return "out-of-place";
    case Place::in:
      return "in-place";
    case Place::both:
      return "both";
  }
  return "?";
}

namespace {

// A key's setter: the spec, the key, its value as text, and where it was given (for errors).
using Text = const std::string&;
using KeySetter = void (*)(TestSpec&, Text key, Text v, Text where);
struct TestKey {
  const char* name;
  KeySetter apply;
};

// Every per-test key (a plan's test block, run's command line) and how its text sets the spec;
// test_keys() and the unknown-key error list them in this order.
const TestKey kTestKeys[] = {
  {"name", [](TestSpec& s, Text, Text v, Text) { s.name = v; }},
  {"backend",
   [](TestSpec& s, Text key, Text v, Text where) {
     if (v.empty()) bad(where, key, "empty backend name");
     s.backend = v;
   }},
  {"op",
   [](TestSpec& s, Text key, Text v, Text where) {
     const auto op_name = [](const OpDescriptor* d) { return d->name; };
     s.ops = parse_list<const OpDescriptor*>(
         where, key, v,
         [](const std::string& n) -> std::optional<const OpDescriptor*> {
           const OpDescriptor* d = find_op(n);
           return d ? std::optional<const OpDescriptor*>(d) : std::nullopt;
         },
         all_ops, op_name, join_names(all_ops(), op_name));
   }},
  {"algo",
   [](TestSpec& s, Text key, Text v, Text where) {
     if (v != "native" && v != "auto" && find_collective_algorithm(v) == nullptr) {
       std::string known = "native, auto";
       for (const auto* a : collective_algorithms()) known += ", " + std::string(a->name);
       bad(where, key, "unknown algorithm '" + v + "' (known: " + known + ")");
     }
     s.algo = v;
   }},
  {"chunk",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.chunk = parse_size(where, key, v);
     if (s.chunk > kMaxChunk) bad(where, key, "'" + v + "' is larger than the 1 GiB limit");
   }},
  {"minbytes", [](TestSpec& s, Text key, Text v, Text where) { s.minbytes = parse_size(where, key, v); }},
  {"maxbytes", [](TestSpec& s, Text key, Text v, Text where) { s.maxbytes = parse_size(where, key, v); }},
  {"stepfactor", [](TestSpec& s, Text key, Text v, Text where) { s.stepfactor = parse_double(where, key, v); }},
  {"stepbytes", [](TestSpec& s, Text key, Text v, Text where) { s.stepbytes = parse_size(where, key, v); }},
  {"iters",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.iters = static_cast<int>(parse_int(where, key, v, 1, 100000000));
   }},
  {"warmup",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.warmup = static_cast<int>(parse_int(where, key, v, 0, 100000000));
   }},
  {"check",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.check = static_cast<int>(parse_int(where, key, v, 0, 1000000));
   }},
  {"batch",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.batch = v == "auto" ? 0 : static_cast<int>(parse_int(where, key, v, 1, 1000000));
   }},
  {"dtype",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.dtypes = parse_list<DType>(where, key, v, parse_dtype, all_dtypes, dtype_name,
                                  join_names(all_dtypes(), dtype_name));
   }},
  {"redop",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.redops = parse_list<RedOp>(where, key, v, parse_redop, all_redops, redop_name,
                                  join_names(all_redops(), redop_name));
   }},
  {"root",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.root = static_cast<int>(parse_int(where, key, v, 0, 1 << 30));
   }},
  {"place",
   [](TestSpec& s, Text key, Text v, Text where) {
     if (v == "out" || v == "oop" || v == "outofplace" || v == "out-of-place")
       s.place = Place::out;
     else if (v == "in" || v == "ip" || v == "inplace" || v == "in-place")
       s.place = Place::in;
     else if (v == "both")
       s.place = Place::both;
     else
       bad(where, key, "expected out-of-place, in-place or both, got '" + v + "'");
   }},
  {"p2p_api",
   [](TestSpec& s, Text key, Text v, Text where) {
     if (v != "tag" && v != "put" && v != "am" && v != "get")
       bad(where, key, "unknown point-to-point API '" + v + "' (tag, put, am or get)");
     s.p2p_api = v;
   }},
  {"window",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.window = static_cast<int>(parse_int(where, key, v, 1, 1 << 20));
   }},
  {"mem",
   [](TestSpec& s, Text key, Text v, Text where) {
     if (v != "host" && v != "cuda")
       bad(where, key, "unknown memory type '" + v + "' (host or cuda)");
     s.mem = v;
   }},
  {"cuda_graph",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.cuda_graph = static_cast<int>(parse_int(where, key, v, 0, 1 << 20));
   }},
  {"blocking", [](TestSpec& s, Text key, Text v, Text where) { s.blocking = parse_bool(where, key, v); }},
  {"cpu_time", [](TestSpec& s, Text key, Text v, Text where) { s.cpu_time = parse_bool(where, key, v); }},
  {"sample_barrier",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.sample_barrier = parse_bool(where, key, v);
   }},
  {"nccl_algo",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.nccl_algo = parse_nccl_list(
         where, key, v,
         {"Tree", "Ring", "CollnetDirect", "CollnetChain", "NVLS", "NVLSTree", "PAT"});
   }},
  {"nccl_proto",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.nccl_proto = parse_nccl_list(where, key, v, {"LL", "LL128", "Simple"});
   }},
  {"timing",
   [](TestSpec& s, Text key, Text v, Text where) {
     if (v != "samples" && v != "nccl-tests")
       bad(where, key, "expected samples or nccl-tests, got '" + v + "'");
     s.timing = v;
   }},
  {"enqueue_time", [](TestSpec& s, Text key, Text v, Text where) { s.enqueue_time = parse_bool(where, key, v); }},
  {"graph_launches",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.graph_launches = static_cast<int>(parse_int(where, key, v, 0, 1 << 20));
   }},
  {"average",
   [](TestSpec& s, Text key, Text v, Text where) {
     // nccl-tests' -a numbers, or their names
     static const char* names[] = {"rank0", "avg", "min", "max"};
     std::string a = v;
     if (a.size() == 1 && a[0] >= '0' && a[0] <= '3') a = names[a[0] - '0'];
     if (std::find(std::begin(names), std::end(names), a) == std::end(names))
       bad(where, key, "expected 0/rank0, 1/avg, 2/min or 3/max, got '" + v + "'");
     s.average = a;
   }},
  {"group",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.group = static_cast<int>(parse_int(where, key, v, 1, 1 << 16));
   }},
  {"counts",
   [](TestSpec& s, Text key, Text v, Text where) {
     try {
       const MoeShape moe = s.counts.moe;
       s.counts = parse_counts(v, s.seed);
       s.counts.moe = moe;
     } catch (const UsageError& e) {
       bad(where, key, e.what());
     }
   }},
  {"seed",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.seed = static_cast<std::uint64_t>(parse_int(where, key, v, 0, (1ll << 53)));
     s.counts.seed = s.seed;
   }},
  {"tokens",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.counts.moe.tokens = static_cast<std::size_t>(parse_int(where, key, v, 1, 1ll << 32));
   }},
  {"hidden",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.counts.moe.hidden = static_cast<std::size_t>(parse_int(where, key, v, 1, 1ll << 24));
   }},
  {"topk",
   [](TestSpec& s, Text key, Text v, Text where) {
     // At most 32: combine sums topk pattern values, exact in every dtype up to that.
     s.counts.moe.topk = static_cast<int>(parse_int(where, key, v, 1, 32));
   }},
  {"experts_per_rank",
   [](TestSpec& s, Text key, Text v, Text where) {
     s.counts.moe.experts_per_rank = static_cast<int>(parse_int(where, key, v, 1, 1 << 16));
   }},
};

}  // namespace

const std::vector<std::string>& test_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const TestKey& t : kTestKeys) k.emplace_back(t.name);
    return k;
  }();
  return keys;
}

void apply_test_key(TestSpec& s, const std::string& key, const std::string& v, const std::string& where) {
  for (const TestKey& t : kTestKeys)
    if (key == t.name) return t.apply(s, key, v, where);
  bad(where, key,
      "unknown key (known: " + join_names(kTestKeys, [](const TestKey& t) { return t.name; }) + ")");
}

void validate_test(const TestSpec& s) {
  const std::string& w = s.origin;
  if (s.ops.empty()) bad(w, "op", "no op given");
  if (s.minbytes == 0) bad(w, "minbytes", "must be at least 1 byte");
  if (s.minbytes > s.maxbytes)
    bad(w, "minbytes", format_bytes(s.minbytes) + " is larger than maxbytes " + format_bytes(s.maxbytes));
  if (s.stepbytes == 0 && !(s.stepfactor > 1.0) && s.minbytes != s.maxbytes)
    bad(w, "stepfactor", "must be greater than 1 (got " + fmt_double(s.stepfactor) + ")");
  if (s.blocking && s.cuda_graph > 0)
    bad(w, "blocking", "cannot be combined with cuda_graph (a graph replays its ops back to back)");
  if (s.timing != "nccl-tests") {
    if (s.graph_launches > 0)
      bad(w, "graph_launches",
          "-G launches a graph of all iterations in nccl-tests' timing: add --timing nccl-tests "
          "(--cuda-graph N is the samples timing's graph)");
    if (s.average != "avg")
      bad(w, "average",
          "-a combines ranks in nccl-tests' timing: add --timing nccl-tests (samples take the "
          "slowest rank of every sample)");
  }
  if (s.graph_launches > 0 && s.cuda_graph > 0)
    bad(w, "graph_launches", "cannot be combined with cuda_graph (-G captures all iterations in one graph)");
  if (s.graph_launches > 0 && s.blocking)
    bad(w, "blocking", "cannot be combined with graph_launches (a graph replays its ops back to back)");
  if (s.sizes().size() > kMaxSizes)
    bad(w, "stepbytes", "the sweep has more than " + std::to_string(kMaxSizes) + " sizes");
}

std::vector<std::uint64_t> TestSpec::sizes() const {
  // --tokens: the MoE ops run that many tokens per rank, one size (vocab/counts.hpp).
  if (counts.moe.tokens > 0) return {maxbytes};
  std::vector<std::uint64_t> out;
  std::uint64_t s = minbytes;
  while (s <= maxbytes && out.size() <= kMaxSizes) {
    out.push_back(s);
    std::uint64_t next;
    if (stepbytes > 0) {
      next = s + stepbytes;
    } else {
      if (!(stepfactor > 1.0)) break;
      const double d = std::floor(static_cast<double>(s) * stepfactor);
      next = d >= 1.8e19 ? maxbytes + 1 : static_cast<std::uint64_t>(d);
      if (next <= s) next = s + 1;
    }
    if (next < s) break;  // overflow
    s = next;
  }
  return out;
}

namespace {
// matrix:FILE: a digest of the weights read, so that a file that differs between hosts is an error
// before any test runs (like any other difference in the resolved configuration).
std::string counts_weights_digest(const CountsSpec& c) {
  if (c.weights.empty()) return "";
  std::uint64_t h = 1469598103934665603ull;
  for (double w : c.weights) {
    const auto* b = reinterpret_cast<const unsigned char*>(&w);
    for (std::size_t i = 0; i < sizeof w; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  return " (weights " + std::to_string(h) + ")";
}
}  // namespace

std::string RunConfig::canonical() const {
  // One "key=value" line each, so a difference between ranks can be named by its key.
  std::ostringstream o;
  o << "csv=" << csv_path << "\njson=" << json_path << "\ntimeout=" << timeout_s << "\nplan=" << plan_path
    << "\n"
    << "fabric=" << fabric << "\n";
  for (const auto& s : sets) o << "set=" << s << "\n";
  for (std::size_t i = 0; i < tests.size(); ++i) {
    const TestSpec& t = tests[i];
    const std::string p = tests.size() > 1 ? "test " + std::to_string(i + 1) + " " : "";
    o << p << "name=" << t.name << "\n" << p << "backend=" << t.backend << "\n" << p << "op=";
    for (const auto* d : t.ops) o << d->name << (d == t.ops.back() ? "" : ",");
    o << "\n"
      << p << "algo=" << t.algo << "\n"
      << p << "chunk=" << t.chunk << "\n"
      << p << "minbytes=" << t.minbytes << "\n"
      << p << "maxbytes=" << t.maxbytes << "\n"
      << p << "stepfactor=" << t.stepfactor << "\n"
      << p << "stepbytes=" << t.stepbytes << "\n"
      << p << "iters=" << t.iters << "\n"
      << p << "warmup=" << t.warmup << "\n"
      << p << "check=" << t.check << "\n"
      << p << "batch=" << t.batch << "\n"
      << p << "dtype=";
    for (std::size_t k = 0; k < t.dtypes.size(); ++k) o << (k ? "," : "") << dtype_name(t.dtypes[k]);
    o << "\n" << p << "redop=";
    for (std::size_t k = 0; k < t.redops.size(); ++k) o << (k ? "," : "") << redop_name(t.redops[k]);
    o << "\n"
      << p << "root=" << t.root << "\n"
      << p << "counts=" << t.counts.text << counts_weights_digest(t.counts) << "\n"
      << p << "seed=" << t.seed << "\n"
      << p << "moe=" << t.counts.moe.tokens << "," << t.counts.moe.hidden << "," << t.counts.moe.topk << ","
      << t.counts.moe.experts_per_rank << "\n"
      << p << "place=" << place_name(t.place) << "\n"
      << p << "p2p_api=" << t.p2p_api << "\n"
      << p << "window=" << t.window << "\n"
      << p << "mem=" << t.mem << "\n"
      << p << "cuda_graph=" << t.cuda_graph << "\n"
      << p << "blocking=" << t.blocking << "\n"
      << p << "cpu_time=" << t.cpu_time << "\n"
      << p << "sample_barrier=" << t.sample_barrier << "\n"
      << p << "nccl_algo=" << t.nccl_algo << "\n"
      << p << "nccl_proto=" << t.nccl_proto << "\n"
      << p << "timing=" << t.timing << "\n"
      << p << "enqueue_time=" << t.enqueue_time << "\n"
      << p << "graph_launches=" << t.graph_launches << "\n"
      << p << "average=" << t.average << "\n"
      << p << "group=" << t.group << "\n";
  }
  return o.str();
}

}  // namespace fb
