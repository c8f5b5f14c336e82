#include "harness/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>

#include "collectives/p2p.hpp"
#include "collectives/pattern.hpp"
#include "harness/progress.hpp"
#include "harness/sinks/sink.hpp"
#include "harness/stats.hpp"
#include "harness/timing.hpp"
#include "harness/utc.hpp"
#include "harness/watchdog.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace {

// --batch auto probes the op this many times after the warm-up and decides from the fastest.
constexpr int kBatchProbeOps = 3;

unsigned char* at(const void* base, std::size_t elems, std::size_t esize) {
  return static_cast<unsigned char*>(const_cast<void*>(base)) + elems * esize;
}

// What the check expects in the receive buffer; with explicit partners (Series::peers) the
// pairwise ops receive from this rank's partner, unidir only on the receiving (higher) rank.
std::vector<Segment> expected_segments(const Series& s, const OpLayout& l, const transports::OpCall& call,
                                       int rank, int n) {
  if (!s.op->pairwise || s.peers.empty() || vocab::is_ring_shift(s.op->kind))
    return s.op->segments(l, rank, n, call.root);
  if (call.peer < 0 || (s.op->kind == OpKind::unidir && call.sender)) return {};
  return {Segment{0, l.recv_count, call.peer, false, 0}};
}

// alltoallv: every rank computed the same counts matrix (the same spec, seed and matrix file), or
// the op would hang or move the wrong blocks: a UsageError naming the difference otherwise.
void check_counts_agree(transports::World& world, const OpLayout& l) {
  if (!l.peers) return;
  // Two 32-bit halves, exact in a double; equal everywhere when max == min (the same verdict on
  // every rank).
  bool differ = false;
  for (const std::uint64_t half : {l.peers->digest & 0xffffffffu, l.peers->digest >> 32}) {
    const double v = static_cast<double>(half);
    differ = differ || world.allreduce_max(v) != -world.allreduce_max(-v);
  }
  if (differ)
    throw UsageError(
        "alltoallv/moe: the ranks computed different counts matrices (a --counts matrix file that "
        "differs between hosts?)");
}

}  // namespace

// The union, over ranks, of the transports each rank's backend reports ("a+b" lists).
std::string merged_transports(transports::World& world, const std::string& mine) {
  std::vector<std::string> names;
  for (const auto& t : world.gather_strings(mine, 0)) {
    std::size_t start = 0;
    while (start < t.size()) {
      std::size_t end = t.find('+', start);
      if (end == std::string::npos) end = t.size();
      std::string n = t.substr(start, end - start);
      if (!n.empty() && std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
      start = end + 1;
    }
  }
  std::sort(names.begin(), names.end());
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : "+") + n;
  return s;
}

int auto_batch(double op_us) {
  int batch = 1;
  while (batch < kMaxAutoBatch && static_cast<double>(batch) * op_us < kAutoBatchTargetUs) batch *= 2;
  return batch;
}

std::string Series::label() const {
  std::string s =
      std::string(op->name) + (algo == "native" ? "" : "/" + algo) + " " + std::string(dtype_name(dtype));
  if (op->reduces) s += " " + std::string(redop_name(redop));
  if (op->rooted) s += " root=" + std::to_string(root);
  s += inplace ? " in-place" : " out-of-place";
  return s;
}

