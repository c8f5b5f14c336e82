// Operation descriptors: names and aliases, busbw factors, buffer layouts (rounded as nccl-tests),
// pairing of ranks, and the segments that say what every received element must hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "collectives/op.hpp"

namespace fb {
namespace {

const OpKind kAllKinds[] = {OpKind::allreduce, OpKind::alltoall, OpKind::allgather,    OpKind::reducescatter,
                            OpKind::broadcast, OpKind::unidir,   OpKind::bidir,        OpKind::pingpong,
                            OpKind::relay,     OpKind::reduce,   OpKind::gather,       OpKind::scatter,
                            OpKind::alltoallv, OpKind::sendrecv, OpKind::moe_dispatch, OpKind::moe_combine};

// Requested sizes: zero, smaller than one element, not multiples of any dtype size or rank
// count, and multiples of all of them.
const std::size_t kSizes[] = {0, 1, 3, 7, 8, 64, 1000, 1001, 4099, 12345, 65536, 65537, (1u << 20) + 3};

bool splits_into_blocks(OpKind k) {
  return k == OpKind::alltoall || k == OpKind::allgather || k == OpKind::reducescatter ||
         k == OpKind::gather || k == OpKind::scatter || k == OpKind::alltoallv;
}

std::string trace(const OpDescriptor& op, DType t, std::size_t bytes, int n, int rank) {
  return std::string(op.name) + " " + std::string(dtype_name(t)) + " bytes=" + std::to_string(bytes) +
         " n=" + std::to_string(n) + " rank=" + std::to_string(rank);
}

// ---- the table of ops ----------------------------------------------------------------------

TEST(Ops, AllOpsInEnumOrder) {
  const auto& ops = all_ops();
  ASSERT_EQ(ops.size(), std::size(kAllKinds));
  std::set<std::string> names;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ASSERT_NE(ops[i], nullptr);
    EXPECT_EQ(ops[i]->kind, kAllKinds[i]);
    EXPECT_EQ(&op_descriptor(kAllKinds[i]), ops[i]);
    EXPECT_EQ(ops[i]->name, vocab::op_name(kAllKinds[i]));
    EXPECT_NE(ops[i]->segments, nullptr);
    EXPECT_FALSE(ops[i]->summary.empty());
    names.insert(std::string(ops[i]->name));
  }
  EXPECT_EQ(names.size(), ops.size());
  EXPECT_EQ(op_descriptor(OpKind::allreduce).name, "allreduce");
  EXPECT_EQ(op_descriptor(OpKind::reducescatter).name, "reducescatter");
  EXPECT_EQ(op_descriptor(OpKind::pingpong).name, "pingpong");
}

TEST(Ops, Flags) {
  for (const OpDescriptor* op : all_ops()) {
    SCOPED_TRACE(std::string(op->name));
    const OpKind k = op->kind;
    EXPECT_EQ(op->reduces, k == OpKind::allreduce || k == OpKind::reducescatter || k == OpKind::reduce);
    EXPECT_EQ(op->rooted,
              k == OpKind::broadcast || k == OpKind::reduce || k == OpKind::gather || k == OpKind::scatter);
    const bool pairwise = k == OpKind::sendrecv || k == OpKind::unidir || k == OpKind::bidir ||
                          k == OpKind::pingpong || k == OpKind::relay;
    EXPECT_EQ(op->pairwise, pairwise);
    EXPECT_EQ(vocab::is_ring_shift(k), k == OpKind::sendrecv);
    EXPECT_EQ(op->has_inplace, !pairwise && k != OpKind::alltoallv && !vocab::is_moe(k));
    EXPECT_EQ(op->sums_contributions, k == OpKind::moe_combine);
    EXPECT_EQ(op->min_ranks, pairwise ? 2 : 1);
    EXPECT_EQ(op->time_divisor, k == OpKind::pingpong || k == OpKind::relay ? 2.0 : 1.0);
    EXPECT_EQ(is_bounce(k), k == OpKind::pingpong || k == OpKind::relay);
  }
}

TEST(Ops, Unrunnable) {
  for (const OpDescriptor* op : all_ops()) {
    SCOPED_TRACE(std::string(op->name));
    for (int n = op->min_ranks; n <= 9; ++n) EXPECT_FALSE(op->unrunnable(n).has_value()) << n;
    EXPECT_FALSE(op->unrunnable(5000).has_value());
    if (op->min_ranks > 1) {
      const auto why = op->unrunnable(1);
      ASSERT_TRUE(why.has_value());
      EXPECT_NE(why->find(std::string(op->name)), std::string::npos) << *why;
      EXPECT_NE(why->find("at least 2"), std::string::npos) << *why;
      EXPECT_NE(why->find("got 1"), std::string::npos) << *why;
    }
  }
}

TEST(Ops, FindOpNamesAndAliases) {
  for (const OpDescriptor* op : all_ops()) EXPECT_EQ(find_op(op->name), op) << op->name;
  const std::pair<const char*, OpKind> cases[] = {
      {"all_reduce", OpKind::allreduce},
      {"all-reduce", OpKind::allreduce},
      {"AllReduce", OpKind::allreduce},
      {"ALL_REDUCE", OpKind::allreduce},
      {"all_to_all", OpKind::alltoall},
      {"a2a", OpKind::alltoall},
      {"all_gather", OpKind::allgather},
      {"reduce_scatter", OpKind::reducescatter},
      {"reduce-scatter", OpKind::reducescatter},
      {"bcast", OpKind::broadcast},
      {"Broadcast", OpKind::broadcast},
      {"send_recv", OpKind::sendrecv},
      {"p2p", OpKind::sendrecv},
      {"sendrecv", OpKind::sendrecv},
      {"unidir", OpKind::unidir},
      {"bw", OpKind::unidir},
      {"bibw", OpKind::bidir},
      {"ping_pong", OpKind::pingpong},
      {"ping-pong", OpKind::pingpong},
      {"latency", OpKind::pingpong},
      {"lat", OpKind::pingpong},
      {"Reduce", OpKind::reduce},
      {"gather", OpKind::gather},
      {"scatter", OpKind::scatter},
      {"all_to_all_v", OpKind::alltoallv},
      {"a2av", OpKind::alltoallv},
  };
  for (const auto& [name, kind] : cases) {
    const OpDescriptor* op = find_op(name);
    ASSERT_NE(op, nullptr) << name;
    EXPECT_EQ(op->kind, kind) << name;
  }
  for (const char* bad : {"", "reduces", "gatherv", "scatterv", "allreduce2", "all reduce", "send"})
    EXPECT_EQ(find_op(bad), nullptr) << "'" << bad << "'";
}

// ---- busbw ---------------------------------------------------------------------------------

TEST(Ops, BusBandwidthFactors) {
  for (int n : {1, 2, 3, 4, 5, 6, 7, 8, 16, 300, 5000}) {
    SCOPED_TRACE(n);
    const double nd = n;
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::allreduce).busbw_factor(n), 2.0 * (nd - 1) / nd);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::allgather).busbw_factor(n), (nd - 1) / nd);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::reducescatter).busbw_factor(n), (nd - 1) / nd);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::alltoall).busbw_factor(n), (nd - 1) / nd);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::broadcast).busbw_factor(n), 1.0);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::sendrecv).busbw_factor(n), 1.0);  // sendrecv_perf's factor
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::unidir).busbw_factor(n), 1.0);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::pingpong).busbw_factor(n), 1.0);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::relay).busbw_factor(n), 1.0);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::bidir).busbw_factor(n), 2.0);
    // nccl-tests' reduce, gather and scatter; alltoallv as alltoall (over the most loaded rank's bytes).
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::reduce).busbw_factor(n), 1.0);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::gather).busbw_factor(n), (nd - 1) / nd);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::scatter).busbw_factor(n), (nd - 1) / nd);
    EXPECT_DOUBLE_EQ(op_descriptor(OpKind::alltoallv).busbw_factor(n), (nd - 1) / nd);
  }
  // Spot values as nccl-tests prints them.
  EXPECT_DOUBLE_EQ(op_descriptor(OpKind::allreduce).busbw_factor(1), 0.0);
  EXPECT_DOUBLE_EQ(op_descriptor(OpKind::allreduce).busbw_factor(8), 1.75);
  EXPECT_DOUBLE_EQ(op_descriptor(OpKind::allgather).busbw_factor(8), 0.875);
  EXPECT_DOUBLE_EQ(op_descriptor(OpKind::alltoall).busbw_factor(2), 0.5);
}

