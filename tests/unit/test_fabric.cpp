// fb::model fabric files: every shipped fabric, capacity (max_endpoints) against hand-computed
// fat trees, every error with its file:line, --set overrides, and the fabric_to_yaml round trip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/fabric.hpp"

namespace fb::model {
namespace {

const std::string kFabricDir = std::string(FB_SOURCE_DIR) + "/configs/fabrics/";

std::string fabric_path(const std::string& name) {
  return kFabricDir + name + ".yaml";
}

std::vector<std::string> shipped_fabrics() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(kFabricDir))
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

// Every field but `source`.
void expect_same_fabric(const Fabric& a, const Fabric& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.endpoint.kind, b.endpoint.kind);
  EXPECT_EQ(a.endpoint.memory_bandwidth_GBps, b.endpoint.memory_bandwidth_GBps);
  EXPECT_EQ(a.endpoint.reduce_bandwidth_GBps, b.endpoint.reduce_bandwidth_GBps);
  EXPECT_EQ(a.scale_up.domain_size, b.scale_up.domain_size);
  EXPECT_EQ(a.scale_up.bandwidth_GBps, b.scale_up.bandwidth_GBps);
  EXPECT_EQ(a.scale_up.latency_us, b.scale_up.latency_us);
  EXPECT_EQ(a.scale_up.aggregate_bandwidth_GBps, b.scale_up.aggregate_bandwidth_GBps);
  EXPECT_EQ(a.scale_up.cache_bytes, b.scale_up.cache_bytes);
  EXPECT_EQ(a.scale_up.spilled_bandwidth_GBps, b.scale_up.spilled_bandwidth_GBps);
  EXPECT_EQ(a.scale_up.outer_cache_bytes, b.scale_up.outer_cache_bytes);
  EXPECT_EQ(a.scale_up.outer_spilled_bandwidth_GBps, b.scale_up.outer_spilled_bandwidth_GBps);
  EXPECT_EQ(a.scale_up.in_switch_reduction, b.scale_up.in_switch_reduction);
  EXPECT_EQ(a.scale_out.nic_bandwidth_Gbps, b.scale_out.nic_bandwidth_Gbps);
  EXPECT_EQ(a.scale_out.nics_per_domain, b.scale_out.nics_per_domain);
  EXPECT_EQ(a.scale_out.rails, b.scale_out.rails);
  EXPECT_EQ(a.scale_out.planes, b.scale_out.planes);
  EXPECT_EQ(a.scale_out.latency_us, b.scale_out.latency_us);
  EXPECT_EQ(a.scale_out.wire_efficiency, b.scale_out.wire_efficiency);
  EXPECT_EQ(a.scale_out.in_network_reduction, b.scale_out.in_network_reduction);
  EXPECT_EQ(a.scale_out.transport, b.scale_out.transport);
  ASSERT_EQ(a.scale_out.tiers.size(), b.scale_out.tiers.size());
  for (std::size_t i = 0; i < a.scale_out.tiers.size(); ++i) {
    EXPECT_EQ(a.scale_out.tiers[i].name, b.scale_out.tiers[i].name) << "tier " << i;
    EXPECT_EQ(a.scale_out.tiers[i].radix, b.scale_out.tiers[i].radix) << "tier " << i;
    EXPECT_EQ(a.scale_out.tiers[i].hop_latency_us, b.scale_out.tiers[i].hop_latency_us) << "tier " << i;
    EXPECT_EQ(a.scale_out.tiers[i].oversubscription, b.scale_out.tiers[i].oversubscription) << "tier " << i;
  }
  EXPECT_EQ(a.protocols.ll, b.protocols.ll);
  EXPECT_EQ(a.protocols.ll128, b.protocols.ll128);
  EXPECT_EQ(a.protocols.simple, b.protocols.simple);
}

// The message of the std::invalid_argument that parsing `text` (as "t.yaml") with `sets` throws.
std::string parse_error(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    parse_fabric(text, "t.yaml", sets);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

// A valid fabric, one key per line; line numbers below refer to it.
const char* const kValid =
    "name: test\n"                     // 1
    "endpoint:\n"                      // 2
    "  kind: gpu\n"                    // 3
    "  memory_bandwidth_GBps: 3000\n"  // 4
    "scale_up:\n"                      // 5
    "  domain_size: 8\n"               // 6
    "  bandwidth_GBps: 450\n"          // 7
    "  latency_us: 0.5\n"              // 8
    "scale_out:\n"                     // 9
    "  nic_bandwidth_Gbps: 400\n"      // 10
    "  nics_per_domain: 8\n"           // 11
    "  latency_us: 2\n"                // 12
    "  tiers:\n"                       // 13
    "    - name: leaf\n"               // 14
    "      radix: 64\n"                // 15
    "      hop_latency_us: 0.5\n"      // 16
    "    - name: spine\n"              // 17
    "      radix: 64\n"                // 18
    "      hop_latency_us: 0.5\n";     // 19

// kValid with line `line` (1-based) replaced by `replacement` (several lines allowed, or none).
std::string with_line(int line, const std::string& replacement) {
  std::string out;
  std::string text = kValid;
  int n = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    ++n;
    const std::string l = text.substr(start, end - start);
    if (n == line) {
      if (!replacement.empty()) out += replacement + "\n";
    } else {
      out += l + "\n";
    }
    start = end + 1;
  }
  return out;
}