namespace {

// The run modes a test, its series and each op call carry under the same names (--cuda-graph,
// --blocking, --cpu-time, --nccl-algo, --nccl-proto): one copy, so a new mode is added once.
template <class To, class From>
void copy_modes(To& to, const From& from) {
  to.cuda_graph = from.cuda_graph;
  to.blocking = from.blocking;
  to.cpu_time = from.cpu_time;
  to.nccl_algo = from.nccl_algo;
  to.nccl_proto = from.nccl_proto;
}

// The test's memory, modes and pairwise API are ones the backend has; else a usage error.
void check_backend_runs(const TestSpec& test, const transports::Backend& backend, const std::string& mem) {
  if (auto why = backend.unsupported_memory(mem)) throw UsageError(test.origin + ": mem: " + *why);
  {
    transports::OpCall modes;
    copy_modes(modes, test);
    modes.cuda_graph = test.cuda_graph > 0 ? test.cuda_graph : test.graph_launches;
    modes.enqueue_time = test.enqueue_time;
    modes.group = test.group;
    if (auto why = backend.unsupported_modes(modes)) throw UsageError(test.origin + ": " + *why);
  }
  const auto apis = backend.p2p_apis();
  if (std::find(apis.begin(), apis.end(), test.p2p_api) == apis.end()) {
    std::string known;
    for (const auto& a : apis) known += (known.empty() ? "" : ", ") + a;
    throw UsageError(test.origin + ": p2p_api: " + backend.name() + " runs the pairwise ops over " + known +
                     " only, not '" + test.p2p_api + "'");
  }
}

// What expand() builds: the series, and why ops or variants were skipped (each reason once).
struct Expansion {
  const TestSpec& test;
  const transports::Backend& backend;
  std::string mem;
  std::string algo_name;  // the test's algo, "auto" for "native" on a backend without collectives
  const CollectiveAlgorithm* algo = nullptr;  // none for native and auto
  std::vector<std::string>& notes;
  std::vector<Series> out;
  std::vector<std::string> reasons;

  bool is_auto() const { return algo_name == "auto"; }
  void skip(const std::string& why) {
    if (std::find(reasons.begin(), reasons.end(), why) == reasons.end()) reasons.push_back(why);
  }

  // Why op cannot run at all in this test, if so.
  std::optional<std::string> op_skipped(const OpDescriptor& op, int nranks) const {
    if ((algo || is_auto()) && !backend.runs_p2p_algorithms())
      return backend.name() + " runs its library's own collectives only (--algo native)";
    if (algo && !algorithm_supports(*algo, op.kind)) {
      const std::string others = algorithms_for(op.kind);
      return std::string(algo->name) + " does not implement " + std::string(op.name) + " (" +
             (others.empty() ? "no algorithm does; use --algo native or auto"
                             : "algorithms for it: " + others) +
             ")";
    }
    if (auto why = op.unrunnable(nranks)) return why;
    if (op.rooted && test.root >= nranks)
      return "root " + std::to_string(test.root) + " is not a rank (" + std::to_string(nranks) + " ranks)";
    if (op.kind == OpKind::alltoallv)
      if (auto why = test.counts.unrunnable(nranks); !why.empty()) return why;
    if (vocab::is_moe(op.kind))
      if (auto why = moe_unrunnable(test.counts, nranks); !why.empty()) return why;
    return std::nullopt;
  }

  // The placements (in-place or not) to run op in; empty (and a reason given) when none is.
  std::vector<bool> places_for(const OpDescriptor& op) {
    if (!op.has_inplace) {
      if (test.place == Place::in) {
        skip(std::string(op.name) + " has no in-place variant");
        return {};
      }
      return {false};
    }
    if (test.place == Place::both) return {false, true};
    return {test.place == Place::in};
  }

  // One series of op, unless the backend lacks the variant: then an out-of-place-only test
  // runs it in place where it can (and says so), else it is skipped.
  void add_series(const OpDescriptor& op, DType dt, RedOp ro, bool ip, bool by_algorithm) {
    if (auto why = by_algorithm ? std::nullopt : backend.unsupported(op, dt, ro, ip)) {
      // Asked for out-of-place only, and only in-place runs here: run that, and say so.
      if (!ip && test.place == Place::out && !backend.unsupported(op, dt, ro, true)) {
        const std::string note =
            test.origin + ": " + *why + "; running " + std::string(op.name) + " in place";
        if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
        ip = true;
      } else {
        skip(*why);
        return;
      }
    }
    Series series;
    series.op = &op;
    series.dtype = dt;
    series.redop = ro;
    series.inplace = ip;
    series.root = op.rooted ? test.root : -1;
    if (vocab::is_variable(op.kind)) series.counts = test.counts;
    series.algo = algo_name;
    series.p2p_api = test.p2p_api;
    series.window = test.window;
    series.mem = mem;
    copy_modes(series, test);
    out.push_back(series);
  }
};

}  // namespace

