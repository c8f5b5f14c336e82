// The achievable-rate tables (model/rates.hpp). How each constant was obtained:
//
// NVLink, NCCL ring (scale_up.efficiency): busbw of NCCL's ring all-reduce / all-gather /
// reduce-scatter inside one node is the rate each GPU's NVLink moves data at (busbw = link data
// rate for a ring), so share = mean(busbw) / NVLink line rate per direction over the rows named:
//   Ampere (NVLink3, 300 GB/s):     rows 45, 108 (231.58, 230.77 GB/s)            -> 0.771
//   Hopper (NVLink4, 450 GB/s):     rows 90, 94, 95, 96 (363.3, 367.2, 361.4, 362.9) -> 0.808
//     (maintainer: "NCCL can get an effective NVLink bandwidth of 370GB/s", NVIDIA/nccl-tests#212)
//   Blackwell (NVLink5, 900 GB/s):  rows 47, 97 (679.61, 673.2)                   -> 0.752
// NVLS (scale_up.nvls_efficiency): with NVLink SHARP each GPU sends the switch its n/p slice to
// multicast and serves the switch's reads of its whole buffer, and receives the reduced slice and
// every multicast: n (1 + 1/p) each way, so all-reduce algbw = B p / (p + 1) and the reported busbw
// = 2 B (p - 1) / (p + 1), B the NVLS link rate. B = busbw (p + 1) / (2 (p - 1)), then the mean over
// the rows named / line rate:
//   Hopper:    rows 91, 92, 93 (p = 5, 8, 8: 414.2, 473.1, 480.0 -> B = 310.7, 304.1, 308.6) -> 0.684
//   Blackwell: rows 98, 99 (p = 6, 8: 778.2, 838.0 -> B = 544.7, 538.7)                      -> 0.602
//   (NCCL's own tuning constants agree: nvlsEfficiency 0.85 x 18 x 20.6 = 315 GB/s on Hopper,
//   0.74 x 18 x 40.1 = 534 on Blackwell; shared/reference/nccl-cost-model.md.)
//   Ampere has no NVLS (no NVLink SHARP on HGX A100).
// NVLS inside NVLSTree (nvlstree_share, a share of the NVLS rate above): across domains NCCL runs
// NVLSTree, and the rows across domains show its in-domain NVLS phase slower than a lone NVLS
// all-reduce on the same switches. The network is not what binds them (each NIC carries at most
// 2 n/g each way, far under these rates), so the share is fitted on the NVLS term: algBw =
// busbw p / (2 (p - 1)), share = algBw / (B g / (g + 1)), B = the NVLS rate above, mean over:
//   Hopper:    rows 16, 39 (p5, 2 x 8 GPUs, 8 and 16 GiB: 477.71, 487.09 -> algBw 254.8, 259.8
//              over B g/(g+1) = 273.6)                                                    -> 0.940
//   Blackwell: rows 79, 80 (GB200 NVL72, 2 and 3 racks of 64 GPUs, 8 GiB: 799.79, 748.93 ->
//              algBw 403.0, 376.4 over 533.5)                                             -> 0.730
//   The mechanism is not established (NCCL's own NVLSTree caps, perChMaxNVLSTree, do not bind
//   here); these are fits, shared by every system of the generation, and the place to replace
//   with one when it is.
// NICs (scale_out.efficiency), share of the payload rate (line x scale_out.wire_efficiency):
//   connectx: ConnectX-6/7/8 through NCCL's IB verbs (InfiniBand or RoCE): "For NDR @ 400Gbps you
//     should see 46-48GB/s per NIC" (NVIDIA/nccl-tests#290), "up to 48-49GB/s" (#267), "24GB/s is
//     the peak performance per 200G NIC" (#119): 47.5 / (50 x 0.99369)                    -> 0.956
//   efa-v1 (p4d, 4 x 100G per node): row 36, 2-node all-reduce (tree: busbw = 2(p-1)/p x 8 GPUs x
//     6.25 GB/s x share): 78.33 / (1.875 x 50)                                             -> 0.836
//   efa-v1 with an older stack (nccl_version before 2.10; NVIDIA/nccl#527, a thread about NCCL
//     2.9.9 and its aws-ofi-nccl, 2022): the same p4d hardware and NIC count as row 36 reach a
//     lower share, and one share fits both algorithms NCCL ran there, so it is the per-NIC rate of
//     that stack, not a ring or tree effect: row 109 (2 nodes, tree: busbw = 1.875 x 50 x share,
//     57.17 / 93.75 = 0.610), rows 110, 111 (3 and 4 nodes, ring: busbw = 8 GPUs x 6.25 GB/s x
//     share, 31.77 / 50 = 0.635, 29.61 / 50 = 0.592), mean                               -> 0.612
//     The calibration set has no EFA v1 row between 2.9.9 and row 36's later stack, so where in
//     between the stack changed is not known: the boundary is the release after 2.9.
//   efa-v2 (p5, 4 x 100G per GPU): rows 17, 18, ring all-reduce on 4 and 8 nodes (busbw = 8 GPUs x
//     50 GB/s x share): mean(356.99, 355.36) / 400                                         -> 0.890
//   efa-v3, efa-v4 (p5en, p6): no rows in the calibration set; efa-v2's share.
//   gpudirect-tcpxo (GCP A3 Mega, 200G per GPU): row 52, 2-node ring all-gather: 188.54 / 200 -> 0.943
//   gpudirect-tcpx (GCP A3 High, 100G per GPU): rows 53 (all-gather 50.17 / 100) and 54 (ring
//     all-reduce, 8 channels, 65.72 / 100), mean                                          -> 0.579
// Network hop latency (what a NIC kind adds to each network hop of NCCL's latency tables, which
// are for InfiniBand): fitted to the 8-byte all-reduce rows, each on 2 nodes of 8 GPUs, where NCCL
// runs Tree/LL: time = 6.8 + 2 (7 x 0.6 + (5.0 + extra)) = 25.2 + 2 extra, so extra =
// (measured - 25.2) / 2:
//   connectx: row 64 (36.50 us, B200 over InfiniBand)      -> 5.65
//   efa-v2:   row 37 (69.12 us, p5)                        -> 21.96 (efa-v3, efa-v4: the same)
//   efa-v1:   row 35 (164.3 us, p4de)                      -> 69.55
//   gpudirect-tcpxo: row 48 (135.8 us, A3 Mega)            -> 55.3 (gpudirect-tcpx: the same)
// Multi-rail striping (nic_stripe_bytes): a p5 GPU has four 100G EFA devices, which aws-ofi-nccl
// presents to NCCL as one multi-rail device and spreads each op's data over. At 2 GiB and more the
// GPU's four devices together reach the efa-v2 share above (rows 16, 28, 39, 40), but at 32 MiB
// the same source's runs reach far less: row 33 (alltoall, 16 GPUs, 32 MiB: B = 16 MiB per GPU
// leaves the node) at 2.3 devices' rate, row 21 (NVLSTree all-reduce, 32 MiB: B = 4 MiB per GPU
// each way over the network) at 1.2. Modelled as: an op's network bytes B per GPU go to its k
// devices in units of U, so the busiest device carries max(B / k, min(B, U)): one device below U,
// B / U devices up to k U, all k beyond (time never falls as B grows). U is fitted to row 33, the
// row with U < B < k U: its time less the model's latency (702.33 - 45.86 us) at one device's
// rate (50 GB/s x 0.890 / 4 = 11.125 GB/s) is 7.30 MB = 6.96 MiB on the busiest device: U = 7 MiB.
// Row 21 (B < U: one device) checks it: -12.4% (the model slower; no U >= 4 MiB does better).
// The rows at 2 GiB and more (B >= 128 MiB >= 4 U) are unaffected. The plugin's exact scheduling
// is not established: this is a fit, shared by the EFA kinds (every EFA system with several
// devices per GPU: p5, p5en); one NIC per GPU or fewer (p4d, p6-b200) is unaffected by
// construction, and the other kinds (one NIC per GPU in every shipped fabric) have none.
#include "model/rates.hpp"

