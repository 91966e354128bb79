"""INSP-14 basic information: facts + inventory -> records, the filter, and the gxtax.ops.record action."""

import copy
import json
import os
import pathlib
import subprocess
import sys

import jsonschema
import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.records import normalise, record_problems
from ansible_collections.gxtax.ops.plugins.filter.inspection import FilterModule
from ansible_collections.gxtax.ops.plugins.module_utils import basic_info as bi

ROOT = pathlib.Path(__file__).parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
# ansible_facts of a systemd harness host (see the fixture's _comment for how it was recorded).
FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "facts" / "gxt-s1.json")
                     .read_text(encoding="utf-8"))
SSH_V = "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.22 25 Aug 2026\n"  # `ssh -V` on that host
INVENTORY = {
    "group_names": ["avrecord", "oracle_db", "systemd"],
    "gxtax_inspection_software": {"Oracle Database": "19.21.0.0", "WebLogic Server": "12.2.1.4",
                                  "Python": "3.11.2（系统自带）"},
    "gxtax_inspection_backup_info": {"方式": "RMAN 每日 01:00 全备", "保留": "7 天", "位置": "/backup/rman"},
    "gxtax_inspection_contacts": [{"name": "张三", "role": "数据库管理员", "phone": "0771-5550000"},
                                  {"name": "李四", "phone": "13800000000"}],
}


def facts():
    return copy.deepcopy(FIXTURE["ansible_facts"])


def by_item(records):
    return {r["item"]: r for r in records}


def valid(records):
    assert records
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert record["requirement_id"] == "INSP-14"
        assert record["item"].startswith("基本信息")
        assert record["status"] in ("ok", "skipped")
    return by_item(records)


def test_sheet_from_recorded_facts():
    records = valid(bi.basic_info_records(facts(), INVENTORY, "gxt-s1", SSH_V))
    value = {item: r["value"] for item, r in records.items()}
    assert value["基本信息 主机名"] == "gxt-s1"
    assert value["基本信息 IP地址"] == "eth0 10.231.0.13/24"  # loopback and bare bridge ports left out
    assert value["基本信息 默认网关"].startswith("10.231.0.1（经 eth0")
    assert value["基本信息 操作系统"] == "Debian 12.15（bookworm）"
    assert value["基本信息 内核"] == "6.18.44-fc-v782（x86_64）"
    assert value["基本信息 设备类型"] == "容器（container、systemd-nspawn）"
    assert value["基本信息 CPU"] == "2 个逻辑CPU（1 路 × 2 核 × 1 线程），AMD EPYC"
    assert value["基本信息 内存"] == "23.54 GiB（24105 MB），交换空间 0 MB"
    assert value["基本信息 磁盘"] == "vda 256.00 GB"  # loop and zram devices are not disks
    assert value["基本信息 所属平台"] == "执法音像记录信息管理平台（avrecord）"
    assert value["基本信息 主机角色"] == "Oracle数据库（oracle_db）"
    assert value["基本信息 软件版本 Oracle Database"] == "19.21.0.0"
    assert value["基本信息 软件版本 OpenSSH"] == "9.2p1"
    assert value["基本信息 软件版本 OpenSSL"] == "3.0.22"
    assert value["基本信息 软件版本 Python"] == "3.11.2（系统自带）"  # the inventory's word wins
    assert value["基本信息 备份信息"] == "位置：/backup/rman；保留：7 天；方式：RMAN 每日 01:00 全备"
    assert value["基本信息 相关接口人"] == "张三（数据库管理员，0771-5550000）；李四（13800000000）"
    assert all(r["status"] == "ok" for r in records.values())
    assert "清单变量 gxtax_inspection_contacts" in records["基本信息 相关接口人"]["detail"]


def test_prefixed_facts_from_raw_setup_output_work_too():
    prefixed = dict(("ansible_" + k if not k.startswith("ansible_") else k, v) for k, v in facts().items())
    plain = dict((k[len("ansible_"):], v) for k, v in facts().items())
    assert bi.basic_info_records(prefixed, {}, "h") == bi.basic_info_records(plain, {}, "h")


@pytest.mark.parametrize("facts_in", [{}, None, "not facts", {"ansible_hostname": None}])
def test_missing_facts_are_skipped_never_errors(facts_in):
    records = valid(bi.basic_info_records(facts_in, None, "h1"))
    for field in ("主机名", "IP地址", "操作系统", "内核", "CPU", "内存", "磁盘", "备份信息", "相关接口人"):
        record = records["基本信息 %s" % field]
        assert record["status"] == "skipped" and "未采集" in record["detail"]
        assert record["value"] is None


