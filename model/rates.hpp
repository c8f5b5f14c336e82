// Achievable rates: what NCCL moves over a link, as a share of the link's line rate, per link kind
// and hardware generation. The fabric files state line rates (datasheets); these tables turn them
// into the rates NCCL reaches. A fabric can override each share (scale_up.efficiency,
// scale_up.nvls_efficiency, scale_out.efficiency) for a what-if or a calibrated system. Every
// constant cites its source in rates.cpp: a maintainer's statement, or a fit to named rows of
// configs/reference/published.csv (the calibration set), shared by every system of that kind.
// Host endpoints (shared memory, the emulated fabric) get 1: `calibrate` fits their rates.
#pragma once

#include <string>
#include <vector>

#include "model/fabric.hpp"

namespace fb::model {

// GPU generations the tables know ("other": no achievable-rate facts, shares of 1).
enum class Generation { other, ampere, hopper, blackwell };
Generation generation_of(const Fabric& f);
// The names endpoint.generation and scale_out.nic take (the tables' rows, "other" last).
std::vector<std::string> generation_names();
std::vector<std::string> nic_names();

// Share of scale_up.bandwidth_GBps that NCCL's ring (and its point-to-point) moves as data.
double scaleup_efficiency(const Fabric& f);
// Share of scale_up.bandwidth_GBps that NVLink SHARP (NVLS) moves per GPU per direction: the rate at
// which the switch's multicast and in-switch reduction read and write a GPU's data. 0: no NVLS.
double nvls_efficiency(const Fabric& f);
// Share of that NVLS rate which NVLS reaches inside NCCL's NVLSTree (NVLS in each domain, trees
// across domains), per generation (rates.cpp: fitted to named multi-domain rows). 1 off GPUs.
double nvlstree_share(const Fabric& f);
// An NCCL release "X.Y" or "X.Y.Z" as one comparable number, X * 10000 + Y * 100 + Z ("2.9.9" ->
// 20909); -1 for text that is not one ("" included).
int nccl_release(const std::string& version);
// Share of a NIC's payload rate (line rate x wire_efficiency) that NCCL reaches: the NIC kind's
// row, or the row of the older software stack the fabric's nccl_version names (rates.cpp).
double nic_efficiency(const Fabric& f);
// What the NIC kind's transport adds to a network hop over InfiniBand verbs, microseconds, one way
// (NCCL's latency tables are for InfiniBand).
double nic_extra_latency_us(const Fabric& f);
// Multi-rail striping unit of the NIC kind's transport, bytes (0: none): a GPU with several NICs
// (nics_per_domain > domain_size) spreads one op's network bytes over its NICs in units of this
// many bytes, so below (NICs x unit) fewer of them carry data. rates.cpp gives the source.
double nic_stripe_bytes(const Fabric& f);

}  // namespace fb::model