// Lines [from, to] (1-based) of kValid.
std::string lines(int from, int to) {
  std::string out;
  std::string text = kValid;
  int n = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = text.find('\n', start);
    ++n;
    if (n >= from && n <= to) out += text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

// ---- shipped fabrics -------------------------------------------------------------------------

TEST(FabricShipped, EveryFileLoadsAndValidates) {
  const auto files = shipped_fabrics();
  ASSERT_GE(files.size(), 8u);
  for (const auto& file : files) {
    SCOPED_TRACE(file);
    Fabric f;
    ASSERT_NO_THROW(f = load_fabric(file));
    EXPECT_NO_THROW(validate_fabric(f));
    EXPECT_EQ(f.name, std::filesystem::path(file).stem().string()) << "a fabric's name is its file name";
    EXPECT_EQ(f.source, file);
    EXPECT_FALSE(f.description.empty());
    EXPECT_GE(f.max_endpoints(), static_cast<std::uint64_t>(f.scale_up.domain_size));
    EXPECT_TRUE(std::isfinite(f.nic_GBps_per_endpoint()));
    EXPECT_EQ(f.has_scaleout(), f.nic_GBps_per_endpoint() > 0);
  }
}

TEST(FabricShipped, ExpectedFilesAreThere) {
  for (const char* name :
       {"hgx-h100", "hgx-h200", "gb200-nvl72", "roce-3tier-32k", "roce-3tier-32k-oversub",
        "million-gpu-multiplane", "localhost", "emulated-2leaf", "emulated-2leaf-oversub"}) {
    EXPECT_TRUE(std::filesystem::exists(fabric_path(name))) << name;
  }
}

// "Every number with its source in a comment": each line that gives a number carries a comment.
TEST(FabricShipped, EveryNumberHasASourceComment) {
  const std::regex number_line(R"(^\s*(- )?[A-Za-z_0-9]+:\s*[-+0-9.][0-9.eE+-]*\s*(#.*)?$)");
  for (const auto& file : shipped_fabrics()) {
    std::ifstream in(file);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (!std::regex_match(line, number_line)) continue;
      EXPECT_NE(line.find('#'), std::string::npos)
          << file << ":" << n << ": a number without a source: " << line;
    }
  }
}

TEST(FabricShipped, DatasheetFigures) {
  const Fabric h100 = load_fabric(fabric_path("hgx-h100"));
  EXPECT_EQ(h100.endpoint.kind, "gpu");
  EXPECT_EQ(h100.endpoint.memory_bandwidth_GBps, 3350);
  EXPECT_DOUBLE_EQ(h100.endpoint.reduce_bandwidth_GBps, 3350.0 / 3);  // the default
  EXPECT_EQ(h100.scale_up.domain_size, 8);
  EXPECT_EQ(h100.scale_up.bandwidth_GBps, 450);
  EXPECT_TRUE(h100.scale_up.in_switch_reduction);
  EXPECT_EQ(h100.scale_out.nic_bandwidth_Gbps, 400);
  EXPECT_EQ(h100.scale_out.nics_per_domain, 8);
  EXPECT_EQ(h100.scale_out.rails, 8);
  ASSERT_EQ(h100.scale_out.tiers.size(), 2u);
  EXPECT_EQ(h100.scale_out.tiers[0].radix, 64);
  EXPECT_EQ(h100.protocols.ll128, 0.9375);
  // 400 Gb/s = 50 GB/s per GPU, times the wire efficiency.
  EXPECT_DOUBLE_EQ(h100.nic_GBps_per_endpoint(), 50 * h100.scale_out.wire_efficiency);

  const Fabric h200 = load_fabric(fabric_path("hgx-h200"));
  EXPECT_EQ(h200.endpoint.memory_bandwidth_GBps, 4800);
  EXPECT_EQ(h200.scale_up.bandwidth_GBps, 450);

  const Fabric nvl72 = load_fabric(fabric_path("gb200-nvl72"));
  EXPECT_EQ(nvl72.scale_up.domain_size, 72);
  EXPECT_EQ(nvl72.scale_up.bandwidth_GBps, 900);
  EXPECT_EQ(nvl72.endpoint.memory_bandwidth_GBps, 8000);
  EXPECT_DOUBLE_EQ(nvl72.nic_GBps_per_endpoint(), 50 * nvl72.scale_out.wire_efficiency);  // 400G per GPU

  const Fabric local = load_fabric(fabric_path("localhost"));
  EXPECT_EQ(local.endpoint.kind, "host");
  EXPECT_FALSE(local.has_scaleout());
  EXPECT_EQ(local.nic_GBps_per_endpoint(), 0);

  const Fabric emu = load_fabric(fabric_path("emulated-2leaf"));
  EXPECT_EQ(emu.endpoint.kind, "host");
  EXPECT_EQ(emu.scale_up.domain_size, 2);
  EXPECT_EQ(emu.scale_out.nic_bandwidth_Gbps, 0.1);
  EXPECT_EQ(emu.scale_out.nics_per_domain, 1);
  EXPECT_DOUBLE_EQ(emu.nic_GBps_per_endpoint(), 0.1 / 8 / 2 * emu.scale_out.wire_efficiency);
  ASSERT_EQ(emu.scale_out.tiers.size(), 2u);
  EXPECT_EQ(emu.scale_out.tiers[0].oversubscription, 1);  // 1:1; the -oversub variant is 2:1

  const Fabric emu_over = load_fabric(fabric_path("emulated-2leaf-oversub"));
  ASSERT_EQ(emu_over.scale_out.tiers.size(), 2u);
  EXPECT_EQ(emu_over.scale_out.tiers[0].oversubscription, 2);
  EXPECT_EQ(emu_over.scale_out.nic_bandwidth_Gbps, emu.scale_out.nic_bandwidth_Gbps);
  EXPECT_EQ(emu_over.scale_up.domain_size, emu.scale_up.domain_size);
}

// ---- capacity ---------------------------------------------------------------------------------

Fabric tree(std::vector<SwitchTier> tiers, int domain_size = 8, int nics_per_domain = 8) {
  Fabric f;
  f.name = "tree";
  f.endpoint.memory_bandwidth_GBps = 1000;
  f.endpoint.reduce_bandwidth_GBps = 300;
  f.scale_up.domain_size = domain_size;
  f.scale_up.bandwidth_GBps = 100;
  f.scale_out.nic_bandwidth_Gbps = 400;
  f.scale_out.nics_per_domain = nics_per_domain;
  f.scale_out.tiers = std::move(tiers);
  return f;
}

SwitchTier tier(const std::string& name, int radix, double oversubscription = 1) {
  return SwitchTier{name, radix, 0, oversubscription};
}

