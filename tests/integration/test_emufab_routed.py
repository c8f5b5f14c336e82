"""The routed emulated fabric (scripts/emufab up --routing ecmp|static, configs/fabrics/emulated-routed.yaml):
leaves that route over 2 spines with Linux multipath routes and the chosen hash policy, one short
concurrent pattern whose flows get what the collisions they had leave them, destination-based
static routes under which the same pattern does not collide, and `down` leaving nothing behind.

Needs root and `ip netns` (skipped otherwise, with the reason) and the machine's one emulated
fabric (skipped when one is up). Short: two builds of the fabric and two 2-second patterns.
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from test_emufab import allowed_cc, emufab, namespaces, skip_reason  # noqa: E402

FABRIC = "emulated-routed"
TOLERANCE = 0.15
# Every host sends to the host at the same place on the next leaf: each leaf's two flows leave it
# over the spines and both arrive at the next leaf.
SHIFT = ",".join(f"h{i}:h{(i + 2) % 8}" for i in range(8))


def ns_run(ns, *cmd):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


class RoutedFabric(fbtest.FbTestCase):
    @classmethod
    def setUpClass(cls):
        reason = skip_reason()
        if reason:
            print(f"test_emufab_routed.py: SKIP: {reason}")
            raise unittest.SkipTest(reason)
        cls.allowed_cc = allowed_cc()

    def up(self, *args):
        res = emufab("up", "--fabric", FABRIC, *args)
        self.assertRc(res, 0)
        st = emufab("status", "--json")
        self.assertRc(st, 0)
        return json.loads(st.stdout)

    def flows(self, sport):
        res = emufab("flows", SHIFT, "--seconds", "2.2", "--warmup", "0.8", "--sport", str(sport), "--json",
                     timeout=120)
        self.assertRc(res, 0)
        return json.loads(res.stdout)

    def assertShares(self, doc, st):
        """Each flow's goodput: the link's over the flows of its leaf that took its spine (under this
        pattern, flows that share a leaf->spine link share the spine->leaf link after it too)."""
        goodput = st["state"]["link_bps"] * st["state"]["wire_efficiency"]
        for f in doc["flows"]:
            self.assertIn(f["spine"], (0, 1), f)
            k = sum(1 for g in doc["flows"] if g["spine"] == f["spine"] and int(g["src"][1:]) // 2 == int(f["src"][1:]) // 2)
            want = goodput / k
            print(f"  {f['src']} -> {f['dst']} via spine{f['spine']} ({k} on it): {f['goodput_bps'] / 1e6:.2f} Mb/s, "
                  f"expected {want / 1e6:.2f}")
            self.assertLessEqual(abs(f["goodput_bps"] / want - 1), TOLERANCE, f)
        # The kernel's choice, as `emufab flows` reports it, is where the bytes went.
        for leaf in range(4):
            for s in (0, 1):
                used = any(int(f["src"][1:]) // 2 == leaf and f["spine"] == s for f in doc["flows"])
                sent = doc["link_bytes"][f"leaf{leaf}->spine{s}"]
                self.assertTrue(sent > 1e6 if used else sent < 1e5, (leaf, s, sent, doc["flows"]))

    def test_routed_ecmp_then_static_then_down(self):
        try:
            st = self.up("--routing", "ecmp", "--hash", "l4")
            state = st["state"]
            self.assertEqual((state["spines"], state["leaves"], len(state["hosts"])), (2, 4, 8))
            self.assertEqual(state["link_bps"], 50_000_000, "a leaf's 2 x 50 Mb/s uplink over 2 spines")
            self.assertEqual(len(st["links"]), 2 * 8 + 2 * 4 * 2, "both ends of 8 host links and 8 leaf-spine links")
            for l in st["links"]:
                self.assertNotEqual(l["rate"], "unshaped", l)
            # Multipath routes in every leaf: each other leaf's hosts over both spines; the L4 hash.
            for leaf in range(4):
                ns = f"fbemu-leaf{leaf}"
                routes = json.loads(ns_run(ns, "ip", "-j", "route", "show").stdout)
                multi = {r["dst"]: sorted(h["dev"] for h in r["nexthops"]) for r in routes if "nexthops" in r}
                self.assertEqual(multi, {f"10.200.{m + 1}.0/24": ["sp0", "sp1"] for m in range(4) if m != leaf})
                self.assertEqual(ns_run(ns, "sysctl", "-n", "net.ipv4.fib_multipath_hash_policy").stdout.strip(), "3")
                self.assertEqual(ns_run(ns, "sysctl", "-n", "net.ipv4.ip_forward").stdout.strip(), "1")
            root = subprocess.run(["ip", "-o", "addr"], stdout=subprocess.PIPE, text=True).stdout
            for net in ("10.200.", "10.201.", "10.202."):
                self.assertNotIn(net, root, "an address in the root namespace")
            with open("/run/fabricbench-emufab/flow-paths.json") as f:
                paths = json.load(f)
            self.assertFalse(paths["exact"], "the L4 hash: the spine depends on ports")
            self.assertEqual(len(paths["flows"]), 8 * 6)
            self.assertShares(self.flows(20000), st)

            # Static: one /32 per remote host, through spine (its index in its leaf): this pattern's
            # two flows from a leaf go to different spines, so nothing collides.
            st = self.up("--routing", "static")
            for leaf in range(4):
                routes = json.loads(ns_run(f"fbemu-leaf{leaf}", "ip", "-j", "route", "show").stdout)
                self.assertFalse(any("nexthops" in r for r in routes))
                host_routes = {r["dst"]: r["dev"] for r in routes if r["dst"].count(".") == 3 and "/" not in r["dst"]}
                self.assertEqual(len(host_routes), 6, routes)
                for dst, dev in host_routes.items():
                    self.assertEqual(dev, f"sp{(int(dst.split('.')[3]) - 1) % 2}", dst)
            with open("/run/fabricbench-emufab/flow-paths.json") as f:
                self.assertTrue(json.load(f)["exact"])
            doc = self.flows(30000)
            self.assertEqual(sorted(f["spine"] for f in doc["flows"]), [0, 0, 0, 0, 1, 1, 1, 1])
            self.assertShares(doc, st)

            # Bad input: one line, exit 2, the fabric left as it was.
            for args in (["--routing", "spray"], ["--hash", "l7"], ["--routing", "ecmp", "--fabric", "localhost"]):
                with self.subTest(args=args):
                    res = emufab("up", *(args if "--fabric" in args else ["--fabric", FABRIC, *args]))
                    self.assertRc(res, fbtest.EXIT_USAGE)
                    self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.describe())
            self.assertIn("fbemu-spine1", namespaces())
        finally:
            res = emufab("down")
        self.assertRc(res, 0)
        self.assertEqual(namespaces(), [], "emufab down left namespaces")
        self.assertFalse(os.path.exists("/run/fabricbench-emufab"))
        self.assertFalse(any(d.startswith("fbemu-") for d in os.listdir("/etc/netns")) if os.path.isdir("/etc/netns")
                         else False)
        self.assertEqual(allowed_cc(), self.allowed_cc)


if __name__ == "__main__":
    fbtest.main()