namespace fb::model {

namespace {

struct GenerationRates {
  const char* name;
  Generation gen;
  double ring;      // scale_up.efficiency default
  double nvls;      // scale_up.nvls_efficiency default (0: no NVLS)
  double nvlstree;  // share of the NVLS rate inside NVLSTree
};
constexpr GenerationRates kGenerations[] = {
    {"ampere", Generation::ampere, 0.771, 0, 1},
    {"hopper", Generation::hopper, 0.808, 0.684, 0.940},
    {"blackwell", Generation::blackwell, 0.752, 0.602, 0.730},
    {"other", Generation::other, 1, 1, 1},
};

struct NicRates {
  const char* name;
  double efficiency;        // scale_out.efficiency default
  double extra_latency_us;  // over InfiniBand verbs, one way per network hop
  double stripe_bytes;      // multi-rail striping unit (0: none)
};
constexpr double kEfaStripeBytes = 7.0 * 1024 * 1024;  // fitted to row 33, checked on row 21 (above)
constexpr NicRates kNics[] = {
    {"connectx", 0.956, 5.65, 0},
    {"efa-v1", 0.836, 69.55, kEfaStripeBytes},
    {"efa-v2", 0.890, 21.96, kEfaStripeBytes},
    {"efa-v3", 0.890, 21.96, kEfaStripeBytes},
    {"efa-v4", 0.890, 21.96, kEfaStripeBytes},
    {"gpudirect-tcpxo", 0.943, 55.3, 0},
    {"gpudirect-tcpx", 0.579, 55.3, 0},
    {"other", 1, 0, 0},
};

// NIC rows of older software stacks: for a fabric whose nccl_version is before `before` (a
// nccl_release number), the NIC kind's share is `efficiency` (how each was fitted: above).
struct NicStack {
  const char* nic;
  int before;
  double efficiency;
};
constexpr NicStack kNicStacks[] = {
    {"efa-v1", 21000, 0.612},
};

const GenerationRates& rates_of(const Fabric& f) {
  for (const auto& g : kGenerations)
    if (f.endpoint.generation == g.name) return g;
  return kGenerations[std::size(kGenerations) - 1];
}

const NicRates& nic_of(const Fabric& f) {
  for (const auto& n : kNics)
    if (f.scale_out.nic == n.name) return n;
  return kNics[std::size(kNics) - 1];
}

bool gpu(const Fabric& f) {
  return f.endpoint.kind == "gpu";
}

}  // namespace

Generation generation_of(const Fabric& f) {
  return rates_of(f).gen;
}

std::vector<std::string> generation_names() {
  std::vector<std::string> v;
  for (const auto& g : kGenerations) v.emplace_back(g.name);
  return v;
}

std::vector<std::string> nic_names() {
  std::vector<std::string> v;
  for (const auto& n : kNics) v.emplace_back(n.name);
  return v;
}

double scaleup_efficiency(const Fabric& f) {
  if (f.scale_up.efficiency > 0) return f.scale_up.efficiency;
  return gpu(f) ? rates_of(f).ring : 1;
}

double nvls_efficiency(const Fabric& f) {
  if (!f.scale_up.in_switch_reduction) return 0;
  if (f.scale_up.nvls_efficiency > 0) return f.scale_up.nvls_efficiency;
  return gpu(f) ? rates_of(f).nvls : 1;
}

double nvlstree_share(const Fabric& f) {
  return gpu(f) ? rates_of(f).nvlstree : 1;
}

int nccl_release(const std::string& version) {
  int parts[3] = {0, 0, 0};
  int n = 0;
  bool digit = false;
  for (char c : version) {
    if (c >= '0' && c <= '9' && parts[n] < 100) {
      parts[n] = parts[n] * 10 + (c - '0');
      digit = true;
    } else if (c == '.' && digit && n < 2) {
      ++n;
      digit = false;
    } else {
      return -1;
    }
  }
  if (!digit || n == 0 || parts[1] > 99 || parts[2] > 99) return -1;
  return parts[0] * 10000 + parts[1] * 100 + parts[2];
}

double nic_efficiency(const Fabric& f) {
  if (f.scale_out.efficiency > 0) return f.scale_out.efficiency;
  if (!gpu(f)) return 1;
  const int release = nccl_release(f.nccl_version);
  for (const auto& s : kNicStacks)
    if (release >= 0 && release < s.before && f.scale_out.nic == s.nic) return s.efficiency;
  return nic_of(f).efficiency;
}

double nic_extra_latency_us(const Fabric& f) {
  return gpu(f) ? nic_of(f).extra_latency_us : 0;
}

double nic_stripe_bytes(const Fabric& f) {
  return gpu(f) ? nic_of(f).stripe_bytes : 0;
}

}  // namespace fb::model