TEST(FabricCapacity, NonBlockingFatTreeHolds2TimesHalfRadixToTheL) {
  // 2 (k/2)^L NIC ports; one NIC per endpoint here.
  EXPECT_EQ(tree({tier("leaf", 64)}, 1, 1).max_endpoints(), 64u);
  EXPECT_EQ(tree({tier("leaf", 64), tier("spine", 64)}, 1, 1).max_endpoints(), 2048u);
  EXPECT_EQ(tree({tier("leaf", 64), tier("spine", 64), tier("core", 64)}, 1, 1).max_endpoints(), 65536u);
  EXPECT_EQ(tree({tier("a", 64), tier("b", 64), tier("c", 64), tier("d", 64)}, 1, 1).max_endpoints(),
            2097152u);
  EXPECT_EQ(tree({tier("leaf", 128), tier("spine", 128), tier("core", 128)}, 1, 1).max_endpoints(), 524288u);
  EXPECT_EQ(tree({tier("leaf", 144), tier("spine", 144), tier("core", 144)}, 1, 1).max_endpoints(), 746496u);
  EXPECT_EQ(tree({tier("leaf", 4), tier("spine", 4)}, 1, 1).max_endpoints(), 8u);
}

TEST(FabricCapacity, DomainsTakeNicsPerDomainPortsEach) {
  // 2048 ports / 8 NICs = 256 domains x 8 GPUs.
  EXPECT_EQ(tree({tier("leaf", 64), tier("spine", 64)}).max_endpoints(), 2048u);
  // 4 NICs per 8 GPUs: 512 domains x 8.
  EXPECT_EQ(tree({tier("leaf", 64), tier("spine", 64)}, 8, 4).max_endpoints(), 4096u);
  // 2048 / 3 = 682 whole domains x 8.
  EXPECT_EQ(tree({tier("leaf", 64), tier("spine", 64)}, 8, 3).max_endpoints(), 5456u);
  // 72 NICs per 72-GPU domain on radix 144: 144 x 72 ports = 10368 = 144 domains x 72.
  EXPECT_EQ(tree({tier("leaf", 144), tier("spine", 144)}, 72, 72).max_endpoints(), 10368u);
}

TEST(FabricCapacity, OversubscriptionTurnsPortsDownAndTheTopTierUsesAllItsPorts) {
  // Leaf 1:3 on radix 64: 48 down, 16 up; the spine turns all 64 down: 64 x 48.
  EXPECT_EQ(tree({tier("leaf", 64, 3), tier("spine", 64)}, 1, 1).max_endpoints(), 3072u);
  // 1:7: 56 down, 8 up.
  EXPECT_EQ(tree({tier("leaf", 64, 7), tier("spine", 64)}, 1, 1).max_endpoints(), 3584u);
  // 1:2 on radix 64 is 42.67 down: rounded down to 42 whole ports.
  EXPECT_EQ(tree({tier("leaf", 64, 2), tier("spine", 64)}, 1, 1).max_endpoints(), 2688u);
  // Mixed radix: leaf 32 (16 down), spine 64 at 1:3 (48 down), core 128: 128 x 48 x 16.
  EXPECT_EQ(tree({tier("leaf", 32), tier("spine", 64, 3), tier("core", 128)}, 1, 1).max_endpoints(), 98304u);
  // Odd radix: 3 ports at 1:2 are 2 down and 1 up.
  EXPECT_EQ(tree({tier("leaf", 3, 2), tier("spine", 2)}, 2, 1).max_endpoints(), 8u);
  // Oversubscription far beyond the radix still leaves one port up.
  EXPECT_EQ(tree({tier("leaf", 8, 1000), tier("spine", 4)}, 1, 1).max_endpoints(), 28u);
}

TEST(FabricCapacity, PlanesAndRailsDoNotChangeThePortCount) {
  Fabric f = tree({tier("leaf", 64), tier("spine", 64)});
  const auto base = f.max_endpoints();
  f.scale_out.planes = 4;
  f.scale_out.rails = 8;
  EXPECT_EQ(f.max_endpoints(), base);
}

TEST(FabricCapacity, WithoutScaleOutOneDomain) {
  Fabric f = tree({}, 72, 0);
  EXPECT_FALSE(f.has_scaleout());
  EXPECT_EQ(f.max_endpoints(), 72u);
  EXPECT_EQ(f.nic_GBps_per_endpoint(), 0);
}

TEST(FabricCapacity, SaturatesInsteadOfOverflowing) {
  const int k = 1 << 30;
  const Fabric f = tree({tier("a", k), tier("b", k), tier("c", k)}, 1 << 30, 1);
  EXPECT_EQ(f.max_endpoints(), std::numeric_limits<std::uint64_t>::max());
}

TEST(FabricCapacity, NicBandwidthPerEndpoint) {
  Fabric f = tree({tier("leaf", 64)}, 8, 4);
  f.scale_out.nic_bandwidth_Gbps = 800;
  f.scale_out.wire_efficiency = 0.5;
  EXPECT_DOUBLE_EQ(f.nic_GBps_per_endpoint(), 800.0 / 8 * 4 / 8 * 0.5);
}

TEST(FabricCapacity, ShippedFabrics) {
  EXPECT_EQ(load_fabric(fabric_path("hgx-h100")).max_endpoints(), 2048u);
  EXPECT_EQ(load_fabric(fabric_path("hgx-h200")).max_endpoints(), 2048u);
  // 3-tier Quantum-2: 2 x 32^3 = 65,536 ports, 910 domains of 72 NICs.
  EXPECT_EQ(load_fabric(fabric_path("gb200-nvl72")).max_endpoints(), 65520u);
  EXPECT_EQ(load_fabric(fabric_path("localhost")).max_endpoints(), 256u);
  EXPECT_EQ(load_fabric(fabric_path("emulated-2leaf")).max_endpoints(), 8u);
  EXPECT_EQ(load_fabric(fabric_path("emulated-2leaf-oversub")).max_endpoints(), 8u);

  const Fabric roce = load_fabric(fabric_path("roce-3tier-32k"));
  EXPECT_GE(roce.max_endpoints(), 32768u);
  EXPECT_EQ(roce.max_endpoints(), 65536u);
  const Fabric oversub = load_fabric(fabric_path("roce-3tier-32k-oversub"));
  EXPECT_GE(oversub.max_endpoints(), 32768u);
  EXPECT_EQ(oversub.max_endpoints(), 114688u);  // 64 x 56 x 32
}

