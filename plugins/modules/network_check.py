#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: network_check
short_description: Check gateway, peers, DNS, NTP sources, interface errors and bonding of a host (INSP-16)
version_added: 0.1.0
description:
  - Part of the full check on the last day of a statutory holiday (requirement C(INSP-16)), run on the
    managed host. Returns records in the record format every gxtax.ops check yields
    (C(schemas/inspection-record.schema.json)).
  - C(默认网关 <address>（<interface>）) - every IPv4 default route's gateway answers an ICMP echo
    (C(critical) if not). No default route at all is C(warning), or C(skipped) with O(gateway=false).
  - C(网络连通 <name>) - every O(peers) entry answers, by TCP connect when it has a C(port) (a host
    that refuses the port is C(critical) too - the service is down), else by ICMP echo. A round trip
    at or above C(rtt_warning_ms) is C(warning).
  - C(DNS 解析 <name>) - every O(dns_names) entry resolves (through the host's own resolver,
    /etc/hosts included), to one of its C(expect) addresses when given.
  - C(NTP 时间源 <address>) - the time sources of the host's NTP client (C(chronyc -n sources),
    C(ntpq -pn) or C(timedatectl timesync-status), the first that lists sources) answer (reach
    register not zero) and the local clock's offset from each. One unreachable source is C(warning),
    all of them C(critical). Whether the clock is synchronised at all is INSP-01's C(时钟同步).
  - C(网卡 <interface> 错误与丢包) - receive and transmit errors and drops since boot from
    C(/sys/class/net/<interface>/statistics), as a share of the packets. An interface that is down is
    C(skipped), unless it carries a default route or is listed in O(required_interfaces) - then it is
    C(critical).
  - C(网卡绑定 <bond>) - every bonding (C(/proc/net/bonding)) and team device (ports' C(operstate))
    has all its members up; one member down is C(warning) (no redundancy left), none up C(critical).
  - ICMP uses an unprivileged ping socket, a raw socket (root) or the C(ping) command, whichever works.
  - A part that cannot be checked yields an C(error) record saying why; the other parts still run.
  - Read-only; sends a few probe packets and changes nothing.
options:
  host:
    description: Inventory host name the records are about.
    type: str
    required: true
  gateway:
    description: Whether the host must have an IPv4 default gateway (no default route is then C(warning)).
    type: bool
    default: true
  peers:
    description:
      - Hosts this one depends on (database, storage, interfaces). Each is a dict with C(host),
        optionally C(port) (TCP connect instead of ICMP echo) and C(name) (shown in the item).
    type: list
    elements: dict
    default: []
  dns_names:
    description:
      - Names that must resolve. Each is a name, or a dict with C(name) and C(expect) (a list of
        addresses, one of which the answer must contain).
    type: list
    elements: raw
    default: []
  ntp:
    description: Check the NTP client's time sources.
    type: bool
    default: true
  interfaces:
    description:
      - Shell patterns of the interfaces to check errors and drops on; empty means all but
        O(exclude_interfaces).
    type: list
    elements: str
    default: []
  exclude_interfaces:
    description: Shell patterns of interfaces never checked (loopback and container or VM plumbing).
    type: list
    elements: str
    default: [lo, veth*, docker*, br-*, virbr*, cni*, flannel*, cali*, vnet*]
  required_interfaces:
    description: Interfaces that must be up besides those carrying a default route.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for each probe (echo reply, TCP connect, name lookup).
    type: float
    default: 3
  thresholds:
    description:
      - C(rtt_warning_ms) (default V(100)); C(error_warning_pct)/C(error_critical_pct) (V(0.01)/V(0.1))
        and C(drop_warning_pct)/C(drop_critical_pct) (V(0.1)/V(1)) of the packets since boot;
        C(ntp_offset_warning_ms)/C(ntp_offset_critical_ms) (V(100)/V(1000)).
    type: dict
    default: {}
notes:
  - IPv4 default routes only; peers and names may be IPv6 with a C(port).
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.host_metrics
  - module: gxtax.ops.tcp_port_check
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: INSP-16 | Network of an application host
  gxtax.ops.network_check:
    host: "{{ inventory_hostname }}"
    peers:
      - {name: 数据库监听, host: 10.10.1.21, port: 1521}
      - {name: 媒体存储 NAS, host: 10.10.2.50}
    dns_names:
      - name: gsgs.gxtax.example.cn
        expect: [10.10.1.10]
"""

RETURN = r"""
records:
  description: The records (requirement C(INSP-16)), in the shared record format.
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-16
      item: 网卡绑定 bond0
      host: av-app01
      status: warning
      value: 1/2
      unit: null
      threshold: 全部成员正常
      detail: >-
        bond0：bonding（fault-tolerance (active-backup)），当前活动成员 eth0，
        成员 2 个，正常 eth0，断开 eth1。
      direction: 检查 down 的成员网卡链路（ethtool、交换机端口），尽快恢复
      consequence: 绑定失去冗余，剩余链路再故障时主机网络中断
network:
  description:
    - What was found - C(default_routes) (C(iface), C(gateway)), C(interfaces) (name to C(operstate) and
      counters), C(bonds) (name to members), C(ntp_tool), C(nameservers).
  returned: always
  type: dict
status:
  description: The worst status among O(records).
  returned: always
  type: str
  sample: ok
"""

import os
import sys
import threading
from fnmatch import fnmatch

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.network_check import (
    ADVICE, DEFAULT_EXCLUDE, DROP_COUNTERS, ERROR_COUNTERS, NTP_COMMANDS, PACKET_COUNTERS, SYS_NET,
    bond_record, dns_record, error_record, gateway_records, icmp_echo, interface_record, merge_thresholds,
    ntp_records, ntp_sources, parse_bonding, parse_default_routes, parse_ip_link_kinds, parse_ping_output,
    parse_resolv_conf, reach_record, read_sys_net,
    resolve, tcp_connect, team_from_ports,
)
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst

C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read(), None
    except (IOError, OSError) as exc:
        return None, "%s: %s" % (path, exc.strerror or exc)


def ping(module, address, timeout):
    """{rtt_ms, via} or None (no reply) or {error}."""
    try:
        rtt = icmp_echo(address, timeout)
        return None if rtt is None else {"rtt_ms": rtt, "via": "ICMP"}
    except OSError as exc:
        reason = exc.strerror or str(exc)
    path = module.get_bin_path("ping")
    if not path:
        return {"error": "无法发送 ICMP（%s），且主机上没有 ping 命令" % reason}
    wait = str(max(1, int(round(timeout))))
    rc, out, _err = module.run_command([path, "-n", "-c", "1", "-W", wait, address], environ_update=C_LOCALE)
    rtt = parse_ping_output(rc, out)
    return None if rtt is None else {"rtt_ms": rtt, "via": "ping 命令"}


def run_parallel(jobs, timeout):
    """{key: result} of callables run in threads; a job still running after timeout gives None."""
    started = []
    for key, func in jobs:
        slot = []
        thread = threading.Thread(target=lambda f=func, s=slot: s.append(f()))
        thread.daemon = True  # a probe stuck in the resolver must not keep the module alive
        thread.start()
        started.append((key, thread, slot))
    results = {}
    for key, thread, slot in started:
        thread.join(timeout)
        results[key] = slot[0] if slot else None
    return results


def check_ntp(module, thresholds, host):
    attempts = []
    systemd = os.path.isdir("/run/systemd/system")
    for tool, argv in NTP_COMMANDS:
        path = module.get_bin_path(argv[0])
        if not path or (tool == "timedatectl" and not systemd):
            continue
        rc, out, err = module.run_command([path] + argv[1:], environ_update=C_LOCALE)
        attempts.append({"tool": tool, "rc": rc, "stdout": out, "stderr": err})
    tool, sources, notes = ntp_sources(attempts)
    if tool is None and any(a["tool"] == "timedatectl" and a["rc"] == 0 for a in attempts):
        notes.append("timedatectl：systemd-timesyncd 未同步到时间源")
    return tool, ntp_records(host, tool, sources, notes, thresholds)


def bond_checks(module, host, interfaces):
    records, bonds = [], {}
    try:
        names = sorted(os.listdir("/proc/net/bonding"))
    except OSError:
        names = []
    for name in names:
        text, error = read_text(os.path.join("/proc/net/bonding", name))
        try:
            if error:
                raise ValueError(error)
            bond = parse_bonding(text)
        except ValueError as exc:
            records.append(error_record(host, "网卡绑定 %s" % name, "无法读取绑定状态：%s" % exc,
                                        "在主机上查看 /proc/net/bonding/%s" % name))
            continue
        bonds[name] = [s["name"] for s in bond["slaves"]]
        records.append(bond_record(host, name, bond))
    ip = module.get_bin_path("ip")
    kinds = {}
    if ip:
        rc, out, _err = module.run_command([ip, "-d", "-o", "link", "show"], environ_update=C_LOCALE)
        if rc == 0:
            kinds = parse_ip_link_kinds(out)
    for team in sorted(n for n, kind in kinds.items() if kind == "team"):
        ports = dict((n, i["operstate"]) for n, i in interfaces.items() if i["master"] == team)
        bonds[team] = sorted(ports)
        records.append(bond_record(host, team, team_from_ports(ports)))
    return records, bonds


FIX = "按 ansible-doc gxtax.ops.network_check 修正 %s"


def peer_jobs(module, p, host, records):
    """([(index, peer)], [(key, probe)]) for the well-formed peers; bad ones become error records."""
    peers, jobs = [], []
    for index, peer in enumerate(p["peers"]):
        target, port = peer.get("host"), peer.get("port")
        if not target or (port is not None and not (str(port).isdigit() and 0 < int(port) < 65536)):
            records.append(error_record(host, "网络连通 %s" % (peer.get("name") or target or ""),
                                        "peers 第 %d 项缺少 host 或端口 %r 无效" % (index + 1, port),
                                        FIX % "peers"))
            continue
        peers.append((index, peer))
        if port:
            jobs.append(("peer:%d" % index, lambda t=target, o=int(port): dict(
                tcp_connect(t, o, p["timeout"]), via="TCP %s" % o)))
        else:
            jobs.append(("peer:%d" % index, lambda t=target: ping(module, t, p["timeout"])))
    return peers, jobs


def dns_jobs(p, host, records):
    names, jobs = [], []
    for index, raw in enumerate(p["dns_names"]):
        entry = raw if isinstance(raw, dict) else {"name": raw}
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            records.append(error_record(host, "DNS 解析", "dns_names 第 %d 项缺少 name" % (index + 1),
                                        FIX % "dns_names"))
            continue
        names.append((index, name, [str(a) for a in entry.get("expect") or []]))
        jobs.append(("dns:%d" % index, lambda n=name: resolve(n)))
    return names, jobs


def peer_records(host, peers, results, thresholds):
    records = []
    for index, peer in peers:
        address = "%s%s" % (peer["host"], ":%s" % peer["port"] if peer.get("port") else "")
        what = "%s（%s）" % (peer["name"], address) if peer.get("name") else address
        records.append(reach_record(host, "网络连通 %s" % (peer.get("name") or peer["host"]), what,
                                    results.get("peer:%d" % index), thresholds, ADVICE["peer"]))
    return records


def interface_records(host, p, interfaces, routes, thresholds):
    uptime_text, _ = read_text("/proc/uptime")
    uptime_days = float(uptime_text.split()[0]) / 86400.0 if uptime_text else None
    route_ifaces = set(r["iface"] for r in routes)
    records = []
    for name, info in sorted(interfaces.items()):
        wanted = any(fnmatch(name, pat) for pat in p["interfaces"]) if p["interfaces"] else True
        if not wanted or any(fnmatch(name, pat) for pat in p["exclude_interfaces"]) or info["bridge"]:
            continue
        required = None
        if name in route_ifaces:
            required = "承载默认路由"
        elif name in p["required_interfaces"]:
            required = "被列为必须在线的网卡"
        records.append(interface_record(host, name, info["stats"], info["operstate"], required, thresholds,
                                        uptime_days))
    return records


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            gateway=dict(type="bool", default=True),
            peers=dict(type="list", elements="dict", default=[]),
            dns_names=dict(type="list", elements="raw", default=[]),
            ntp=dict(type="bool", default=True),
            interfaces=dict(type="list", elements="str", default=[]),
            exclude_interfaces=dict(type="list", elements="str", default=list(DEFAULT_EXCLUDE)),
            required_interfaces=dict(type="list", elements="str", default=[]),
            timeout=dict(type="float", default=3.0),
            thresholds=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    host = p["host"]
    if p["timeout"] <= 0:
        module.fail_json(msg="timeout 须大于 0 / timeout must be positive")
    thresholds, problems = merge_thresholds(p["thresholds"])
    records = []
    if problems:
        records.append(error_record(host, "网络检查配置", "阈值配置有误，已按默认阈值评估：%s"
                                    % "；".join(problems), FIX % "thresholds"))
    found = {}

    route_text, route_error = read_text("/proc/net/route")
    routes = parse_default_routes(route_text, sys.byteorder) if route_text is not None else []
    found["default_routes"] = routes
    try:
        interfaces = read_sys_net(SYS_NET)
    except OSError as exc:
        interfaces = {}
        records.append(error_record(host, "网卡 错误与丢包", "无法读取 %s：%s" % (SYS_NET, exc.strerror),
                                    "在主机上执行 ip -s link 复核"))
    counters = ERROR_COUNTERS + DROP_COUNTERS + PACKET_COUNTERS
    found["interfaces"] = dict(
        (n, dict([("operstate", i["operstate"])] + [(k, i["stats"].get(k)) for k in counters]))
        for n, i in interfaces.items())

    # Probes, all at once: a dead peer or DNS server costs one timeout, not one per target.
    jobs = [("gw:" + r["gateway"], lambda a=r["gateway"]: ping(module, a, p["timeout"])) for r in routes]
    peers, more = peer_jobs(module, p, host, records)
    jobs += more
    names, more = dns_jobs(p, host, records)
    jobs += more
    # The ping command and the resolver retry internally: allow them a little beyond timeout.
    results = run_parallel(jobs, p["timeout"] * 2 + 1)

    if route_error:
        records.append(error_record(host, "默认网关", "无法读取路由表：%s" % route_error,
                                    "在主机上执行 ip route 复核"))
    else:
        gateways = dict((r["gateway"], results.get("gw:" + r["gateway"])) for r in routes)
        records.extend(gateway_records(host, routes, gateways, thresholds, p["gateway"]))
    records.extend(peer_records(host, peers, results, thresholds))
    if names:
        resolv_text, _ = read_text("/etc/resolv.conf")
        found["nameservers"] = parse_resolv_conf(resolv_text or "")
        for index, name, expect in names:
            records.append(dns_record(host, name, expect, results.get("dns:%d" % index),
                                      found["nameservers"]))
    if p["ntp"]:
        found["ntp_tool"], ntp = check_ntp(module, thresholds, host)
        records.extend(ntp)
    records.extend(interface_records(host, p, interfaces, routes, thresholds))
    bond_recs, found["bonds"] = bond_checks(module, host, interfaces)
    records.extend(bond_recs)
    module.exit_json(changed=False, records=records, network=found, status=worst(records))


if __name__ == "__main__":
    main()
