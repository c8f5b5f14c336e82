// The operation descriptors: one entry per op, nothing else. Sizes follow nccl-tests: count =
// bytes / dtype size, then rounded down to a multiple of nranks where the op splits the buffer
// into per-rank blocks; the row reports both the requested and the actual size.
#include <algorithm>
#include <cctype>

#include "collectives/op.hpp"

namespace fb {

int pair_peer(int rank, int nranks) {
  const int half = nranks / 2;
  if (rank < half) return rank + half;
  if (rank < 2 * half) return rank - half;
  return -1;
}

bool pair_is_sender(int rank, int nranks) { return rank < nranks / 2; }

std::optional<std::string> OpDescriptor::unrunnable(int nranks) const {
  if (nranks < min_ranks)
    return std::string(name) + " needs at least " + std::to_string(min_ranks) + " ranks, got " +
           std::to_string(nranks);
  return std::nullopt;
}

namespace {

double factor_one(int) { return 1.0; }
double factor_two(int) { return 2.0; }
double factor_allreduce(int n) { return 2.0 * (n - 1) / n; }
double factor_n1_over_n(int n) { return static_cast<double>(n - 1) / n; }

std::size_t elems(std::size_t bytes, DType t) { return bytes / dtype_size(t); }

OpLayout plain(std::size_t req, DType t, int, int, InPlaceConvention) {
  OpLayout l;
  l.requested_bytes = req;
  l.count = l.send_count = l.recv_count = l.block = elems(req, t);
  l.bytes = l.count * dtype_size(t);
  return l;
}

OpLayout alltoall_layout(std::size_t req, DType t, int n, int, InPlaceConvention) {
  OpLayout l;
  l.requested_bytes = req;
  l.block = elems(req, t) / n;
  l.count = l.block;
  l.send_count = l.recv_count = l.block * n;
  l.bytes = l.send_count * dtype_size(t);
  return l;
}

OpLayout allgather_layout(std::size_t req, DType t, int n, int rank, InPlaceConvention) {
  OpLayout l;
  l.requested_bytes = req;
  l.block = l.count = l.send_count = elems(req, t) / n;
  l.recv_count = l.block * n;
  l.bytes = l.recv_count * dtype_size(t);
  l.inplace_send_offset = static_cast<std::size_t>(rank) * l.block;
  return l;
}

OpLayout reducescatter_layout(std::size_t req, DType t, int n, int rank, InPlaceConvention conv) {
  OpLayout l;
  l.requested_bytes = req;
  l.block = l.count = l.recv_count = elems(req, t) / n;
  l.send_count = l.block * n;
  l.bytes = l.send_count * dtype_size(t);
  l.inplace_recv_offset = conv == InPlaceConvention::nccl ? static_cast<std::size_t>(rank) * l.block : 0;
  return l;
}

std::vector<Segment> reduced_all(const OpLayout& l, int, int, int) {
  return {Segment{0, l.recv_count, 0, true, 0}};
}

std::vector<Segment> reduced_block(const OpLayout& l, int rank, int, int) {
  return {Segment{0, l.recv_count, 0, true, static_cast<std::size_t>(rank) * l.block}};
}

std::vector<Segment> gathered(const OpLayout& l, int, int n, int) {
  std::vector<Segment> s;
  s.reserve(n);
  for (int k = 0; k < n; ++k) s.push_back(Segment{k * l.block, l.block, k, false, 0});
  return s;
}

std::vector<Segment> exchanged(const OpLayout& l, int rank, int n, int) {
  std::vector<Segment> s;
  s.reserve(n);
  for (int k = 0; k < n; ++k)
    s.push_back(Segment{k * l.block, l.block, k, false, static_cast<std::size_t>(rank) * l.block});
  return s;
}

std::vector<Segment> from_root(const OpLayout& l, int, int, int root) {
  return {Segment{0, l.recv_count, root, false, 0}};
}

std::vector<Segment> from_peer(const OpLayout& l, int rank, int n, int) {
  const int peer = pair_peer(rank, n);
  if (peer < 0) return {};
  return {Segment{0, l.recv_count, peer, false, 0}};
}

// relay: the upper half ends with the sender's message, the lower half with its own, returned.
std::vector<Segment> relayed(const OpLayout& l, int rank, int n, int) {
  const int peer = pair_peer(rank, n);
  if (peer < 0) return {};
  return {Segment{0, l.recv_count, pair_is_sender(rank, n) ? rank : peer, false, 0}};
}

std::vector<Segment> from_sender(const OpLayout& l, int rank, int n, int) {
  const int peer = pair_peer(rank, n);
  if (peer < 0 || pair_is_sender(rank, n)) return {};
  return {Segment{0, l.recv_count, peer, false, 0}};
}

const OpDescriptor kOps[] = {
    {OpKind::allreduce, "allreduce", "every rank ends with the reduction of all ranks' buffers", true, false,
     false, true, 1, 1.0, factor_allreduce, plain, reduced_all},
    {OpKind::alltoall, "alltoall", "rank r sends block p of its buffer to rank p", false, false, false, true,
     1, 1.0, factor_n1_over_n, alltoall_layout, exchanged},
    {OpKind::allgather, "allgather", "every rank ends with every rank's block, in rank order", false, false,
     false, true, 1, 1.0, factor_n1_over_n, allgather_layout, gathered},
    {OpKind::reducescatter, "reducescatter", "rank r ends with block r of the reduction", true, false, false,
     true, 1, 1.0, factor_n1_over_n, reducescatter_layout, reduced_block},
    {OpKind::broadcast, "broadcast", "every rank ends with the root's buffer", false, true, false, true, 1,
     1.0, factor_one, plain, from_root},
    {OpKind::sendrecv, "sendrecv", "pairs (r, r+n/2): the lower half streams to the upper half", false,
     false, true, false, 2, 1.0, factor_one, plain, from_sender},
    {OpKind::bidir, "bidir", "pairs (r, r+n/2) stream to each other at once; busbw counts both ways",
     false, false, true, false, 2, 1.0, factor_two, plain, from_peer},
    {OpKind::pingpong, "pingpong", "pairs (r, r+n/2) bounce one message; time is one-way (RTT/2)", false,
     false, true, false, 2, 2.0, factor_one, plain, from_peer},
    {OpKind::relay, "relay",
     "pairs (r, r+n/2) bounce one message, the reply sent from the buffer it just arrived in (store and "
     "forward); time is one-way (RTT/2)",
     false, false, true, false, 2, 2.0, factor_one, plain, relayed},
};

std::string normalise(std::string_view s) {
  std::string r;
  for (char c : s)
    if (c != '_' && c != '-') r.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return r;
}

}  // namespace

const std::vector<const OpDescriptor*>& all_ops() {
  static const std::vector<const OpDescriptor*> v = [] {
    std::vector<const OpDescriptor*> r;
    for (const auto& d : kOps) r.push_back(&d);
    return r;
  }();
  return v;
}

const OpDescriptor& op_descriptor(OpKind kind) { return kOps[static_cast<int>(kind)]; }

const OpDescriptor* find_op(std::string_view name) {
  const std::string n = normalise(name);
  for (const auto& d : kOps)
    if (n == d.name) return &d;
  struct Alias {
    const char* name;
    OpKind kind;
  };
  static constexpr Alias aliases[] = {{"bcast", OpKind::broadcast},  {"p2p", OpKind::sendrecv},
                                      {"bw", OpKind::sendrecv},      {"bibw", OpKind::bidir},
                                      {"latency", OpKind::pingpong}, {"lat", OpKind::pingpong},
                                      {"a2a", OpKind::alltoall}};
  for (const auto& a : aliases)
    if (n == a.name) return &kOps[static_cast<int>(a.kind)];
  return nullptr;
}

}  // namespace fb
