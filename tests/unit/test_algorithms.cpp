// fabricbench's collective algorithms run in one process: one thread per rank over FakeP2P, an
// in-memory point-to-point with MPI's rendezvous semantics (a send completes only once its
// receive has taken it; sends are copied when wait_all() runs, so an algorithm that reads a
// receive buffer before waiting, or that deadlocks under rendezvous, fails here). Every
// algorithm x op is checked exactly with the runner's own patterns on 1..9 ranks, out of place
// and in place (both conventions), with and without small pipeline chunks, and hierarchical on
// many fake node layouts; scratch and receive buffers carry guard bytes, send buffers must come
// back untouched. Every algorithm also runs on "encoded" memory (each byte XORed with a hash of
// its address, so only AlgoCall::mem and the transfers can read or move it), which fails if an
// algorithm reduces or copies its data any way but through AlgoCall::mem, as device memory needs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "collectives/algorithms/common.hpp"
#include "collectives/p2p.hpp"
#include "collectives/pattern.hpp"
#include "collectives/reduce.hpp"

namespace fb {
namespace {

using Bytes = std::vector<unsigned char>;

// Encoded memory: byte b at address a is stored as b ^ mask(a). Like device memory, its contents
// make sense only to the MemOps that knows the encoding (and to the transfers, as UCX moves device
// memory): a plain memmove to another address or a host reduction produces garbage.
unsigned char mask_at(const void* a) {
  return static_cast<unsigned char>((reinterpret_cast<std::uintptr_t>(a) * 0x9E3779B97F4A7C15ull) >> 56);
}
void encode(void* p, std::size_t n) {
  auto* b = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) b[i] ^= mask_at(b + i);
}
Bytes decoded(const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  Bytes out(b, b + n);
  for (std::size_t i = 0; i < n; ++i) out[i] ^= mask_at(b + i);
  return out;
}

class EncodedMemOps final : public MemOps {
 public:
  void reduce_into(void* out, const void* a, const void* b, std::size_t count, DType dtype,
                   RedOp op) const override {
    ++reductions;
    const std::size_t n = count * dtype_size(dtype);
    Bytes x = decoded(a, n);
    const Bytes y = decoded(b, n);
    fb::reduce_into(x.data(), x.data(), y.data(), count, dtype, op);
    if (n) std::memcpy(out, x.data(), n);
    encode(out, n);
  }
  void copy(void* dst, const void* src, std::size_t bytes) const override {
    ++copies;
    const Bytes x = decoded(src, bytes);
    if (bytes) std::memcpy(dst, x.data(), bytes);
    encode(dst, bytes);
  }
  const char* memory() const override { return "encoded"; }
  mutable std::atomic<std::size_t> reductions{0}, copies{0};
};

struct Net {
  std::mutex m;
  std::condition_variable cv;
  std::map<std::tuple<int, int, int>, std::deque<Bytes>> box;  // (src, dst, tag) -> messages in order
  std::vector<int> unconsumed;                                 // per sender
  // Per sender: data messages (not P2P::kPairAckTag control messages), the largest's bytes, and
  // the most of its data messages not yet received at once (counted as each one is sent); per
  // receiver, the most data messages on their way to it at once.
  std::vector<std::size_t> sends, largest;
  std::vector<int> data_in_flight, peak_in_flight, inbound, peak_inbound;
  std::vector<std::size_t> controls;  // per sender: kPairAckTag messages
  bool aborted = false;
  bool encoded = false;  // buffers hold encoded memory (see mask_at): transfers decode and encode
  // Sends complete when posted, received or not (an eager protocol), instead of when received.
  bool eager = false;
  int slow_rank = -1;  // this rank sleeps 20 ms before each of its receives (eager runs)
  explicit Net(int n)
      : unconsumed(n),
        sends(n),
        largest(n),
        data_in_flight(n),
        peak_in_flight(n),
        inbound(n),
        peak_inbound(n),
        controls(n) {}
};

class FakeP2P final : public P2P {
 public:
  FakeP2P(Net& net, int rank, int size) : net_(net), rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void isend(const void* buf, std::size_t bytes, int peer, int tag) override {
    check_peer(peer);
    sends_.push_back(Req{const_cast<void*>(buf), bytes, peer, tag});
  }
  void irecv(void* buf, std::size_t bytes, int peer, int tag) override {
    check_peer(peer);
    recvs_.push_back(Req{buf, bytes, peer, tag});
  }
  void wait_all() override {
    std::unique_lock lk(net_.m);
    for (const Req& s : sends_) {
      const auto* p = static_cast<const unsigned char*>(s.buf);
      if (net_.encoded)
        net_.box[{rank_, s.peer, s.tag}].push_back(decoded(p, s.bytes));
      else
        net_.box[{rank_, s.peer, s.tag}].emplace_back(p, p + s.bytes);
      ++net_.unconsumed[rank_];
      if (s.tag != kPairAckTag) {
        ++net_.sends[rank_];
        net_.largest[rank_] = std::max(net_.largest[rank_], s.bytes);
        net_.peak_in_flight[rank_] = std::max(net_.peak_in_flight[rank_], ++net_.data_in_flight[rank_]);
        net_.peak_inbound[s.peer] = std::max(net_.peak_inbound[s.peer], ++net_.inbound[s.peer]);
      } else {
        ++net_.controls[rank_];
      }
    }
    sends_.clear();
    net_.cv.notify_all();
    if (rank_ == net_.slow_rank && !recvs_.empty()) {
      lk.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      lk.lock();
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    auto wait = [&] {
      if (net_.aborted) throw std::runtime_error("another rank failed");
      if (net_.cv.wait_until(lk, deadline) == std::cv_status::timeout)
        throw std::runtime_error("rank " + std::to_string(rank_) + ": deadlock (no progress for 20 s)");
    };
    while (!recvs_.empty()) {
      bool matched = false;
      std::vector<std::pair<int, int>> blocked;  // MPI matches in posting order per (source, tag)
      for (auto it = recvs_.begin(); it != recvs_.end();) {
        const std::pair<int, int> key{it->peer, it->tag};
        auto& q = net_.box[{it->peer, rank_, it->tag}];
        if (std::find(blocked.begin(), blocked.end(), key) != blocked.end() || q.empty()) {
          blocked.push_back(key);
          ++it;
          continue;
        }
        if (q.front().size() != it->bytes)
          throw std::runtime_error("rank " + std::to_string(rank_) + ": receive of " +
                                   std::to_string(it->bytes) + " bytes from " + std::to_string(it->peer) +
                                   " matched a " + std::to_string(q.front().size()) + "-byte message");
        if (it->bytes) std::memcpy(it->buf, q.front().data(), it->bytes);
        if (net_.encoded) encode(it->buf, it->bytes);
        q.pop_front();
        --net_.unconsumed[it->peer];
        if (it->tag != kPairAckTag) {
          --net_.data_in_flight[it->peer];
          --net_.inbound[rank_];
        }
        it = recvs_.erase(it);
        matched = true;
      }
      if (matched)
        net_.cv.notify_all();
      else
        wait();
    }
    if (!net_.eager)
      while (net_.unconsumed[rank_] > 0) wait();  // rendezvous: sends complete when received
  }

 private:
  struct Req {
    void* buf;
    std::size_t bytes;
    int peer, tag;
  };
  void check_peer(int peer) const {
    if (peer < 0 || peer >= size_ || peer == rank_)
      throw std::runtime_error("rank " + std::to_string(rank_) + ": bad peer " + std::to_string(peer));
  }
  Net& net_;
  int rank_, size_;
  std::vector<Req> sends_, recvs_;
};

constexpr unsigned char kGuard = 0xA5;
constexpr std::size_t kGuardBytes = 64;

// The bytes of a test buffer before its guard (send buffers end in one spare byte, the others in
// kGuardBytes of guard).
std::size_t payload(const Bytes& b, bool send) {
  const std::size_t tail = send ? 1 : kGuardBytes;
  return b.size() > tail ? b.size() - tail : 0;
}

struct Case {
  const CollectiveAlgorithm* algo = nullptr;
  OpKind op = OpKind::allreduce;
  int p = 1;
  std::size_t bytes = 0;
  DType dtype = DType::float32;
  RedOp redop = RedOp::sum;
  bool inplace = false;
  InPlaceConvention conv = InPlaceConvention::mpi;
  std::size_t chunk = 0;
  std::vector<int> nodes;  // empty: one node
  int root = 0;
  const CountsSpec* counts = nullptr;  // alltoallv's counts (null: uniform)
  bool encoded = false;                // run on encoded memory through EncodedMemOps
  bool eager = false;                  // Net::eager
  int slow_rank = -1;                  // Net::slow_rank
  std::string describe() const {
    std::string s = std::string(algo->name) + " " + std::string(op_descriptor(op).name) +
                    " p=" + std::to_string(p) + " bytes=" + std::to_string(bytes) + " " +
                    std::string(dtype_name(dtype)) + " " + std::string(redop_name(redop)) +
                    (inplace ? " in-place" : " out-of-place") +
                    (inplace ? (conv == InPlaceConvention::mpi ? "(mpi)" : "(nccl)") : "") +
                    " chunk=" + std::to_string(chunk) + " root=" + std::to_string(root) +
                    (encoded ? " encoded" : "") + (counts ? " counts=" + counts->text : "") + " nodes=";
    for (int n : nodes) s += std::to_string(n);
    return s;
  }
};

Case make_case(const CollectiveAlgorithm& a, OpKind op, int p, std::size_t bytes,
               DType dtype = DType::float32, RedOp redop = RedOp::sum) {
  Case k;
  k.algo = &a;
  k.op = op;
  k.p = p;
  k.bytes = bytes;
  k.dtype = dtype;
  k.redop = redop;
  return k;
}

struct Outcome {
  std::size_t wrong = 0;         // elements of the result that are wrong, over all ranks
  std::size_t send_changed = 0;  // elements of an out-of-place send buffer that changed
  int guards_broken = 0;         // receive or scratch buffers written past their end
  std::string error;             // an exception on some rank
  std::vector<std::size_t> sends, largest;
  std::vector<int> peak_in_flight, peak_inbound;  // Net's
  std::vector<std::size_t> controls;              // Net's
  std::size_t reductions = 0, copies = 0;         // through AlgoCall::mem (encoded runs)
};

Outcome simulate(const Case& k) {
  EncodedMemOps encoded_ops;
  const OpDescriptor& op = op_descriptor(k.op);
  const std::size_t es = dtype_size(k.dtype);
  Pattern pat(k.dtype, op.reduces, k.redop, k.p, 7);
  std::vector<OpLayout> layouts;
  std::vector<Bytes> sendbuf(k.p), recvbuf(k.p), scratch(k.p);
  std::vector<AlgoCall> calls(k.p);
  for (int r = 0; r < k.p; ++r) {
    const OpLayout l = op.layout(k.bytes, k.dtype, k.p, r, k.conv, k.counts);
    layouts.push_back(l);
    AlgoCall& c = calls[r];
    c.op = &op;
    c.layout = l;
    c.inplace = k.inplace;
    c.dtype = k.dtype;
    c.redop = k.redop;
    c.root = k.root;
    c.chunk_bytes = k.chunk;
    c.node_of = k.nodes;
    if (k.inplace) {
      recvbuf[r].assign(l.buffer_count(true) * es + kGuardBytes, kGuard);
      c.send = recvbuf[r].data() + l.inplace_send_offset * es;
      c.recv = recvbuf[r].data() + l.inplace_recv_offset * es;
    } else {
      sendbuf[r].assign(l.send_count * es + 1, 0);
      recvbuf[r].assign(l.recv_count * es + kGuardBytes, kGuard);
      c.send = sendbuf[r].data();
      c.recv = recvbuf[r].data();
      fill_poison(c.recv, l.recv_count, k.dtype);
    }
    pat.fill(const_cast<void*>(c.send), l.send_count, r, 0);
    scratch[r].assign(k.algo->scratch_bytes(c, k.p) + kGuardBytes, kGuard);
    c.scratch = scratch[r].data();
    if (k.encoded) {
      c.mem = &encoded_ops;
      for (Bytes* b : {&sendbuf[r], &recvbuf[r], &scratch[r]})
        encode(b->data(), payload(*b, b == &sendbuf[r]));
    }
  }
  Net net(k.p);
  net.encoded = k.encoded;
  net.eager = k.eager;
  net.slow_rank = k.slow_rank;
  std::vector<std::string> errors(k.p);
  std::vector<std::thread> threads;
  for (int r = 0; r < k.p; ++r)
    threads.emplace_back([&, r] {
      try {
        FakeP2P p2p(net, r, k.p);
        k.algo->run(p2p, calls[r]);
      } catch (const std::exception& e) {
        errors[r] = e.what();
        std::lock_guard lk(net.m);
        net.aborted = true;
        net.cv.notify_all();
      }
    });
  for (auto& t : threads) t.join();
  Outcome o;
  o.sends = net.sends;
  o.largest = net.largest;
  o.peak_in_flight = net.peak_in_flight;
  o.peak_inbound = net.peak_inbound;
  o.controls = net.controls;
  o.reductions = encoded_ops.reductions;
  o.copies = encoded_ops.copies;
  for (int r = 0; r < k.p; ++r) {
    if (k.encoded)  // back to plain bytes for the checks (the guards were never encoded)
      for (Bytes* b : {&sendbuf[r], &recvbuf[r]}) encode(b->data(), payload(*b, b == &sendbuf[r]));
    if (!errors[r].empty() && o.error.empty()) o.error = "rank " + std::to_string(r) + ": " + errors[r];
    const OpLayout& l = layouts[r];
    o.wrong += pat.check(calls[r].recv, op.segments(l, r, k.p, k.root));
    if (!k.inplace) o.send_changed += pat.check_source(calls[r].send, l.send_count, r, 0);
    for (const Bytes* b : {&recvbuf[r], &scratch[r]})
      for (std::size_t i = b->size() - kGuardBytes; i < b->size(); ++i)
        if ((*b)[i] != kGuard) {
          ++o.guards_broken;
          break;
        }
  }
  return o;
}

void expect_exact(const Case& k) {
  SCOPED_TRACE(k.describe());
  const Outcome o = simulate(k);
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.wrong, 0u);
  EXPECT_EQ(o.send_changed, 0u);
  EXPECT_EQ(o.guards_broken, 0);
}

// Sizes in bytes: empty, one element, a few, not divisible by any rank count, and larger than the
// small chunks below (so chunks split blocks, with a short last chunk).
constexpr std::size_t kSizes[] = {0, 8, 24, 1000, 4104};
struct TypeOp {
  DType dtype;
  RedOp redop;
};
constexpr TypeOp kTypes[] = {
    {DType::float32, RedOp::sum}, {DType::int64, RedOp::prod}, {DType::uint8, RedOp::min}};

// alltoallv runs at uniform counts and at two skewed ones (the most loaded rank receiving several
// times the average, zero-count pairs at small sizes).
const CountsSpec* const kSkewedCounts[] = {nullptr, new CountsSpec(parse_counts("zipf:1.2", 3)),
                                           new CountsSpec(parse_counts("hot:1:0.7", 5))};

void every_case(const CollectiveAlgorithm& a,
                const std::vector<std::vector<int>>& (*layouts)(int) = nullptr) {
  // Node layouts multiply the cases: there, one type (the reductions are the same code anyway).
  const std::size_t ntypes = layouts ? 1 : std::size(kTypes);
  for (OpKind op : a.ops.kinds())
    for (int p = 1; p <= 9; ++p)
      for (std::size_t bytes : kSizes)
        for (const TypeOp& t : std::span(kTypes, ntypes))
          for (int place = 0; place < 3; ++place)
            for (std::size_t chunk : {std::size_t{0}, std::size_t{24}})
              for (const CountsSpec* counts : kSkewedCounts) {
                if (chunk && bytes > 1000) continue;  // many tiny chunks: slow, and 1000 already splits
                if (place > 0 && !op_descriptor(op).has_inplace) continue;
                if (counts && op != OpKind::alltoallv) continue;
                // The MoE ops are alltoallv's exchange (test_moe.cpp, test_moe.py run them over the
                // algorithms).
                if (vocab::is_moe(op)) continue;
                Case k = make_case(a, op, p, bytes, t.dtype, t.redop);
                k.inplace = place > 0;
                k.conv = place == 2 ? InPlaceConvention::nccl : InPlaceConvention::mpi;
                k.chunk = chunk;
                k.counts = counts;
                // The root varies with p, not always 0; rank 0 too (the trees' plain case).
                if (op_descriptor(op).rooted) k.root = (p * 5 + 3) % p;
                if (layouts) {
                  for (const auto& nodes : layouts(p)) {
                    k.nodes = nodes;
                    expect_exact(k);
                  }
                } else {
                  expect_exact(k);
                  if (op_descriptor(op).rooted && k.root != 0) {
                    k.root = 0;
                    expect_exact(k);
                  }
                }
              }
}

TEST(Algorithms, Ring) {
  every_case(algo::ring);
}
TEST(Algorithms, RecursiveDoubling) {
  every_case(algo::recursive_doubling);
}
TEST(Algorithms, Rabenseifner) {
  every_case(algo::rabenseifner);
}
TEST(Algorithms, RecursiveHalving) {
  every_case(algo::recursive_halving);
}
TEST(Algorithms, Pairwise) {
  every_case(algo::pairwise);
}
TEST(Algorithms, Bruck) {
  every_case(algo::bruck);
}
TEST(Algorithms, Linear) {
  every_case(algo::linear);
}
TEST(Algorithms, Binomial) {
  every_case(algo::binomial);
}
TEST(Algorithms, Chain) {
  every_case(algo::chain);
}

// Node layouts for p ranks: one node, one rank per node, equal nodes of 2 and 3 (the last one
// short when p does not divide), ranks dealt round-robin over two nodes (nodes not contiguous
// in rank order), a lone first rank, and node ids that are not 0..m-1.
const std::vector<std::vector<int>>& node_layouts(int p) {
  static std::map<int, std::vector<std::vector<int>>> cache;
  auto& v = cache[p];
  if (!v.empty()) return v;
  std::vector<int> one(p, 0), each(p), pairs(p), threes(p), dealt(p), lone(p), sparse(p);
  for (int r = 0; r < p; ++r) {
    each[r] = r;
    pairs[r] = r / 2;
    threes[r] = r / 3;
    dealt[r] = r % 2;
    lone[r] = r == 0 ? 0 : 1;
    sparse[r] = 10 - 3 * (r % 3);
  }
  v = {{}, one, each, pairs, threes, dealt, lone, sparse};
  return v;
}

TEST(Algorithms, HierarchicalOnFakeNodeLayouts) {
  every_case(algo::hierarchical, node_layouts);
}

TEST(Algorithms, EveryAlgorithmIsTestedHere) {
  // Each registered algorithm has a test above; a new one must add its own.
  EXPECT_EQ(collective_algorithms().size(), 10u);
}

// AlgoCall::mem: every algorithm x op stays exact on encoded memory, where a reduction or a copy
// that does not go through the call's MemOps (a host reduce_into, a memmove) produces garbage,
// as it would on device buffers (--mem cuda over UCX).
TEST(Algorithms, EveryAlgorithmReducesAndCopiesThroughAlgoCallMem) {
  for (const CollectiveAlgorithm* a : collective_algorithms())
    for (OpKind op : a->ops.kinds())
      for (int p : {1, 2, 3, 5, 8})
        for (std::size_t bytes : {std::size_t{0}, std::size_t{24}, std::size_t{1000}})
          for (const TypeOp& t : kTypes)
            for (int place = 0; place < 3; ++place)
              for (std::size_t chunk : {std::size_t{0}, std::size_t{24}}) {
                if (place > 0 && !op_descriptor(op).has_inplace) continue;
                Case k = make_case(*a, op, p, bytes, t.dtype, t.redop);
                k.inplace = place > 0;
                k.conv = place == 2 ? InPlaceConvention::nccl : InPlaceConvention::mpi;
                k.chunk = chunk;
                k.encoded = true;
                if (op_descriptor(op).rooted) k.root = p / 2;
                if (op == OpKind::alltoallv) k.counts = kSkewedCounts[1];
                if (a == &algo::hierarchical && p > 2) k.nodes = node_layouts(p)[3];  // nodes of 2
                expect_exact(k);
              }
}

// The encoding does catch an algorithm that bypasses AlgoCall::mem: the host's ops on encoded
// memory get wrong results (so the test above can fail).
TEST(Algorithms, EncodedMemoryCatchesHostReductionsAndCopies) {
  Case k = make_case(algo::ring, OpKind::allreduce, 3, 1000);
  k.encoded = true;
  const Outcome good = simulate(k);
  EXPECT_EQ(good.wrong, 0u);
  EXPECT_GT(good.reductions, 0u);  // ring all-reduce reduces through AlgoCall::mem
  // Bypassing the MemOps = reducing and copying the encoded bytes as if they were plain.
  const std::size_t count = 250;
  std::vector<float> a(count, 1.0f), b(count, 2.0f), out(count);
  encode(a.data(), count * 4);
  encode(b.data(), count * 4);
  reduce_into(out.data(), a.data(), b.data(), count, DType::float32, RedOp::sum);
  const Bytes plain = decoded(out.data(), count * 4);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < count; ++i) {
    float v;
    std::memcpy(&v, plain.data() + i * 4, 4);
    wrong += v != 3.0f;
  }
  EXPECT_GT(wrong, count / 2);
  std::vector<float> moved(count);
  std::memcpy(moved.data(), a.data(), count * 4);  // a plain copy to another address
  const Bytes m = decoded(moved.data(), count * 4);
  EXPECT_NE(std::memcmp(m.data(), decoded(a.data(), count * 4).data(), count * 4), 0);
  // Through the MemOps, the same reduction and copy are exact.
  EncodedMemOps ops;
  ops.reduce_into(out.data(), a.data(), b.data(), count, DType::float32, RedOp::sum);
  ops.copy(moved.data(), out.data(), count * 4);
  const Bytes r = decoded(moved.data(), count * 4);
  for (std::size_t i = 0; i < count; ++i) {
    float v;
    std::memcpy(&v, r.data() + i * 4, 4);
    ASSERT_EQ(v, 3.0f) << i;
  }
}

