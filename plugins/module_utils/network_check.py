# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network full check for the last day of a statutory holiday (INSP-16).

Default gateway and configured peers reachable, configured names resolving, the time sources
the host's NTP client uses reachable and close, interface errors and drops since boot, and
bonding/teaming members up. Parsers take the text of /proc, /sys and command output; graders
take plain data; the probes (ICMP echo, TCP connect, name lookup) are small functions the
module runs in threads. Runs on managed hosts: must stay valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import socket
import struct
import time

from ansible_collections.gxtax.ops.plugins.module_utils.records import grade, make_record, worst

REQUIREMENT_ID = "INSP-16"
RTF_GATEWAY = 0x2

DEFAULTS = {
    # A LAN answers in well under a millisecond; 100 ms means congestion or a detour.
    "rtt_warning_ms": 100.0,
    # A healthy link has practically no CRC/frame errors: 1 in 10,000 packets is a bad cable,
    # optic or switch port, 1 in 1,000 visibly costs retransmissions.
    "error_warning_pct": 0.01, "error_critical_pct": 0.1,
    # rx_dropped also counts frames for protocols the host does not speak (LLDP, say), so drops
    # get more room: 0.1 % and 1 % of packets are queues overflowing, not background noise.
    "drop_warning_pct": 0.1, "drop_critical_pct": 1.0,
    # As INSP-01's clock thresholds: 100 ms is a degraded sync, 1 s puts logs out of order.
    "ntp_offset_warning_ms": 100.0, "ntp_offset_critical_ms": 1000.0,
}
# Fewer packets than this since boot make a ratio meaningless (one error in 50 packets is 2 %).
MIN_PACKETS = 1000
DEFAULT_EXCLUDE = ("lo", "veth*", "docker*", "br-*", "virbr*", "cni*", "flannel*", "cali*", "vnet*")
ERROR_COUNTERS = ("rx_errors", "tx_errors")
DROP_COUNTERS = ("rx_dropped", "tx_dropped")
PACKET_COUNTERS = ("rx_packets", "tx_packets")

ADVICE = {
    "gateway": ("在主机上 ping 默认网关，检查网卡与交换机端口状态、VLAN 配置和网关设备；"
                "确认 ip route 中的网关地址正确",
                "主机无法与其他网段通信，跨网段访问的用户、数据库或存储全部中断"),
    "no_gateway": ("确认该主机是否应有默认网关（ip route）；确属有意不设时把模块参数 gateway 设为 false",
                   "主机无法访问本网段以外的地址，依赖跨网段的业务与巡检会失败"),
    "peer": ("在主机上 ping / telnet 该地址和端口，检查对端主机与服务是否运行、防火墙策略和路由",
             "依赖该对端的业务（数据库、存储、接口调用）中断"),
    "slow": ("检查网络拥塞、链路丢包与交换机端口（ping -c 100、mtr），以及对端负载",
             "业务请求变慢，数据库和存储访问超时"),
    "dns": ("检查 /etc/resolv.conf 中的 DNS 服务器是否可达，在主机上执行 getent hosts / nslookup 该域名复核，"
            "核对 DNS 记录或 /etc/hosts",
            "依赖域名访问的应用、接口和数据库连接失败"),
    "dns_wrong": ("核对 DNS 记录或 /etc/hosts 中该域名的地址，确认是否有意变更",
                  "业务连接到错误的地址，访问失败或数据写入错误的系统"),
    "ntp": ("在主机上执行 chronyc sources -v 或 ntpq -p，检查时间源地址、UDP 123 端口的防火墙策略"
            "和时间服务器状态",
            "时钟逐渐漂移，日志与审计时间失准，跨主机的业务时序（抽取任务时间窗、证书校验）出错"),
    "ntp_offset": ("执行 chronyc tracking 查看偏差，检查时间源是否可靠，必要时 chronyc makestep 校正",
                   "日志、审计记录时间不可信，按时间窗抽取的数据任务漏取或重取"),
    "errors": ("检查网线、光模块和交换机端口（ethtool -S、交换机端口错误计数），必要时更换线缆或端口",
               "报文重传导致业务变慢，链路劣化后可能中断"),
    "drops": ("检查网卡队列和缓冲（ethtool -g、ethtool -S）、中断与 CPU 负载，以及是否有异常流量",
              "报文丢失导致业务超时和重传，高峰期访问失败"),
    "link_down": ("检查该网卡的网线、交换机端口和 ip link 状态，确认网卡是否被误关闭",
                  "承载业务或默认路由的网卡断开，主机对外通信中断"),
    "bond_degraded": ("检查 down 的成员网卡链路（ethtool、交换机端口），尽快恢复",
                      "绑定失去冗余，剩余链路再故障时主机网络中断"),
    "bond_down": ("检查所有成员网卡链路和交换机端口，查看 dmesg 中的 bonding/team 日志",
                  "主机网络中断，业务不可用"),
}