// ---- layouts -------------------------------------------------------------------------------

// The reference layout, written from nccl-tests' getCollByteCount functions: with `align16` (the
// nccl backend), their `base = (count/nranks) & -(16/eltSize)`; without, exact counts (mpi, ucx).
// alltoallv has no nccl-tests counterpart and is never aligned.
OpLayout reference_layout(OpKind k, std::size_t req, DType t, int n, int rank, InPlaceConvention conv,
                          bool align16 = false) {
  const std::size_t ws = dtype_size(t);
  const std::size_t elems = req / ws;
  const auto nn = static_cast<std::size_t>(n);
  const auto r = static_cast<std::size_t>(rank);
  const std::size_t base = align16 ? (elems / nn) & -(16 / ws) : elems / nn;
  OpLayout l;
  l.requested_bytes = req;
  switch (k) {
    case OpKind::alltoallv:  // uniform counts: alltoall's blocks, unaligned
      l.block = l.count = elems / nn;
      l.send_count = l.recv_count = l.block * nn;
      l.bytes = l.send_count * ws;
      break;
    case OpKind::alltoall:
      l.block = l.count = base;
      l.send_count = l.recv_count = l.block * nn;
      l.bytes = l.send_count * ws;
      break;
    case OpKind::allgather:
    case OpKind::gather:  // nccl-tests' gather: allgather's counts, the root's receive buffer
      l.block = l.count = l.send_count = base;
      l.recv_count = l.block * nn;
      l.bytes = l.recv_count * ws;
      l.inplace_send_offset = r * l.block;
      break;
    case OpKind::reducescatter:
    case OpKind::scatter:  // nccl-tests' scatter: reducescatter's counts, the root's send buffer
      l.block = l.count = l.recv_count = base;
      l.send_count = l.block * nn;
      l.bytes = l.send_count * ws;
      l.inplace_recv_offset = conv == InPlaceConvention::nccl || k == OpKind::scatter ? r * l.block : 0;
      break;
    default:
      l.block = l.count = l.send_count = l.recv_count = elems;
      l.bytes = elems * ws;
      break;
  }
  return l;
}