// The default MemOps is the host's: collectives/reduce.hpp and memmove.
TEST(Algorithms, AlgoCallDefaultsToHostMemOps) {
  AlgoCall c;
  ASSERT_NE(c.mem, nullptr);
  EXPECT_EQ(c.mem, &host_mem_ops());
  EXPECT_STREQ(c.mem->memory(), "host");
  const std::int32_t a[3] = {1, -2, 7}, b[3] = {5, 4, -9};
  std::int32_t out[3];
  c.mem->reduce_into(out, a, b, 3, DType::int32, RedOp::max);
  EXPECT_EQ(out[0], 5);
  EXPECT_EQ(out[1], 4);
  EXPECT_EQ(out[2], 7);
  c.mem->reduce_inplace(out, a, 3, DType::int32, RedOp::sum);
  EXPECT_EQ(out[2], 14);
  std::int32_t copy[3] = {};
  c.mem->copy(copy, out, sizeof out);
  EXPECT_EQ(copy[0], 6);
  EXPECT_EQ(copy[1], 2);
}

// A reducing step without a MemOps is a programming error, not a silent host reduction.
TEST(Algorithms, ReducingExchangeNeedsMemOps) {
  Net net(2);
  FakeP2P p2p(net, 0, 2);
  float own[1] = {1}, dst[1] = {0};
  algo::Exchange x;
  x.dst = dst;
  x.own = own;
  x.recv_count = 1;
  x.from = 1;
  alignas(4096) static unsigned char tmp[2 * 4096];
  EXPECT_THROW(algo::exchange(p2p, x, DType::float32, RedOp::sum, 1, tmp, nullptr), std::logic_error);
}