std::vector<Series> expand(const TestSpec& test, const transports::Backend& backend, int nranks,
                           std::vector<std::string>& notes) {
  const std::string mem = test.mem.empty() ? backend.default_memory() : test.mem;
  check_backend_runs(test, backend, mem);
  // A backend without collectives of its own (ucx) runs fabricbench's choice for "native".
  const std::string algo_name =
      test.algo == "native" && !backend.has_native_collectives() ? std::string("auto") : test.algo;
  const CollectiveAlgorithm* algo =
      algo_name == "native" || algo_name == "auto" ? nullptr : find_collective_algorithm(algo_name);
  Expansion e{test, backend, mem, algo_name, algo, notes, {}, {}};
  for (const OpDescriptor* op : test.ops) {
    if (auto why = e.op_skipped(*op, nranks)) {
      e.skip(*why);
      continue;
    }
    // fabricbench's algorithms run every dtype, redop and placement the op has, whatever the
    // library's own collective lacks.
    const bool by_algorithm = algo || (e.is_auto() && any_algorithm_supports(op->kind));
    const std::vector<bool> places = e.places_for(*op);
    const std::vector<RedOp> redops = op->reduces ? test.redops : std::vector<RedOp>{test.redops.front()};
    for (DType dt : test.dtypes)
      for (RedOp ro : redops)
        for (bool ip : places) e.add_series(*op, dt, ro, ip, by_algorithm);
  }
  for (const auto& r : e.reasons) notes.push_back(test.origin + ": skipped: " + r);
  if (e.out.empty())
    throw UsageError(test.origin + ": nothing to run" + (e.reasons.empty() ? "" : ": " + e.reasons.front()));
  return std::move(e.out);
}

namespace {
// 64 GiB, 11.2 GiB, 512 MiB: memory figures read at a glance (format_bytes keeps exact sizes).
std::string memory_text(std::uint64_t b) {
  const double gib = static_cast<double>(b) / (1ull << 30), mib = static_cast<double>(b) / (1ull << 20);
  char buf[48];
  if (gib >= 1)
    std::snprintf(buf, sizeof buf, gib == std::floor(gib) ? "%.0f GiB" : "%.1f GiB", gib);
  else if (mib >= 1)
    std::snprintf(buf, sizeof buf, mib == std::floor(mib) ? "%.0f MiB" : "%.1f MiB", mib);
  else
    return format_bytes(b);
  return buf;
}
}  // namespace

void check_memory(const std::vector<PreparedTest>& tests, int nranks, int rank, int ranks_on_host) {
  for (const auto& t : tests)
    for (const Series& s : t.series) {
      const auto avail = t.backend->available_memory(s.mem, ranks_on_host);
      if (!avail) continue;
      const OpLayout l =
          s.op->layout(t.spec->maxbytes, s.dtype, nranks, rank, t.backend->inplace_convention(), &s.counts,
                       t.backend->block_alignment());
      const std::uint64_t es = dtype_size(s.dtype);
      const std::uint64_t largest = std::max(l.send_count, l.recv_count) * es;
      int buffers = s.inplace ? 1 : 2;
      if (t.backend->runs_p2p_algorithms() && s.algo != "native" && !s.op->pairwise) ++buffers;
      const std::uint64_t need = s.inplace ? largest : (l.send_count + l.recv_count) * es;
      const std::uint64_t total = need + (buffers > (s.inplace ? 1 : 2) ? largest : 0);
      if (total <= *avail) continue;
      throw UsageError(t.spec->origin + ": " + s.label() + " at " + format_bytes(t.spec->maxbytes) +
                       " needs " + std::to_string(buffers) + " x " + memory_text(largest) + " per rank, " +
                       memory_text(*avail) + " available (" + s.mem + " memory, " +
                       std::to_string(ranks_on_host) + " ranks on this host); lower maxbytes (-e)");
    }
}