TEST(Ops, LayoutsRoundAsNcclTests) {
  for (const OpDescriptor* op : all_ops()) {
    if (vocab::is_moe(op->kind)) continue;  // whole tokens, not nccl-tests' rounding: test_moe.cpp
    for (DType t : all_dtypes()) {
      const std::size_t ws = dtype_size(t);
      for (std::size_t req : kSizes) {
        for (int n = 1; n <= 8; ++n) {
          const auto nn = static_cast<std::size_t>(n);
          for (int rank = 0; rank < n; ++rank) {
            for (const auto& [conv, align] : {std::pair{InPlaceConvention::nccl, std::size_t{16}},
                                              std::pair{InPlaceConvention::nccl, std::size_t{1}},
                                              std::pair{InPlaceConvention::mpi, std::size_t{1}}}) {
              SCOPED_TRACE(trace(*op, t, req, n, rank) +
                           (conv == InPlaceConvention::nccl ? " nccl" : " mpi") +
                           " align=" + std::to_string(align));
              const OpLayout l = op->layout(req, t, n, rank, conv, nullptr, align);
              const OpLayout want = reference_layout(op->kind, req, t, n, rank, conv, align == 16);
              ASSERT_EQ(l.requested_bytes, req);
              ASSERT_EQ(l.bytes, want.bytes);
              ASSERT_EQ(l.count, want.count);
              ASSERT_EQ(l.send_count, want.send_count);
              ASSERT_EQ(l.recv_count, want.recv_count);
              ASSERT_EQ(l.block, want.block);
              ASSERT_EQ(l.inplace_send_offset, want.inplace_send_offset);
              ASSERT_EQ(l.inplace_recv_offset, want.inplace_recv_offset);
              // Invariants: the size that runs is whole elements (whole blocks of n elements
              // for split ops, of n x 16 bytes with the nccl alignment), never more than asked
              // for, and less than one unit short of it.
              const std::size_t block_unit = op->kind == OpKind::alltoallv ? ws : std::max(ws, align);
              const std::size_t unit = splits_into_blocks(op->kind) ? block_unit * nn : ws;
              ASSERT_LE(l.bytes, req);
              ASSERT_EQ(l.bytes % unit, 0u);
              ASSERT_LT(req - l.bytes, unit);
              ASSERT_EQ(l.bytes, std::max(l.send_count, l.recv_count) * ws);
              // In place: both regions fit in the one buffer.
              const std::size_t buf = l.buffer_count(true);
              ASSERT_EQ(buf, std::max(l.send_count, l.recv_count));
              ASSERT_LE(l.inplace_send_offset + l.send_count, buf);
              ASSERT_LE(l.inplace_recv_offset + l.recv_count, buf);
            }
          }
        }
      }
    }
  }
}