// --chunk: a large reducing exchange moves in chunk-sized messages, never larger.
TEST(Algorithms, RingAllreducePipelinesInChunks) {
  Case k = make_case(algo::ring, OpKind::allreduce, 2, 4000 * 4);  // 4000 floats: blocks of 2000
  k.chunk = 400 * 4;
  const Outcome o = simulate(k);
  ASSERT_EQ(o.error, "");
  EXPECT_EQ(o.wrong, 0u);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(o.largest[r], 400u * 4) << "rank " << r;
    EXPECT_EQ(o.sends[r], 2u * 5) << "rank " << r;  // reduce-scatter and all-gather, 5 chunks each
  }
  k.chunk = 0;  // the default (256 KiB) holds a whole block: one message per step
  const Outcome d = simulate(k);
  EXPECT_EQ(d.sends[0], 2u);
  EXPECT_EQ(d.largest[0], 2000u * 4);
}

// Pairwise and linear all-to-all send a block as one message by default (chunks would overlap
// nothing and cost a rendezvous each); an explicit --chunk still caps every message.
TEST(Algorithms, AlltoallSendsWholeBlocksUnlessChunked) {
  for (const CollectiveAlgorithm* a : {&algo::pairwise, &algo::linear}) {
    Case k = make_case(*a, OpKind::alltoall, 3, 3 * 300000 * 4);  // blocks of 300000 floats, > 256 KiB
    k.chunk = 0;
    const Outcome d = simulate(k);
    ASSERT_EQ(d.error, "") << a->name;
    EXPECT_EQ(d.wrong, 0u) << a->name;
    for (int r = 0; r < 3; ++r) {
      EXPECT_EQ(d.sends[r], 2u) << a->name << " rank " << r;
      EXPECT_EQ(d.largest[r], 300000u * 4) << a->name << " rank " << r;
    }
    k.chunk = 100000 * 4;
    const Outcome c = simulate(k);
    ASSERT_EQ(c.error, "") << a->name;
    EXPECT_EQ(c.wrong, 0u) << a->name;
    EXPECT_EQ(c.sends[0], 6u) << a->name;
    EXPECT_EQ(c.largest[0], 100000u * 4) << a->name;
  }
}

