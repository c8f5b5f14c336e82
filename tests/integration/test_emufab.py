"""The emulated fabric (scripts/emufab) end to end: build configs/fabrics/emulated-2leaf.yaml,
check its topology and isolation, run fabricbench under `emufab exec -- mpirun` between two
hosts on different leaves and hold the measured rate against the YAML's, degrade one host's link
and see the rate follow, and always tear it all down.

Needs root and `ip netns` (skipped otherwise, with the reason), and takes the machine's one
emulated fabric: it is skipped when one is already up (scripts/emufab down frees it).
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG  # noqa: E402

FABRIC = "emulated-2leaf"
TOLERANCE = 0.15  # measured rate vs the YAML's, as `fabricbench validate` will hold it
MESSAGE = "2M"    # 2 MiB: ~0.18 s at 100 Mb/s, so per-message latency is < 1% of a sample


def emufab(*args, timeout=120):
    return fbtest.run([os.path.join(CONFIG.source, "scripts", "emufab"), *args], timeout=timeout)


def namespaces():
    p = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return sorted(l.split()[0] for l in p.stdout.splitlines() if l.startswith("fbemu-"))


def skip_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth links, tc)"
    try:
        p = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        return "no `ip` command (iproute2)"
    if p.returncode != 0:
        return f"`ip netns` is not available: {p.stderr.strip()}"
    try:
        import yaml  # noqa: F401
    except ImportError:
        return "no PyYAML (python3-yaml)"
    if namespaces() or os.path.exists("/run/fabricbench-emufab"):
        return "an emulated fabric is already up on this machine (scripts/emufab down frees it)"
    return None


def allowed_cc():
    with open("/proc/sys/net/ipv4/tcp_allowed_congestion_control") as f:
        return f.read().strip()


class EmulatedFabric(fbtest.FbTestCase):
    @classmethod
    def setUpClass(cls):
        reason = skip_reason()
        if reason:
            print(f"test_emufab.py: SKIP: {reason}")
            raise unittest.SkipTest(reason)
        import yaml
        with open(os.path.join(CONFIG.source, "configs", "fabrics", FABRIC + ".yaml")) as f:
            cls.yaml = yaml.safe_load(f)
        so = cls.yaml["scale_out"]
        cls.host_bps = so["nic_bandwidth_Gbps"] * 1e9
        cls.wire = so.get("wire_efficiency", 1)
        cls.ranks_per_host = cls.yaml["scale_up"]["domain_size"]
        leaf = so["tiers"][0]
        cls.uplink_bps = 2 * cls.host_bps / leaf.get("oversubscription", 1)  # 2 hosts per leaf
        cls.allowed_cc = allowed_cc()
        cls.addClassCleanup(cls.tear_down)  # runs even when `up` fails half-way
        res = emufab("up", "--fabric", FABRIC)
        if res.rc != 0:
            raise AssertionError(f"emufab up failed\n{res.describe()}")

    @classmethod
    def tear_down(cls):
        res = emufab("down")
        left = namespaces()
        if res.rc != 0 or left:
            raise AssertionError(f"emufab down left namespaces {left}\n{res.describe()}")
        if os.path.exists("/run/fabricbench-emufab"):
            raise AssertionError("emufab down left /run/fabricbench-emufab")
        if allowed_cc() != cls.allowed_cc:
            raise AssertionError(f"emufab down left the root namespace's allowed TCP congestion control "
                                 f"'{allowed_cc()}' (was '{cls.allowed_cc}')")

    # ---- helpers ---------------------------------------------------------------------------

    def status(self):
        res = emufab("status", "--json")
        self.assertRc(res, 0)
        return json.loads(res.stdout)

    def sent_bytes(self, ns, dev):
        for l in self.status()["links"]:
            if (l["ns"], l["dev"]) == (ns, dev):
                return l["sent_bytes"]
        self.fail(f"no link end {ns}:{dev} in emufab status")

    def sendrecv_GBps(self, src, dst, stem):
        """fabricbench unidir (one-way pairs; sendrecv is a ring shift, both ways at 2 ranks), one rank on
        `src` sending to one on `dst`; the row's algbw (GB/s)."""
        c, j, out = self.outputs(stem)
        cmd = [os.path.join(CONFIG.source, "scripts", "emufab"), "exec", "--",
               CONFIG.mpirun, "-np", "2", "--host", f"fbemu-{src}:1,fbemu-{dst}:1",
               CONFIG.binary, "run", "--op", "unidir", "-b", MESSAGE, "-e", MESSAGE, "-n", "5", "-w", "2",
               "--timeout", "60", "-q", *out]
        res = fbtest.run(cmd, timeout=150)
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j, nranks=2)
        doc = fbtest.load_json(j)
        self.assertEqual(doc["meta"]["rank_hosts"], [f"fbemu-{src}", f"fbemu-{dst}"],
                         "one rank per emulated host, told apart by hostname")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["nnodes"], 2)
        return rows[0]["algbw_GBps"], rows[0]["bytes"] * (rows[0]["iters"] + 2)

    def assertRate(self, measured_GBps, link_bps, what):
        expected = link_bps * self.wire / 8 / 1e9
        err = measured_GBps / expected - 1
        print(f"  {what}: {measured_GBps:.5f} GB/s, expected {expected:.5f} ({100 * err:+.1f}%)")
        self.assertLessEqual(abs(err), TOLERANCE,
                             f"{what}: {measured_GBps:.5f} GB/s measured, {expected:.5f} GB/s expected "
                             f"(link {link_bps / 1e6:g} Mb/s x wire efficiency {self.wire}): {100 * err:+.1f}%")

    # ---- tests (in name order) -------------------------------------------------------------

    def test_1_topology(self):
        st = self.status()
        state = st["state"]
        hosts = state["hosts"]
        self.assertEqual(len(hosts), 4, "4 hosts")
        self.assertEqual(state["leaves"], 2, "2 leaves")
        self.assertEqual(sorted({h["leaf"] for h in hosts}), [0, 1])
        self.assertEqual([h["leaf"] for h in hosts], [0, 0, 1, 1], "hosts fill the leaves in order")
        self.assertEqual(state["ranks_per_host"], self.ranks_per_host)
        self.assertEqual(st["missing"], [])
        expected_ns = {f"fbemu-h{i}" for i in range(4)} | {"fbemu-leaf0", "fbemu-leaf1", "fbemu-spine",
                                                            "fbemu-mgmt", "fbemu-login"}
        self.assertEqual(set(namespaces()), expected_ns)
        # Every link end shaped as the YAML says: hosts at nic_bandwidth_Gbps, uplinks at the model's
        # tier capacity.
        for l in st["links"]:
            want = self.uplink_bps if "spine" in l["link"] else self.host_bps
            self.assertEqual(l["configured_bps"], want, l)
            self.assertNotEqual(l["rate"], "unshaped", l)
        self.assertEqual(len(st["links"]), 2 * 4 + 2 * 2, "both ends of 4 host links and 2 uplinks")
        # The hostfile: every host with its ranks.
        with open("/run/fabricbench-emufab/hostfile") as f:
            lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
        self.assertEqual(lines, [[f"fbemu-h{i}", f"slots={self.ranks_per_host}"] for i in range(4)])
        # TCP in the hosts: cubic, wherever the kernel has it (scripts/emufab, _allow_tcp_cc()).
        with open("/proc/sys/net/ipv4/tcp_available_congestion_control") as f:
            if "cubic" in f.read().split():
                self.assertEqual(state["tcp_cc"], "cubic")
                for i in range(4):
                    cc = subprocess.run(["ip", "netns", "exec", f"fbemu-h{i}", "sysctl", "-n",
                                         "net.ipv4.tcp_congestion_control"], stdout=subprocess.PIPE, text=True)
                    self.assertEqual(cc.stdout.strip(), "cubic", f"fbemu-h{i}")
        # Addresses only inside the namespaces.
        root = subprocess.run(["ip", "-o", "addr"], stdout=subprocess.PIPE, text=True).stdout
        self.assertNotIn("10.200.", root)
        self.assertNotIn("10.201.", root)

    def test_2_reachability_across_leaves(self):
        # h0 (leaf0) to h3 (leaf1) over the fabric addresses: through both leaves and the spine,
        # at the host link's rate (uplinks are non-blocking).
        res = emufab("measure", "h0", "h3", "--seconds", "1.5", "--json")
        self.assertRc(res, 0)
        m = json.loads(res.stdout)
        self.assertRate(m["goodput_bps"] / 8 / 1e9, self.host_bps, "TCP h0 -> h3")
        # The management network is not the fabric: the login namespace has no route to it.
        res = emufab("exec", "--", sys.executable, "-c",
                     "import socket; s = socket.socket(); s.settimeout(2); s.connect(('10.200.0.4', 9))")
        self.assertNotEqual(res.rc, 0, "the login namespace reached a fabric address")
        self.assertIn("unreachable", res.stderr.lower())
        # exec --on runs inside a host, under its hostname.
        res = emufab("exec", "--on", "h2", "--", "hostname")
        self.assertRc(res, 0)
        self.assertEqual(res.stdout.strip(), "fbemu-h2")

    def test_3_mpi_over_the_fabric_then_degraded(self):
        before = self.sent_bytes("fbemu-h0", "fab0")
        healthy, moved = self.sendrecv_GBps("h0", "h2", "healthy")
        self.assertGreaterEqual(self.sent_bytes("fbemu-h0", "fab0") - before, moved,
                                "MPI's data did not go through h0's shaped fabric veth")
        self.assertRate(healthy, self.host_bps, "MPI sendrecv h0 -> h2, healthy")

        res = emufab("degrade", "h2", "25%")
        self.assertRc(res, 0)
        try:
            degraded, _ = self.sendrecv_GBps("h0", "h2", "degraded")
        finally:
            self.assertRc(emufab("restore", "h2"), 0)
        self.assertRate(degraded, self.host_bps / 4, "MPI sendrecv h0 -> h2, h2 degraded to 25%")
        self.assertLess(degraded, healthy / 2)

    def test_4_bad_input(self):
        bad = self.path("bad.yaml")
        with open(bad, "w") as f:
            f.write("name: x\nendpoint: {kind: host\n")
        for args in (["up", "--fabric", bad], ["up", "--fabric", "hgx-h100"], ["degrade", "h9", "10mbit"],
                     ["degrade", "h1", "fast"]):
            with self.subTest(args=args):
                res = emufab(*args)
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.describe())
        self.assertEqual(len(namespaces()), 9, "a rejected `up` leaves the running fabric alone")


if __name__ == "__main__":
    fbtest.main()
