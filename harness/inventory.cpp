#include "harness/inventory.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
// ethtool's driver-info request (what `ethtool -i` prints), unprivileged.
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fb {

namespace fs = std::filesystem;
using json = InventoryJson;

namespace {

// First line of a file, trailing white space removed; "" when it cannot be read.
std::string read_line(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  if (!in || !std::getline(in, s)) return "";
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\0'))
    s.pop_back();
  return s;
}

int read_int(const fs::path& p, int fallback) {
  const std::string s = read_line(p);
  try {
    std::size_t used = 0;
    const int v = std::stoi(s, &used);
    return used == s.size() ? v : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

// Sorted directory entries (names) matching a prefix; none when the directory is not there.
std::vector<std::string> entries(const fs::path& dir, const std::string& prefix = "") {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string resolved(const fs::path& p) {
  std::error_code ec;
  const fs::path r = fs::canonical(p, ec);
  return ec ? "" : r.string();
}

// "root/sys/..." for a path under the host's /sys or /proc.
fs::path under(const std::string& root, const std::string& path) {
  return fs::path(root) / path.substr(1);
}

void cpu_facts(json& h, const std::string& root) {
  std::ifstream cpuinfo(under(root, "/proc/cpuinfo"));
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      h["cpu_model"] = line.substr(line.find(':') + 2);
      break;
    }
  // Logical CPUs, cores (distinct package/core pairs) and sockets from the topology directories.
  std::set<std::pair<int, int>> cores;
  std::set<int> sockets;
  int cpus = 0;
  const fs::path cpu_dir = under(root, "/sys/devices/system/cpu");
  for (const auto& c : entries(cpu_dir, "cpu")) {
    if (c.size() < 4 || !std::isdigit(static_cast<unsigned char>(c[3]))) continue;
    ++cpus;
    const int pkg = read_int(cpu_dir / c / "topology/physical_package_id", -1);
    const int core = read_int(cpu_dir / c / "topology/core_id", -1);
    if (pkg >= 0) sockets.insert(pkg);
    if (core >= 0) cores.insert({pkg, core});
  }
  if (cpus > 0) h["cpus"] = cpus;
  if (!cores.empty()) h["cores"] = cores.size();
  if (!sockets.empty()) h["sockets"] = sockets.size();
  json nodes = json::array();
  const fs::path node_dir = under(root, "/sys/devices/system/node");
  for (const auto& n : entries(node_dir, "node")) {
    if (n.size() < 5 || !std::isdigit(static_cast<unsigned char>(n[4]))) continue;
    json node = {{"node", std::stoi(n.substr(4))}, {"cpus", read_line(node_dir / n / "cpulist")}};
    std::ifstream meminfo(node_dir / n / "meminfo");
    for (std::string line; std::getline(meminfo, line);)
      if (auto at = line.find("MemTotal:"); at != std::string::npos) {
        std::istringstream rest(line.substr(at + 9));
        long long kib = 0;
        if (rest >> kib) node["memory_bytes"] = kib * 1024;
      }
    nodes.push_back(node);
  }
  h["numa_nodes"] = nodes;
}

void system_facts(json& h, const std::string& root) {
  if (root == "/") {
    utsname u{};
    if (::uname(&u) == 0) {
      h["kernel"] = std::string(u.release);
      h["arch"] = std::string(u.machine);
    }
  }
  std::ifstream os(under(root, "/etc/os-release"));
  for (std::string line; std::getline(os, line);)
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      h["os"] = v;
    }
  // rdma-core: libibverbs.so.1.<abi>.<rdma-core release>.0 (rdma-core v44 installs ...1.14.44.0).
  for (const char* dir :
       {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"})
    for (const auto& lib : entries(under(root, dir), "libibverbs.so.1.")) {
      std::vector<std::string> parts;
      std::stringstream ss(lib.substr(std::strlen("libibverbs.so.1.")));
      for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
      if (parts.size() >= 2 && !h.contains("rdma_core")) h["rdma_core"] = parts[1];
    }
  // MLNX_OFED (and the in-tree driver's version where it has one).
  if (auto v = read_line(under(root, "/sys/module/mlx5_core/version")); !v.empty()) h["mlx5_core"] = v;
  if (auto v = read_line(under(root, "/usr/share/doc/mlnx-ofed/VERSION")); !v.empty()) h["ofed"] = v;
}

// `ethtool -i NAME`: driver, firmware and bus; empty on a device without the ioctl.
json ethtool_info(const std::string& name) {
  json j = json::object();
  if (name.size() >= IFNAMSIZ) return j;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return j;
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq req{};
  std::memcpy(req.ifr_name, name.c_str(), name.size());
  req.ifr_data = reinterpret_cast<char*>(&info);
  if (::ioctl(fd, SIOCETHTOOL, &req) == 0) {
    auto text = [](const char* s, std::size_t n) { return std::string(s, strnlen(s, n)); };
    if (info.driver[0]) j["driver"] = text(info.driver, sizeof info.driver);
    if (info.fw_version[0]) j["firmware"] = text(info.fw_version, sizeof info.fw_version);
    if (info.bus_info[0]) j["bus_id"] = text(info.bus_info, sizeof info.bus_info);
  }
  ::close(fd);
  return j;
}

// Network interfaces with a device behind them (not lo, bridges, ifb), and InfiniBand/RoCE HCAs.
json nic_facts(const std::string& root) {
  json nics = json::array();
  const fs::path net = under(root, "/sys/class/net");
  for (const auto& n : entries(net)) {
    const fs::path dev = net / n / "device";
    const std::string path = resolved(dev);
    if (path.empty() || path.find("/virtual/") != std::string::npos) continue;
    json nic = {{"name", n}, {"kind", "net"}};
    if (root == "/") nic.update(ethtool_info(n));
    if (!nic.contains("driver"))
      if (auto d = resolved(dev / "driver"); !d.empty()) nic["driver"] = fs::path(d).filename().string();
    if (!nic.contains("bus_id")) nic["bus_id"] = fs::path(path).filename().string();
    const int speed = read_int(net / n / "speed", -1);  // Mb/s; -1 or unreadable when down
    if (speed > 0) nic["link_rate_Gbps"] = speed / 1000.0;
    nic["state"] = read_line(net / n / "operstate");
    if (const int mtu = read_int(net / n / "mtu", -1); mtu > 0) nic["mtu"] = mtu;
    nic["numa_node"] = read_int(dev / "numa_node", -1);
    nic["pci_path"] = path;
    nics.push_back(nic);
  }
  const fs::path ib = under(root, "/sys/class/infiniband");
  for (const auto& n : entries(ib)) {
    const fs::path dev = ib / n / "device";
    json nic = {{"name", n}, {"kind", "rdma"}};
    if (auto v = read_line(ib / n / "fw_ver"); !v.empty()) nic["firmware"] = v;
    if (auto v = read_line(ib / n / "hca_type"); !v.empty()) nic["model"] = v;
    if (auto v = read_line(ib / n / "board_id"); !v.empty()) nic["board_id"] = v;
    if (auto d = resolved(dev / "driver"); !d.empty()) nic["driver"] = fs::path(d).filename().string();
    const std::string path = resolved(dev);
    if (!path.empty()) nic["bus_id"] = fs::path(path).filename().string();
    json ports = json::array();
    for (const auto& p : entries(ib / n / "ports")) {
      const fs::path pd = ib / n / "ports" / p;
      ports.push_back({{"port", std::stoi(p)},
                       {"rate", read_line(pd / "rate")},  // "400 Gb/sec (4X NDR)"
                       {"state", read_line(pd / "state")},
                       {"link_layer", read_line(pd / "link_layer")}});
    }
    nic["ports"] = ports;
    json netdevs = json::array();
    for (const auto& d : entries(dev / "net")) netdevs.push_back(d);
    if (!netdevs.empty()) nic["net_devices"] = netdevs;
    nic["numa_node"] = read_int(dev / "numa_node", -1);
    nic["pci_path"] = path;
    nics.push_back(nic);
  }
  return nics;
}

std::vector<std::string> path_parts(const std::string& p) {
  std::vector<std::string> out;
  for (const auto& c : fs::path(p)) out.push_back(c.string());
  return out;
}

}  // namespace

std::string cpu_list_text(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(cpus[i]) + (j > i ? "-" + std::to_string(cpus[j]) : "");
    i = j + 1;
  }
  return out;
}

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ',');) {
    int a = 0, b = 0;
    char dash = 0;
    std::istringstream in(part);
    if (!(in >> a)) continue;
    b = a;
    if (in >> dash && dash == '-' && !(in >> b)) continue;
    for (int c = a; c <= b && c - a < 1 << 20; ++c) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string pci_relation(const std::string& path_a, int numa_a, const std::string& path_b, int numa_b) {
  if (path_a.empty() || path_b.empty()) return "";
  const auto a = path_parts(path_a), b = path_parts(path_b);
  // .../devices/pciDDDD:BB/<bridges...>/<device>: the host bridge is the "pci..." component.
  auto host_bridge = [](const std::vector<std::string>& p) {
    for (std::size_t i = 0; i < p.size(); ++i)
      if (p[i].rfind("pci", 0) == 0) return i;
    return p.size();
  };
  const std::size_t ha = host_bridge(a), hb = host_bridge(b);
  if (ha == a.size() || hb == b.size() || a[ha] != b[hb] || ha != hb)
    return numa_a == numa_b ? "NODE" : "SYS";
  std::size_t common = ha + 1;
  while (common < a.size() && common < b.size() && a[common] == b[common]) ++common;
  const std::size_t shared_bridges = common - (ha + 1);
  if (shared_bridges == 0) return "PHB";
  // Below their deepest shared bridge: a PCIe switch is an upstream and a downstream bridge, so a
  // device at most two levels below on each side hangs off the same switch.
  return a.size() - common <= 2 && b.size() - common <= 2 ? "PIX" : "PXB";
}

InventoryJson host_facts(const std::string& root) {
  json h = json::object();
  cpu_facts(h, root);
  system_facts(h, root);
  h["nics"] = nic_facts(root);
  return h;
}

InventoryJson rank_facts(int rank, int local_rank,
                         const std::vector<std::unique_ptr<transports::Backend>>& backends,
                         const std::string& root) {
  json r = {{"rank", rank}, {"local_rank", local_rank}};
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    r["cpus"] = cpu_list_text(cpus);
    // The NUMA nodes those CPUs belong to.
    std::vector<int> nodes;
    const fs::path node_dir = under(root, "/sys/devices/system/node");
    for (const auto& n : entries(node_dir, "node")) {
      if (n.size() < 5 || !std::isdigit(static_cast<unsigned char>(n[4]))) continue;
      const auto node_cpus = parse_cpu_list(read_line(node_dir / n / "cpulist"));
      if (std::any_of(cpus.begin(), cpus.end(),
                      [&](int c) { return std::binary_search(node_cpus.begin(), node_cpus.end(), c); }))
        nodes.push_back(std::stoi(n.substr(4)));
    }
    r["numa_nodes"] = cpu_list_text(nodes);
  }
  json devices = json::array();
  for (const auto& b : backends) {
    const auto facts = b->device_facts();
    if (facts.empty()) continue;
    json d = {{"backend", b->name()}};
    for (const auto& [k, v] : facts) d[k] = v;
    // The NICs nearest this device, as nvidia-smi topo names the path to each.
    if (auto bus = d.value("pci_bus_id", std::string()); !bus.empty()) {
      std::string lower = bus;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      const fs::path dev = under(root, "/sys/bus/pci/devices") / lower;
      const std::string path = resolved(dev);
      const int numa = read_int(dev / "numa_node", -1);
      json near = json::object();
      for (const auto& nic : nic_facts(root))
        if (auto rel = pci_relation(path, numa, nic.value("pci_path", ""), nic.value("numa_node", -1));
            !rel.empty())
          near[nic.value("name", "")] = rel;
      d["numa_node"] = numa;
      d["nic_paths"] = near;
    }
    // run --ranks/--split make a backend per stage on the same device: list the device once.
    if (std::find(devices.begin(), devices.end(), d) == devices.end()) devices.push_back(d);
  }
  if (!devices.empty()) r["devices"] = devices;
  return r;
}

InventoryJson merge_inventory(const std::vector<std::string>& per_rank, const InventoryJson& mpi) {
  json hosts = json::array();
  std::map<std::string, std::size_t> index;
  for (const auto& text : per_rank) {
    const json one = json::parse(text, nullptr, false);
    if (one.is_discarded() || !one.is_object()) continue;
    const std::string host = one.value("host", "");
    auto it = index.find(host);
    if (it == index.end()) {
      json h = {{"host", host}};
      h.update(one.value("host_facts", json::object()));
      h["ranks"] = json::array();
      it = index.emplace(host, hosts.size()).first;
      hosts.push_back(h);
    }
    hosts[it->second]["ranks"].push_back(one.value("rank", json::object()));
  }
  return json{{"mpi", mpi}, {"hosts", hosts}};
}

std::string gather_inventory(transports::World& w,
                             const std::vector<std::unique_ptr<transports::Backend>>& backends) {
  // Every rank reads its own binding and device; its host's facts once per host (local rank 0).
  json mine = {{"host", w.hostname()}, {"rank", rank_facts(w.rank(), w.local_rank(), backends)}};
  if (w.local_rank() == 0) mine["host_facts"] = host_facts();
  const auto all = w.gather_strings(mine.dump(-1, ' ', false, json::error_handler_t::replace), 0);
  if (w.rank() != 0) return "";
  json mpi = json::object();
  for (const auto& [k, v] : w.library_facts()) mpi[k] = v;
  return merge_inventory(all, mpi).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace fb