TEST(Ops, LayoutExamples) {
  // 8 ranks, float32, 1000 bytes asked: 250 elements -> 31 per rank -> 248 elements = 992 bytes.
  const OpLayout ag =
      op_descriptor(OpKind::allgather).layout(1000, DType::float32, 8, 3, InPlaceConvention::nccl);
  EXPECT_EQ(ag.requested_bytes, 1000u);
  EXPECT_EQ(ag.bytes, 992u);
  EXPECT_EQ(ag.count, 31u);
  EXPECT_EQ(ag.send_count, 31u);
  EXPECT_EQ(ag.recv_count, 248u);
  EXPECT_EQ(ag.inplace_send_offset, 93u);
  const OpLayout a2a =
      op_descriptor(OpKind::alltoall).layout(1000, DType::float32, 8, 0, InPlaceConvention::nccl);
  EXPECT_EQ(a2a.bytes, 992u);
  EXPECT_EQ(a2a.count, 31u);
  EXPECT_EQ(a2a.send_count, 248u);
  EXPECT_EQ(a2a.recv_count, 248u);
  const OpLayout rs_nccl =
      op_descriptor(OpKind::reducescatter).layout(1000, DType::float32, 8, 5, InPlaceConvention::nccl);
  const OpLayout rs_mpi =
      op_descriptor(OpKind::reducescatter).layout(1000, DType::float32, 8, 5, InPlaceConvention::mpi);
  EXPECT_EQ(rs_nccl.bytes, 992u);
  EXPECT_EQ(rs_nccl.recv_count, 31u);
  EXPECT_EQ(rs_nccl.send_count, 248u);
  EXPECT_EQ(rs_nccl.inplace_recv_offset, 155u);
  EXPECT_EQ(rs_mpi.inplace_recv_offset, 0u);
  // Unsplit ops only round to whole elements.
  const OpLayout ar =
      op_descriptor(OpKind::allreduce).layout(1001, DType::float32, 8, 0, InPlaceConvention::nccl);
  EXPECT_EQ(ar.bytes, 1000u);
  EXPECT_EQ(ar.count, 250u);
  const OpLayout bc =
      op_descriptor(OpKind::broadcast).layout(7, DType::float64, 3, 1, InPlaceConvention::mpi);
  EXPECT_EQ(bc.bytes, 0u);
  EXPECT_EQ(bc.count, 0u);
  EXPECT_EQ(bc.requested_bytes, 7u);
  // Fewer elements than ranks: nothing left to move.
  const OpLayout tiny = op_descriptor(OpKind::alltoall).layout(7, DType::int8, 8, 0, InPlaceConvention::nccl);
  EXPECT_EQ(tiny.bytes, 0u);
  EXPECT_EQ(tiny.count, 0u);
}

