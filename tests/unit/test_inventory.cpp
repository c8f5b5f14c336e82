// The inventory (harness/inventory.hpp) read from a sysfs tree of the test's own, its merge into
// one entry per host, compare's inventory diff, the per-rank/per-host statistics, the JSON sink's
// new keys and the console's summary lines.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "harness/inventory.hpp"
#include "harness/inventory_diff.hpp"
#include "harness/sinks/sink.hpp"
#include "harness/stats.hpp"

namespace fb {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

TEST(Inventory, CpuListsAreWrittenAsRangesAndReadBack) {
  EXPECT_EQ(cpu_list_text({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(cpu_list_text({5}), "5");
  EXPECT_EQ(cpu_list_text({}), "");
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("7,2-3\n"), (std::vector<int>{2, 3, 7}));
}

TEST(Inventory, PciRelationsAsNvidiaSmiTopoNamesThem) {
  const std::string root = "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";
  const std::string gpu = root + "/0000:02:08.0/0000:03:00.0";
  EXPECT_EQ(pci_relation(gpu, 0, root + "/0000:02:10.0/0000:04:00.0", 0), "PIX");  // one switch
  EXPECT_EQ(pci_relation(gpu, 0, "/sys/devices/pci0000:00/0000:00:01.0/0000:05:00.0", 0), "PXB");
  EXPECT_EQ(pci_relation(gpu, 0, "/sys/devices/pci0000:00/0000:00:02.0/0000:06:00.0", 0), "PHB");
  EXPECT_EQ(pci_relation(gpu, 0, "/sys/devices/pci0000:40/0000:40:01.0/0000:41:00.0", 0), "NODE");
  EXPECT_EQ(pci_relation(gpu, 0, "/sys/devices/pci0000:80/0000:80:01.0/0000:81:00.0", 1), "SYS");
  EXPECT_EQ(pci_relation("", 0, gpu, 0), "");
}

// A host as sysfs shows it: 4 CPUs (2 cores with 2 threads, one socket), one NUMA node, an
// Ethernet port on PCI and a virtual one, an InfiniBand HCA, rdma-core v44.
class InventoryTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("fb_inventory_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    write("proc/cpuinfo",
          "processor\t: 0\nmodel name\t: Test CPU 3000\n\nprocessor\t: 1\nmodel name\t: Test CPU 3000\n");
    for (int c = 0; c < 4; ++c) {
      const std::string d = "sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/";
      write(d + "physical_package_id", "0\n");
      write(d + "core_id", std::to_string(c / 2) + "\n");
    }
    write("sys/devices/system/cpu/cpufreq/policy0", "");  // not a CPU
    write("sys/devices/system/node/node0/cpulist", "0-3\n");
    write("sys/devices/system/node/node0/meminfo", "Node 0 MemTotal:       16384 kB\n");
    const std::string eth = "sys/devices/pci0000:00/0000:00:03.0/0000:03:00.0";
    write(eth + "/numa_node", "0\n");
    write("sys/devices/virtual/net/ifb0/x", "");
    link("sys/class/net/eth0/device", root_ / eth);
    write("sys/class/net/eth0/speed", "100000\n");
    write("sys/class/net/eth0/operstate", "up\n");
    write("sys/class/net/eth0/mtu", "9000\n");
    link("sys/class/net/ifb0/device", root_ / "sys/devices/virtual/net/ifb0");
    const std::string hca = "sys/devices/pci0000:00/0000:00:04.0/0000:04:00.0";
    write(hca + "/numa_node", "0\n");
    link("sys/class/infiniband/mlx5_0/device", root_ / hca);
    write("sys/class/infiniband/mlx5_0/fw_ver", "28.39.1002\n");
    write("sys/class/infiniband/mlx5_0/hca_type", "MT4129\n");
    write("sys/class/infiniband/mlx5_0/ports/1/rate", "400 Gb/sec (4X NDR)\n");
    write("sys/class/infiniband/mlx5_0/ports/1/state", "4: ACTIVE\n");
    write("sys/class/infiniband/mlx5_0/ports/1/link_layer", "InfiniBand\n");
    write("usr/lib/x86_64-linux-gnu/libibverbs.so.1.14.44.0", "");
    write("etc/os-release", "NAME=Test\nPRETTY_NAME=\"Test Linux 1\"\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  void link(const std::string& rel, const fs::path& target) {
    fs::create_directories((root_ / rel).parent_path());
    fs::create_directories(target);
    fs::create_directory_symlink(target, root_ / rel);
  }

  fs::path root_;
};

TEST_F(InventoryTree, HostFactsFromSysfs) {
  const json h = host_facts(root_.string());
  EXPECT_EQ(h.value("cpu_model", ""), "Test CPU 3000");
  EXPECT_EQ(h.value("cpus", 0), 4);
  EXPECT_EQ(h.value("cores", 0), 2);
  EXPECT_EQ(h.value("sockets", 0), 1);
  ASSERT_EQ(h["numa_nodes"].size(), 1u);
  EXPECT_EQ(h["numa_nodes"][0]["cpus"], "0-3");
  EXPECT_EQ(h["numa_nodes"][0]["memory_bytes"], 16384LL * 1024);
  EXPECT_EQ(h.value("rdma_core", ""), "44");
  EXPECT_EQ(h.value("os", ""), "Test Linux 1");
  ASSERT_EQ(h["nics"].size(), 2u) << h["nics"].dump();  // eth0 and mlx5_0; not the virtual ifb0
  const json& eth = h["nics"][0];
  EXPECT_EQ(eth["name"], "eth0");
  EXPECT_EQ(eth["link_rate_Gbps"], 100.0);
  EXPECT_EQ(eth["bus_id"], "0000:03:00.0");
  EXPECT_EQ(eth["mtu"], 9000);
  const json& ib = h["nics"][1];
  EXPECT_EQ(ib["name"], "mlx5_0");
  EXPECT_EQ(ib["kind"], "rdma");
  EXPECT_EQ(ib["firmware"], "28.39.1002");
  EXPECT_EQ(ib["ports"][0]["rate"], "400 Gb/sec (4X NDR)");
  EXPECT_EQ(ib["numa_node"], 0);
}

TEST_F(InventoryTree, RankFactsNameTheBindingAndItsNumaNodes) {
  const json r = rank_facts(3, 1, {}, root_.string());
  EXPECT_EQ(r["rank"], 3);
  EXPECT_EQ(r["local_rank"], 1);
  // This process's real affinity, as a cpulist that reads back.
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  EXPECT_EQ(static_cast<int>(parse_cpu_list(r["cpus"]).size()), CPU_COUNT(&set));
  EXPECT_FALSE(r.contains("devices"));  // no backend with a device
}

// A backend driving one device, as a stage of run --ranks/--split makes one per stage.
class DeviceBackend final : public transports::Backend {
 public:
  explicit DeviceBackend(std::string uuid) : uuid_(std::move(uuid)) {}
  std::string name() const override { return "fake"; }
  std::string version() const override { return "fake 1.0"; }
  std::optional<std::string> unsupported(const OpDescriptor&, DType, RedOp, bool) const override {
    return std::nullopt;
  }
  void run(const transports::OpCall&) override {}
  std::vector<std::pair<std::string, std::string>> device_facts() const override {
    return {{"model", "GPU"}, {"uuid", uuid_}};
  }

 private:
  std::string uuid_;
};

TEST_F(InventoryTree, RankFactsListADeviceOnceHoweverManyStagesMadeABackendOnIt) {
  std::vector<std::unique_ptr<transports::Backend>> backends;
  for (const char* uuid : {"GPU-a", "GPU-a", "GPU-b", "GPU-a"})
    backends.push_back(std::make_unique<DeviceBackend>(uuid));
  const json r = rank_facts(0, 0, backends, root_.string());
  ASSERT_EQ(r["devices"].size(), 2u);
  EXPECT_EQ(r["devices"][0]["uuid"], "GPU-a");
  EXPECT_EQ(r["devices"][1]["uuid"], "GPU-b");
  EXPECT_EQ(r["devices"][0]["backend"], "fake");
}

TEST(Inventory, MergeGivesOneEntryPerHostWithItsRanks) {
  auto rank = [](const std::string& host, int r, bool first) {
    json j = {{"host", host}, {"rank", {{"rank", r}, {"cpus", std::to_string(r)}}}};
    if (first) j["host_facts"] = {{"cpu_model", "CPU of " + host}};
    return j.dump();
  };
  const json inv =
      merge_inventory({rank("a", 0, true), rank("a", 1, false), rank("b", 2, true), rank("a", 3, false)},
                      {{"thread_level", "single"}});
  EXPECT_EQ(inv["mpi"]["thread_level"], "single");
  ASSERT_EQ(inv["hosts"].size(), 2u);
  EXPECT_EQ(inv["hosts"][0]["host"], "a");
  EXPECT_EQ(inv["hosts"][0]["cpu_model"], "CPU of a");
  EXPECT_EQ(inv["hosts"][0]["ranks"].size(), 3u);
  EXPECT_EQ(inv["hosts"][0]["ranks"][2]["rank"], 3);
  EXPECT_EQ(inv["hosts"][1]["cpu_model"], "CPU of b");
}

TEST(InventoryDiff, ListsWhatDiffersButNotHostNames) {
  const json base = {
      {"mpi", {{"pml", "ob1"}}},
      {"hosts",
       {{{"host", "n1"}, {"kernel", "6.1"}, {"nics", {{{"name", "mlx5_0"}, {"firmware", "28.1"}}}}}}}};
  json cand = base;
  EXPECT_TRUE(inventory_differences(base, cand).empty());
  cand["hosts"][0]["host"] = "n7";
  EXPECT_TRUE(inventory_differences(base, cand).empty());
  cand["hosts"][0]["nics"][0]["firmware"] = "28.2";
  cand["mpi"]["btl"] = "self+vader";
  const auto d = inventory_differences(base, cand);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], "hosts[0].nics[0].firmware: '28.1' -> '28.2'");
  EXPECT_EQ(d[1], "mpi.btl: (absent) -> 'self+vader'");
}

