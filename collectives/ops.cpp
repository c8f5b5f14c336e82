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

int ring_next(int rank, int nranks) {
  return nranks > 0 ? (rank + 1) % nranks : -1;
}

int ring_prev(int rank, int nranks) {
  return nranks > 0 ? (rank + nranks - 1) % nranks : -1;
}

namespace {

// alltoallv: the counts for this size, this rank's blocks, and the row's byte figures.
void lay_out_peers(OpLayout& l, const CountsMatrix& m, DType t, int n, int rank) {
  auto p = std::make_shared<PeerBlocks>();
  const std::size_t N = static_cast<std::size_t>(n);
  p->send_off.resize(N);
  p->send_len.resize(N);
  p->recv_off.resize(N);
  p->recv_len.resize(N);
  p->src_off.resize(N);
  std::size_t so = 0, ro = 0;
  for (int k = 0; k < n; ++k) {
    p->send_off[k] = so;
    p->send_len[k] = m.at(rank, k);
    so += p->send_len[k];
    p->recv_off[k] = ro;
    p->recv_len[k] = m.at(k, rank);
    ro += p->recv_len[k];
    std::size_t src = 0;  // rank k's blocks for the ranks before this one
    for (int j = 0; j < rank; ++j) src += m.at(k, j);
    p->src_off[k] = src;
  }
  p->digest = m.digest();
  const std::size_t es = dtype_size(t);
  l.send_count = so;
  l.recv_count = ro;
  l.count = l.block = m.total() / (N * N);  // the average per-pair block, as alltoall's count
  l.bytes = m.total() * es / N;
  l.max_rank_bytes = m.max_rank() * es;
  l.total_bytes = m.total() * es;
  l.bw_bytes = l.max_rank_bytes;
  l.load_imbalance = m.imbalance();
  l.peers = std::move(p);
}

// moe_dispatch: rank i sends rank j one hidden vector per (token, expert on j) pair of the
// routing (vocab/counts.hpp); moe_combine returns them (the transpose).
CountsMatrix moe_matrix(OpKind kind, const CountsSpec& spec, std::size_t tokens, int n) {
  const std::vector<std::size_t> c = moe_token_counts(spec, n, tokens);
  const std::size_t N = static_cast<std::size_t>(n);
  std::vector<std::size_t> e(N * N);
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < N; ++j)
      e[i * N + j] = (kind == OpKind::moe_combine ? c[j * N + i] : c[i * N + j]) * spec.moe.hidden;
  return CountsMatrix(std::move(e), n);
}

}  // namespace