@pytest.mark.parametrize("key,broken", [
    ("ansible_devices", ["sda"]),
    ("ansible_processor", 7),
    ("ansible_interfaces", 12),
    ("ansible_default_ipv4", "10.0.0.1"),
    ("ansible_dns", []),
])
def test_odd_fact_shapes_cost_only_their_field(key, broken):
    odd = facts()
    odd[key] = broken
    records = valid(bi.basic_info_records(odd, {}, "h1"))
    assert records["基本信息 主机名"]["status"] == "ok"
    assert records["基本信息 操作系统"]["status"] == "ok"


def test_interfaces_with_secondaries_ipv6_and_dashes():
    f = {"interfaces": ["lo", "bond-0", "eth1"],
         "lo": {"type": "loopback", "ipv4": {"address": "127.0.0.1", "prefix": "8"}},
         "bond_0": {"type": "bonding", "ipv4": {"address": "10.1.1.5", "prefix": "24"},
                    "ipv4_secondaries": [{"address": "10.1.1.6", "prefix": "24"}],
                    "ipv6": [{"address": "fe80::1", "prefix": "64", "scope": "link"},
                             {"address": "2001:db8::5", "prefix": "64", "scope": "global"}]},
         "eth1": {"type": "ether"}}
    assert bi.ip_addresses(f) == "bond-0 10.1.1.5/24, 10.1.1.6/24, 2001:db8::5/64"


def test_flat_address_lists_when_interfaces_say_nothing():
    f = {"interfaces": ["eth0"], "all_ipv4_addresses": ["10.2.2.2"], "all_ipv6_addresses": ["fe80::2"]}
    assert bi.ip_addresses(f) == "10.2.2.2"


@pytest.mark.parametrize("fact,expected", [
    ({"virtualization_role": "guest", "virtualization_type": "kvm", "system_vendor": "QEMU",
      "product_name": "Standard PC (Q35 + ICH9, 2009)"},
     "虚拟机（kvm），QEMU Standard PC (Q35 + ICH9, 2009)"),
    ({"virtualization_role": "NA", "virtualization_type": "NA", "system_vendor": "Huawei",
      "product_name": "TaiShan 200 (Model 2280)"},
     "物理机（未检测到虚拟化），Huawei TaiShan 200 (Model 2280)"),
    ({"virtualization_role": "host", "virtualization_type": "kvm"}, "物理机（kvm 虚拟化宿主机）"),
])
def test_device_type(fact, expected):
    assert bi.device_type(fact) == expected


def test_cpu_models_without_vendor_ids():
    f = {"processor_vcpus": 4, "processor_count": 2, "processor_cores": 2, "processor_threads_per_core": 1,
         "processor": ["0", "GenuineIntel", "Intel(R) Xeon(R) Gold 6230", "1", "GenuineIntel",
                       "Intel(R) Xeon(R) Gold 6230", "2", "HygonGenuine", "Hygon C86 7285"]}
    assert bi.cpu(f) == "4 个逻辑CPU（2 路 × 2 核 × 1 线程），Intel(R) Xeon(R) Gold 6230、Hygon C86 7285"


def test_disks_skip_device_mapper_and_pci_vendor_ids():
    f = {"devices": {"sda": {"size": "500.00 GB", "vendor": "DELL", "model": "PERC H730P"},
                     "dm-0": {"size": "50.00 GB"}, "sr0": {"size": "1.00 GB"},
                     "vdb": {"size": "2.00 TB", "vendor": "0x1af4", "model": None}}}
    assert bi.disks(f) == "sda 500.00 GB（DELL PERC H730P）；vdb 2.00 TB"


@pytest.mark.parametrize("text,expected", [
    (SSH_V, {"OpenSSH": "9.2p1", "OpenSSL": "3.0.22"}),
    ("OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017\n", {"OpenSSH": "7.4p1", "OpenSSL": "1.0.2k-fips"}),
    ("bash: ssh: command not found\n", {}),
    (None, {}),
])
def test_parse_ssh_version(text, expected):
    assert bi.parse_ssh_version(text) == expected


def test_credentials_never_reach_a_record():
    inventory = dict(INVENTORY)
    inventory["gxtax_inspection_software"] = {"Oracle Database": "19c", "oracle_password": "S3cret-ora"}
    inventory["gxtax_inspection_backup_info"] = {"方式": "RMAN", "rman_passwd": "S3cret-rman",
                                                 "目标": {"nas": "10.0.0.9", "api_key": "S3cret-key"}}
    text = json.dumps(bi.basic_info_records(facts(), inventory, "h1"), ensure_ascii=False)
    assert "S3cret" not in text
    records = by_item(bi.basic_info_records(facts(), inventory, "h1"))
    dropped = records["基本信息 略去的字段"]
    assert dropped["value"] == 3 and "SEC-02" in dropped["detail"]


