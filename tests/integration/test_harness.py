"""Tests of the test-host harness itself (tests/harness): real hosts, real SSH, real Ansible."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.harness import Harness, down_stale
from tests.harness import network, nspawn
from tests.harness.state import RunState
from tests.harness.util import alive, mountpoints, proc_starttime

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------- helpers

def ansible_bin(name: str) -> str:
    for cand in (Path(sys.executable).parent / name, ROOT / ".venv" / "bin" / name):
        if cand.exists():
            return str(cand)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found (is the project virtualenv set up?)")
    return found


def run_playbook(inventory: Path, playbook: str, workdir: Path):
    """Run ansible-playbook with an empty config; facts land in a jsonfile cache."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "ansible.cfg").write_text("")
    (workdir / "play.yml").write_text(playbook)
    facts = workdir / "facts"
    env = dict(os.environ, ANSIBLE_CONFIG=str(workdir / "ansible.cfg"),
               ANSIBLE_CACHE_PLUGIN="jsonfile",
               ANSIBLE_CACHE_PLUGIN_CONNECTION=str(facts),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"))
    res = subprocess.run([ansible_bin("ansible-playbook"), "-i", str(inventory), "play.yml"],
                         cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    found = {}
    if facts.is_dir():
        for f in facts.iterdir():
            found[f.name] = json.loads(f.read_text())
    return res, found


def fact(facts: dict, name: str):
    return facts.get(f"ansible_{name}", facts.get(name))


def snapshot(h: Harness) -> dict:
    """Everything a run has made that teardown must remove."""
    rs = RunState.load(h.name)
    assert rs is not None, f"run {h.name} has no state file"
    pids = []
    for hs in rs.hosts:
        if hs.pid:
            pids.append((hs.pid, hs.pid_start))
        pids += [(p, proc_starttime(p)) for p in network.netns_pids(hs.netns)]
    if rs.apt and rs.apt.get("pid"):
        pids.append((rs.apt["pid"], rs.apt.get("pid_start")))
    return {
        "dir": str(rs.dir),
        "netns": [hs.netns for hs in rs.hosts],
        "links": [hs.veth for hs in rs.hosts],
        "mounts": [mp for mp in mountpoints() if mp.startswith(str(rs.dir) + "/")],
        "pids": pids,
        "cgroups": [c for hs in rs.hosts for c in hs.cgroups],
    }


def processes_mentioning(text: str) -> list[int]:
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            cmdline = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and alive(int(p.name)):
            found.append(int(p.name))
    return found


def assert_gone(snap: dict) -> None:
    ns_out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    link_out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    mounts = "\n".join(mountpoints())
    leftovers = {
        "netns": [n for n in snap["netns"] if n in ns_out.split()],
        "links": [ln for ln in snap["links"] if f" {ln}@" in link_out or f" {ln}:" in link_out],
        "mounts": [m for m in mounts.splitlines() if m.startswith(snap["dir"] + "/")],
        "processes": [p for p, s in snap["pids"] if alive(p, s)],
        "processes using the run dir": processes_mentioning(snap["dir"]),
        "cgroups": [c for c in snap["cgroups"] if os.path.exists(c)],
        "state dir": [snap["dir"]] if os.path.exists(snap["dir"]) else [],
    }
    assert not any(leftovers.values()), f"left behind: {leftovers}"


def assert_present(snap: dict) -> None:
    """The snapshot must name real things, or assert_gone proves nothing."""
    assert snap["netns"] and snap["links"] and snap["mounts"] and snap["pids"]
    ns_out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert all(n in ns_out.split() for n in snap["netns"])
    assert all(network.link_exists(ln) for ln in snap["links"])
    assert all(alive(p, s) for p, s in snap["pids"])
    assert all(os.path.isdir(c) for c in snap["cgroups"])
    # Background processes must not hold the harness's lock files open.
    for pid, _ in snap["pids"]:
        targets = open_files(pid)
        assert not [t for t in targets if t.endswith(".lock")], (pid, targets)


def open_files(pid: int) -> list[str]:
    out = []
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                out.append(os.readlink(fd))
            except OSError:
                pass
    except OSError:
        pass
    return out


# ----------------------------------------------------------------- plain hosts

def test_ansible_gathers_three_distinct_hosts(plain_hosts, tmp_path):
    playbook = """
- hosts: plain
  gather_facts: true
  tasks:
    - name: the host knows its own name
      ansible.builtin.command: hostname
      register: hn
      changed_when: false
    - ansible.builtin.assert:
        that: hn.stdout == inventory_hostname
"""
    res, facts = run_playbook(plain_hosts.inventory_path, playbook, tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert sorted(facts) == ["gxt-h1", "gxt-h2", "gxt-h3"], res.stdout[-2000:]
    hostnames = {fact(f, "hostname") for f in facts.values()}
    assert hostnames == {"gxt-h1", "gxt-h2", "gxt-h3"}
    addresses = {fact(f, "default_ipv4")["address"] for f in facts.values()}
    assert addresses == {h.address for h in plain_hosts.hosts}
    assert len({fact(f, "machine_id") for f in facts.values()}) == 3


def test_inventory_has_flavour_and_extra_groups(plain_hosts, tmp_path):
    inv = plain_hosts.write_inventory(tmp_path / "inv.yml",
                                      groups={"publicity": ["gxt-h1"],
                                              "oracle_db": ["gxt-h2", "gxt-h3"]})
    res = subprocess.run([ansible_bin("ansible-inventory"), "-i", str(inv), "--list"],
                         capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, ANSIBLE_CONFIG=str(tmp_path / "none.cfg")))
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert sorted(data["plain"]["hosts"]) == ["gxt-h1", "gxt-h2", "gxt-h3"]
    assert data["publicity"]["hosts"] == ["gxt-h1"]
    assert sorted(data["oracle_db"]["hosts"]) == ["gxt-h2", "gxt-h3"]
    hv = data["_meta"]["hostvars"]["gxt-h2"]
    assert hv["ansible_host"] == plain_hosts.host("gxt-h2").address
    assert hv["ansible_user"] == "root"
    assert hv["ansible_python_interpreter"] == "/usr/bin/python3"
    assert Path(hv["ansible_ssh_private_key_file"]).is_file()
    assert "StrictHostKeyChecking=no" in hv["ansible_ssh_common_args"]


def test_plain_host_is_confined(plain_hosts):
    h = plain_hosts.hosts[0]
    res = plain_hosts.ssh(h, "ps -o comm= -p 1; grep CapBnd /proc/self/status; "
                             "echo 1 > /proc/sys/kernel/panic_on_oops && echo WROTE-KERNEL; "
                             "echo 1 > /proc/sys/net/ipv4/ip_forward && echo WROTE-NET; "
                             "cat /proc/sys/net/ipv4/ip_forward; true")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.split()
    assert lines[0] == "sshd"  # sshd is PID 1 of the host's PID namespace
    bnd = int(res.stdout.split("CapBnd:")[1].split()[0], 16)
    assert not bnd & (1 << 25), "CAP_SYS_TIME must be dropped"
    assert not bnd & (1 << 16), "CAP_SYS_MODULE must be dropped"
    assert bnd & (1 << 12), "CAP_NET_ADMIN should stay"
    assert "WROTE-KERNEL" not in res.stdout  # kernel.* is the control machine's
    assert "WROTE-NET" in res.stdout         # net.* belongs to the host's namespace
    # ...and the control machine's own forwarding setting was not touched by that write.
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == \
        _host_forwarding_before
    # the file systems under /proc/sys are mounted read-only except net/
    mounts = plain_hosts.ssh(h, "cat /proc/self/mounts", check=True).stdout
    ro = [ln for ln in mounts.splitlines() if ln.split()[1] == "/proc/sys"]
    assert ro and ro[0].split()[3].startswith("ro"), ro


_host_forwarding_before = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()


def test_reset_discards_changes_of_one_host_only(plain_hosts):
    h1, h2 = plain_hosts.hosts[0], plain_hosts.hosts[1]
    for h in (h1, h2):
        plain_hosts.ssh(h, "echo changed > /root/gxtax-marker", check=True)
    started = time.monotonic()
    plain_hosts.reset(h1)
    print(f"reset of a plain host took {time.monotonic() - started:.2f}s")
    r1 = plain_hosts.ssh(h1, "test -e /root/gxtax-marker && echo present || echo absent; "
                             "hostname")
    r2 = plain_hosts.ssh(h2, "cat /root/gxtax-marker")
    assert r1.returncode == 0, r1.stderr
    assert r1.stdout.split() == ["absent", h1.name]
    assert r2.stdout.strip() == "changed"
    assert not (h1.root / "root/gxtax-marker").exists()
    plain_hosts.ssh(h2, "rm -f /root/gxtax-marker", check=True)


def test_local_apt_repo_upgrades_a_real_package(plain_hosts):
    host = plain_hosts.hosts[2]
    repo = plain_hosts.apt_repo()
    new_version = repo.rebuild_higher("sensible-utils")
    repo.configure(host)
    before = plain_hosts.ssh(host, "dpkg-query -W -f '${Version}' sensible-utils",
                             check=True).stdout
    assert before and before != new_version
    res = plain_hosts.ssh(host, "DEBIAN_FRONTEND=noninteractive apt-get install -y "
                                "sensible-utils")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    after = plain_hosts.ssh(host, "dpkg-query -W -f '${Version}' sensible-utils",
                            check=True).stdout
    assert after == new_version
    check = plain_hosts.ssh(host, f"dpkg --compare-versions {new_version} gt {before}")
    assert check.returncode == 0
    plain_hosts.reset(host)  # leave the shared hosts pristine


# ----------------------------------------------------------------- teardown

@pytest.mark.parametrize("flavour", ["plain", "systemd"])
def test_teardown_leaves_nothing_behind(flavour, require_harness):
    require_harness(flavour)
    h = Harness(count=2 if flavour == "plain" else 1, flavour=flavour,
                name=f"pt{os.getpid()}td{flavour[0]}").up()
    try:
        h.apt_repo()  # a background HTTP server too
        snap = snapshot(h)
        assert_present(snap)
    finally:
        h.down()
    assert_gone(snap)


def test_stale_run_of_a_killed_process_is_torn_down(require_harness):
    """A process that made hosts and was SIGKILLed (like a killed pytest)."""
    require_harness("plain")
    name = f"pt{os.getpid()}kl"
    script = ("import time, sys\n"
              "from tests.harness import Harness\n"
              f"h = Harness(count=1, flavour='plain', name={name!r}).up()\n"
              "print('UP', flush=True)\n"
              "time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        line = proc.stdout.readline()
        assert line.strip() == "UP", f"child did not bring its host up: {line!r}"
        h = Harness.attach(name)
        assert h.ssh(h.hosts[0], "true").returncode == 0
        snap = snapshot(h)
        assert_present(snap)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert name in down_stale()
    assert_gone(snap)


def test_cli_up_status_reset_down(require_harness):
    require_harness("plain")
    name = f"pt{os.getpid()}cli"
    cli = [sys.executable, "-m", "tests.harness"]
    up = subprocess.run(cli + ["up", "--count", "1", "--name", name, "--group", "web=gxt-h1"],
                        cwd=ROOT, capture_output=True, text=True, timeout=300)
    try:
        assert up.returncode == 0, up.stderr
        inv = Path(up.stdout.strip())
        assert inv.is_file() and '"web":' in inv.read_text()
        h = Harness.attach(name)
        snap = snapshot(h)
        assert_present(snap)
        st = subprocess.run(cli + ["status", "--json"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
        runs = {r["name"]: r for r in json.loads(st.stdout)}
        assert runs[name]["hosts"][0]["running"] is True
        h.ssh("gxt-h1", "touch /root/x", check=True)
        rs = subprocess.run(cli + ["reset", "gxt-h1", "--name", name], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
        assert rs.returncode == 0, rs.stderr
        assert h.ssh("gxt-h1", "test -e /root/x").returncode == 1
    finally:
        dn = subprocess.run(cli + ["down", "--name", name], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert dn.returncode == 0, dn.stderr
    assert_gone(snap)


def _as_nobody() -> list[str]:
    if os.geteuid() != 0:
        return []  # already unprivileged
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _unprivileged_python() -> str | None:
    for cand in (os.path.realpath(sys.executable), "/usr/bin/python3"):
        res = subprocess.run([*_as_nobody(), cand, "-c",
                              "import sys; assert sys.version_info >= (3, 11)"],
                             capture_output=True, cwd="/")
        if res.returncode == 0:
            return cand
    return None


@pytest.mark.parametrize("args", [["up", "--count", "1"], ["down"], ["status"], ["image"],
                                  ["reset", "gxt-h1"], ["ssh", "gxt-h1"]])
def test_cli_refuses_non_root(args):
    python = _unprivileged_python()
    if python is None:
        pytest.fail("no Python >= 3.11 that user nobody may run")
    # The repository may not be readable by nobody: run a copy of the package.
    tmp = Path(tempfile.mkdtemp(prefix="gxtax-harness-nonroot-"))
    try:
        (tmp / "tests").mkdir()
        (tmp / "tests" / "__init__.py").write_text("")
        shutil.copytree(ROOT / "tests" / "harness", tmp / "tests" / "harness",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for p in [tmp, *tmp.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        res = subprocess.run([*_as_nobody(), python, "-m", "tests.harness", *args], cwd=tmp,
                             capture_output=True, text=True, timeout=60,
                             env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})
    finally:
        shutil.rmtree(tmp)
    out = (res.stdout + res.stderr).strip().splitlines()
    assert res.returncode == 2, (res.returncode, out)
    assert len(out) == 1 and "root" in out[0], out


# ----------------------------------------------------------------- systemd host

def test_systemd_host_boots_and_answers_ansible(systemd_host, tmp_path):
    host = systemd_host.hosts[0]
    res = systemd_host.ssh(host, "systemctl is-system-running; ps -o comm= -p 1; hostname; "
                                 "systemctl is-active ssh systemd-networkd")
    assert res.returncode in (0, 1), res.stderr
    state, pid1, hostname, ssh_state, networkd_state = res.stdout.split()
    assert state in ("running", "degraded"), res.stdout
    assert pid1 == "systemd"
    assert hostname == host.name
    assert ssh_state == networkd_state == "active"
    playbook = """
- hosts: systemd
  gather_facts: true
  tasks:
    - ansible.builtin.systemd_service:
        name: ssh
        state: restarted
"""
    res, facts = run_playbook(systemd_host.inventory_path, playbook, tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert fact(facts[host.name], "service_mgr") == "systemd"
    # restarting sshd is fine on a systemd host (it would kill a plain one)
    assert systemd_host.ssh(host, "systemctl is-active ssh").stdout.strip() == "active"
    assert nspawn.cgroup_hierarchies() or nspawn.systemd_is_pid1()
