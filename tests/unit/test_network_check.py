"""INSP-16 network check: recorded /proc/net/route, /proc/net/bonding, /sys/class/net and command
outputs (chronyc, ntpq, timedatectl, ip), the probes over loopback, and the records."""

import json
import pathlib
import socket

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils import network_check as nc

ROOT = pathlib.Path(__file__).parents[2]
FIX = pathlib.Path(__file__).parent / "fixtures" / "network_check"
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
HOST = "av-app01"
T = dict(nc.DEFAULTS)


def text(name):
    return (FIX / name).read_text(encoding="utf-8")


def valid(records):
    assert records
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert record["requirement_id"] == "INSP-16"
    return records


# ------------------------------------------------------------------ routes and gateway


def test_default_route_gateway_in_kernel_byte_order():
    assert nc.parse_default_routes(text("route"), "little") == [{"iface": "bond0", "gateway": "10.10.1.1"}]
    assert nc.parse_default_routes(text("route_none")) == []


def test_gateway_records():
    routes = nc.parse_default_routes(text("route"), "little")
    ok = nc.gateway_records(HOST, routes, {"10.10.1.1": {"rtt_ms": 0.4, "via": "ICMP"}}, T)
    assert [r["status"] for r in valid(ok)] == ["ok"]
    assert ok[0]["item"] == "默认网关 10.10.1.1（bond0）" and ok[0]["value"] == 0.4
    down = nc.gateway_records(HOST, routes, {"10.10.1.1": None}, T)
    assert down[0]["status"] == "critical" and "无应答" in down[0]["detail"]
    assert nc.gateway_records(HOST, [], {}, T)[0]["status"] == "warning"
    assert nc.gateway_records(HOST, [], {}, T, required=False)[0]["status"] == "skipped"


@pytest.mark.parametrize(("result", "status"), [
    ({"rtt_ms": 0.3, "via": "TCP 1521"}, "ok"),
    ({"rtt_ms": 250.0, "via": "ICMP"}, "warning"),
    ({"refused": True, "rtt_ms": 0.2}, "critical"),
    ({"error": "No route to host"}, "critical"),
    (None, "critical"),
])
def test_reach_record(result, status):
    record = nc.reach_record(HOST, "网络连通 数据库", "数据库（10.10.1.21:1521）", result, T,
                             nc.ADVICE["peer"])
    assert valid([record])[0]["status"] == status


# ------------------------------------------------------------------ interfaces and bonding


def test_sys_net_counters_and_interface_records():
    interfaces = nc.read_sys_net(str(FIX / "sys_net"))
    assert interfaces["ens1f0"]["stats"]["rx_errors"] == 412 and interfaces["ens1f0"]["operstate"] == "up"
    healthy = nc.interface_record(HOST, "ens1f0", interfaces["ens1f0"]["stats"], "up", None, T, 41.5)
    assert valid([healthy])[0]["status"] == "ok" and "41.5 天" in healthy["detail"]
    assert healthy["value"] == 412 + 20911
    unused = nc.interface_record(HOST, "ens3f0", interfaces["ens3f0"]["stats"], "down", None, T)
    assert unused["status"] == "skipped"
    route = nc.interface_record(HOST, "ens3f0", interfaces["ens3f0"]["stats"], "down", "承载默认路由", T)
    assert valid([route])[0]["status"] == "critical"


@pytest.mark.parametrize(("errors", "drops", "status", "advice"), [
    (20, 0, "warning", "errors"),       # 0.02 % errors
    (500, 0, "critical", "errors"),     # 0.5 %
    (0, 300, "warning", "drops"),       # 0.3 % drops
    (0, 5000, "critical", "drops"),     # 5 %
])
def test_error_and_drop_ratios(errors, drops, status, advice):
    stats = {"rx_packets": 60000, "tx_packets": 40000, "rx_errors": errors, "tx_errors": 0,
             "rx_dropped": drops, "tx_dropped": 0}
    record = nc.interface_record(HOST, "eth0", stats, "up", None, T)
    assert valid([record])[0]["status"] == status
    assert record["direction"] == nc.ADVICE[advice][0]


def test_few_packets_are_not_a_ratio_and_missing_counters_are_an_error():
    stats = {"rx_packets": 10, "tx_packets": 5, "rx_errors": 3, "tx_errors": 0, "rx_dropped": 0,
             "tx_dropped": 0}
    assert nc.interface_record(HOST, "eth1", stats, "up", None, T)["status"] == "ok"
    broken = nc.interface_record(HOST, "eth1", {"rx_packets": 1}, "up", None, T)
    assert valid([broken])[0]["status"] == "error"


@pytest.mark.parametrize(("name", "status", "value"), [
    ("bonding_ok", "ok", "2/2"), ("bonding_degraded", "warning", "1/2"), ("bonding_down", "critical", "0/2"),
])
def test_bonding(name, status, value):
    bond = nc.parse_bonding(text(name))
    assert bond["mode"] == "fault-tolerance (active-backup)" and len(bond["slaves"]) == 2
    record = nc.bond_record(HOST, "bond0", bond)
    assert (valid([record])[0]["status"], record["value"]) == (status, value)
    if name == "bonding_degraded":
        assert "ens1f1" in record["detail"] and "3 次" in record["detail"]


def test_bonding_file_without_status_is_refused():
    with pytest.raises(ValueError):
        nc.parse_bonding("Ethernet Channel Bonding Driver\n")