// Pairwise's steps are synchronous even where a send completes before its data is received (an
// eager protocol; TCP's socket buffers): no rank ever has two blocks on their way out, or two on
// their way in (on a shared link they would go at half the rate each and their receivers would
// wait: docs/moe.md, the emulated check). Rank 1 is slow to receive: a rank that moved on when its
// own receive completed would send its next block while its block to rank 1 still waited (two
// out), and rank 3, whose step 1 does not involve rank 1, would send its step-2 block to rank 1
// before rank 1 took its step-1 block (two in). The counts are data messages (control messages
// not counted), and the result stays exact.
TEST(Algorithms, PairwiseKeepsOneBlockPerLinkOverEagerSends) {
  for (const OpKind op : {OpKind::alltoall, OpKind::alltoallv}) {
    Case k = make_case(algo::pairwise, op, 4, 4 * 4 * 1000);
    k.eager = true;
    k.slow_rank = 1;
    const Outcome o = simulate(k);
    ASSERT_EQ(o.error, "");
    EXPECT_EQ(o.wrong, 0u);
    for (int r = 0; r < 4; ++r) {
      EXPECT_EQ(o.peak_in_flight[r], 1) << op_descriptor(op).name << " rank " << r;
      EXPECT_EQ(o.peak_inbound[r], 1) << op_descriptor(op).name << " rank " << r;
      EXPECT_EQ(o.sends[r], 3u) << op_descriptor(op).name << " rank " << r;
      // A readiness before step 1, an acknowledgement after step 3, both between steps.
      EXPECT_EQ(o.controls[r], 6u) << op_descriptor(op).name << " rank " << r;
    }
  }
  // On 2 ranks there is one peer and one step: no control messages, the block alone.
  Case two = make_case(algo::pairwise, OpKind::alltoall, 2, 2 * 4 * 1000);
  two.eager = true;
  const Outcome t = simulate(two);
  ASSERT_EQ(t.error, "");
  EXPECT_EQ(t.wrong, 0u);
  EXPECT_EQ(t.controls, (std::vector<std::size_t>{0, 0}));
  EXPECT_EQ(t.sends, (std::vector<std::size_t>{1, 1}));
  // Linear posts every block at once (what it is for): all three in flight, over the same fake.
  Case l = make_case(algo::linear, OpKind::alltoall, 4, 4 * 4 * 1000);
  l.eager = true;
  l.slow_rank = 1;
  const Outcome lo = simulate(l);
  ASSERT_EQ(lo.error, "");
  EXPECT_EQ(lo.peak_in_flight[0], 3);
  EXPECT_EQ(lo.peak_inbound[1], 3);
}