// The nccl backend's 16-byte blocks (nccl-tests' `(count/nranks) & -(16/eltSize)`), worked by hand.
TEST(Ops, NcclBlockAlignmentExamples) {
  auto lay = [](OpKind k, std::size_t req, DType t, int n, std::size_t align) {
    return op_descriptor(k).layout(req, t, n, 0, InPlaceConvention::nccl, nullptr, align);
  };
  // -b 8 at 8 ranks, float32: 2 elements, 0 per rank: every split op reports size 0, count 0 (as
  // all_gather_perf -b 8 does); exact counts give 0 too. allreduce keeps its 2 elements.
  for (OpKind k :
       {OpKind::allgather, OpKind::reducescatter, OpKind::alltoall, OpKind::gather, OpKind::scatter}) {
    SCOPED_TRACE(std::string(op_descriptor(k).name));
    EXPECT_EQ(lay(k, 8, DType::float32, 8, 16).bytes, 0u);
    EXPECT_EQ(lay(k, 8, DType::float32, 8, 16).count, 0u);
  }
  EXPECT_EQ(lay(OpKind::allreduce, 8, DType::float32, 8, 16).bytes, 8u);
  // 1000 B float32 at 8 ranks: 31 per rank exact (992 B); 28 aligned (4 per 16 B): 896 B.
  const OpLayout ag = lay(OpKind::allgather, 1000, DType::float32, 8, 16);
  EXPECT_EQ(ag.count, 28u);
  EXPECT_EQ(ag.send_count, 28u);
  EXPECT_EQ(ag.recv_count, 224u);
  EXPECT_EQ(ag.bytes, 896u);
  EXPECT_EQ(lay(OpKind::allgather, 1000, DType::float32, 8, 1).bytes, 992u);
  // int8: 1000 at 8 ranks = 125 -> 112 (16 per block): 896 B; float64 at 3 ranks: 125 -> 41 -> 40
  // (2 per block): 960 B; float16 4096 B at 6 ranks: 2048 -> 341 -> 336 (8 per block): 4032 B.
  const OpLayout rs = lay(OpKind::reducescatter, 1000, DType::int8, 8, 16);
  EXPECT_EQ(rs.count, 112u);
  EXPECT_EQ(rs.send_count, 896u);
  EXPECT_EQ(rs.bytes, 896u);
  const OpLayout a2a = lay(OpKind::alltoall, 1000, DType::float64, 3, 16);
  EXPECT_EQ(a2a.count, 40u);
  EXPECT_EQ(a2a.send_count, 120u);
  EXPECT_EQ(a2a.bytes, 960u);
  EXPECT_EQ(lay(OpKind::alltoall, 1000, DType::float64, 3, 1).bytes, 984u);
  const OpLayout sc = lay(OpKind::scatter, 4096, DType::float16, 6, 16);
  EXPECT_EQ(sc.count, 336u);
  EXPECT_EQ(sc.bytes, 4032u);
  EXPECT_EQ(lay(OpKind::gather, 4096, DType::float16, 6, 16).recv_count, 2016u);
  // Powers of two that fill whole 16-byte blocks do not change: 1 MiB bfloat16 at 8 ranks.
  EXPECT_EQ(lay(OpKind::allgather, 1 << 20, DType::bfloat16, 8, 16).bytes, 1u << 20);
  // In place, a rank's block sits at its aligned offset: rank 5 of 8, 1000 B float32 -> 5 x 28.
  EXPECT_EQ(op_descriptor(OpKind::reducescatter)
                .layout(1000, DType::float32, 8, 5, InPlaceConvention::nccl, nullptr, 16)
                .inplace_recv_offset,
            140u);
  // Unsplit ops, sendrecv and alltoallv (per-pair counts) are not aligned.
  EXPECT_EQ(lay(OpKind::broadcast, 1001, DType::int8, 8, 16).bytes, 1001u);
  EXPECT_EQ(lay(OpKind::sendrecv, 1001, DType::int8, 8, 16).bytes, 1001u);
  EXPECT_EQ(lay(OpKind::alltoallv, 1000, DType::float32, 8, 16).bytes, 992u);
}

// ---- pairs ---------------------------------------------------------------------------------

TEST(Ops, RingShiftPeers) {
  for (int n = 2; n <= 9; ++n)
    for (int r = 0; r < n; ++r) {
      SCOPED_TRACE("n=" + std::to_string(n) + " rank=" + std::to_string(r));
      EXPECT_EQ(ring_next(r, n), (r + 1) % n);
      EXPECT_EQ(ring_prev(r, n), (r + n - 1) % n);
      EXPECT_EQ(ring_prev(ring_next(r, n), n), r);  // what r sends, r + 1 receives
    }
  EXPECT_EQ(ring_next(3, 4), 0);
  EXPECT_EQ(ring_prev(0, 4), 3);
  EXPECT_EQ(ring_next(0, 2), 1);
  EXPECT_EQ(ring_prev(0, 2), 1);
}