def test_team_devices_from_ip_link_and_port_states():
    kinds = nc.parse_ip_link_kinds(text("ip_d_o_link"))
    assert kinds == {"bond0": "bond", "team0": "team"}
    team = nc.team_from_ports({"ens2f0": "up", "ens2f1": "down"})
    record = nc.bond_record(HOST, "team0", team)
    assert valid([record])[0]["status"] == "warning" and "team" in record["detail"]
    assert nc.bond_record(HOST, "team0", nc.team_from_ports({"ens2f0": "down"}))["status"] == "critical"


# ------------------------------------------------------------------ NTP sources


def test_chronyc_sources():
    sources = nc.parse_chronyc_sources(text("chronyc_sources"))
    assert [(s["name"], s["selected"], s["reach"]) for s in sources] == [
        ("10.10.0.5", True, 0o377), ("10.10.0.6", False, 0o377), ("10.10.0.7", False, 0)]
    assert sources[0]["offset_ms"] == -0.123 and sources[1]["offset_ms"] == 2.104
    records = valid(nc.ntp_records(HOST, "chronyc", sources, [], T))
    assert [r["status"] for r in records] == ["ok", "ok", "warning"]
    assert records[0]["value"] == 0.123 and "当前同步源" in records[0]["detail"]


def test_all_sources_unreachable_is_critical_and_far_offset_graded():
    dead = nc.parse_chronyc_sources(text("chronyc_sources_all_unreachable"))
    assert {r["status"] for r in valid(nc.ntp_records(HOST, "chronyc", dead, [], T))} == {"critical"}
    far = nc.parse_chronyc_sources(text("chronyc_sources_far"))
    record = nc.ntp_records(HOST, "chronyc", far, [], T)[0]
    assert (record["status"], record["value"]) == ("critical", 1523.0)


def test_ntpq_and_timesyncd():
    sources = nc.parse_ntpq_sources(text("ntpq_pn"))
    assert [(s["name"], s["reach"], s["offset_ms"]) for s in sources] == [("10.10.0.5", 0o377, 0.123),
                                                                        ("10.10.0.6", 0, -0.0)]
    sync = nc.parse_timesync_status(text("timesync_status"))
    assert sync == [{"name": "10.10.0.5", "selected": True, "reach": 1, "offset_ms": -1.013}]
    assert nc.parse_timesync_status("       Server: n/a\n") == []


def test_first_tool_that_lists_sources_wins_and_none_is_skipped():
    attempts = [
        {"tool": "chronyc", "rc": 1, "stdout": "", "stderr": "506 Cannot talk to daemon\n"},
        {"tool": "ntpq", "rc": 0, "stdout": text("ntpq_pn"), "stderr": ""},
    ]
    tool, sources, notes = nc.ntp_sources(attempts)
    assert tool == "ntpq" and len(sources) == 2 and notes == ["chronyc：506 Cannot talk to daemon"]
    tool, sources, notes = nc.ntp_sources(attempts[:1])
    assert tool is None
    record = nc.ntp_records(HOST, tool, sources, notes, T)[0]
    assert valid([record])[0]["status"] == "skipped" and "506" in record["detail"]


# ------------------------------------------------------------------ DNS and probes over loopback


def test_dns_records():
    ok = nc.dns_record(HOST, "gsgs.example.cn", [], {"addresses": ["10.10.1.10"], "ms": 2.0}, ["10.10.0.53"])
    assert valid([ok])[0]["status"] == "ok"
    answer = {"addresses": ["10.10.1.10"], "ms": 2.0}
    wrong = nc.dns_record(HOST, "gsgs.example.cn", ["10.10.1.11"], answer, [])
    assert wrong["status"] == "warning"
    failed = nc.dns_record(HOST, "gsgs.example.cn", [], {"error": "Name or service not known"},
                           ["10.10.0.53"])
    assert valid([failed])[0]["status"] == "critical" and "10.10.0.53" in failed["detail"]
    assert nc.dns_record(HOST, "x", [], None, [])["status"] == "critical"
    assert nc.parse_resolv_conf("# x\nnameserver 10.10.0.53\nsearch example.cn\nnameserver ::1\n") == [
        "10.10.0.53", "::1"]


def test_resolve_and_tcp_connect_on_loopback():
    assert "127.0.0.1" in nc.resolve("localhost")["addresses"]
    assert "error" in nc.resolve("no-such-host.invalid")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        assert "rtt_ms" in nc.tcp_connect("127.0.0.1", port, 2) and "refused" not in nc.tcp_connect(
            "127.0.0.1", port, 2)
    finally:
        listener.close()
    assert nc.tcp_connect("127.0.0.1", port, 2).get("refused") is True


def test_icmp_echo_to_loopback_or_a_clear_error():
    try:
        rtt = nc.icmp_echo("127.0.0.1", 2)
    except OSError:
        pytest.skip("neither a ping socket nor a raw socket may be opened here (the module uses ping then)")
    assert rtt is not None and rtt >= 0


def test_ping_output():
    out = ("PING 10.10.1.1 (10.10.1.1) 56(84) bytes of data.\n"
           "64 bytes from 10.10.1.1: icmp_seq=1 ttl=64 time=0.412 ms\n")
    assert nc.parse_ping_output(0, out) == 0.412
    assert nc.parse_ping_output(1, "1 packets transmitted, 0 received, 100% packet loss") is None


def test_thresholds():
    merged, problems = nc.merge_thresholds({"rtt_warning_ms": 10})
    assert problems == [] and merged["rtt_warning_ms"] == 10.0
    merged, problems = nc.merge_thresholds({"error_warning_pct": 1, "error_critical_pct": 0.5, "bogus": 1})
    assert len(problems) == 2 and merged == nc.DEFAULTS
