// The operation descriptors: one entry per op, nothing else. Sizes follow nccl-tests (vocab::shape):
// count = bytes / dtype size, then rounded down to a multiple of nranks where the op splits the
// buffer into per-rank blocks; the row reports both the requested and the actual size.
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

bool pair_is_sender(int rank, int nranks) {
  return rank < nranks / 2;
}

OpLayout OpDescriptor::layout(std::size_t req, DType t, int n, int rank, InPlaceConvention conv) const {
  const vocab::Shape sh = vocab::shape(kind, req / dtype_size(t), n);
  OpLayout l;
  l.requested_bytes = req;
  l.count = sh.count;
  l.send_count = sh.send;
  l.recv_count = sh.recv;
  l.block = sh.block;
  l.bytes = sh.size * dtype_size(t);
  // In place, a rank's own block sits at its offset of the larger buffer: all-gather sends from
  // it; reduce-scatter receives there as NCCL does (MPI_IN_PLACE: at offset 0).
  if (kind == OpKind::allgather) l.inplace_send_offset = static_cast<std::size_t>(rank) * l.block;
  if (kind == OpKind::reducescatter && conv == InPlaceConvention::nccl)
    l.inplace_recv_offset = static_cast<std::size_t>(rank) * l.block;
  return l;
}

std::optional<std::string> OpDescriptor::unrunnable(int nranks) const {
  if (nranks < min_ranks)
    return std::string(name) + " needs at least " + std::to_string(min_ranks) + " ranks, got " +
           std::to_string(nranks);
  return std::nullopt;
}

namespace {

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
    {OpKind::allreduce, "every rank ends with the reduction of all ranks' buffers", reduced_all},
    {OpKind::alltoall, "rank r sends block p of its buffer to rank p", exchanged},
    {OpKind::allgather, "every rank ends with every rank's block, in rank order", gathered},
    {OpKind::reducescatter, "rank r ends with block r of the reduction", reduced_block},
    {OpKind::broadcast, "every rank ends with the root's buffer", from_root},
    {OpKind::sendrecv, "pairs (r, r+n/2): the lower half streams to the upper half", from_sender},
    {OpKind::bidir, "pairs (r, r+n/2) stream to each other at once; busbw counts both ways", from_peer},
    {OpKind::pingpong, "pairs (r, r+n/2) bounce one message; time is one-way (RTT/2)", from_peer},
    {OpKind::relay,
     "pairs (r, r+n/2) bounce one message, the reply sent from the buffer it just arrived in (store and "
     "forward); time is one-way (RTT/2)",
     relayed},
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

const OpDescriptor& op_descriptor(OpKind kind) {
  return kOps[static_cast<int>(kind)];
}

const OpDescriptor* find_op(std::string_view name) {
  const std::string n = normalise(name);
  if (const auto k = vocab::parse_op(n)) return &kOps[static_cast<int>(*k)];
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