TEST(Ops, PairPeers) {
  EXPECT_EQ(pair_peer(0, 1), -1);
  EXPECT_FALSE(pair_is_sender(0, 1));
  EXPECT_EQ(pair_peer(0, 2), 1);
  EXPECT_EQ(pair_peer(1, 2), 0);
  EXPECT_EQ(pair_peer(0, 5), 2);
  EXPECT_EQ(pair_peer(1, 5), 3);
  EXPECT_EQ(pair_peer(2, 5), 0);
  EXPECT_EQ(pair_peer(3, 5), 1);
  EXPECT_EQ(pair_peer(4, 5), -1);
  for (int n = 1; n <= 9; ++n) {
    int unpaired = 0;
    int senders = 0;
    for (int r = 0; r < n; ++r) {
      SCOPED_TRACE("n=" + std::to_string(n) + " rank=" + std::to_string(r));
      const int p = pair_peer(r, n);
      if (p < 0) {
        ++unpaired;
        EXPECT_EQ(r, n - 1);  // only the last rank of an odd count sits out
        EXPECT_FALSE(pair_is_sender(r, n));
        continue;
      }
      EXPECT_GE(p, 0);
      EXPECT_LT(p, n);
      EXPECT_NE(p, r);
      EXPECT_EQ(pair_peer(p, n), r);
      EXPECT_NE(pair_is_sender(r, n), pair_is_sender(p, n));  // exactly one side sends
      EXPECT_EQ(pair_is_sender(r, n), r < p);                 // the lower half sends
      if (pair_is_sender(r, n)) ++senders;
    }
    EXPECT_EQ(unpaired, n % 2);
    EXPECT_EQ(senders, n / 2);
  }
}

// ---- segments ------------------------------------------------------------------------------

// Every rank's segments tile its receive region exactly once, read inside the source's send
// buffer, and say what the op means.
TEST(Ops, SegmentsCoverTheReceiveRegionExactlyOnce) {
  const DType dtypes[] = {DType::int8, DType::float16, DType::float32, DType::float64};
  for (const OpDescriptor* op : all_ops()) {
    for (DType t : dtypes) {
      for (std::size_t req : kSizes) {
        if (req > 65537) continue;  // element-by-element coverage: keep it cheap
        for (int n = op->min_ranks; n <= 8; ++n) {
          std::vector<OpLayout> layouts;
          for (int r = 0; r < n; ++r) layouts.push_back(op->layout(req, t, n, r, InPlaceConvention::nccl));
          const std::set<int> roots = {0, n / 2, n - 1};
          for (int root : roots) {
            if (!op->rooted && root != 0) continue;
            for (int rank = 0; rank < n; ++rank) {
              SCOPED_TRACE(trace(*op, t, req, n, rank) + " root=" + std::to_string(root));
              const OpLayout& l = layouts[static_cast<std::size_t>(rank)];
              const auto segs = op->segments(l, rank, n, root);
              const bool at_root = op->kind == OpKind::reduce || op->kind == OpKind::gather;
              const bool receives = at_root ? rank == root
                                            : !op->pairwise || op->kind == OpKind::sendrecv ||
                                                  (pair_peer(rank, n) >= 0 &&
                                                   (op->kind != OpKind::unidir || !pair_is_sender(rank, n)));
              if (!receives) {
                EXPECT_TRUE(segs.empty());
                continue;
              }
              std::vector<int> covered(l.recv_count, 0);
              for (const Segment& s : segs) {
                ASSERT_LE(s.recv_offset + s.count, l.recv_count);
                for (std::size_t i = 0; i < s.count; ++i) ++covered[s.recv_offset + i];
                if (!s.reduced) {
                  ASSERT_GE(s.source, 0);
                  ASSERT_LT(s.source, n);
                  const OpLayout& src = layouts[static_cast<std::size_t>(s.source)];
                  ASSERT_LE(s.source_offset + s.count, src.send_count);
                } else {
                  ASSERT_TRUE(op->reduces);
                  for (const OpLayout& src : layouts) ASSERT_LE(s.source_offset + s.count, src.send_count);
                }
              }
              if (op->sums)  // moe_combine's summed tokens
                for (const SummedSegment& s : op->sums(l, rank, n))
                  for (std::size_t i = 0; i < s.count; ++i) ++covered[s.recv_offset + i];
              for (std::size_t i = 0; i < covered.size(); ++i) ASSERT_EQ(covered[i], 1) << "element " << i;
            }
          }
        }
      }
    }
  }
}