TEST(InventoryDiff, WarnsOnlyWhenBothFilesHaveDifferentInventories) {
  const fs::path dir = fs::temp_directory_path();
  const std::string a = (dir / ("fb_invdiff_a_" + std::to_string(::getpid()) + ".json")).string();
  const std::string b = (dir / ("fb_invdiff_b_" + std::to_string(::getpid()) + ".json")).string();
  const std::string c = (dir / ("fb_invdiff_c_" + std::to_string(::getpid()) + ".csv")).string();
  std::ofstream(a) << R"({"meta": {"inventory": {"hosts": [{"cpu_model": "X"}]}}, "rows": []})";
  std::ofstream(b) << R"({"meta": {"inventory": {"hosts": [{"cpu_model": "Y"}]}}, "rows": []})";
  std::ofstream(c) << "schema_version,op\n";
  std::ostringstream err;
  warn_inventory_differences(a, a, err);
  warn_inventory_differences(a, c, err);
  EXPECT_EQ(err.str(), "");
  warn_inventory_differences(a, b, err);
  EXPECT_EQ(
      err.str(),
      "fabricbench: warning: base and candidate ran on different systems (meta.inventory, 1 difference):\n"
      "fabricbench:   hosts[0].cpu_model: 'X' -> 'Y'\n");
  fs::remove(a);
  fs::remove(b);
  fs::remove(c);
}

