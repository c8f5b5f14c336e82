// The building blocks in common.hpp: the pipelined exchange, the ring phases, the fold, sub-groups.
#include "collectives/algorithms/common.hpp"

#include <stdexcept>

namespace fb::algo {

void post_send(P2P& p2p, const void* buf, std::size_t count, int to, std::size_t es, std::size_t chunk) {
  for (std::size_t i = 0; i < count; i += chunk)
    p2p.isend(at(buf, i, es), std::min(chunk, count - i) * es, to, kTag);
}

void post_recv(P2P& p2p, void* buf, std::size_t count, int from, std::size_t es, std::size_t chunk) {
  for (std::size_t i = 0; i < count; i += chunk)
    p2p.irecv(at(buf, i, es), std::min(chunk, count - i) * es, from, kTag);
}

void exchange(P2P& p2p, const Exchange& x, DType dtype, RedOp redop, std::size_t chunk, void* tmp,
              const MemOps* mem) {
  const std::size_t es = dtype_size(dtype);
  const std::size_t nsend = (x.send_count + chunk - 1) / chunk, nrecv = (x.recv_count + chunk - 1) / chunk;
  const std::size_t n = std::max(nsend, nrecv);
  auto len = [&](std::size_t total, std::size_t i) { return std::min(chunk, total - i * chunk); };
  const std::size_t stride = slot_bytes(chunk, x.recv_count, es);
  auto slot = [&](std::size_t i) { return static_cast<unsigned char*>(tmp) + (i % 2) * stride; };
  auto post = [&](std::size_t i) {
    if (i < nrecv)
      p2p.irecv(x.own ? slot(i) : at(x.dst, i * chunk, es), len(x.recv_count, i) * es, x.from, kTag);
    if (i < nsend) p2p.isend(at(x.send, i * chunk, es), len(x.send_count, i) * es, x.to, kTag);
  };
  if (n == 0) return;
  if (!x.own) {  // nothing to reduce: every chunk in flight at once
    post_recv(p2p, x.dst, x.recv_count, x.from, es, chunk);
    post_send(p2p, x.send, x.send_count, x.to, es, chunk);
    p2p.wait_all();
    return;
  }
  if (mem == nullptr) throw std::logic_error("exchange: a reducing step needs the call's MemOps");
  post(0);
  p2p.wait_all();
  for (std::size_t i = 0; i < n; ++i) {
    // Chunk i+1 is in flight while chunk i is reduced.
    if (i + 1 < n) post(i + 1);
    if (i < nrecv)
      mem->reduce_into(at(x.dst, i * chunk, es), at(x.own, i * chunk, es), slot(i), len(x.recv_count, i),
                       dtype, redop);
    if (i + 1 < n) p2p.wait_all();
  }
}

void one_way(P2P& p2p, int from, int to, const void* send, void* dst, const void* own, std::size_t count,
             DType dtype, RedOp redop, std::size_t chunk, void* tmp, const MemOps* mem) {
  Exchange x;
  if (p2p.rank() == from)
    x.send = send, x.send_count = count, x.to = to;
  else
    x.dst = dst, x.own = own, x.recv_count = count, x.from = from;
  exchange(p2p, x, dtype, redop, chunk, tmp, mem);
}

void ring_reduce_scatter(P2P& p2p, const void* in, void* work, void* out, const Blocks& B, DType dtype,
                         RedOp redop, std::size_t chunk, void* tmp, const MemOps& mem) {
  const std::size_t es = dtype_size(dtype);
  const int p = p2p.size(), r = p2p.rank();
  if (p == 1) {
    copy_elems(out, at(in, B.begin(0), es), B.len(0), es, mem);
    return;
  }
  const int right = mod(r + 1, p), left = mod(r - 1, p);
  // Step s forwards the partial sum of block r-s-1 (at step 0: this rank's own data) and adds this
  // rank's contribution to the partial sum of block r-s-2 it receives; the last one is block r.
  for (int s = 0; s < p - 1; ++s) {
    const int sb = mod(r - s - 1, p), rb = mod(r - s - 2, p);
    Exchange x;
    x.send = s == 0 ? at(in, B.begin(sb), es) : at(static_cast<const void*>(work), B.begin(sb), es);
    x.send_count = B.len(sb);
    x.to = right;
    x.dst = s == p - 2 ? out : at(work, B.begin(rb), es);
    x.own = at(in, B.begin(rb), es);
    x.recv_count = B.len(rb);
    x.from = left;
    exchange(p2p, x, dtype, redop, chunk, tmp, &mem);
  }
}

void ring_allgather(P2P& p2p, void* buf, const Blocks& B, DType dtype, std::size_t chunk, const void* own) {
  const std::size_t es = dtype_size(dtype);
  const int p = p2p.size(), r = p2p.rank();
  const int right = mod(r + 1, p), left = mod(r - 1, p);
  for (int s = 0; s < p - 1; ++s) {
    const int sb = mod(r - s, p), rb = mod(r - s - 1, p);
    Exchange x;
    x.send = s == 0 && own ? own : at(static_cast<const void*>(buf), B.begin(sb), es);
    x.send_count = B.len(sb);
    x.to = right;
    x.dst = at(buf, B.begin(rb), es);
    x.recv_count = B.len(rb);
    x.from = left;
    exchange(p2p, x, dtype, RedOp::sum, chunk, nullptr, nullptr);
  }
}

Fold make_fold(int p, int r) {
  Fold f;
  while (f.pof2 * 2 <= p) f.pof2 *= 2;
  f.rem = p - f.pof2;
  if (r < 2 * f.rem)
    f.newrank = r % 2 == 0 ? -1 : r / 2;
  else
    f.newrank = r - f.rem;
  return f;
}

void fold_in(P2P& p2p, const Fold& f, const void* send, void* dst, const void* own, std::size_t count,
             DType dtype, RedOp redop, std::size_t chunk, void* tmp, const MemOps& mem) {
  const int r = p2p.rank(), even = r & ~1;
  if (r < 2 * f.rem) one_way(p2p, even, even + 1, send, dst, own, count, dtype, redop, chunk, tmp, &mem);
}

void fold_out(P2P& p2p, const Fold& f, const void* send, void* dst, std::size_t count, DType dtype,
              std::size_t chunk) {
  const int r = p2p.rank(), even = r & ~1;
  if (r < 2 * f.rem)
    one_way(p2p, even + 1, even, send, dst, nullptr, count, dtype, RedOp::sum, chunk, nullptr, nullptr);
}

void folded_allreduce(P2P& p2p, const AlgoCall& c, FoldedCore core) {
  const std::size_t count = c.layout.count, es = dtype_size(c.dtype), ch = chunk_elems(c);
  const Fold f = make_fold(p2p.size(), p2p.rank());
  fold_in(p2p, f, c.send, c.recv, c.send, count, c.dtype, c.redop, ch, c.scratch, *c.mem);
  if (f.newrank >= 0) {
    if (f.pof2 == 1)
      copy_elems(c.recv, c.send, count, es, *c.mem);  // one rank
    else
      core(p2p, c, f, p2p.rank() < 2 * f.rem ? c.recv : c.send);
  }
  fold_out(p2p, f, c.recv, c.recv, count, c.dtype, ch);
}

const void* alltoall_start(const AlgoCall& c, int p) {
  if (!c.inplace) return c.send;
  copy_elems(c.scratch, c.send, c.layout.block * p, dtype_size(c.dtype), *c.mem);
  return c.scratch;
}

void alltoall_own_block(const AlgoCall& c, const void* send, int r) {
  const std::size_t es = dtype_size(c.dtype);
  const OpLayout& l = c.layout;
  copy_elems(at(c.recv, l.recv_off(r), es), at(send, l.send_off(r), es), l.recv_len(r), es, *c.mem);
}

SubP2P::SubP2P(P2P& parent, std::vector<int> ranks) : parent_(parent), ranks_(std::move(ranks)) {
  const auto it = std::find(ranks_.begin(), ranks_.end(), parent.rank());
  if (it == ranks_.end()) throw std::logic_error("SubP2P: this rank is not in the group");
  rank_ = static_cast<int>(it - ranks_.begin());
}

}  // namespace fb::algo