TEST(Ops, SegmentsMeanWhatTheOpDoes) {
  const std::size_t req = 12345 * 4;
  for (int n = 1; n <= 8; ++n) {
    for (int rank = 0; rank < n; ++rank) {
      SCOPED_TRACE("n=" + std::to_string(n) + " rank=" + std::to_string(rank));
      const auto lay = [&](OpKind k) {
        return op_descriptor(k).layout(req, DType::float32, n, rank, InPlaceConvention::mpi);
      };
      const auto segs = [&](OpKind k, int root = 0) {
        return op_descriptor(k).segments(lay(k), rank, n, root);
      };
      {
        const auto s = segs(OpKind::allreduce);
        ASSERT_EQ(s.size(), 1u);
        EXPECT_TRUE(s[0].reduced);
        EXPECT_EQ(s[0].recv_offset, 0u);
        EXPECT_EQ(s[0].source_offset, 0u);
        EXPECT_EQ(s[0].count, 12345u);
      }
      {
        const OpLayout l = lay(OpKind::reducescatter);
        const auto s = segs(OpKind::reducescatter);
        ASSERT_EQ(s.size(), 1u);
        EXPECT_TRUE(s[0].reduced);
        EXPECT_EQ(s[0].recv_offset, 0u);
        EXPECT_EQ(s[0].source_offset, static_cast<std::size_t>(rank) * l.block);
        EXPECT_EQ(s[0].count, l.block);
      }
      {
        const OpLayout l = lay(OpKind::allgather);
        const auto s = segs(OpKind::allgather);
        ASSERT_EQ(s.size(), static_cast<std::size_t>(n));
        for (int k = 0; k < n; ++k) {
          const auto& g = s[static_cast<std::size_t>(k)];
          EXPECT_FALSE(g.reduced);
          EXPECT_EQ(g.source, k);
          EXPECT_EQ(g.recv_offset, static_cast<std::size_t>(k) * l.block);
          EXPECT_EQ(g.source_offset, 0u);
        }
      }
      {
        const OpLayout l = lay(OpKind::alltoall);
        const auto s = segs(OpKind::alltoall);
        ASSERT_EQ(s.size(), static_cast<std::size_t>(n));
        for (int k = 0; k < n; ++k) {
          const auto& g = s[static_cast<std::size_t>(k)];
          EXPECT_EQ(g.source, k);
          EXPECT_EQ(g.recv_offset, static_cast<std::size_t>(k) * l.block);
          EXPECT_EQ(g.source_offset, static_cast<std::size_t>(rank) * l.block);  // my block of k's buffer
        }
      }
      for (int root = 0; root < n; ++root) {
        const auto s = segs(OpKind::broadcast, root);
        ASSERT_EQ(s.size(), 1u);
        EXPECT_EQ(s[0].source, root);
        EXPECT_EQ(s[0].count, 12345u);
      }
      for (int root = 0; root < n; ++root) {
        SCOPED_TRACE("root=" + std::to_string(root));
        // reduce: the root alone ends with the reduction.
        const auto red = segs(OpKind::reduce, root);
        ASSERT_EQ(red.size(), rank == root ? 1u : 0u);
        if (rank == root) {
          EXPECT_TRUE(red[0].reduced);
          EXPECT_EQ(red[0].count, 12345u);
        }
        // gather: the root ends with every rank's block in rank order.
        const OpLayout gl = lay(OpKind::gather);
        const auto g = segs(OpKind::gather, root);
        ASSERT_EQ(g.size(), rank == root ? static_cast<std::size_t>(n) : 0u);
        for (std::size_t k = 0; k < g.size(); ++k) {
          EXPECT_EQ(g[k].source, static_cast<int>(k));
          EXPECT_EQ(g[k].recv_offset, k * gl.block);
          EXPECT_EQ(g[k].source_offset, 0u);
        }
        // scatter: every rank ends with its block of the root's buffer.
        const OpLayout sl = lay(OpKind::scatter);
        const auto sc = segs(OpKind::scatter, root);
        ASSERT_EQ(sc.size(), 1u);
        EXPECT_EQ(sc[0].source, root);
        EXPECT_EQ(sc[0].count, sl.block);
        EXPECT_EQ(sc[0].source_offset, static_cast<std::size_t>(rank) * sl.block);
      }
      if (n >= 2) {
        const int peer = pair_peer(rank, n);
        // sendrecv (ring shift): every rank receives rank - 1's whole message.
        const auto ring = segs(OpKind::sendrecv);
        ASSERT_EQ(ring.size(), 1u);
        EXPECT_EQ(ring[0].source, (rank + n - 1) % n);
        EXPECT_EQ(ring[0].count, 12345u);
        EXPECT_EQ(ring[0].recv_offset, 0u);
        EXPECT_EQ(ring[0].source_offset, 0u);
        for (OpKind k : {OpKind::unidir, OpKind::bidir, OpKind::pingpong}) {
          const auto s = segs(k);
          const bool receives = peer >= 0 && (k != OpKind::unidir || !pair_is_sender(rank, n));
          ASSERT_EQ(s.size(), receives ? 1u : 0u) << op_descriptor(k).name;
          if (receives) {
            EXPECT_EQ(s[0].source, peer);
            EXPECT_EQ(s[0].count, 12345u);
            EXPECT_EQ(s[0].source_offset, 0u);
          }
        }
        // relay: the receiver gets the sender's message, the sender its own back.
        const auto rs = segs(OpKind::relay);
        ASSERT_EQ(rs.size(), peer >= 0 ? 1u : 0u);
        if (peer >= 0) {
          EXPECT_EQ(rs[0].source, pair_is_sender(rank, n) ? rank : peer);
          EXPECT_EQ(rs[0].count, 12345u);
          EXPECT_EQ(rs[0].source_offset, 0u);
        }
      }
    }
  }
}

