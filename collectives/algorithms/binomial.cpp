// Binomial trees, ceil(log2 p) rounds; counting ranks from the root (v = r - root mod p), rank v's
// parent is v - 2^k (2^k its lowest set bit) and its children v + 2^j for each j < k. Any rank
// count, any root.
//   broadcast  v receives the whole buffer from its parent and passes it on to its children,
//              farthest first (MPICH's order); out of place the root sends from its send buffer
//              and copies it to its receive buffer.
//   reduce     the mirror image: v reduces its children's partial results into its own, nearest
//              first, and sends the sum to its parent; the root ends with the reduction. A
//              non-root's receive buffer holds its partial result.
//   gather     v collects the blocks of its subtree (ranks v .. v + 2^k - 1, in root-relative order)
//              and sends them to its parent in one message; the root puts them in rank order.
//   scatter    the mirror image of gather: the root (its buffer in root-relative order) sends each
//              child its subtree's blocks; each rank keeps its own.
// Subtree blocks go through scratch (p blocks), except at a root 0, which gathers straight into
// its receive buffer and scatters straight from its send buffer.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void broadcast(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), count = c.layout.count, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank(), v = mod(r - c.root, p);
  const void* data = v == 0 ? c.send : c.recv;
  int mask = 1;
  for (; mask < p; mask <<= 1)
    if (v & mask) {
      post_recv(p2p, c.recv, count, mod(r - mask, p), es, ch);
      p2p.wait_all();
      break;
    }
  for (mask >>= 1; mask > 0; mask >>= 1)
    if (v + mask < p) post_send(p2p, data, count, mod(r + mask, p), es, ch);
  p2p.wait_all();
  if (v == 0) copy_elems(c.recv, c.send, count, es, *c.mem);
}

void reduce(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), count = c.layout.count, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank(), v = mod(r - c.root, p);
  const void* acc = c.send;  // this rank's partial result: its own data until a child's arrives
  for (int mask = 1; mask < p; mask <<= 1) {
    if (v & mask) {
      one_way(p2p, r, mod(r - mask, p), acc, nullptr, nullptr, count, c.dtype, c.redop, ch, nullptr, nullptr);
      return;
    }
    if (v + mask < p) {
      one_way(p2p, mod(r + mask, p), r, nullptr, c.recv, acc, count, c.dtype, c.redop, ch, c.scratch, c.mem);
      acc = c.recv;
    }
  }
  copy_elems(c.recv, acc, count, es, *c.mem);  // the root of one rank
}

// Blocks of the subtree of v below `mask` (its lowest set bit, or the first power of two >= p at
// the root): min(mask, p - v).
int subtree_blocks(int v, int mask, int p) {
  return std::min(mask, p - v);
}

void gather(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank(), v = mod(r - c.root, p);
  // buf[u - v] holds root-relative rank u's block.
  void* buf = v == 0 && c.root == 0 ? c.recv : c.scratch;
  copy_elems(buf, c.send, block, es, *c.mem);
  for (int mask = 1; mask < p; mask <<= 1) {
    if (v & mask) {
      post_send(p2p, buf, subtree_blocks(v, mask, p) * block, mod(r - mask, p), es, ch);
      p2p.wait_all();
      return;
    }
    if (v + mask < p) {
      post_recv(p2p, at(buf, mask * block, es), subtree_blocks(v + mask, mask, p) * block, mod(r + mask, p),
                es, ch);
      p2p.wait_all();
    }
  }
  if (buf == c.recv) return;
  // The root: root-relative order to rank order.
  for (int u = 0; u < p; ++u)
    copy_elems(at(c.recv, mod(u + c.root, p) * block, es), at(buf, u * block, es), block, es, *c.mem);
}

void scatter(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank(), v = mod(r - c.root, p);
  const void* buf = c.send;
  if (v == 0 && c.root != 0) {  // rank order to root-relative order
    for (int u = 0; u < p; ++u)
      copy_elems(at(c.scratch, u * block, es), at(c.send, mod(u + c.root, p) * block, es), block, es, *c.mem);
    buf = c.scratch;
  }
  int mask = 1;
  while (mask < p && !(v & mask)) mask <<= 1;
  if (v != 0) {
    post_recv(p2p, c.scratch, subtree_blocks(v, mask, p) * block, mod(r - mask, p), es, ch);
    p2p.wait_all();
    buf = c.scratch;
  }
  for (mask >>= 1; mask > 0; mask >>= 1)
    if (v + mask < p)
      post_send(p2p, at(buf, mask * block, es), subtree_blocks(v + mask, mask, p) * block, mod(r + mask, p),
                es, ch);
  copy_elems(c.recv, buf, block, es, *c.mem);
  p2p.wait_all();
}

void run(P2P& p2p, const AlgoCall& c) {
  switch (c.op->kind) {
    case OpKind::reduce:
      return reduce(p2p, c);
    case OpKind::gather:
      return gather(p2p, c);
    case OpKind::scatter:
      return scatter(p2p, c);
    default:
      return broadcast(p2p, c);
  }
}

std::size_t scratch(const AlgoCall& c, int p) {
  const std::size_t es = dtype_size(c.dtype);
  switch (c.op->kind) {
    case OpKind::reduce:
      return exchange_tmp_bytes(c, c.layout.count);
    case OpKind::gather:
    case OpKind::scatter:
      return static_cast<std::size_t>(p) * c.layout.block * es;
    default:
      return 0;
  }
}

}  // namespace

const CollectiveAlgorithm binomial{vocab::algo::binomial, scratch, run};

}  // namespace fb::algo
