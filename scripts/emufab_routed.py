"""emufab's routed leaf-spine (scripts/emufab up --routing ecmp|static): leaves that route, not bridge.

Imported by scripts/emufab, which owns the command line, the state file and the shaping; this
module adds what a routed fabric needs (docs/emulated-fabric.md, "Routed leaf-spine"):

  * one namespace per spine, fbemu-spineS, S = 0 .. a leaf's up ports - 1 (>= 2): each leaf has one
    veth to every spine (leaf side `spS`, spine side `lfL`), a /30 of 10.202.L.0/24, shaped with tc
    htb at both ends at the leaf's uplink capacity / spines (the model's tier capacity, split
    evenly over the equal-cost up ports);
  * hosts of leaf L in 10.200.(L+1).0/24 (host N: .N+1), their ports still bridged in the leaf
    (br0, the leaf's gateway 10.200.(L+1).254, an L3 switch's VLAN interface), and one route in
    each host: 10.200.0.0/16 via the gateway;
  * in each leaf, a route to every other leaf's hosts over the spines:
      ecmp:   one multipath route per remote leaf subnet, `nexthop via` every spine, with
              net.ipv4.fib_multipath_hash_policy = 0 (L3: source and destination address) or 1
              (L4: plus protocol and ports) in the leaf's namespace;
      static: one /32 route per remote host, through spine (the host's index in its leaf mod the
              spines): destination-based, deterministic;
  * in each spine, one route per leaf subnet over its link to that leaf.
Forwarding on in the leaves and spines, reverse-path filtering off (ECMP paths are asymmetric).
"""

import json
import subprocess
import sys
import time

ROUTINGS = ("bridge", "ecmp", "static")
HASHES = {"l3": 0, "l4": 3}  # fib_multipath_hash_policy (set_hash())
L4_FIELDS = "0x0037"         # policy 3's fields: source and destination address, protocol, both ports
ROUTED_NET = "10.200"    # hosts of leaf L: 10.200.(L+1).0/24
LINK_NET = "10.202"      # leaf L <-> spine S: 10.202.L.(4S)/30, leaf .4S+1, spine .4S+2
ROUTED_CIDR = "10.200.0.0/16"


def leaf_ns(prefix, l):
    return f"{prefix}leaf{l}"


def spine_ns(prefix, s):
    return f"{prefix}spine{s}"


def tier_routing(doc):
    """(load_balancing, hash) of the leaf tier, when the fabric file states them (the schema's
    scale_out.tiers.N.load_balancing / hash keys); (None, None) when it does not."""
    tiers = (doc.get("scale_out") or {}).get("tiers") or []
    lb = hs = None
    for t in tiers:
        if isinstance(t, dict):
            lb = lb or t.get("load_balancing")
            hs = hs or t.get("hash")
    return lb, hs


def apply(topo, routing, hash_name, up_ports, usage_error):
    """topo (derive_topology()'s) made routed: spines, per-link rate, addresses. Raises usage_error."""
    if routing not in ROUTINGS:
        raise usage_error(f"--routing: '{routing}' is not one of {', '.join(ROUTINGS)}")
    if hash_name not in HASHES:
        raise usage_error(f"--hash: '{hash_name}' is not one of {', '.join(HASHES)}")
    topo["routing"] = routing
    topo["hash"] = hash_name
    topo["fabric_cidr"] = "10.200.0.0/24"
    if routing == "bridge":
        return topo
    if topo["leaves"] < 2:
        raise usage_error(f"--routing {routing}: a routed fabric needs >= 2 leaves (the file describes one)")
    if up_ports < 2:
        raise usage_error(f"--routing {routing}: a leaf needs >= 2 up ports for >= 2 spines (it has {up_ports})")
    topo["spines"] = up_ports
    topo["link_bps"] = int(round(topo["uplink_bps"] / up_ports))
    topo["fabric_cidr"] = ROUTED_CIDR
    for i, h in enumerate(topo["hosts"]):
        h["fabric_ip"] = f"{ROUTED_NET}.{h['leaf'] + 1}.{i + 1}"
    return topo


def gateway(l):
    return f"{ROUTED_NET}.{l + 1}.254"


