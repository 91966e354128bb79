# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""INSP-14 basic-information sheet (基本信息): Ansible facts and inventory data -> records.

The contract asks the maintainers to keep, per system, its network layout, device
information, software list, IP addresses, business information, backup information and
contacts (相关接口人). Everything here is plain data in, records out: the
gxtax.ops.basic_info_records filter feeds it `ansible_facts` and a few documented
inventory variables. Used on the control node only, but kept valid on Python 3.7 like
the rest of module_utils.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gxtax.ops.plugins.module_utils.records import make_record

REQUIREMENT_ID = "INSP-14"

SOFTWARE_VAR = "gxtax_inspection_software"
BACKUP_VAR = "gxtax_inspection_backup_info"
CONTACTS_VAR = "gxtax_inspection_contacts"
# The only inventory variables read; anything else in hostvars (credentials) never is.
INVENTORY_VARS = (SOFTWARE_VAR, BACKUP_VAR, CONTACTS_VAR, "group_names")

PLATFORMS = (("publicity", "行政执法信息公示平台"), ("avrecord", "执法音像记录信息管理平台"))
HOST_ROLES = (("oracle_db", "Oracle数据库"), ("weblogic_admin", "WebLogic管理服务器"),
              ("weblogic_managed", "WebLogic受管服务器"), ("app_storage", "应用存储"))

# Keys of inventory dicts that look like credentials are dropped (SEC-02), whatever their value.
SECRET_KEY = re.compile(r"pass|pwd|secret|token|credential|private|api_?key|密码|口令", re.IGNORECASE)
# Not disks an inventory of devices lists: loop/RAM devices, optical and floppy drives,
# device-mapper volumes (their physical disks are listed).
SKIP_DISK_PREFIXES = ("loop", "ram", "zram", "sr", "fd", "dm-", "nbd")
CPU_VENDOR_IDS = ("GenuineIntel", "AuthenticAMD", "HygonGenuine", "CentaurHauls", "Shanghai")
CONTAINER_TYPES = ("container", "docker", "podman", "lxc", "openvz", "systemd-nspawn", "containerd", "wsl")


class Missing(Exception):
    """A fact the host did not return; the field becomes a skipped record."""


def _facts(facts):
    """Fact names without the ansible_ prefix (setup's raw output has it, ansible_facts not)."""
    if not isinstance(facts, dict):
        return {}
    return dict((k[len("ansible_"):] if k.startswith("ansible_") else k, v) for k, v in facts.items())


def _need(facts, *names):
    values = [facts.get(name) for name in names]
    if any(v in (None, "", [], {}, "NA", "N/A") for v in values):
        raise Missing("、".join(names))
    return values if len(values) > 1 else values[0]


def _fmt(number):
    return ("%.2f" % number).rstrip("0").rstrip(".")


# ---------------------------------------------------------------- fields from facts


def hostname(f):
    name = _need(f, "hostname")
    fqdn = f.get("fqdn")
    return "%s（FQDN %s）" % (name, fqdn) if fqdn and fqdn not in (name, "localhost") else name


def ip_addresses(f):
    """Addresses per interface with prefix; IPv6 link-local and loopback left out."""
    shown = []
    for iface in sorted(_need(f, "interfaces")):
        data = f.get(iface.replace("-", "_").replace(".", "_").replace(":", "_")) or {}
        if data.get("type") == "loopback":
            continue
        addresses = []
        for entry in [data.get("ipv4")] + list(data.get("ipv4_secondaries") or []):
            if isinstance(entry, dict) and entry.get("address"):
                addresses.append("%s/%s" % (entry["address"], entry.get("prefix", "?")))
        for entry in data.get("ipv6") or []:
            if isinstance(entry, dict) and entry.get("scope") not in ("link", "host"):
                addresses.append("%s/%s" % (entry["address"], entry.get("prefix", "?")))
        if addresses:
            shown.append("%s %s" % (iface, ", ".join(addresses)))
    if not shown:  # interface details missing: the flat lists still say something
        flat = [a for a in (f.get("all_ipv4_addresses") or []) + (f.get("all_ipv6_addresses") or [])
                if not a.lower().startswith("fe80")]
        if not flat:
            raise Missing("all_ipv4_addresses")
        return ", ".join(flat)
    return "；".join(shown)


def default_gateway(f):
    route = _need(f, "default_ipv4")
    gateway = route.get("gateway")
    if not gateway:
        raise Missing("default_ipv4.gateway")
    return "%s（经 %s，本机地址 %s）" % (gateway, route.get("interface", "?"), route.get("address", "?"))