TEST(Algorithms, ChainPipelinesInChunks) {
  Case k = make_case(algo::chain, OpKind::broadcast, 4, 1000 * 8, DType::float64);
  k.chunk = 100 * 8;
  k.root = 1;
  const Outcome o = simulate(k);
  ASSERT_EQ(o.error, "");
  EXPECT_EQ(o.wrong, 0u);
  // root 1 -> 2 -> 3 -> 0: every rank but the last forwards 10 chunks.
  EXPECT_EQ(o.sends, (std::vector<std::size_t>{0, 10, 10, 10}));
  EXPECT_EQ(o.largest[1], 100u * 8);
}

// Hierarchical on 2 nodes x 2 ranks: the inter-node rings carry a quarter of the buffer each way
// (count/g split in two), the intra-node rings half of it; nothing larger travels.
TEST(Algorithms, HierarchicalMovesPartsBetweenNodes) {
  Case k = make_case(algo::hierarchical, OpKind::allreduce, 4, 4000 * 4);
  k.nodes = {0, 0, 1, 1};
  k.chunk = 1 << 20;
  const Outcome o = simulate(k);
  ASSERT_EQ(o.error, "");
  EXPECT_EQ(o.wrong, 0u);
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(o.sends[r], 4u) << "rank " << r;  // intra RS, inter RS + AG, intra AG
    EXPECT_EQ(o.largest[r], 2000u * 4) << "rank " << r;
  }
}