def _fmt(number, digits=2):
    return ("%.*f" % (digits, number)).rstrip("0").rstrip(".")


def merge_thresholds(given):
    merged = dict(DEFAULTS)
    problems = []
    for key, value in (given or {}).items():
        if key not in DEFAULTS:
            problems.append("未知阈值 %s / unknown threshold" % key)
            continue
        try:
            merged[key] = float(value)
        except (TypeError, ValueError):
            problems.append("阈值 %s 不是数字：%r / not a number" % (key, value))
    for kind in ("error", "drop"):
        if not 0 <= merged["%s_warning_pct" % kind] <= merged["%s_critical_pct" % kind]:
            problems.append("%s 阈值须非负且警告不高于严重 / warning must not exceed critical" % kind)
    if not 0 <= merged["ntp_offset_warning_ms"] <= merged["ntp_offset_critical_ms"]:
        problems.append("ntp_offset 阈值须非负且警告不高于严重 / warning must not exceed critical")
    return (dict(DEFAULTS) if problems else merged), problems


# ------------------------------------------------------------------ parsing


def parse_default_routes(text, byteorder="little"):
    """[{iface, gateway}] of the IPv4 default routes in /proc/net/route (gateways in kernel byte order)."""
    routes = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        iface, dest, gateway, flags, mask = fields[0], fields[1], fields[2], fields[3], fields[7]
        if dest != "00000000" or mask != "00000000" or not int(flags, 16) & RTF_GATEWAY:
            continue
        packed = int(gateway, 16).to_bytes(4, byteorder)
        routes.append({"iface": iface, "gateway": socket.inet_ntoa(packed)})
    return routes


def parse_bonding(text):
    """/proc/net/bonding/<bond> -> {mode, mii_status, active, slaves: [{name, mii_status, link_failures}]}."""
    bond = {"mode": None, "mii_status": None, "active": None, "slaves": []}
    current = bond
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "Slave Interface":
            current = {"name": value, "mii_status": None, "link_failures": None}
            bond["slaves"].append(current)
        elif key == "MII Status":
            current["mii_status"] = value
        elif key == "Link Failure Count" and current is not bond:
            current["link_failures"] = int(value) if value.isdigit() else None
        elif key == "Bonding Mode" and current is bond:
            bond["mode"] = value
        elif key == "Currently Active Slave" and current is bond:
            bond["active"] = value
    if bond["mii_status"] is None:
        raise ValueError("no 'MII Status' in the bonding file")
    return bond


_LINK_LINE = re.compile(r"^\d+:\s+([^:@\s]+)(?:@\S+)?:")


def parse_ip_link_kinds(text):
    """`ip -d -o link show` -> {ifname: kind} for team and bond masters (the kernel's sysfs does not
    say an interface is a team device)."""
    kinds = {}
    for line in text.splitlines():
        match = _LINK_LINE.match(line)
        if not match:
            continue
        details = line.split("link/", 1)[-1]
        found = re.search(r"\s(team|bond)\s", details + " ")
        if found:
            kinds[match.group(1)] = found.group(1)
    return kinds


_UNITS_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1000.0}


def _to_ms(number, unit):
    return float(number) * _UNITS_MS[unit]


_CHRONY_SOURCE = re.compile(
    r"^([\^=#])([*+\-?x~ ])\s+(\S+)\s+(\d+)\s+\d+\s+([0-7]+)\s+\S+\s+([+-]?[0-9.]+)(ns|us|ms|s)\b")


def parse_chronyc_sources(text):
    """chronyc -n sources -> [{name, selected, reach, offset_ms}] (offset: local minus source)."""
    if "=====" not in text:
        raise ValueError("no source table in chronyc sources output")
    sources = []
    for line in text.split("=====")[-1].splitlines():
        match = _CHRONY_SOURCE.match(line.rstrip())
        if not match or match.group(1) == "#":  # reference clocks are not network sources
            continue
        sources.append({"name": match.group(3), "selected": match.group(2) == "*",
                        "reach": int(match.group(5), 8),
                        "offset_ms": round(_to_ms(match.group(6), match.group(7)), 3)})
    return sources