TEST(PerRankStats, EachRanksMedianAndMean) {
  // 2 ranks x 3 samples, rank-major.
  const SampleStats s = compute_stats({1, 2, 6, 10, 30, 20}, 2, 3);
  EXPECT_EQ(s.rank_p50, (std::vector<double>{2, 20}));
  EXPECT_EQ(s.rank_mean, (std::vector<double>{3, 20}));
}

Record summary_row(const std::string& op, std::uint64_t bytes, std::uint64_t wrong, double t, double model) {
  Record r;
  r.backend = "mpi";
  r.op = op;
  r.algo = "native";
  r.bytes = bytes;
  r.check_iters = 1;
  r.wrong = wrong;
  r.time_us = t;
  if (model > 0) r.model_time_us = model;
  return r;
}

TEST(SummarySink, OneLinePerOpWithVerdictWrongAndWorstModelRatio) {
  std::ostringstream out;
  auto sink = make_summary_sink(out);
  sink->begin(RunMeta{});
  sink->row(summary_row("allreduce", 8, 0, 2.0, 1.0));
  sink->row(summary_row("allreduce", 1024, 0, 1.0, 4.0));  // 0.25: further from 1 than 2.0
  sink->row(summary_row("alltoall", 8, 3, 1.0, 0));
  sink->row(summary_row("alltoall", 16, 2, 1.0, 0));
  EXPECT_EQ(out.str(), "");  // nothing before the end
  sink->end("wrong-data");
  sink->end("error");  // ended once
  EXPECT_EQ(out.str(),
            "# summary mpi allreduce: PASS  2 rows, 0 wrong, worst time/model 0.25 at size 1K\n"
            "# summary mpi alltoall: FAIL  2 rows, 5 wrong\n");
}

}  // namespace
}  // namespace fb