SeriesBuffers::SeriesBuffers(transports::Backend& backend, const Series& s, std::uint64_t max_bytes,
                             int nranks, int rank)
    : backend_(backend) {
  const OpLayout l = s.op->layout(max_bytes, s.dtype, nranks, rank, backend.inplace_convention(), &s.counts,
                                  backend.block_alignment());
  const std::size_t es = dtype_size(s.dtype);
  if (s.inplace) {
    send_bytes_ = std::max(l.send_count, l.recv_count) * es;
    send_ = backend_.alloc(send_bytes_, s.mem);
  } else {
    send_bytes_ = l.send_count * es;
    recv_bytes_ = l.recv_count * es;
    send_ = backend_.alloc(send_bytes_, s.mem);
    recv_ = backend_.alloc(recv_bytes_, s.mem);
  }
}

SeriesBuffers::~SeriesBuffers() {
  if (send_) backend_.release(send_, send_bytes_);
  if (recv_) backend_.release(recv_, recv_bytes_);
}

transports::OpCall SeriesBuffers::call(const Series& s, const OpLayout& l, int rank, int nranks) const {
  transports::OpCall c;
  c.op = s.op;
  c.layout = l;
  c.inplace = s.inplace;
  c.dtype = s.dtype;
  c.redop = s.redop;
  c.root = s.root < 0 ? 0 : s.root;
  if (vocab::is_ring_shift(s.op->kind)) {
    c.peer = ring_next(rank, nranks);
    c.from = ring_prev(rank, nranks);
    c.sender = true;
  } else if (s.op->pairwise) {
    c.peer = s.peers.empty() ? pair_peer(rank, nranks) : s.peers[static_cast<std::size_t>(rank)];
    c.sender = s.peers.empty() ? pair_is_sender(rank, nranks) : (c.peer >= 0 && rank < c.peer);
    c.from = c.peer;
  }
  c.algo = s.algo;
  c.p2p_api = s.p2p_api;
  c.window = s.window;
  copy_modes(c, s);
  const std::size_t es = dtype_size(s.dtype);
  if (s.inplace) {
    c.send = at(send_, l.inplace_send_offset, es);
    c.recv = at(send_, l.inplace_recv_offset, es);
  } else {
    c.send = send_;
    c.recv = recv_;
  }
  return c;
}