def link_ip(l, s, spine_side):
    return f"{LINK_NET}.{l}.{4 * s + (2 if spine_side else 1)}"


def static_spine(st, h):
    """The spine `static` routes traffic to host h through: its index in its leaf mod the spines."""
    idx = st["hosts"].index(h) - h["leaf"] * st["hosts_per_leaf"]
    return idx % st["spines"]


def set_hash(ef, ns, name):
    """The leaf's ECMP hash. l3: policy 0 (source and destination address). l4: policy 3 with the
    5-tuple as its fields, not policy 1: under policy 1 a forwarded packet that carries the
    sender's socket hash (skb->l4_hash, kept across veths) is hashed by that random number, which
    TCP also changes on a timeout, so `ip route get` cannot tell a flow's path and a flow may move;
    a switch hashes the header's 5-tuple, as policy 3 with these fields does."""
    if name == "l4":
        ef.nsx(ns, "sysctl", "-q", "-w", f"net.ipv4.fib_multipath_hash_fields={L4_FIELDS}")
    ef.nsx(ns, "sysctl", "-q", "-w", f"net.ipv4.fib_multipath_hash_policy={HASHES[name]}")


def _router(ef, ns):
    ef.nsx(ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
    for k in ("all", "default"):
        ef.nsx(ns, "sysctl", "-q", "-w", f"net.ipv4.conf.{k}.rp_filter=0")


def build_spines(ef, st):
    """The spines and every leaf's links to them (the leaves' namespaces and bridges exist)."""
    p = ef.PREFIX
    for s in range(st["spines"]):
        ns = spine_ns(p, s)
        ef.sh("ip", "netns", "add", ns)
        ef._quiet_ns(ns)
        _router(ef, ns)
    for l in range(st["leaves"]):
        leaf = leaf_ns(p, l)
        _router(ef, leaf)
        set_hash(ef, leaf, st["hash"])
        ef.nsx(leaf, "ip", "addr", "add", f"{gateway(l)}/24", "dev", "br0")
        for s in range(st["spines"]):
            spine = spine_ns(p, s)
            ef._veth(leaf, f"sp{s}", spine, f"lf{l}")
            for ns, dev, side in ((leaf, f"sp{s}", False), (spine, f"lf{l}", True)):
                ef.nsx(ns, "ip", "addr", "add", f"{link_ip(l, s, side)}/30", "dev", dev)
                ef.nsx(ns, "ip", "link", "set", dev, "up")
                ef.shape(ns, dev, st["link_bps"], fair=True)
            ef.nsx(spine, "ip", "route", "add", f"{ROUTED_NET}.{l + 1}.0/24", "via", link_ip(l, s, False))


FAIR_BUCKETS = 64         # flow classes per port (shape_fair())
FAIR_QUEUE_FRAMES = 256   # each class's FIFO


def shape_fair(ef, ns, dev, bps, burst):
    """The port's egress at `bps` as emufab's shape(), small packets first, but the bulk split
    into FAIR_BUCKETS htb classes by the TCP source port (its low 6 bits, a u32 hash) that htb
    serves round-robin a frame at a time: flows that meet on a link share it equally, as the model
    takes a collision to (each of k flows gets 1/k), whatever the order TCP's slow starts reached
    the queue. With one FIFO (the bridged fabric's), two cubic flows meeting in a 1000-frame
    queue at 50 Mb/s split it 43.6 : 4.4 Mb/s over 2.5 s; a 50-frame FIFO made them lossy
    (every flow 6..34 Mb/s). This kernel has no fq_codel or sfq. Flows whose source ports agree
    in the low 6 bits share a class (scripts/emufab flows numbers its ports consecutively)."""
    b = f"burst {burst} cburst {burst}"
    small = max(1, bps // 20)
    bulk = bps - small
    lines = [f"qdisc add dev {dev} root handle 1: htb default 100",
             f"class add dev {dev} parent 1: classid 1:1 htb rate {bps}bit ceil {bps}bit {b}",
             f"class add dev {dev} parent 1:1 classid 1:10 htb rate {small}bit ceil {bps}bit prio 0 {b}",
             f"qdisc add dev {dev} parent 1:10 pfifo limit 1000",
             f"class add dev {dev} parent 1:1 classid 1:20 htb rate {bulk}bit ceil {bps}bit prio 1 {b}",
             f"filter add dev {dev} parent 1: protocol ip prio 1 u32 match u16 0x0000 0xff80 at 2 flowid 1:10",
             f"filter add dev {dev} parent 1: prio 2 handle 2: protocol ip u32 divisor {FAIR_BUCKETS}",
             f"filter add dev {dev} parent 1: prio 2 protocol ip u32 ht 800:: match ip protocol 6 0xff "
             f"hashkey mask 0x{FAIR_BUCKETS - 1:04x}0000 at 20 link 2:"]
    for k in range(FAIR_BUCKETS):
        cls = f"1:{0x100 + k:x}"
        lines += [f"class add dev {dev} parent 1:20 classid {cls} htb rate {max(1, bulk // FAIR_BUCKETS)}bit "
                  f"ceil {bps}bit prio 1 quantum 1514 {b}",
                  f"qdisc add dev {dev} parent {cls} pfifo limit {FAIR_QUEUE_FRAMES}",
                  f"filter add dev {dev} parent 1: prio 2 protocol ip u32 ht 2:{k:x}: match u32 0 0 flowid {cls}"]
    ef.nsx(ns, "tc", "qdisc", "del", "dev", dev, "root", check=False)
    ef.nsx(ns, "tc", "-batch", "-", input="\n".join(lines) + "\n")


def leaf_routes(ef, st):
    """Each leaf's routes to the other leaves' hosts (after the hosts exist)."""
    p = ef.PREFIX
    for l in range(st["leaves"]):
        leaf = leaf_ns(p, l)
        for m in range(st["leaves"]):
            if m == l:
                continue
            if st["routing"] == "ecmp":
                hops = []
                for s in range(st["spines"]):
                    hops += ["nexthop", "via", link_ip(l, s, True), "dev", f"sp{s}"]
                ef.nsx(leaf, "ip", "route", "add", f"{ROUTED_NET}.{m + 1}.0/24", *hops)
            else:
                for h in st["hosts"]:
                    if h["leaf"] == m:
                        s = static_spine(st, h)
                        ef.nsx(leaf, "ip", "route", "add", f"{h['fabric_ip']}/32", "via", link_ip(l, s, True),
                               "dev", f"sp{s}")


def host_route(ef, st, h):
    ef.nsx(h["ns"], "ip", "route", "add", ROUTED_CIDR, "via", gateway(h["leaf"]), "dev", "fab0")


def links(st):
    """Every leaf-spine link end: (link name, namespace, device)."""
    out = []
    for l in range(st["leaves"]):
        for s in range(st["spines"]):
            out.append((f"leaf{l}->spine{s}", leaf_ns("fbemu-", l), f"sp{s}"))
            out.append((f"spine{s}->leaf{l}", spine_ns("fbemu-", s), f"lf{l}"))
    return out


# ---- which spine a flow takes -------------------------------------------------------------------

def path_of(ef, st, src, dst, sport=None, dport=None):
    """The spine a TCP flow src -> dst (hosts) is forwarded through, as the source leaf's kernel
    decides (`ip route get ... iif`, with the ports under the L4 hash); None inside one leaf."""
    if src["leaf"] == dst["leaf"]:
        return None
    cmd = ["ip", "route", "get", dst["fabric_ip"], "from", src["fabric_ip"], "iif", "br0"]
    if sport is not None and dport is not None:
        cmd += ["ipproto", "tcp", "sport", str(sport), "dport", str(dport)]
    out = ef.nsx(leaf_ns(ef.PREFIX, src["leaf"]), *cmd).stdout
    words = out.split()
    dev = words[words.index("dev") + 1] if "dev" in words else ""
    if not dev.startswith("sp"):
        raise RuntimeError(f"route {src['name']} -> {dst['name']}: no spine in '{out.strip()}'")
    return int(dev[2:])


def flow_paths(ef, st):
    """The flow-paths file validate reads (harness/validate_collisions.hpp): for every ordered pair
    of hosts on different leaves, the leaf->spine and spine->leaf links its flows take. Exact
    under static routes and the L3 hash (the leaf's kernel asked, by addresses); under the L4 hash
    the spine depends on ports the file cannot know: every spine is listed, exact false."""
    exact = st["routing"] == "static" or st["hash"] == "l3"
    flows = []
    for a in st["hosts"]:
        for b in st["hosts"]:
            if a["leaf"] == b["leaf"]:
                continue
            spines = [path_of(ef, st, a, b)] if exact else range(st["spines"])
            crossed = [f"leaf{a['leaf']}->spine{s}" for s in spines] + [f"spine{s}->leaf{b['leaf']}" for s in spines]
            flows.append({"src": a["ns"], "dst": b["ns"], "links": crossed})
    return {"source": f"scripts/emufab ({st['name']}, {st['routing']}"
                      + (f", {st['hash']} hash" if st["routing"] == "ecmp" else "") + ")",
            "exact": exact, "links": {name: st["link_bps"] / 1e9 for name, _, _ in links(st)}, "flows": flows}


# ---- concurrent flows ---------------------------------------------------------------------------

# One agent per host namespace runs that host's receivers and senders, a thread each: it binds its
# listeners, says "ready", waits for "go" on stdin, then its senders connect and send from t0 to
# t0 + seconds; each receiver counts the payload bytes that arrive in [t0 + warm, t0 + seconds)
# (CLOCK_MONOTONIC is the machine's, shared by every namespace) and the agent prints them as JSON.
_AGENT = r"""
import json, socket, sys, threading, time
spec = json.loads(sys.argv[1])
counts, errors, threads = {}, [], []
def recv(s, port):
    try:
        c, _ = s.accept(); buf = bytearray(1 << 16); n = 0
        while True:
            k = c.recv_into(buf)
            if not k: break
            now = time.monotonic()
            if a <= now < b: n += k
        counts[port] = n
    except OSError as e:
        errors.append(f"receiver {port}: {e}")
def send(src, sport, dst, dport):
    try:
        c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind((src, sport)); c.connect((dst, dport))
        while time.monotonic() < t0: time.sleep(0.002)
        buf = bytes(1 << 16)
        while time.monotonic() < end: c.sendall(buf)
        c.shutdown(socket.SHUT_WR); c.recv(1)
    except OSError as e:
        errors.append(f"sender {sport} -> {dst}:{dport}: {e}")
socks = []
for ip, port in spec["listen"]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port)); s.listen(1); socks.append((s, port))
print("ready", flush=True)
go = sys.stdin.readline().split()
t0, warm, end = float(go[1]), spec["warm"], float(go[1]) + spec["seconds"]
a, b = t0 + warm, end
for s, port in socks: threads.append(threading.Thread(target=recv, args=(s, port)))
for f in spec["send"]: threads.append(threading.Thread(target=send, args=tuple(f)))
for t in threads: t.start()
for t in threads: t.join(spec["seconds"] + 60)
print(json.dumps({"recv": counts, "errors": errors}), flush=True)
"""


def run_flows(ef, st, pairs, seconds, warm, sport_base, dport_base):
    """TCP flows src -> dst for every (src, dst) host pair at once; each flow's goodput over a
    common window after `warm` seconds, its ports and the spine it took. Ports: sport_base + i,
    dport_base + i for flow i (vary them to vary the L4 hash; consecutive source ports keep
    concurrent flows in different fair-share classes, shape_fair())."""
    flows, specs = [], {}
    for i, (a, b) in enumerate(pairs):
        sport, dport = sport_base + i, dport_base + i
        specs.setdefault(a["ns"], {"listen": [], "send": []})["send"].append([a["fabric_ip"], sport, b["fabric_ip"], dport])
        specs.setdefault(b["ns"], {"listen": [], "send": []})["listen"].append([b["fabric_ip"], dport])
        routed = st.get("routing") in ("ecmp", "static")
        flows.append({"src": a["name"], "dst": b["name"], "sport": sport, "dport": dport, "dst_ns": b["ns"],
                      "spine": path_of(ef, st, a, b, sport, dport) if routed else None})
    agents = {}
    try:
        for ns, spec in specs.items():
            spec.update({"seconds": seconds, "warm": warm})
            agents[ns] = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", _AGENT, json.dumps(spec)],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for ns, p in agents.items():
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError(f"flows: the agent in {ns} did not start (ports in use?)")
        t0 = time.monotonic() + 0.5 + 0.02 * len(pairs)
        for p in agents.values():
            p.stdin.write(f"go {t0!r}\n")
            p.stdin.flush()
        results = {}
        for ns, p in agents.items():
            line = p.stdout.readline()
            p.wait(timeout=seconds + 90)
            results[ns] = json.loads(line) if line.strip() else {"recv": {}, "errors": ["no result"]}
            if results[ns]["errors"]:
                raise RuntimeError(f"flows: {ns}: {results[ns]['errors'][0]}")
    finally:
        for p in agents.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    for f in flows:
        n = results[f.pop("dst_ns")]["recv"].get(str(f["dport"]), 0)
        f["bytes"] = n
        f["goodput_bps"] = n * 8 / (seconds - warm)
    return flows


def parse_pairs(ef, st, text, usage_error):
    pairs = []
    for item in text.split(","):
        if item.count(":") != 1:
            raise usage_error(f"flows: bad pair '{item}' (SRC:DST, e.g. h0:h2,h1:h3)")
        a, b = (ef.find_host(st, x) for x in item.split(":"))
        if a is b:
            raise usage_error(f"flows: pair '{item}' sends to itself")
        pairs.append((a, b))
    if not pairs:
        raise usage_error("flows: no pairs")
    return pairs


def flows_command(ef, st, pairs_text, seconds, warm, sport_base, dport_base, as_json, usage_error):
    if not (seconds > warm >= 0):
        raise usage_error(f"flows: --seconds ({seconds}) must exceed --warmup ({warm})")
    for base, what in ((sport_base, "--sport"), (dport_base, "--dport")):
        if not 1024 <= base <= 60000:
            raise usage_error(f"flows: {what} must be in 1024..60000 (got {base})")
    pairs = parse_pairs(ef, st, pairs_text, usage_error)
    before = {(ns, dev): ef.qdisc_info(ns, dev)["sent_bytes"] for _, ns, dev in links(st)} if "spines" in st else {}
    flows = run_flows(ef, st, pairs, seconds, warm, sport_base, dport_base)
    link_bytes = {}
    for name, ns, dev in (links(st) if "spines" in st else []):
        link_bytes[name] = ef.qdisc_info(ns, dev)["sent_bytes"] - before[(ns, dev)]
    doc = {"routing": st.get("routing", "bridge"), "hash": st.get("hash"), "seconds": seconds, "warmup": warm,
           "host_bps": st["host_bps"], "link_bps": st.get("link_bps"), "wire_efficiency": st["wire_efficiency"],
           "flows": flows, "link_bytes": link_bytes}
    if as_json:
        print(json.dumps(doc))
        return
    for f in flows:
        via = f"spine{f['spine']}" if f["spine"] is not None else "leaf"
        print(f"emufab: {f['src']}:{f['sport']} -> {f['dst']}:{f['dport']} via {via}: "
              f"{f['goodput_bps'] / 1e6:.2f} Mb/s")


def routes_command(ef, st, as_json):
    """Every leaf's routing table to the fabric and its hash policy."""
    out = {}
    for l in range(st["leaves"]):
        ns = leaf_ns(ef.PREFIX, l)
        pol = ef.nsx(ns, "sysctl", "-n", "net.ipv4.fib_multipath_hash_policy", check=False).stdout.strip()
        table = ef.nsx(ns, "ip", "-j", "route", "show", check=False).stdout or "[]"
        out[f"leaf{l}"] = {"hash_policy": int(pol) if pol.isdigit() else None, "routes": json.loads(table)}
    if as_json:
        print(json.dumps(out, indent=1))
        return
    for leaf, v in out.items():
        print(f"{leaf}: fib_multipath_hash_policy {v['hash_policy']}")
        for r in v["routes"]:
            hops = r.get("nexthops") or [r]
            print(f"  {r['dst']:<18} " + " | ".join(f"via {h.get('gateway', '-')} dev {h.get('dev')}" for h in hops))
