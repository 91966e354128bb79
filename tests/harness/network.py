"""The private bridge on the control machine, and one network namespace + veth per host.

Addresses: the bridge has 10.231.0.1/24; hosts get 10.231.0.11 and up. The last octet of a
host's address also names its veth (`gxv<octet>` on the bridge side), so names never collide
between concurrent runs. Only addresses in 10.231.0.0/24 are used.
"""

from __future__ import annotations

import json
import os
import socket
import time

from .util import HarnessError, log, run

BRIDGE = os.environ.get("GXTAX_HARNESS_BRIDGE", "gxtbr0")
PREFIX = "10.231.0"
GATEWAY = f"{PREFIX}.1"
NETMASK_BITS = 24
FIRST_HOST_OCTET = 11
LAST_HOST_OCTET = 250
NETNS_PREFIX = "gxtax-"
VETH_PREFIX = "gxv"


def address(octet: int) -> str:
    return f"{PREFIX}.{octet}"


def veth_name(octet: int) -> str:
    return f"{VETH_PREFIX}{octet}"


def mac_address(octet: int) -> str:
    """A fixed, locally administered MAC per address. A host that comes back on an address
    (a new run, a CLI `up` after `down`) has the MAC the neighbours' ARP caches remember;
    with a random one, the control machine would keep sending to the old MAC for up to a
    minute."""
    return f"02:67:78:0a:00:{octet:02x}"


def link_exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def links() -> list[str]:
    return sorted(os.listdir("/sys/class/net"))


def netns_list() -> list[str]:
    res = run(["ip", "-j", "netns", "list"], check=False)
    if res.returncode != 0 or not res.stdout.strip():
        return []
    return [n["name"] for n in json.loads(res.stdout)]


def ensure_bridge() -> None:
    """Create the bridge with the gateway address if it is not there yet."""
    if not link_exists(BRIDGE):
        log.info("creating bridge %s %s/%d", BRIDGE, GATEWAY, NETMASK_BITS)
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    addrs = run(["ip", "-j", "-4", "addr", "show", "dev", BRIDGE]).stdout
    have = {a["local"] for i in json.loads(addrs or "[]") for a in i.get("addr_info", [])}
    if GATEWAY not in have:
        run(["ip", "addr", "add", f"{GATEWAY}/{NETMASK_BITS}", "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])


def remove_bridge() -> None:
    if link_exists(BRIDGE):
        run(["ip", "link", "del", BRIDGE], check=False)


def create_host_net(netns: str, octet: int, inside_name: str = "eth0",
                    configure: bool = True) -> None:
    """A network namespace with one veth end (named inside_name) and the other on the bridge.

    With configure=False the address is left to the host (systemd-networkd in nspawn hosts).
    """
    veth = veth_name(octet)
    peer = f"gxp{octet}"
    run(["ip", "netns", "add", netns])
    run(["ip", "link", "add", veth, "type", "veth", "peer", "name", peer,
         "address", mac_address(octet), "netns", netns])
    run(["ip", "neigh", "flush", "to", address(octet), "dev", BRIDGE], check=False)
    run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
    run(["ip", "-n", netns, "link", "set", peer, "name", inside_name])
    run(["ip", "-n", netns, "link", "set", "lo", "up"])
    if configure:
        run(["ip", "-n", netns, "addr", "add", f"{address(octet)}/{NETMASK_BITS}",
             "dev", inside_name])
        run(["ip", "-n", netns, "link", "set", inside_name, "up"])
        # The control machine does not forward (and the harness never enables it): the
        # default route only gives Ansible a default IPv4 fact.
        run(["ip", "-n", netns, "route", "add", "default", "via", GATEWAY])


def netns_pids(netns: str) -> list[int]:
    res = run(["ip", "netns", "pids", netns], check=False)
    if res.returncode != 0:
        return []
    return [int(p) for p in res.stdout.split()]


def delete_host_net(netns: str, octet: int | None) -> None:
    if netns in netns_list():
        run(["ip", "netns", "del", netns], check=False)
    if octet is not None and link_exists(veth_name(octet)):
        run(["ip", "link", "del", veth_name(octet)], check=False)


def wait_tcp(addr: str, port: int, timeout: float, alive=None) -> bool:
    """Wait until addr:port accepts a TCP connection (and answers, for SSH: a banner)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return False
        try:
            with socket.create_connection((addr, port), timeout=1) as s:
                s.settimeout(2)
                if port != 22 or s.recv(4).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def check_address(addr: str) -> None:
    if not addr.startswith(PREFIX + "."):
        raise HarnessError(f"refusing to use an address outside {PREFIX}.0/24: {addr}")