namespace {

// The call the samples time: the series' buffers at this size, its chunking, and "auto" resolved.
transports::OpCall timed_call(const transports::World& world, const TestSpec& test, const Series& s,
                              const OpLayout& l, const SeriesBuffers& buffers, const Timing& timing) {
  const int n = world.size();
  transports::OpCall c = timing.timed_call(buffers.call(s, l, world.rank(), n));
  c.chunk_bytes = test.chunk;
  c.enqueue_time = test.enqueue_time;
  c.group = test.group;
  if (c.algo == "auto")
    c.algo =
        std::string(auto_algorithm(s.op->kind, l, s.dtype, {n, world.nnodes(), world.max_ranks_per_node()}));
  return c;
}

// The warm-up ops (test.warmup of them), then the ops per sample: the graph's length, --batch,
// or (auto) auto_batch() of one op's time, measured after the warm-up so that connection set-up
// and first-touch costs do not count: kBatchProbeOps single ops timed as samples are, the fastest
// on each rank, the slowest of those over ranks (every rank gets the same factor).
int warm_up_and_batch(transports::World& world, transports::Backend& backend, const TestSpec& test,
                      const Series& s, const transports::OpCall& call, const Timing& timing,
                      std::atomic<std::uint64_t>& progress) {
  world.barrier();
  for (int i = 0; i < test.warmup; ++i) {
    backend.run(call);
    progress.fetch_add(1, std::memory_order_relaxed);
  }
  if (test.warmup > 0) backend.quiesce();
  if (!timing.batches()) return 1;            // nccl-tests' ops are its -n
  if (s.cuda_graph > 0) return s.cuda_graph;  // a sample is one replay of a graph of cuda_graph ops
  if (test.batch > 0) return test.batch;
  std::vector<double> probe(kBatchProbeOps);
  world.barrier();
  backend.run_timed(call, kBatchProbeOps, 1, probe.data(), &progress);
  backend.quiesce();
  const double fastest = *std::min_element(probe.begin(), probe.end());
  return auto_batch(world.allreduce_max(fastest));
}

// test.check untimed ops on fresh patterns into poisoned buffers: this rank's wrong elements.
// `world` synchronises; the op runs on `ranks` (the same world, or this rank's group).
std::uint64_t count_wrong(transports::World& world, const transports::World& ranks,
                          transports::Backend& backend, const TestSpec& test, const Series& s,
                          const OpLayout& l, const transports::OpCall& call,
                          std::atomic<std::uint64_t>& progress) {
  const int n = ranks.size();
  const int rank = ranks.rank();
  std::uint64_t wrong = 0;
  // One op per check (-m's groups would apply an in-place op several times).
  transports::OpCall one = call;
  one.group = 1;
  for (int k = 0; k < test.check; ++k) {
    Pattern pat(s.dtype, s.op->reduces || s.op->sums_contributions,
                s.op->sums_contributions ? RedOp::sum : s.redop, n, static_cast<std::uint64_t>(k) + 1);
    backend.poison(call.recv, l.recv_count, s.dtype);
    backend.fill(pat, const_cast<void*>(call.send), l.send_count, rank, 0);
    // No rank writes into a peer's buffers (RMA put) before the peer has poisoned them.
    world.barrier();
    backend.run(one);
    backend.quiesce();
    progress.fetch_add(1, std::memory_order_relaxed);
    wrong += backend.check(pat, call.recv, expected_segments(s, l, call, rank, n));
    if (s.op->sums) wrong += backend.check_sums(pat, call.recv, s.op->sums(l, rank, n));
  }
  return wrong;
}

// The row's description of what ran (every rank), without the timings.
// `ranks` ran the op (the row's nranks, nnodes, ranks per node: a group's, under --split).
Record series_record(transports::World& world, const transports::World& ranks, transports::Backend& backend,
                     const TestSpec& test, const Series& s, const OpLayout& l, const transports::OpCall& call,
                     int batch, std::uint64_t wrong) {
  Record r;
  r.backend = backend.name();
  r.op = std::string(s.op->name);
  r.algo = backend.algo(call);
  r.algo_asked = s.algo;
  r.transport = merged_transports(world, backend.transport());
  r.mem = s.mem;
  r.dtype = std::string(dtype_name(s.dtype));
  r.redop = s.op->reduces ? std::string(redop_name(s.redop)) : "";
  r.root = s.op->rooted ? s.root : -1;
  r.inplace = s.inplace;
  r.nranks = ranks.size();
  r.nnodes = ranks.nnodes();
  r.ranks_per_node = ranks.max_ranks_per_node();
  r.group_size = ranks.size();
  r.requested_bytes = l.requested_bytes;
  r.bytes = l.bytes;
  r.count = l.count;
  r.max_rank_bytes = l.max_rank_bytes;
  if (l.peers) r.load_imbalance = l.load_imbalance;
  r.total_bytes = l.total_bytes;
  if (vocab::is_variable(s.op->kind)) r.counts = counts_label(s.counts, vocab::is_moe(s.op->kind));
  r.iters = test.iters;
  r.warmup = test.warmup;
  r.ops_per_sample = batch;
  r.check_iters = test.check;
  r.wrong = wrong;
  r.timestamp = utc_now();
  return r;
}

// Rank 0: each rank's median and mean, and each host's slowest rank median, per op (bounded).
void set_rank_timings(Record& r, transports::World& world, const SampleStats& st, double per_op) {
  if (world.size() <= kMaxTimedRanks)
    for (std::size_t k = 0; k < st.rank_p50.size(); ++k) {
      r.rank_p50_us.push_back(st.rank_p50[k] / per_op);
      r.rank_mean_us.push_back(st.rank_mean[k] / per_op);
    }
  if (world.nnodes() > kMaxTimedRanks) return;
  // Nodes are numbered in order of their first rank (World::node()).
  std::map<std::string, std::size_t> node_of;
  for (std::size_t k = 0; k < st.rank_p50.size(); ++k) {
    const auto [it, fresh] = node_of.emplace(world.hostnames()[k], node_of.size());
    if (fresh) r.host_p50_us.push_back(0);
    double& v = r.host_p50_us[it->second];
    v = std::max(v, st.rank_p50[k] / per_op);
  }
}

// Rank 0: the row's times, rates and slowest rank from every rank's samples.
// `all` holds every rank of `world` (every group's); busbw counts the ranks that ran one op (r.nranks).
void set_timings(Record& r, transports::World& world, const TestSpec& test, const Series& s,
                 const OpLayout& l, const std::vector<double>& all, int batch, const Timing& timing) {
  const int n = world.size();
  const TimingSummary sum = timing.summarise(all, n);
  const SampleStats& st = sum.stats;
  // Windowed sendrecv/bidir ops move `window` messages each: times are per message; -m groups
  // `group` ops.
  const bool windowed = s.op->pairwise && !is_bounce(s.op->kind);
  const double per_op = batch * s.op->time_divisor * (windowed ? s.window : 1) * test.group;
  r.samples_us.reserve(st.per_iter.size());
  for (double v : st.per_iter) r.samples_us.push_back(v / per_op);
  r.time_min_us = st.min / per_op;
  r.time_p50_us = st.p50 / per_op;
  r.time_mean_us = st.mean / per_op;
  r.time_p99_us = st.p99 / per_op;
  r.time_max_us = st.max / per_op;
  r.time_us = sum.headline / per_op;
  r.algbw_GBps = r.time_us > 0 ? static_cast<double>(l.bw_bytes) / r.time_us / 1e3 : 0.0;
  r.busbw_GBps = r.algbw_GBps * s.op->busbw_factor(r.nranks);
  r.msg_rate_Mps = r.time_us > 0 ? (s.op->kind == OpKind::bidir ? 2.0 : 1.0) / r.time_us : 0.0;
  if (vocab::is_moe(s.op->kind) && r.time_us > 0)
    r.tokens_per_s = static_cast<double>(l.moe_tokens) * r.nranks / (r.time_us * 1e-6);
  r.slowest_rank = st.slowest_rank;
  r.slowest_host = st.slowest_rank >= 0 ? world.hostnames()[st.slowest_rank] : "";
  r.slowest_share = st.slowest_share;
  r.skew = st.skew;
  set_rank_timings(r, world, st, per_op);
}

}  // namespace