def test_contacts_and_backup_text_forms():
    inventory = {"gxtax_inspection_backup_info": "每日 RMAN 全备，保留 7 天",
                 "gxtax_inspection_contacts": [{"name": "王五"}, "值班电话 0771-1234"]}
    records = by_item(bi.basic_info_records({}, inventory, "h1"))
    assert records["基本信息 备份信息"]["value"] == "每日 RMAN 全备，保留 7 天"
    assert records["基本信息 相关接口人"]["value"] == "王五；值班电话 0771-1234"


def test_only_documented_inventory_variables_are_read():
    assert set(bi.INVENTORY_VARS) == {"group_names", "gxtax_inspection_software",
                                      "gxtax_inspection_backup_info", "gxtax_inspection_contacts"}


# ---------------------------------------------------------------- the filter


def test_filter_reads_only_documented_vars_from_hostvars():
    hostvars = dict(INVENTORY, gxtax_oracle_password="S3cret-vault", ansible_ssh_pass="S3cret-ssh",
                    gxtax_inspection_note="S3cret-other")
    records = FilterModule().filters()["basic_info_records"](facts(), hostvars, "gxt-s1", SSH_V)
    valid(records)
    assert "S3cret" not in json.dumps(records, ensure_ascii=False)
    assert by_item(records)["基本信息 所属平台"]["status"] == "ok"


def test_filter_needs_a_host_and_a_dict():
    from ansible.errors import AnsibleFilterError
    flt = FilterModule().filters()["basic_info_records"]
    with pytest.raises(AnsibleFilterError, match="host"):
        flt(facts(), {}, "")
    with pytest.raises(AnsibleFilterError, match="dict"):
        flt(facts(), ["group_names"], "h1")


# ---------------------------------------------------------------- the gxtax.ops.record action


def full(**fields):
    record = {"requirement_id": "INSP-14", "item": "基本信息 主机名", "host": "h1", "status": "ok",
              "value": "h1", "unit": None, "threshold": None, "detail": "主机名：h1。",
              "direction": None, "consequence": None}
    record.update(fields)
    return record


CASES = [
    full(),
    full(status="warning", direction="查", consequence="坏"),
    full(status="warning"),
    full(status="critical", direction="查", consequence=""),
    full(status="bad"),
    full(requirement_id="insp-14"),
    full(requirement_id="DJBH-8.1.4.1-b"),
    full(item=""),
    full(host=None),
    full(value={"nested": 1}),
    full(value=True),
    full(threshold=True),
    full(threshold={"warning": 80, "critical": 90}),
    full(unit=5),
    full(detail=None),
    dict(full(), extra="x"),
]


@pytest.mark.parametrize("record", CASES)
def test_record_rules_agree_with_the_schema(record):
    problems = record_problems(record)
    schema_ok = jsonschema.Draft202012Validator(SCHEMA).is_valid(record)
    assert (problems == []) is schema_ok, problems


def test_partial_records_are_completed():
    record = {"requirement_id": "INSP-16", "item": "机房空调", "host": "h1", "status": "ok"}
    assert record_problems(record) == []
    completed = normalise(record)
    jsonschema.validate(completed, SCHEMA)
    assert completed["detail"] == "" and completed["value"] is None


def test_not_a_dict():
    assert "dict" in record_problems(["INSP-14"])[0]


def run_record_action(tmp_path, records):
    ansible = pathlib.Path(sys.executable).parent / "ansible"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    env.pop("ANSIBLE_CONFIG", None)
    done = subprocess.run([str(ansible), "localhost", "-m", "gxtax.ops.record", "-a",
                           json.dumps({"records": records})],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    _, sep, body = done.stdout.partition(" => ")
    assert sep, done.stdout + done.stderr
    return done.returncode, json.loads(body)


def test_record_action_returns_completed_records(tmp_path):
    rc, result = run_record_action(tmp_path, [full(), {"requirement_id": "INSP-14", "item": "基本信息 X",
                                                       "host": "h1", "status": "skipped"}])
    assert rc == 0, result
    assert result["changed"] is False and result["status"] == "ok"
    assert len(result["records"]) == 2
    for record in result["records"]:
        jsonschema.validate(record, SCHEMA)


def test_record_action_fails_with_every_problem(tmp_path):
    rc, result = run_record_action(tmp_path, [full(), full(status="critical"), full(status="nope")])
    assert rc != 0
    assert "records" not in result
    assert any("#2" in p and "direction" in p for p in result["problems"])
    assert any("#3" in p and "'nope'" in p for p in result["problems"])
    assert "记录不符合统一记录格式" in result["msg"]