TEST(FabricCapacity, MillionGpuDesignHoldsTwoToTheTwentyAndSinglePlaneDesignsDoNot) {
  const std::string file = fabric_path("million-gpu-multiplane");
  const Fabric f = load_fabric(file);
  EXPECT_GE(f.max_endpoints(), 1u << 20);
  EXPECT_EQ(f.max_endpoints(), 4194304u);  // 2 x 128^3
  EXPECT_GT(f.scale_out.planes, 1);

  // The same NICs on one plane at full speed: the switch radix is what the silicon gives at 800G
  // (64: 51.2 Tb/s), or a bigger 800G switch (144: Quantum-X800), or 128 x 400G. Three tiers
  // hold none of them.
  for (const char* radix : {"64", "128", "144"}) {
    SCOPED_TRACE(radix);
    std::vector<std::string> sets{"scale_out.planes=1"};
    for (int t = 0; t < 3; ++t) sets.push_back("scale_out.tiers." + std::to_string(t) + ".radix=" + radix);
    EXPECT_LT(load_fabric(file, sets).max_endpoints(), 1u << 20);
  }
  // A fourth tier of 64-port switches does hold it (2 x 32^4).
  std::vector<std::string> four{"scale_out.planes=1", "scale_out.tiers.3.name=super",
                                "scale_out.tiers.3.radix=64", "scale_out.tiers.3.hop_latency_us=0"};
  for (int t = 0; t < 3; ++t) four.push_back("scale_out.tiers." + std::to_string(t) + ".radix=64");
  const Fabric single = load_fabric(file, four);
  ASSERT_EQ(single.scale_out.tiers.size(), 4u);
  EXPECT_EQ(single.max_endpoints(), 2097152u);
}

// ---- errors -----------------------------------------------------------------------------------

TEST(FabricErrors, ValidTextParses) {
  const Fabric f = parse_fabric(kValid, "t.yaml");
  EXPECT_EQ(f.name, "test");
  EXPECT_EQ(f.source, "t.yaml");
  EXPECT_EQ(f.description, "");
  EXPECT_DOUBLE_EQ(f.endpoint.reduce_bandwidth_GBps, 1000);  // memory / 3
  EXPECT_FALSE(f.scale_up.in_switch_reduction);
  EXPECT_EQ(f.scale_out.rails, 1);
  EXPECT_EQ(f.scale_out.planes, 1);
  EXPECT_EQ(f.scale_out.wire_efficiency, 1.0);
  EXPECT_FALSE(f.scale_out.in_network_reduction);
  EXPECT_EQ(f.scale_out.tiers[1].oversubscription, 1.0);
  EXPECT_EQ(f.protocols.ll, 0.5);
  EXPECT_EQ(f.protocols.ll128, 0.9375);
  EXPECT_EQ(f.protocols.simple, 1.0);
  EXPECT_EQ(f.max_endpoints(), 2048u);
}

TEST(FabricErrors, InvalidYaml) {
  EXPECT_EQ(parse_error(with_line(7, "  bandwidth_GBps: [450")).rfind("t.yaml:8: invalid YAML: ", 0), 0u)
      << parse_error(with_line(7, "  bandwidth_GBps: [450"));
  EXPECT_EQ(parse_error("name: x\n  bad indent: 1\n").rfind("t.yaml:2: invalid YAML: ", 0), 0u)
      << parse_error("name: x\n  bad indent: 1\n");
}

TEST(FabricErrors, NotAMapping) {
  EXPECT_EQ(parse_error(""),
            "t.yaml:1: expected a mapping with keys name, description, nccl_version, endpoint, scale_up, "
            "scale_out, protocols (got nothing)");
  EXPECT_EQ(parse_error("- a\n- b\n"),
            "t.yaml:1: expected a mapping with keys name, description, nccl_version, endpoint, scale_up, "
            "scale_out, protocols (got a list)");
}

TEST(FabricErrors, UnknownKeysNameTheKnownOnes) {
  EXPECT_EQ(
      parse_error(with_line(7, "  bandwith_GBps: 450")),
      "t.yaml:7: scale_up.bandwith_GBps: unknown key 'bandwith_GBps' (known: domain_size, bandwidth_GBps, "
      "latency_us, aggregate_bandwidth_GBps, cache_bytes, spilled_bandwidth_GBps, outer_cache_bytes, "
      "outer_spilled_bandwidth_GBps, outer_eviction_GBps, forward_bandwidth_GBps, "
      "forward_spilled_bandwidth_GBps, "
      "forward_overhead_us, "
      "exchange_latency_us, in_switch_reduction, efficiency, nvls_efficiency)");
  EXPECT_EQ(
      parse_error(std::string(kValid) + "color: blue\n"),
      "t.yaml:20: color: unknown key 'color' (known: name, description, nccl_version, endpoint, scale_up, "
      "scale_out, "
      "protocols)");
  EXPECT_EQ(
      parse_error(with_line(16, "      hop_latency: 0.5")),
      "t.yaml:16: scale_out.tiers.0.hop_latency: unknown key 'hop_latency' (known: name, radix, "
      "hop_latency_us, oversubscription, load_balancing, flows_per_connection, adaptive_efficiency, hash)");
  EXPECT_EQ(parse_error(std::string(kValid) + "protocols:\n  ll: 0.5\n  ll64: 0.9\n"),
            "t.yaml:22: protocols.ll64: unknown key 'll64' (known: ll, ll128, simple)");
}