Record measure(transports::World& world, transports::Backend& backend, const TestSpec& test, const Series& s,
               std::uint64_t requested_bytes, SeriesBuffers& buffers, const MeasureHooks& hooks) {
  const transports::World& ranks = hooks.group && hooks.group->world ? *hooks.group->world : world;
  const int n = ranks.size();
  const int rank = ranks.rank();
  const OpLayout l = s.op->layout(requested_bytes, s.dtype, n, rank, backend.inplace_convention(), &s.counts,
                                  backend.block_alignment());
  check_counts_agree(world, l);
  const auto timing = Timing::make(test);
  const transports::OpCall call = timed_call(ranks, test, s, l, buffers, *timing);
  std::atomic<std::uint64_t> local_progress{0};
  std::atomic<std::uint64_t>& progress = hooks.progress ? *hooks.progress : local_progress;
  const std::string what =
      s.label() + " " + format_bytes(l.bytes) + (hooks.context.empty() ? "" : " (" + hooks.context + ")");
  auto phase = [&](const char* stage, bool waiting = false) {
    if (hooks.watchdog) hooks.watchdog->enter(what + ": " + stage, waiting);
  };

  // Timed ops move real pattern data, not zeros.
  Pattern data(s.dtype, s.op->reduces, s.redop, n, 0);
  backend.fill(data, const_cast<void*>(call.send), l.send_count, rank, 0);
  backend.prepare(call);

  phase("warm-up");
  const int batch = warm_up_and_batch(world, backend, test, s, call, *timing, progress);

  phase("timed samples");
  const std::vector<double> samples = timing->take(world, backend, call, batch, progress);
  // A wait for the peers' traffic: a rank that finished early (one without a partner in a
  // validate round) is not what hung when its peers' op did.
  phase("completing with peers", true);
  backend.quiesce();

  phase("gathering samples", true);
  const std::vector<double> all = world.gather(samples, 0);
  if (hooks.rank_samples && world.rank() == 0) *hooks.rank_samples = all;

  phase("validation");
  std::uint64_t wrong = count_wrong(world, ranks, backend, test, s, l, call, progress);
  phase("summing wrong elements", true);
  wrong = static_cast<std::uint64_t>(world.allreduce_sum(static_cast<long long>(wrong)));

  Record r = series_record(world, ranks, backend, test, s, l, call, batch, wrong);
  r.timing = timing->name();
  if (hooks.group) {
    r.group = hooks.group->spec;
    r.ngroups = hooks.group->ngroups;
  }
  if (world.rank() == 0) set_timings(r, world, test, s, l, all, batch, *timing);
  return r;
}