def dns_servers(f):
    servers = (_need(f, "dns") or {}).get("nameservers") or []
    if not servers:
        raise Missing("dns.nameservers")
    return ", ".join(servers)


def operating_system(f):
    name, version = _need(f, "distribution", "distribution_version")
    release = f.get("distribution_release")
    text = "%s %s" % (name, version)
    if release and release not in ("NA", version) and release not in text:
        text += "（%s）" % release
    return text


def kernel(f):
    release = _need(f, "kernel")
    arch = f.get("architecture")
    return "%s（%s）" % (release, arch) if arch else release


def device_type(f):
    role, kind = f.get("virtualization_role"), f.get("virtualization_type")
    if role is None and kind is None:
        raise Missing("virtualization_role")
    vendor = " ".join(v for v in (f.get("system_vendor"), f.get("product_name")) if v and v != "NA")
    if role == "guest":
        techs = [t for t in f.get("virtualization_tech_guest") or [] if t != kind]
        shown = "、".join(([kind] if kind and kind != "NA" else []) + techs) or "类型未识别"
        text = "%s（%s）" % ("容器" if kind in CONTAINER_TYPES else "虚拟机", shown)
    elif role == "host":
        text = "物理机（%s 虚拟化宿主机）" % kind
    else:  # setup says NA when it finds no hypervisor or container
        text = "物理机（未检测到虚拟化）"
    return "%s，%s" % (text, vendor) if vendor else text


def cpu(f):
    vcpus = _need(f, "processor_vcpus")
    models = []
    for raw in f.get("processor") or []:
        entry = str(raw).strip()
        if entry and not entry.isdigit() and entry not in CPU_VENDOR_IDS and entry not in models:
            models.append(entry)
    shape = [f.get(k) for k in ("processor_count", "processor_cores", "processor_threads_per_core")]
    text = "%s 个逻辑CPU" % vcpus
    if all(isinstance(v, int) for v in shape):
        text += "（%d 路 × %d 核 × %d 线程）" % tuple(shape)
    return "%s，%s" % (text, "、".join(models)) if models else text


def memory(f):
    total = _need(f, "memtotal_mb")
    text = "%s GiB（%d MB）" % (_fmt(total / 1024.0), total)
    swap = f.get("swaptotal_mb")
    if isinstance(swap, int):
        text += "，交换空间 %d MB" % swap
    return text


def disks(f):
    devices = _need(f, "devices")
    shown = []
    for name in sorted(devices):
        dev = devices[name] or {}
        if name.startswith(SKIP_DISK_PREFIXES) or str(dev.get("size", "")).startswith("0.00"):
            continue
        # vendor is sometimes a bare PCI id (0x1af4 is virtio): no help to a reader
        label = " ".join(str(v).strip() for v in (dev.get("vendor"), dev.get("model"))
                         if v and str(v).strip() and not str(v).startswith("0x"))
        shown.append("%s %s%s" % (name, dev.get("size", "?"), "（%s）" % label if label else ""))
    if not shown:
        raise Missing("devices")
    return "；".join(shown)


# (field, fact function)
FACT_FIELDS = (
    ("主机名", hostname),
    ("IP地址", ip_addresses),
    ("默认网关", default_gateway),
    ("DNS服务器", dns_servers),
    ("操作系统", operating_system),
    ("内核", kernel),
    ("设备类型", device_type),
    ("CPU", cpu),
    ("内存", memory),
    ("磁盘", disks),
)


# ---------------------------------------------------------------- fields from the inventory


def _plain(value, dropped):
    """Inventory data as one line of text; credential-looking keys are left out and counted."""
    if isinstance(value, dict):
        parts = []
        for key in sorted(value, key=str):
            if SECRET_KEY.search(str(key)):
                dropped.append(key)
                continue
            parts.append("%s：%s" % (key, _plain(value[key], dropped)))
        return "；".join(parts)
    if isinstance(value, (list, tuple)):
        return "；".join(_plain(v, dropped) for v in value)
    return "" if value is None else str(value).strip()


def parse_ssh_version(text):
    """`ssh -V` (stderr) -> {'OpenSSH': '9.2p1', 'OpenSSL': '3.0.22'}; {} if unrecognised."""
    found = {}
    match = re.search(r"OpenSSH_([0-9][^\s,]*)", text or "")
    if match:
        found["OpenSSH"] = match.group(1)
    match = re.search(r"OpenSSL\s+([0-9][^\s,]*)", text or "")
    if match:
        found["OpenSSL"] = match.group(1)
    return found