TEST(FabricErrors, MissingRequiredKeysPointAtTheEnclosingMapping) {
  EXPECT_EQ(parse_error(with_line(1, "description: x")), "t.yaml:1: missing required key 'name'");
  EXPECT_EQ(parse_error(with_line(8, "")), "t.yaml:5: scale_up: missing required key 'latency_us'");
  EXPECT_EQ(parse_error(with_line(3, "")), "t.yaml:2: endpoint: missing required key 'kind'");
  EXPECT_EQ(parse_error(with_line(15, "")), "t.yaml:14: scale_out.tiers.0: missing required key 'radix'");
  EXPECT_EQ(parse_error(with_line(17, "    - oversubscription: 1")),
            "t.yaml:17: scale_out.tiers.1: missing required key 'name'");
  EXPECT_EQ(parse_error(with_line(11, "")), "t.yaml:9: scale_out: missing required key 'nics_per_domain'");
  // Whole sections.
  std::string no_scale_up = kValid;
  no_scale_up.erase(no_scale_up.find("scale_up:"),
                    no_scale_up.find("scale_out:") - no_scale_up.find("scale_up:"));
  EXPECT_EQ(parse_error(no_scale_up), "t.yaml:1: missing required key 'scale_up'");
  const std::string no_tiers = std::string(kValid).substr(0, std::string(kValid).find("  tiers:"));
  EXPECT_EQ(parse_error(no_tiers), "t.yaml:9: scale_out: missing required key 'tiers'");
}

TEST(FabricErrors, DuplicateKeys) {
  EXPECT_EQ(parse_error(std::string(kValid) + "name: again\n"), "t.yaml:20: name: given twice");
  EXPECT_EQ(parse_error(with_line(8, "  latency_us: 0.5\n  bandwidth_GBps: 900")),
            "t.yaml:9: scale_up.bandwidth_GBps: given twice");
  EXPECT_EQ(parse_error(with_line(16, "      hop_latency_us: 0.5\n      radix: 32")),
            "t.yaml:17: scale_out.tiers.0.radix: given twice");
}

TEST(FabricErrors, WrongTypes) {
  EXPECT_EQ(parse_error(with_line(4, "  memory_bandwidth_GBps: fast")),
            "t.yaml:4: endpoint.memory_bandwidth_GBps: expected a number (got 'fast')");
  EXPECT_EQ(parse_error(with_line(4, "  memory_bandwidth_GBps: .nan")),
            "t.yaml:4: endpoint.memory_bandwidth_GBps: expected a number (got '.nan')");
  EXPECT_EQ(parse_error(with_line(4, "  memory_bandwidth_GBps: inf")),
            "t.yaml:4: endpoint.memory_bandwidth_GBps: expected a number (got 'inf')");
  EXPECT_EQ(parse_error(with_line(4, "  memory_bandwidth_GBps: 3 TB/s")),
            "t.yaml:4: endpoint.memory_bandwidth_GBps: expected a number (got '3 TB/s')");
  EXPECT_EQ(parse_error(with_line(6, "  domain_size: 8.5")),
            "t.yaml:6: scale_up.domain_size: expected a whole number (got '8.5')");
  EXPECT_EQ(parse_error(with_line(6, "  domain_size: 99999999999")),
            "t.yaml:6: scale_up.domain_size: expected a whole number (got '99999999999')");
  EXPECT_EQ(parse_error(with_line(8, "  latency_us: 0.5\n  in_switch_reduction: maybe")),
            "t.yaml:9: scale_up.in_switch_reduction: expected true or false (got 'maybe')");
  EXPECT_EQ(parse_error(with_line(1, "name: [a, b]")), "t.yaml:1: name: expected a text value (got a list)");
  EXPECT_EQ(parse_error(with_line(7, "  bandwidth_GBps:")),
            "t.yaml:7: scale_up.bandwidth_GBps: expected a number (got nothing)");
  EXPECT_EQ(
      parse_error(lines(1, 12) + "  tiers: {name: leaf}\n"),
      "t.yaml:13: scale_out.tiers: expected a list of mappings with keys name, radix, hop_latency_us, "
      "oversubscription, load_balancing, flows_per_connection, adaptive_efficiency, hash (got a mapping)");
  EXPECT_EQ(parse_error(lines(1, 13) + "    - leaf\n"),
            "t.yaml:14: scale_out.tiers.0: expected a mapping with keys name, radix, hop_latency_us, "
            "oversubscription, load_balancing, flows_per_connection, adaptive_efficiency, hash (got 'leaf')");
  EXPECT_EQ(parse_error(lines(1, 4) + "scale_up: 5\n" + lines(9, 19)),
            "t.yaml:5: scale_up: expected a mapping with keys domain_size, bandwidth_GBps, latency_us, "
            "aggregate_bandwidth_GBps, cache_bytes, spilled_bandwidth_GBps, outer_cache_bytes, "
            "outer_spilled_bandwidth_GBps, outer_eviction_GBps, forward_bandwidth_GBps, "
            "forward_spilled_bandwidth_GBps, "
            "forward_overhead_us, exchange_latency_us, "
            "in_switch_reduction, efficiency, nvls_efficiency "
            "(got '5')");
  // Quoted numbers are accepted; YAML booleans in their usual spellings too.
  EXPECT_EQ(parse_fabric(with_line(7, "  bandwidth_GBps: \"450\""), "t.yaml").scale_up.bandwidth_GBps, 450);
  EXPECT_TRUE(parse_fabric(with_line(8, "  latency_us: 0.5\n  in_switch_reduction: yes"), "t.yaml")
                  .scale_up.in_switch_reduction);
  EXPECT_EQ(parse_fabric(with_line(7, "  bandwidth_GBps: 4.5e2"), "t.yaml").scale_up.bandwidth_GBps, 450);
}