std::vector<PreparedTest> prepare_tests(const RunConfig& config,
                                        std::span<const std::unique_ptr<transports::Backend>> backends,
                                        int nranks, std::vector<std::string>& notes) {
  std::vector<PreparedTest> out;
  for (const auto& t : config.tests) {
    auto it =
        std::find_if(backends.begin(), backends.end(), [&](const auto& b) { return b->name() == t.backend; });
    if (it == backends.end()) throw UsageError(t.origin + ": backend '" + t.backend + "' was not created");
    PreparedTest prepared{&t, it->get(), expand(t, **it, nranks, notes)};
    for (const Series& s : prepared.series) {
      const OpLayout l = s.op->layout(t.sizes().back(), s.dtype, nranks, 0, (*it)->inplace_convention(),
                                      &s.counts, (*it)->block_alignment());
      if (auto why = (*it)->unsupported_layout(l)) throw UsageError(t.origin + ": maxbytes: " + *why);
    }
    out.push_back(std::move(prepared));
  }
  return out;
}

RunOutcome run_tests(transports::World& world, const std::vector<PreparedTest>& tests,
                     const std::vector<Sink*>& sinks, Watchdog* watchdog, int progress_mode,
                     const OpGroup& group, const std::string& context) {
  double total_work = 0;
  int total_rows = 0;
  for (const auto& t : tests)
    for (std::size_t k = 0; k < t.series.size(); ++k)
      for (auto bytes : t.spec->sizes()) {
        total_work += Progress::weight(bytes, t.spec->warmup + t.spec->iters + t.spec->check);
        ++total_rows;
      }
  Progress progress(world.rank() == 0 ? progress_mode : Progress::off, total_work, total_rows);

  RunOutcome outcome;
  MeasureHooks hooks;
  hooks.watchdog = watchdog;
  hooks.progress = watchdog ? watchdog->progress() : nullptr;
  hooks.group = &group;
  hooks.context = context;
  const transports::World& ranks = group.world ? *group.world : world;
  for (const auto& t : tests) {
    const auto sizes = t.spec->sizes();
    for (const Series& s : t.series) {
      SeriesBuffers buffers(*t.backend, s, sizes.back(), ranks.size(), ranks.rank());
      for (auto bytes : sizes) {
        progress.start_row(t.backend->name() + " " + s.label() + " " + format_bytes(bytes));
        Record r = measure(world, *t.backend, *t.spec, s, bytes, buffers, hooks);
        progress.finish_row(Progress::weight(bytes, t.spec->warmup + t.spec->iters + t.spec->check));
        outcome.wrong += r.wrong;
        ++outcome.rows;
        if (world.rank() == 0) {
          progress.clear();
          for (Sink* sink : sinks) sink->row(r);
        }
      }
    }
  }
  progress.clear();
  return outcome;
}

}  // namespace fb