// alltoallv with skewed counts: each rank's blocks tile its buffers in peer order, the segments
// read each source's block for this rank where that source's send buffer holds it, and the row's
// figures are the matrix's.
TEST(Ops, AlltoallvLaysOutTheCountsMatrix) {
  const OpDescriptor& op = op_descriptor(OpKind::alltoallv);
  for (const std::string spec_text : {"uniform", "zipf:1.2", "hot:1:0.5", "hot:2:0.9"}) {
    for (int n = 2; n <= 7; ++n) {
      SCOPED_TRACE(spec_text + " n=" + std::to_string(n));
      const CountsSpec spec = parse_counts(spec_text, 7);
      const std::size_t req = 10000 * 4;
      const CountsMatrix m(spec, n, req / 4);
      std::vector<OpLayout> ls;
      for (int r = 0; r < n; ++r)
        ls.push_back(op.layout(req, DType::float32, n, r, InPlaceConvention::mpi, &spec));
      for (int r = 0; r < n; ++r) {
        const OpLayout& l = ls[static_cast<std::size_t>(r)];
        ASSERT_NE(l.peers, nullptr);
        EXPECT_EQ(l.send_count, m.sent(r));
        EXPECT_EQ(l.recv_count, m.received(r));
        EXPECT_EQ(l.max_rank_bytes, m.max_rank() * 4);
        EXPECT_EQ(l.bw_bytes, l.max_rank_bytes);
        EXPECT_EQ(l.bytes, m.total() * 4 / static_cast<std::size_t>(n));
        EXPECT_DOUBLE_EQ(l.load_imbalance, m.imbalance());
        std::size_t so = 0, ro = 0;
        for (int k = 0; k < n; ++k) {
          EXPECT_EQ(l.send_off(k), so);
          EXPECT_EQ(l.send_len(k), m.at(r, k));
          EXPECT_EQ(l.recv_off(k), ro);
          EXPECT_EQ(l.recv_len(k), m.at(k, r));
          so += l.send_len(k);
          ro += l.recv_len(k);
        }
        std::size_t covered = 0;
        for (const Segment& s : op.segments(l, r, n, 0)) {
          const OpLayout& src = ls[static_cast<std::size_t>(s.source)];
          EXPECT_FALSE(s.reduced);
          EXPECT_EQ(s.recv_offset, l.recv_off(s.source));
          EXPECT_EQ(s.count, l.recv_len(s.source));
          // The source's block for this rank, where its send buffer holds it.
          EXPECT_EQ(s.source_offset, src.send_off(r));
          EXPECT_EQ(s.count, src.send_len(r));
          covered += s.count;
        }
        EXPECT_EQ(covered, l.recv_count);
      }
    }
  }
}

}  // namespace
}  // namespace fb