TEST(FabricErrors, ImpossibleValues) {
  struct Case {
    int line;
    const char* replacement;
    const char* error;
  };
  const Case cases[] = {
      {7, "  bandwidth_GBps: 0", "t.yaml:7: scale_up.bandwidth_GBps: must be a number > 0 (got 0)"},
      {7, "  bandwidth_GBps: -450", "t.yaml:7: scale_up.bandwidth_GBps: must be a number > 0 (got -450)"},
      {4, "  memory_bandwidth_GBps: 0",
       "t.yaml:4: endpoint.memory_bandwidth_GBps: must be a number > 0 (got 0)"},
      {4, "  memory_bandwidth_GBps: 3000\n  reduce_bandwidth_GBps: 0",
       "t.yaml:5: endpoint.reduce_bandwidth_GBps: must be a number > 0 (got 0)"},
      {3, "  kind: cpu", "t.yaml:3: endpoint.kind: must be 'gpu' or 'host' (got 'cpu')"},
      {6, "  domain_size: 0", "t.yaml:6: scale_up.domain_size: must be a whole number >= 1 (got 0)"},
      {6, "  domain_size: -8", "t.yaml:6: scale_up.domain_size: must be a whole number >= 1 (got -8)"},
      {8, "  latency_us: -0.5", "t.yaml:8: scale_up.latency_us: must be a number >= 0 (got -0.5)"},
      {10, "  nic_bandwidth_Gbps: 0",
       "t.yaml:10: scale_out.nic_bandwidth_Gbps: must be a number > 0 (got 0)"},
      {11, "  nics_per_domain: 0",
       "t.yaml:11: scale_out.nics_per_domain: must be a whole number >= 1 (got 0)"},
      {11, "  nics_per_domain: 8\n  rails: 0",
       "t.yaml:12: scale_out.rails: must be a whole number >= 1 (got 0)"},
      {11, "  nics_per_domain: 8\n  planes: 0",
       "t.yaml:12: scale_out.planes: must be a whole number >= 1 (got 0)"},
      {11, "  nics_per_domain: 8\n  rails: 3",
       "t.yaml:12: scale_out.rails: must divide scale_out.nics_per_domain (8): each rail takes the same "
       "number of a "
       "domain's NICs (got 3)"},
      {12, "  latency_us: -2", "t.yaml:12: scale_out.latency_us: must be a number >= 0 (got -2)"},
      {12, "  latency_us: 2\n  wire_efficiency: 1.5",
       "t.yaml:13: scale_out.wire_efficiency: must be a number in (0, 1] (got 1.5)"},
      {12, "  latency_us: 2\n  wire_efficiency: 0",
       "t.yaml:13: scale_out.wire_efficiency: must be a number in (0, 1] (got 0)"},
      {15, "      radix: 1",
       "t.yaml:15: scale_out.tiers.0.radix: must be a whole number >= 2 (got 1): a switch needs a port down "
       "and a "
       "port up"},
      {16, "      hop_latency_us: -1",
       "t.yaml:16: scale_out.tiers.0.hop_latency_us: must be a number >= 0 (got -1)"},
      {16, "      hop_latency_us: 0.5\n      oversubscription: 0.5",
       "t.yaml:17: scale_out.tiers.0.oversubscription: must be a number >= 1, the down:up bandwidth ratio; 1 "
       "is "
       "non-blocking (got 0.5)"},
      {19, "      hop_latency_us: 0.5\n      oversubscription: 7",
       "t.yaml:20: scale_out.tiers.1.oversubscription: must be 1 at the top tier, which has no up-links (got "
       "7); "
       "oversubscribe a lower tier"},
      {17, "    - name: leaf",
       "t.yaml:17: scale_out.tiers.1.name: 'leaf' names two tiers (bottlenecks are reported by tier name)"},
      {14, "    - name: \"\"", "t.yaml:14: scale_out.tiers.0.name: must not be empty"},
      {1, "name: \"\"", "t.yaml:1: name: must not be empty"},
      {11, "  nics_per_domain: 8192",
       "t.yaml:13: scale_out.tiers: the tiers hold 2048 NIC ports per plane, fewer than one domain's 8192 "
       "NICs "
       "(scale_out.nics_per_domain)"},
  };
  for (const Case& c : cases)
    EXPECT_EQ(parse_error(with_line(c.line, c.replacement)), c.error) << c.replacement;

  EXPECT_EQ(parse_error(lines(1, 12) + "  tiers: []\n"),
            "t.yaml:13: scale_out.tiers: at least one tier is required (leaf first)");
  EXPECT_EQ(parse_error(std::string(kValid) + "protocols:\n  ll: 0\n"),
            "t.yaml:21: protocols.ll: must be a number in (0, 1] (got 0)");
  EXPECT_EQ(parse_error(std::string(kValid) + "protocols:\n  simple: 1.01\n"),
            "t.yaml:21: protocols.simple: must be a number in (0, 1] (got 1.01)");
}

TEST(FabricErrors, UnreadableFile) {
  try {
    load_fabric("/nonexistent/fabric.yaml");
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/nonexistent/fabric.yaml: cannot read fabric file: ", 0), 0u)
        << e.what();
  }
}

TEST(FabricErrors, ValidateFabricBuiltInCode) {
  Fabric f = tree({tier("leaf", 64), tier("spine", 64)});
  EXPECT_NO_THROW(validate_fabric(f));
  f.scale_up.bandwidth_GBps = 0;
  try {
    validate_fabric(f);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "fabric 'tree': scale_up.bandwidth_GBps: must be a number > 0 (got 0)");
  }
  f.scale_up.bandwidth_GBps = std::nan("");
  EXPECT_THROW(validate_fabric(f), std::invalid_argument);
  f.scale_up.bandwidth_GBps = 100;
  f.scale_out.tiers[0].radix = 1;
  EXPECT_THROW(validate_fabric(f), std::invalid_argument);
  f.scale_out.tiers[0].radix = 64;
  f.scale_out.tiers[0].oversubscription = std::numeric_limits<double>::infinity();
  EXPECT_THROW(validate_fabric(f), std::invalid_argument);
  EXPECT_THROW(validate_fabric(Fabric{}), std::invalid_argument);  // no name, no bandwidths
}

// ---- --set ------------------------------------------------------------------------------------

TEST(FabricSet, OverridesValues) {
  const Fabric f = parse_fabric(kValid, "t.yaml",
                                {"scale_up.bandwidth_GBps=900", "scale_out.tiers.0.oversubscription=3",
                                 "endpoint.reduce_bandwidth_GBps=500", "scale_up.in_switch_reduction=true",
                                 "name=what-if", "description=a what-if: 900 GB/s", "scale_out.rails=8"});
  EXPECT_EQ(f.scale_up.bandwidth_GBps, 900);
  EXPECT_EQ(f.scale_out.tiers[0].oversubscription, 3);
  EXPECT_EQ(f.endpoint.reduce_bandwidth_GBps, 500);
  EXPECT_TRUE(f.scale_up.in_switch_reduction);
  EXPECT_EQ(f.name, "what-if");
  EXPECT_EQ(f.description, "a what-if: 900 GB/s");
  EXPECT_EQ(f.scale_out.rails, 8);
  EXPECT_EQ(f.max_endpoints(), 3072u);
}