// The --algo auto rule (kAutoRule) at its boundaries.
TEST(Algorithms, AutoRule) {
  auto pick = [](OpKind op, std::size_t bytes, AutoTopology t = {8, 1, 8}, DType d = DType::float32) {
    const OpLayout l = op_descriptor(op).layout(bytes, d, t.nranks, 0, InPlaceConvention::mpi);
    return std::string(auto_algorithm(op, l, d, t));
  };
  EXPECT_EQ(pick(OpKind::allreduce, 8), "recursive_doubling");
  EXPECT_EQ(pick(OpKind::allreduce, 16 * 1024 - 4), "recursive_doubling");
  EXPECT_EQ(pick(OpKind::allreduce, 16 * 1024), "rabenseifner");
  EXPECT_EQ(pick(OpKind::allreduce, 1 << 20), "ring");
  EXPECT_EQ(pick(OpKind::allreduce, 1 << 20, {16, 2, 8}), "hierarchical");
  EXPECT_EQ(pick(OpKind::allreduce, 8, {16, 2, 8}), "recursive_doubling");
  EXPECT_EQ(pick(OpKind::allreduce, 1 << 20, {2, 2, 1}), "ring");  // one rank per node
  EXPECT_EQ(pick(OpKind::allgather, 32 * 1024), "recursive_doubling");
  EXPECT_EQ(pick(OpKind::allgather, 64 * 1024), "ring");
  EXPECT_EQ(pick(OpKind::reducescatter, 32 * 1024), "recursive_halving");
  EXPECT_EQ(pick(OpKind::reducescatter, 64 * 1024), "ring");
  EXPECT_EQ(pick(OpKind::alltoall, 8 * 256), "bruck");  // 256 B per peer
  EXPECT_EQ(pick(OpKind::alltoall, 8 * 260), "linear");
  EXPECT_EQ(pick(OpKind::alltoall, 8 * 16 * 1024), "pairwise");
  EXPECT_EQ(pick(OpKind::broadcast, 1024), "binomial");
  EXPECT_EQ(pick(OpKind::broadcast, 64 * 1024), "chain");
  EXPECT_EQ(pick(OpKind::pingpong, 8), "native");
  EXPECT_EQ(pick(OpKind::reduce, 1 << 20), "binomial");
  EXPECT_EQ(pick(OpKind::gather, 64 * 1024 - 32), "binomial");
  EXPECT_EQ(pick(OpKind::gather, 64 * 1024), "linear");
  EXPECT_EQ(pick(OpKind::scatter, 1024), "binomial");
  EXPECT_EQ(pick(OpKind::scatter, 1 << 20), "linear");
  EXPECT_EQ(pick(OpKind::alltoallv, 8 * 8 * 1024), "linear");  // 8 KiB average per peer
  EXPECT_EQ(pick(OpKind::alltoallv, 8 * 16 * 1024), "pairwise");
  // Every choice implements the op it was chosen for.
  for (const OpDescriptor* d : all_ops())
    for (std::size_t bytes : {std::size_t{8}, std::size_t{1} << 14, std::size_t{1} << 26}) {
      const std::string a = pick(d->kind, bytes, {16, 2, 8});
      if (a == "native") {
        EXPECT_FALSE(any_algorithm_supports(d->kind)) << d->name;
        continue;
      }
      ASSERT_NE(find_collective_algorithm(a), nullptr) << a;
      EXPECT_TRUE(algorithm_supports(*find_collective_algorithm(a), d->kind)) << a << " " << d->name;
    }
}

TEST(Algorithms, RegistryNamesAndOps) {
  EXPECT_EQ(algorithms_for(OpKind::allreduce), "ring, recursive_doubling, rabenseifner, hierarchical");
  EXPECT_EQ(algorithms_for(OpKind::alltoall), "pairwise, bruck, linear");
  EXPECT_EQ(algorithms_for(OpKind::alltoallv), "pairwise, linear");
  EXPECT_EQ(algorithms_for(OpKind::reduce), "binomial");
  EXPECT_EQ(algorithms_for(OpKind::gather), "linear, binomial");
  EXPECT_EQ(algorithms_for(OpKind::scatter), "linear, binomial");
  EXPECT_EQ(algorithms_for(OpKind::sendrecv), "");
  EXPECT_EQ(algorithms_for(OpKind::unidir), "");
  EXPECT_EQ(find_collective_algorithm("quantum"), nullptr);
}

}  // namespace
}  // namespace fb