OpLayout OpDescriptor::layout(std::size_t req, DType t, int n, int rank, InPlaceConvention conv,
                              const CountsSpec* counts, std::size_t block_align_bytes) const {
  const std::size_t align = std::max<std::size_t>(1, block_align_bytes / dtype_size(t));
  const vocab::Shape sh = vocab::shape(kind, req / dtype_size(t), n, align);
  OpLayout l;
  l.requested_bytes = req;
  l.count = sh.count;
  l.send_count = sh.send;
  l.recv_count = sh.recv;
  l.block = sh.block;
  l.bytes = sh.size * dtype_size(t);
  l.bw_bytes = l.bytes;
  if (vocab::is_variable(kind)) {
    const CountsSpec spec = counts ? *counts : CountsSpec{};
    const int nr = n > 0 ? n : 1;
    if (!vocab::is_moe(kind)) {
      lay_out_peers(l, CountsMatrix(spec, nr, req / dtype_size(t)), t, nr, rank);
      return l;
    }
    l.moe_tokens = moe_tokens(spec.moe, req / dtype_size(t));
    if (spec.moe.tokens > 0)
      l.requested_bytes = l.moe_tokens * spec.moe.topk * spec.moe.hidden * dtype_size(t);
    l.moe_topk = spec.moe.topk;
    l.moe_hidden = spec.moe.hidden;
    lay_out_peers(l, moe_matrix(kind, spec, l.moe_tokens, nr), t, nr, rank);
    return l;
  }
  // In place, a rank's own block sits at its offset of the larger buffer: all-gather and gather
  // send from it; reduce-scatter receives there as NCCL does (MPI_IN_PLACE: at offset 0); scatter
  // receives there with both (MPI_Scatter's in-place root keeps its block where it is).
  if (kind == OpKind::allgather || kind == OpKind::gather)
    l.inplace_send_offset = static_cast<std::size_t>(rank) * l.block;
  if ((kind == OpKind::reducescatter && conv == InPlaceConvention::nccl) || kind == OpKind::scatter)
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

// reduce: the root ends with the reduction; the other ranks' receive buffers are not defined.
std::vector<Segment> reduced_at_root(const OpLayout& l, int rank, int, int root) {
  if (rank != root) return {};
  return {Segment{0, l.recv_count, 0, true, 0}};
}

std::vector<Segment> gathered_at_root(const OpLayout& l, int rank, int n, int root) {
  if (rank != root) return {};
  return gathered(l, rank, n, root);
}

std::vector<Segment> scattered_from_root(const OpLayout& l, int rank, int, int root) {
  return {Segment{0, l.recv_count, root, false, static_cast<std::size_t>(rank) * l.block}};
}

// alltoallv: from each source its block for this rank, at the per-pair counts.
std::vector<Segment> exchanged_v(const OpLayout& l, int, int n, int) {
  std::vector<Segment> s;
  s.reserve(n);
  for (int k = 0; k < n; ++k)
    if (l.recv_len(k) > 0) s.push_back(Segment{l.recv_off(k), l.recv_len(k), k, false, l.peers->src_off[k]});
  return s;
}

// The segments of `all` that fall in [from, from + count), re-based to start at `from`.
std::vector<Segment> clipped(const std::vector<Segment>& all, std::size_t from, std::size_t count) {
  std::vector<Segment> out;
  for (const Segment& s : all) {
    const std::size_t lo = std::max(s.recv_offset, from),
                      hi = std::min(s.recv_offset + s.count, from + count);
    if (lo >= hi) continue;
    out.push_back(Segment{lo - from, hi - lo, s.source, false, s.source_offset + (lo - s.recv_offset)});
  }
  return out;
}

// moe_combine: blocks 1..k-1 (tokens x hidden each) hold the returned copies as they arrived
// (alltoallv's segments); block 0 holds the sum of the k blocks (summed()).
std::vector<Segment> combined_rest(const OpLayout& l, int rank, int n, int root) {
  const std::size_t out = l.moe_tokens * l.moe_hidden;
  std::vector<Segment> s =
      clipped(exchanged_v(l, rank, n, root), out, l.recv_count - std::min(out, l.recv_count));
  for (Segment& x : s) x.recv_offset += out;
  return s;
}

std::vector<SummedSegment> combined_sum(const OpLayout& l, int rank, int n) {
  const std::size_t out = l.moe_tokens * l.moe_hidden;
  if (out == 0) return {};
  const std::vector<Segment> all = exchanged_v(l, rank, n, -1);
  SummedSegment s{0, out, {}};
  for (int j = 0; j < l.moe_topk; ++j)
    for (const Segment& x : clipped(all, j * out, out)) s.parts.push_back(x);
  return {s};
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

std::vector<Segment> from_previous(const OpLayout& l, int rank, int n, int) {
  if (n < 2) return {};
  return {Segment{0, l.recv_count, ring_prev(rank, n), false, 0}};
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
    {OpKind::unidir, "pairs (r, r+n/2): the lower half streams to the upper half", from_sender},
    {OpKind::bidir, "pairs (r, r+n/2) stream to each other at once; busbw counts both ways", from_peer},
    {OpKind::pingpong, "pairs (r, r+n/2) bounce one message; time is one-way (RTT/2)", from_peer},
    {OpKind::relay,
     "pairs (r, r+n/2) bounce one message, the reply sent from the buffer it just arrived in (store and "
     "forward); time is one-way (RTT/2)",
     relayed},
    {OpKind::reduce, "the root ends with the reduction of all ranks' buffers", reduced_at_root},
    {OpKind::gather, "the root ends with every rank's block, in rank order", gathered_at_root},
    {OpKind::scatter, "rank r ends with block r of the root's buffer", scattered_from_root},
    {OpKind::alltoallv,
     "rank r sends rank p the (r, p) entry of a counts matrix (--counts); busbw from the most loaded rank",
     exchanged_v},
    {OpKind::sendrecv,
     "ring shift (nccl-tests' sendrecv_perf): rank r sends to r+1 and receives from r-1 at once",
     from_previous},
    {OpKind::moe_dispatch,
     "rank r sends each of its tokens to the ranks of its top-k experts (one copy per token and expert, "
     "--counts routing over the experts); busbw from the most loaded rank",
     exchanged_v},
    {OpKind::moe_combine,
     "the experts return their copies to each token's home rank, which sums the k contributions; busbw "
     "from the most loaded rank",
     combined_rest, combined_sum},
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
  static constexpr Alias aliases[] = {{"bcast", OpKind::broadcast},
                                      {"p2p", OpKind::sendrecv},
                                      {"bw", OpKind::unidir},
                                      {"bibw", OpKind::bidir},
                                      {"latency", OpKind::pingpong},
                                      {"lat", OpKind::pingpong},
                                      {"a2a", OpKind::alltoall},
                                      {"a2av", OpKind::alltoallv},
                                      {"moedispatch", OpKind::moe_dispatch},
                                      {"moecombine", OpKind::moe_combine},
                                      {"dispatch", OpKind::moe_dispatch},
                                      {"combine", OpKind::moe_combine}};
  for (const auto& a : aliases)
    if (n == a.name) return &kOps[static_cast<int>(a.kind)];
  return nullptr;
}

}  // namespace fb