TEST(FabricSet, LaterOverridesWin) {
  EXPECT_EQ(parse_fabric(kValid, "t.yaml", {"scale_up.bandwidth_GBps=900", "scale_up.bandwidth_GBps=100"})
                .scale_up.bandwidth_GBps,
            100);
}

TEST(FabricSet, OversubscribedVariantIsTheSetOfTheNonBlockingOne) {
  Fabric a = load_fabric(fabric_path("roce-3tier-32k"), {"scale_out.tiers.1.oversubscription=7"});
  const Fabric b = load_fabric(fabric_path("roce-3tier-32k-oversub"));
  a.name = b.name;
  a.description = b.description;
  expect_same_fabric(a, b);
}

TEST(FabricSet, RemovesAndAddsSections) {
  // Without scale-out: one domain.
  const Fabric single = parse_fabric(kValid, "t.yaml", {"scale_out="});
  EXPECT_FALSE(single.has_scaleout());
  EXPECT_EQ(single.max_endpoints(), 8u);
  EXPECT_EQ(
      parse_fabric(kValid, "t.yaml", {"endpoint.reduce_bandwidth_GBps=5", "endpoint.reduce_bandwidth_GBps="})
          .endpoint.reduce_bandwidth_GBps,
      1000);
  // A scale-out network added to localhost from the command line; a tier appended.
  const Fabric grown =
      load_fabric(fabric_path("localhost"),
                  {"scale_out.nic_bandwidth_Gbps=100", "scale_out.nics_per_domain=1",
                   "scale_out.latency_us=5", "scale_out.tiers.0.name=leaf", "scale_out.tiers.0.radix=32",
                   "scale_out.tiers.0.hop_latency_us=1", "scale_out.tiers.1.name=spine",
                   "scale_out.tiers.1.radix=16", "scale_out.tiers.1.hop_latency_us=1", "protocols.ll=0.4"});
  ASSERT_TRUE(grown.has_scaleout());
  ASSERT_EQ(grown.scale_out.tiers.size(), 2u);
  EXPECT_EQ(grown.scale_out.tiers[1].name, "spine");
  EXPECT_EQ(grown.max_endpoints(), 16u * 16 * 256);
  EXPECT_EQ(grown.protocols.ll, 0.4);
}

std::string set_error(const std::vector<std::string>& sets, const std::string& text = kValid) {
  return parse_error(text, sets);
}

TEST(FabricSet, ErrorsNameTheOverride) {
  EXPECT_EQ(
      set_error({"scale_up.bandwith_GBps=900"}),
      "--set scale_up.bandwith_GBps=900: unknown key 'bandwith_GBps' (known: domain_size, bandwidth_GBps, "
      "latency_us, aggregate_bandwidth_GBps, cache_bytes, spilled_bandwidth_GBps, outer_cache_bytes, "
      "outer_spilled_bandwidth_GBps, outer_eviction_GBps, forward_bandwidth_GBps, "
      "forward_spilled_bandwidth_GBps, "
      "forward_overhead_us, "
      "exchange_latency_us, in_switch_reduction, efficiency, nvls_efficiency)");
  EXPECT_EQ(
      set_error({"scaleup.bandwidth_GBps=900"}),
      "--set scaleup.bandwidth_GBps=900: unknown key 'scaleup' (known: name, description, nccl_version, "
      "endpoint, "
      "scale_up, "
      "scale_out, protocols)");
  EXPECT_EQ(set_error({"scale_out.tiers.0.radx=32"}),
            "--set scale_out.tiers.0.radx=32: unknown key 'radx' (known: name, radix, hop_latency_us, "
            "oversubscription, load_balancing, flows_per_connection, adaptive_efficiency, hash)");
  EXPECT_EQ(set_error({"scale_up.bandwidth_GBps=fast"}),
            "--set scale_up.bandwidth_GBps=fast: scale_up.bandwidth_GBps: expected a number (got 'fast')");
  EXPECT_EQ(set_error({"scale_up.bandwidth_GBps=0"}),
            "--set scale_up.bandwidth_GBps=0: scale_up.bandwidth_GBps: must be a number > 0 (got 0)");
  EXPECT_EQ(set_error({"scale_out.tiers.1.radix=1"}),
            "--set scale_out.tiers.1.radix=1: scale_out.tiers.1.radix: must be a whole number >= 2 (got 1): "
            "a switch "
            "needs a port down and a port up");
  EXPECT_EQ(set_error({"scale_up.domain_size=8.5"}),
            "--set scale_up.domain_size=8.5: scale_up.domain_size: expected a whole number (got '8.5')");
  EXPECT_EQ(set_error({"scale_up.bandwidth_GBps"}),
            "--set scale_up.bandwidth_GBps: expected path=value (e.g. scale_up.bandwidth_GBps=900)");
  EXPECT_EQ(set_error({"=5"}), "--set =5: expected path=value (e.g. scale_up.bandwidth_GBps=900)");
  EXPECT_EQ(set_error({"scale_up..latency_us=1"}),
            "--set scale_up..latency_us=1: empty key in path 'scale_up..latency_us'");
  EXPECT_EQ(set_error({"scale_out.tiers.5.radix=32"}),
            "--set scale_out.tiers.5.radix=32: index 5 is out of range ('scale_out.tiers' has 2 items; 2 "
            "appends one)");
  EXPECT_EQ(set_error({"scale_out.tiers.leaf.radix=32"}),
            "--set scale_out.tiers.leaf.radix=32: 'leaf' is not an index ('scale_out.tiers' is a list: use "
            "0, 1, ...)");
  EXPECT_EQ(
      set_error({"scale_out.tiers.0=x"}),
      "--set scale_out.tiers.0=x: 'scale_out.tiers.0' is a list item: set one of its keys (name, radix, "
      "hop_latency_us, oversubscription, load_balancing, flows_per_connection, adaptive_efficiency, hash), "
      "e.g. scale_out.tiers.0.name=...");
  EXPECT_EQ(set_error({"scale_up=5"}),
            "--set scale_up=5: 'scale_up' is a mapping: set one of its keys, e.g. scale_up.domain_size=...");
  EXPECT_EQ(set_error({"scale_out=5"}),
            "--set scale_out=5: 'scale_out' is a mapping: set one of its keys, e.g. "
            "scale_out.nic_bandwidth_Gbps=..., "
            "or remove it with scale_out=");
  EXPECT_EQ(set_error({"scale_out.tiers=x"}),
            "--set scale_out.tiers=x: 'scale_out.tiers' is a list: set one of its keys, e.g. "
            "scale_out.tiers.0.name=...");
  EXPECT_EQ(set_error({"scale_up="}), "--set scale_up=: 'scale_up' is required and cannot be removed");
  EXPECT_EQ(set_error({"name="}), "--set name=: 'name' is required and cannot be removed");
  EXPECT_EQ(set_error({"scale_up.domain_size.x=1"}),
            "--set scale_up.domain_size.x=1: 'scale_up.domain_size' is a value and has no keys below it");
  // A section the file lacks, created by an override but left incomplete.
  EXPECT_EQ(set_error({"scale_out.nic_bandwidth_Gbps=100", "scale_out.nics_per_domain=1"}, lines(1, 8)),
            "--set scale_out.nic_bandwidth_Gbps=100: scale_out: missing required key 'latency_us'");
  // A tier appended without its required keys.
  EXPECT_EQ(set_error({"scale_out.tiers.2.radix=64"}),
            "--set scale_out.tiers.2.radix=64: scale_out.tiers.2: missing required key 'name'");
  // The file's own errors still point into the file.
  EXPECT_EQ(set_error({"scale_up.latency_us=1"}, with_line(7, "  bandwidth_GBps: 0")),
            "t.yaml:7: scale_up.bandwidth_GBps: must be a number > 0 (got 0)");
  EXPECT_EQ(set_error({"scale_up.latency_us=1"}, with_line(8, "  latency_us: 0.5\n  latency_us: 0.6")),
            "t.yaml:9: scale_up.latency_us: given twice");
}