def software(f, inventory, ssh_version):
    """[(name, version, source)]: the inventory's list first, then what was detected cheaply."""
    listed = inventory.get(SOFTWARE_VAR) or {}
    dropped = []
    rows = []
    if isinstance(listed, dict):
        for name in sorted(listed, key=str):
            if SECRET_KEY.search(str(name)):
                dropped.append(name)
                continue
            rows.append((str(name), _plain(listed[name], dropped), "清单变量 %s" % SOFTWARE_VAR))
    names = set(name for name, _, _ in rows)
    detected = []
    if f.get("python_version"):
        where = (f.get("python") or {}).get("executable")
        source = "主机检测，解释器 %s" % where if where else "主机检测"
        detected.append(("Python", f["python_version"], source))
    for name, version in sorted(parse_ssh_version(ssh_version).items()):
        detected.append((name, version, "主机检测，ssh -V"))
    rows.extend(row for row in detected if row[0] not in names)  # the inventory's word wins
    return rows, dropped


def contacts(inventory):
    people = inventory.get(CONTACTS_VAR) or []
    if isinstance(people, dict):
        people = [people]
    shown = []
    for person in people:
        if isinstance(person, dict):
            extra = [str(person[k]).strip() for k in ("role", "phone") if person.get(k)]
            name = str(person.get("name") or "").strip() or "（未填姓名）"
            shown.append("%s（%s）" % (name, "，".join(extra)) if extra else name)
        elif person:
            shown.append(str(person).strip())
    return "；".join(shown)


def platforms(inventory, table):
    groups = inventory.get("group_names") or []
    return "、".join("%s（%s）" % (label, group) for group, label in table if group in groups)


# ---------------------------------------------------------------- records


def _ok(host, field, value, source):
    return make_record(REQUIREMENT_ID, "基本信息 %s" % field, host, "ok", value,
                       detail="%s：%s（来源：%s）。" % (field, value, source))


def _skipped(host, field, why):
    return make_record(REQUIREMENT_ID, "基本信息 %s" % field, host, "skipped",
                       detail="%s未采集：%s。" % (field, why))


def basic_info_records(facts, inventory_vars, host, ssh_version=None):
    """INSP-14 records for one host: status ok with the value as text, or skipped "未采集".

    facts: ansible_facts (with or without the ansible_ prefix); inventory_vars: a dict with
    any of INVENTORY_VARS (nothing else is read); ssh_version: the text `ssh -V` printed.
    Never raises on missing or odd data.
    """
    f = _facts(facts)
    inventory = inventory_vars if isinstance(inventory_vars, dict) else {}
    records = []
    for field, func in FACT_FIELDS:
        try:
            records.append(_ok(host, field, func(f), "主机采集"))
        except Missing as missing:
            records.append(_skipped(host, field, "主机未返回 %s" % missing))
        except Exception as exc:  # odd fact shapes (other OSes) cost only this field
            records.append(_skipped(host, field, "主机信息格式无法识别（%s）" % type(exc).__name__))

    for field, table in (("所属平台", PLATFORMS), ("主机角色", HOST_ROLES)):
        value = platforms(inventory, table)
        groups = "、".join(group for group, _ in table)
        records.append(_ok(host, field, value, "清单分组") if value else
                       _skipped(host, field, "主机不在清单分组 %s 中" % groups))

    rows, dropped = software(f, inventory, ssh_version)
    for name, version, source in rows:
        records.append(_ok(host, "软件版本 %s" % name, version or "未填写", source))
    if not rows:
        records.append(_skipped(host, "软件版本", "清单变量 %s 未登记，也未检测到" % SOFTWARE_VAR))

    backup = _plain(inventory.get(BACKUP_VAR), dropped)
    records.append(_ok(host, "备份信息", backup, "清单变量 %s" % BACKUP_VAR) if backup else
                   _skipped(host, "备份信息", "清单变量 %s 未登记" % BACKUP_VAR))
    people = contacts(inventory)
    records.append(_ok(host, "相关接口人", people, "清单变量 %s" % CONTACTS_VAR) if people else
                   _skipped(host, "相关接口人", "清单变量 %s 未登记" % CONTACTS_VAR))
    if dropped:  # say so, without the names' values
        records.append(make_record(
            REQUIREMENT_ID, "基本信息 略去的字段", host, "ok", len(dropped),
            detail="清单中 %d 个疑似口令或密钥的字段（%s）未写入报告（SEC-02）。"
                   % (len(dropped), "、".join(str(k) for k in dropped))))
    return records