def parse_ntpq_sources(text):
    """ntpq -pn -> [{name, selected, reach, offset_ms}]; ntpq's offset is the peer's relative to
    this host, so local minus source is its negation."""
    lines = text.splitlines()
    if not any(line.split()[:1] == ["remote"] for line in lines):
        raise ValueError("no peer table in ntpq output")
    sources = []
    started = False
    for line in lines:
        if line.startswith("====="):
            started = True
            continue
        fields = line[1:].split()
        if not started or len(fields) < 9 or fields[0].startswith("127.127."):  # local refclocks
            continue
        try:
            reach = int(fields[6], 8)
            offset = -float(fields[8])
        except ValueError:
            continue
        sources.append({"name": fields[0], "selected": line[:1] in ("*", "o"), "reach": reach,
                        "offset_ms": round(offset, 3)})
    return sources


def parse_timesync_status(text):
    """timedatectl timesync-status -> [{name, selected, reach, offset_ms}] for the one server."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    if "Server" not in values:
        raise ValueError("no 'Server' in timedatectl timesync-status output")
    server = values["Server"].split()[0] if values["Server"] else ""
    if not server or server in ("n/a", "(null)"):
        return []
    match = re.match(r"([+-]?[0-9.]+)(ns|us|ms|s)$", values.get("Offset", ""))
    reached = match is not None
    return [{"name": server, "selected": reached, "reach": 1 if reached else 0,
             "offset_ms": round(_to_ms(match.group(1), match.group(2)), 3) if reached else None}]


NTP_PARSERS = {"chronyc": parse_chronyc_sources, "ntpq": parse_ntpq_sources,
               "timedatectl": parse_timesync_status}
NTP_COMMANDS = (
    ("chronyc", ["chronyc", "-n", "sources"]),
    ("ntpq", ["ntpq", "-pn"]),
    ("timedatectl", ["timedatectl", "timesync-status"]),  # systemd-timesyncd, systemd >= 239
)


def ntp_sources(attempts):
    """(tool, sources, notes) from the first tool whose output lists sources; tool None if none did.

    attempts: [{tool, rc, stdout, stderr}] in NTP_COMMANDS order.
    """
    notes = []
    for attempt in attempts:
        tool = attempt["tool"]
        said = (attempt.get("stderr") or attempt.get("stdout") or "").strip().splitlines()
        if attempt["rc"] != 0:
            notes.append("%s：%s" % (tool, said[0] if said else "exit %s" % attempt["rc"]))
            continue
        try:
            sources = NTP_PARSERS[tool](attempt.get("stdout") or "")
        except ValueError as exc:
            notes.append("%s：%s" % (tool, exc))
            continue
        if sources:
            return tool, sources, notes
        notes.append("%s：未配置时间源" % tool)
    return None, [], notes


SYS_NET = "/sys/class/net"


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def read_sys_net(root=SYS_NET):
    """{name: {operstate, master, bridge, stats: {counter: int}}} from /sys/class/net (or a copy of it)."""
    interfaces = {}
    for name in sorted(os.listdir(root)):
        base = os.path.join(root, name)
        stats = {}
        try:
            counters = os.listdir(os.path.join(base, "statistics"))
        except OSError:
            counters = []
        for counter in counters:
            text = _read(os.path.join(base, "statistics", counter))
            if text is not None and text.strip().isdigit():
                stats[counter] = int(text.strip())
        master = os.path.join(base, "master")
        interfaces[name] = {
            "operstate": (_read(os.path.join(base, "operstate")) or "").strip() or None, "stats": stats,
            "master": os.path.basename(os.path.realpath(master)) if os.path.islink(master) else None,
            "bridge": os.path.isdir(os.path.join(base, "bridge")),
        }
    return interfaces


# ------------------------------------------------------------------ probes


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def icmp_echo(address, timeout, clock=time.monotonic):
    """Round trip of one ICMP echo to an IPv4 address in ms, or None when no reply came in time.

    Tries an unprivileged ping socket first (net.ipv4.ping_group_range), then a raw socket (root).
    Raises OSError when neither can be opened; the module then falls back to the ping command.
    """
    ident = os.getpid() & 0xFFFF
    seq = int(clock() * 1000) & 0xFFFF
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    payload = b"gxtax-ops INSP-16"
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
    last_error = None
    for kind in (socket.SOCK_DGRAM, socket.SOCK_RAW):
        try:
            sock = socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP)
        except OSError as exc:
            last_error = exc
            continue
        try:
            return _echo(sock, kind == socket.SOCK_RAW, address, packet, ident, seq, timeout, clock)
        finally:
            sock.close()
    raise last_error


def _echo(sock, raw, address, packet, ident, seq, timeout, clock):
    started = clock()
    deadline = started + timeout
    sock.sendto(packet, (address, 0))
    while True:
        left = deadline - clock()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data, peer = sock.recvfrom(2048)
        except socket.timeout:
            return None
        if raw:
            data = data[(data[0] & 0x0F) * 4:]  # skip the IP header
        if len(data) < 8 or peer[0] != address:
            continue
        kind, _code, _sum, got_ident, got_seq = struct.unpack("!BBHHH", data[:8])
        # A ping socket rewrites the identifier; a raw socket sees every host's replies.
        if kind == 0 and got_seq == seq and (not raw or got_ident == ident):
            return round((clock() - started) * 1000.0, 3)


def parse_ping_output(rc, stdout):
    """rtt in ms from `ping -c 1`, None when there was no reply."""
    match = re.search(r"time[=<]([0-9.]+)\s*ms", stdout)
    if rc == 0 and match:
        return float(match.group(1))
    return None


def tcp_connect(host, port, timeout, clock=time.monotonic):
    """{rtt_ms} on a completed connect, {refused: True} when the host answered with a reset,
    {error} otherwise."""
    started = clock()
    try:
        sock = socket.create_connection((host, port), timeout)
    except ConnectionRefusedError:
        return {"refused": True, "rtt_ms": round((clock() - started) * 1000.0, 3)}
    except socket.timeout:
        return {"error": "%s 秒内无响应" % _fmt(timeout)}
    except (OSError, socket.gaierror) as exc:
        return {"error": exc.strerror or str(exc)}
    sock.close()
    return {"rtt_ms": round((clock() - started) * 1000.0, 3)}


def resolve(name, clock=time.monotonic):
    started = clock()
    try:
        infos = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)
    except (socket.gaierror, OSError, UnicodeError) as exc:
        return {"error": getattr(exc, "strerror", None) or str(exc)}
    addresses = []
    for info in infos:
        if info[4][0] not in addresses:
            addresses.append(info[4][0])
    return {"addresses": addresses, "ms": round((clock() - started) * 1000.0, 3)}


def parse_resolv_conf(text):
    return [line.split()[1] for line in text.splitlines()
            if line.strip().startswith("nameserver") and len(line.split()) > 1]


# ------------------------------------------------------------------ records


def gateway_records(host, routes, results, thresholds, required=True):
    """One record per default route; results maps gateway -> rtt ms / None / error text."""
    if not routes:
        if not required:
            return [make_record(REQUIREMENT_ID, "默认网关", host, "skipped", None, None, None,
                                "主机未配置 IPv4 默认网关，按配置不检查。")]
        direction, consequence = ADVICE["no_gateway"]
        return [make_record(REQUIREMENT_ID, "默认网关", host, "warning", None, None, "可达",
                            "主机未配置 IPv4 默认网关（/proc/net/route 中没有默认路由）。",
                            direction, consequence)]
    return [reach_record(host, "默认网关 %s（%s）" % (r["gateway"], r["iface"]), "默认网关 %s" % r["gateway"],
                         results.get(r["gateway"]), thresholds, ADVICE["gateway"]) for r in routes]


def reach_record(host, item, what, result, thresholds, advice):
    """result: {rtt_ms, via} reachable; {refused: True} port closed; {error}; None: no reply."""
    warn = thresholds["rtt_warning_ms"]
    threshold = "可达，往返≥%sms 为警告" % _fmt(warn)
    if result is None or "error" in result or result.get("rtt_ms") is None:
        reason = (result or {}).get("error") or "无应答"
        return make_record(REQUIREMENT_ID, item, host, "critical", None, "ms", threshold,
                           "%s 不可达（%s）。" % (what, reason), advice[0], advice[1])
    if result.get("refused"):
        return make_record(REQUIREMENT_ID, item, host, "critical", None, "ms", threshold,
                           "%s 的主机有应答但端口拒绝连接，服务未在监听。" % what, advice[0], advice[1])
    rtt = result["rtt_ms"]
    detail = "%s 可达（%s），往返 %s ms。" % (what, result.get("via", "ICMP"), _fmt(rtt, 3))
    status = grade(rtt, warn, None)
    if status == "ok":
        return make_record(REQUIREMENT_ID, item, host, "ok", rtt, "ms", threshold, detail)
    return make_record(REQUIREMENT_ID, item, host, status, rtt, "ms", threshold, detail,
                       ADVICE["slow"][0], ADVICE["slow"][1])


def dns_record(host, name, expect, result, nameservers):
    item = "DNS 解析 %s" % name
    servers = "、".join(nameservers) if nameservers else "（/etc/resolv.conf 未配置 nameserver）"
    if result is None or "error" in result:
        reason = (result or {}).get("error") or "超时"
        return make_record(REQUIREMENT_ID, item, host, "critical", None, None, "可解析",
                           "域名 %s 无法解析（%s；DNS 服务器 %s）。" % (name, reason, servers),
                           *ADVICE["dns"])
    addresses = "、".join(result["addresses"])
    if expect and not set(expect) & set(result["addresses"]):
        return make_record(REQUIREMENT_ID, item, host, "warning", addresses, None, "、".join(expect),
                           "域名 %s 解析为 %s，不是预期的 %s。" % (name, addresses, "、".join(expect)),
                           *ADVICE["dns_wrong"])
    return make_record(REQUIREMENT_ID, item, host, "ok", addresses, None,
                       "、".join(expect) if expect else "可解析",
                       "域名 %s 解析为 %s，用时 %s ms。" % (name, addresses, _fmt(result["ms"], 1)))


def ntp_records(host, tool, sources, notes, thresholds):
    """One record per time source the NTP client uses; all unreachable is critical."""
    if tool is None:
        tried = "；".join(notes) if notes else "未找到 chronyc、ntpq 或 timedatectl"
        return [make_record(REQUIREMENT_ID, "NTP 时间源", host, "skipped", None, None, None,
                            "未发现配置了时间源的 NTP 客户端（%s）；时钟同步状态见 INSP-01 时钟同步。"
                            % tried)]
    warn, crit = thresholds["ntp_offset_warning_ms"], thresholds["ntp_offset_critical_ms"]
    threshold = "可达，偏差 警告≥%sms / 严重≥%sms" % (_fmt(warn), _fmt(crit))
    reachable = [s for s in sources if s["reach"]]
    records = []
    for source in sources:
        item = "NTP 时间源 %s" % source["name"]
        if not source["reach"]:
            status = "critical" if not reachable else "warning"
            detail = "%s 报告时间源 %s 近期无应答%s。" % (
                tool, source["name"], "，所有时间源均不可达" if not reachable else "，其余时间源正常")
            records.append(make_record(REQUIREMENT_ID, item, host, status, None, "ms", threshold, detail,
                                       *ADVICE["ntp"]))
            continue
        offset = source.get("offset_ms")
        if offset is None:
            records.append(make_record(REQUIREMENT_ID, item, host, "ok", None, "ms", threshold,
                                       "%s 报告时间源 %s 可达。" % (tool, source["name"])))
            continue
        status = grade(abs(offset), warn, crit)
        detail = "%s 报告时间源 %s 可达%s，本机比它%s %s ms。" % (
            tool, source["name"], "（当前同步源）" if source["selected"] else "",
            "快" if offset >= 0 else "慢", _fmt(abs(offset), 3))
        if status == "ok":
            records.append(make_record(REQUIREMENT_ID, item, host, "ok", abs(offset), "ms", threshold,
                                       detail))
        else:
            records.append(make_record(REQUIREMENT_ID, item, host, status, abs(offset), "ms", threshold,
                                       detail, *ADVICE["ntp_offset"]))
    return records


def _pct(part, whole):
    return 100.0 * part / whole if whole else 0.0


def interface_record(host, name, stats, operstate, required, thresholds, uptime_days=None):
    """Errors and drops since boot of one interface; a required interface that is down is critical."""
    item = "网卡 %s 错误与丢包" % name
    threshold = "错误率 警告≥%s%%/严重≥%s%%；丢包率 警告≥%s%%/严重≥%s%%" % (
        _fmt(thresholds["error_warning_pct"], 3), _fmt(thresholds["error_critical_pct"], 3),
        _fmt(thresholds["drop_warning_pct"], 3), _fmt(thresholds["drop_critical_pct"], 3))
    if operstate == "down":
        if required:
            direction, consequence = ADVICE["link_down"]
            return make_record(REQUIREMENT_ID, item, host, "critical", None, None, threshold,
                               "网卡 %s 处于断开状态（operstate down），它%s。" % (name, required),
                               direction, consequence)
        return make_record(REQUIREMENT_ID, item, host, "skipped", None, None, threshold,
                           "网卡 %s 未连接（operstate down），不评估。" % name)
    missing = [k for k in ERROR_COUNTERS + DROP_COUNTERS + PACKET_COUNTERS
               if not isinstance(stats.get(k), int)]
    if missing:
        return make_record(REQUIREMENT_ID, item, host, "error", None, None, threshold,
                           "网卡 %s 的统计计数无法读取（%s）。" % (name, "、".join(missing)),
                           "在主机上查看 /sys/class/net/%s/statistics/ 与 ip -s link show %s" % (name, name),
                           "无法发现该网卡的链路质量问题")
    packets = sum(stats[k] for k in PACKET_COUNTERS)
    errors = sum(stats[k] for k in ERROR_COUNTERS)
    drops = sum(stats[k] for k in DROP_COUNTERS)
    since = "自开机%s以来" % ("（%s 天）" % _fmt(uptime_days, 1) if uptime_days is not None else "")
    detail = "网卡 %s %s收发 %d 个报文，错误 %d 个（接收 %d / 发送 %d），丢弃 %d 个（接收 %d / 发送 %d）" % (
        name, since, packets, errors, stats["rx_errors"], stats["tx_errors"], drops, stats["rx_dropped"],
        stats["tx_dropped"])
    if packets < MIN_PACKETS:
        return make_record(REQUIREMENT_ID, item, host, "ok", errors + drops, "个", threshold,
                           detail + "；报文数太少，不计算比率。")
    error_pct, drop_pct = _pct(errors, packets), _pct(drops, packets)
    error_status = grade(error_pct, thresholds["error_warning_pct"], thresholds["error_critical_pct"])
    drop_status = grade(drop_pct, thresholds["drop_warning_pct"], thresholds["drop_critical_pct"])
    detail += "，错误率 %s%%，丢包率 %s%%。" % (_fmt(error_pct, 4), _fmt(drop_pct, 4))
    status = worst([{"status": error_status}, {"status": drop_status}])
    if status == "ok":
        return make_record(REQUIREMENT_ID, item, host, "ok", errors + drops, "个", threshold, detail)
    direction, consequence = ADVICE["errors" if error_status == status else "drops"]
    return make_record(REQUIREMENT_ID, item, host, status, errors + drops, "个", threshold, detail,
                       direction, consequence)


def bond_record(host, name, bond):
    """bond: parse_bonding()'s result, or {kind: team, mii_status, slaves} built from sysfs."""
    kind = bond.get("kind", "bonding")
    item = "网卡绑定 %s" % name
    slaves = bond["slaves"]
    up = [s["name"] for s in slaves if s["mii_status"] == "up"]
    down = [s["name"] for s in slaves if s["mii_status"] != "up"]
    parts = ["%s（%s）" % (kind, bond["mode"]) if bond.get("mode") else kind]
    if bond.get("active"):
        parts.append("当前活动成员 %s" % bond["active"])
    parts.append("成员 %d 个，正常 %s" % (len(slaves), "、".join(up) or "无"))
    if down:
        parts.append("断开 %s" % "、".join(down))
    failures = ["%s %d 次" % (s["name"], s["link_failures"]) for s in slaves if s.get("link_failures")]
    if failures:
        parts.append("开机以来链路故障 %s" % "、".join(failures))
    detail = "%s：%s。" % (name, "，".join(parts))
    value = "%d/%d" % (len(up), len(slaves))
    if bond["mii_status"] != "up" or not up:
        return make_record(REQUIREMENT_ID, item, host, "critical", value, None, "全部成员正常", detail,
                           *ADVICE["bond_down"])
    if down:
        return make_record(REQUIREMENT_ID, item, host, "warning", value, None, "全部成员正常", detail,
                           *ADVICE["bond_degraded"])
    return make_record(REQUIREMENT_ID, item, host, "ok", value, None, "全部成员正常", detail)


def team_from_ports(ports):
    """A bond-shaped dict for a team device from its ports' operstate {port: state}."""
    slaves = [{"name": p, "mii_status": "up" if s == "up" else (s or "unknown"), "link_failures": None}
              for p, s in sorted(ports.items())]
    return {"kind": "team", "mode": None, "active": None,
            "mii_status": "up" if any(s["mii_status"] == "up" for s in slaves) else "down", "slaves": slaves}


def error_record(host, item, reason, direction):
    return make_record(REQUIREMENT_ID, item, host, "error", None, None, None, "%s。" % reason, direction,
                       "该项网络状态未被检查，故障可能在节后业务恢复时才暴露")