TEST(FabricSet, ShippedFileOverrides) {
  const Fabric f =
      load_fabric(fabric_path("hgx-h100"), {"scale_up.bandwidth_GBps=900", "scale_out.planes=2"});
  EXPECT_EQ(f.scale_up.bandwidth_GBps, 900);
  EXPECT_EQ(f.scale_out.planes, 2);
  try {
    load_fabric(fabric_path("hgx-h100"), {"scale_up.bandwith_GBps=900"});
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "--set scale_up.bandwith_GBps=900: unknown key 'bandwith_GBps' (known: ", 0),
              0u);
  }
}

// ---- writing back -------------------------------------------------------------------------------

TEST(FabricYaml, EveryShippedFabricRoundTrips) {
  for (const auto& file : shipped_fabrics()) {
    SCOPED_TRACE(file);
    const Fabric f = load_fabric(file);
    const std::string text = fabric_to_yaml(f);
    const Fabric g = parse_fabric(text, f.source);
    expect_same_fabric(f, g);
    EXPECT_EQ(g.source, f.source);
    EXPECT_EQ(fabric_to_yaml(g), text);
  }
}

TEST(FabricYaml, AwkwardValuesRoundTrip) {
  Fabric f = tree({tier("leaf: #1", 48, 1.0 / 3 + 1), tier("\"spine\"", 7)}, 3, 3);
  f.name = "yes";  // would read back as a boolean if written bare
  f.description = "line one\nline two: with 'quotes' and \"doubles\" # not a comment";
  f.endpoint.kind = "host";
  f.endpoint.memory_bandwidth_GBps = 0.1;
  f.endpoint.reduce_bandwidth_GBps = 1.0 / 3;
  f.scale_up.bandwidth_GBps = 1e-7;
  f.scale_up.latency_us = 0;
  f.scale_out.nic_bandwidth_Gbps = 123456789.125;
  f.scale_out.rails = 3;
  f.scale_out.planes = 5;
  f.scale_out.latency_us = 2.0000000000000004;
  f.scale_out.wire_efficiency = 0.9999999999999999;
  f.scale_out.in_network_reduction = true;
  f.scale_out.transport = "tcp";
  f.scale_up.in_switch_reduction = true;
  f.protocols = Protocols{0.25, 0.5, 0.75};
  validate_fabric(f);
  const Fabric g = parse_fabric(fabric_to_yaml(f), "rt.yaml");
  expect_same_fabric(f, g);
}

TEST(FabricYaml, SourcesBecomeEndOfLineComments) {
  const Fabric f = load_fabric(fabric_path("hgx-h100"));
  const std::string text =
      fabric_to_yaml(f, {{"scale_up.bandwidth_GBps", "fit: 12 p2p rows, R^2 0.998"},
                         {"scale_out.tiers.1.hop_latency_us", "fit: 4 rows\nacross spine"},
                         {"scale_up.bandwidth_GBps", "second note"},
                         {"name", "calibrated"}});
  EXPECT_NE(text.find("  bandwidth_GBps: 450  # fit: 12 p2p rows, R^2 0.998; second note\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("      hop_latency_us: 0  # fit: 4 rows across spine\n"), std::string::npos) << text;
  EXPECT_NE(text.find("name: \"hgx-h100\"  # calibrated\n"), std::string::npos) << text;
  expect_same_fabric(parse_fabric(text, "c.yaml"), f);

  EXPECT_THROW(fabric_to_yaml(f, {{"scale_up.bandwith_GBps", "typo"}}), std::invalid_argument);
  const Fabric local = load_fabric(fabric_path("localhost"));
  EXPECT_THROW(fabric_to_yaml(local, {{"scale_out.nic_bandwidth_Gbps", "no scale-out"}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace fb::model
