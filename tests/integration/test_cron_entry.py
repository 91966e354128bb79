"""scripts/gxtax-inspect, the cron entry point (INSP-15): real runs of the inspection playbook on
this machine through ansible-runner, with the WeCom webhook and the SMTP relay played on
127.0.0.1 (tests/unit/test_notify.py), plus its lock and exit-status logic."""

import fcntl
import importlib.machinery
import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest

from ansible_collections.gxtax.ops.plugins.module_utils.host_metrics import (
    DEFAULT_THRESHOLDS,
    PERCENT_THRESHOLDS,
)
from ansible_collections.gxtax.ops.plugins.module_utils.inspection_report import STATUS_ZH
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive, sha256_bytes
from tests.unit.test_notify import FakeSMTP, FakeWeCom

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gxtax-inspect"
BIN = pathlib.Path(sys.executable).parent
WEBHOOK_KEY = "wecomkey-SENTINEL-5d1e"
SMTP_PASSWORD = "smtppw-SENTINEL-88ab"
OTHER_SECRET = "oraclepw-SENTINEL-c0de"  # a secret of somebody else's, passed to Ansible by env
# Thresholds nothing on a live machine reaches (100 % is "full"), so a clean run is clean
# whatever this machine's load; and the opposite: CPU use >= 0 % is always critical
# (host_metrics.validate_thresholds allows 0/0: within 0-100, warning not above critical).
RELAXED = {k: (100 if k.rsplit("_", 1)[0] in PERCENT_THRESHOLDS else 10 ** 9) for k in DEFAULT_THRESHOLDS}
CRITICAL_CPU = {"cpu_warning": 0, "cpu_critical": 0}


def _load_script():
    loader = importlib.machinery.SourceFileLoader("gxtax_inspect", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def _require_ansible():
    if not (BIN / "ansible-playbook").exists():
        reason = "ansible-playbook not beside %s (run make venv)" % sys.executable
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, so this fails)", pytrace=False)
        pytest.skip(reason)


def _cron_env(**extra):
    """What cron gives a job: a bare PATH without the virtualenv, no ANSIBLE_CONFIG."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
           "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}
    env.update(extra)
    return env


def _command():
    """The script as cron starts it (its shebang, system python3), when the checkout's .venv is
    this interpreter's: that also proves the re-exec into .venv. Else this interpreter."""
    if pathlib.Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return [str(SCRIPT)]
    return [sys.executable, str(SCRIPT)]


def _run(tmp_path, *args, thresholds=RELAXED, env=None):
    _require_ansible()
    argv = [*_command(), "--runner-dir", str(tmp_path / "runner"), "--report-root", str(tmp_path / "reports"),
            "-e", "gxtax_inspection_sample_seconds=0.2",
            "-e", json.dumps({"gxtax_inspection_thresholds": thresholds}), *args]
    return subprocess.run(argv, cwd=tmp_path, env=_cron_env(**(env or {})), capture_output=True,
                          text=True, timeout=300)


def _reports(tmp_path):
    archive = ReportArchive(tmp_path / "reports")
    if not os.path.exists(archive.index_path):
        return archive, []
    assert archive.verify() == []
    return archive, archive.entries()


def _report_of(archive, entry):
    path = pathlib.Path(archive.root) / entry["path"] / "report.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _files_containing(top, needles):
    found = []
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            data = pathlib.Path(dirpath, name).read_bytes()
            found += ["%s: %s" % (os.path.join(dirpath, name), n) for n in needles if n.encode() in data]
    return found


def _mail_args(server):
    return ["--notify", "mail", "--mail-to", "ops@example.cn", "--mail-to", "lead@example.cn",
            "--mail-from", "gxtax@example.cn", "--smtp-host", "127.0.0.1", "--smtp-port", str(server.port),
            "--smtp-security", "none", "--smtp-user", "gxtax"]


# ------------------------------------------------------------------ real runs

@pytest.mark.integration
def test_clean_run_exits_0_and_sends_the_report_to_wecom_and_mail(tmp_path):
    with FakeWeCom() as robot, FakeSMTP(credentials=("gxtax", SMTP_PASSWORD)) as relay:
        proc = _run(tmp_path, "--notify", "wecom", *_mail_args(relay),
                    env={"GXTAX_WECOM_WEBHOOK": robot.url(WEBHOOK_KEY), "GXTAX_SMTP_PASSWORD": SMTP_PASSWORD,
                         "GXTAX_ORACLE_PASSWORD": OTHER_SECRET})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    archive, entries = _reports(tmp_path)
    assert [e["kind"] for e in entries] == ["inspection"]
    run_dir = pathlib.Path(archive.root) / entries[0]["path"]
    report = _report_of(archive, entries[0])
    # Warnings this machine may have (no time sync service, say) still exit 0.
    status = report["overall_status"]
    assert status in ("ok", "warning") and report["hosts"]["localhost"]["state"] == "ok"
    lines = proc.stdout.strip().splitlines()
    assert lines == ["Inspection report: %s status: %s (%s); notified: wecom (127.0.0.1), mail (127.0.0.1)"
                     % (run_dir / "report.html", status, STATUS_ZH[status])]
    assert proc.stderr == ""

    assert len(robot.received) == 1
    path, body = robot.received[0]
    assert path.endswith("key=" + WEBHOOK_KEY) and body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    colour = "info" if status == "ok" else "warning"
    assert '总体状态：<font color="%s">%s</font>' % (colour, STATUS_ZH[status]) in content
    assert report["meta"]["run_id"] in content
    assert "`%s`" % (run_dir / "report.html") in content
    assert len(content.encode("utf-8")) <= 4096

    assert len(relay.messages) == 1 and relay.messages[0]["auth"] == "gxtax"
    assert relay.messages[0]["to"] == ["ops@example.cn", "lead@example.cn"]
    mail = relay.parsed()
    started = report["meta"]["started"].replace("T", " ")[:16]
    assert mail["Subject"] == "[巡检] 系统巡检报告 %s %s" % (started, STATUS_ZH[status])
    (attachment,) = mail.iter_attachments()
    assert sha256_bytes(attachment.get_payload(decode=True)) == entries[0]["files"]["report.html"]

    # SEC-02: no secret in any file the run left, nor in its output.
    secrets = [WEBHOOK_KEY, SMTP_PASSWORD, OTHER_SECRET]
    assert _files_containing(tmp_path / "runner", secrets) == []
    assert _files_containing(tmp_path / "reports", secrets) == []
    assert not any(s in proc.stdout + proc.stderr for s in secrets)
    # ...while the other secret did reach the playbook's environment (masked in the artifact).
    (artifact,) = (tmp_path / "runner" / "artifacts").iterdir()
    command = json.loads((artifact / "command").read_text(encoding="utf-8"))
    assert command["env"]["GXTAX_ORACLE_PASSWORD"] == "********"
    assert "GXTAX_SMTP_PASSWORD" not in command["env"] and "GXTAX_WECOM_WEBHOOK" not in command["env"]
    assert command["env"]["GXTAX_REPORT_ROOT"] == str(tmp_path / "reports")
    assert (tmp_path / "runner").stat().st_mode & 0o777 == 0o700
    assert not (tmp_path / "runner" / "env").exists()


@pytest.mark.integration
def test_critical_item_exits_2_and_the_message_names_it(tmp_path):
    with FakeWeCom() as robot:
        proc = _run(tmp_path, "--notify", "wecom", "--report-url-base", "https://reports.example.cn/gxtax",
                    thresholds=CRITICAL_CPU, env={"GXTAX_WECOM_WEBHOOK": robot.url(WEBHOOK_KEY)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    archive, entries = _reports(tmp_path)
    report = _report_of(archive, entries[0])
    assert report["overall_status"] == "critical"
    assert any(r["item"] == "CPU使用率" and r["status"] == "critical" for r in report["records"])
    assert proc.stdout.strip().endswith("status: critical (严重); notified: wecom (127.0.0.1)")
    content = robot.received[0][1]["markdown"]["content"]
    assert '<font color="warning">严重</font> localhost｜CPU使用率' in content
    assert "[查看完整报告](https://reports.example.cn/gxtax/%s/report.html)" % entries[0]["path"] in content


@pytest.mark.integration
def test_failed_notification_exits_3_and_keeps_the_report(tmp_path):
    with FakeWeCom(answer={"errcode": 93000, "errmsg": "invalid webhook url"}) as robot:
        proc = _run(tmp_path, "--notify", "wecom", env={"GXTAX_WECOM_WEBHOOK": robot.url(WEBHOOK_KEY)})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert len(robot.received) == 1
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 1 and "wecom notification failed" in errors[0] and "93000" in errors[0]
    assert WEBHOOK_KEY not in proc.stderr + proc.stdout
    archive, entries = _reports(tmp_path)
    assert len(entries) == 1
    status = _report_of(archive, entries[0])["overall_status"]
    assert "status: %s (%s)" % (status, STATUS_ZH[status]) in proc.stdout and "notified" not in proc.stdout


@pytest.mark.integration
def test_no_report_exits_1_and_the_group_hears_of_it(tmp_path):
    with FakeWeCom() as robot:
        proc = _run(tmp_path, "--notify", "wecom", "-e", "@%s" % (tmp_path / "missing-vars.yml"),
                    env={"GXTAX_WECOM_WEBHOOK": robot.url(WEBHOOK_KEY)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert "no report written" in proc.stderr.strip().splitlines()[-1]
    assert _reports(tmp_path)[1] == []
    content = robot.received[0][1]["markdown"]["content"]
    assert "未生成报告" in content and "返回码" in content


@pytest.mark.integration
def test_a_second_run_while_the_lock_is_held_exits_1(tmp_path):
    runner = tmp_path / "runner"
    runner.mkdir(mode=0o700)
    with open(runner / "gxtax-inspect.lock", "w", encoding="ascii") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        proc = _run(tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "another run (pid 4242) holds the lock" in lines[0]
    assert not (tmp_path / "reports").exists()
    # Released: the next run goes ahead.
    assert _run(tmp_path).returncode == 0


@pytest.mark.integration
def test_artifact_rotation_keeps_the_last_n_runs(tmp_path):
    idents = []
    for _ in range(3):
        proc = _run(tmp_path, "--keep-artifacts", "2")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        idents.append(sorted(p.name for p in (tmp_path / "runner" / "artifacts").iterdir()))
    assert [len(i) for i in idents] == [1, 2, 2]
    assert idents[2][0] == idents[1][1]  # the oldest went, the newest two stayed
    assert len(_reports(tmp_path)[1]) == 3  # reports are never rotated


def test_bad_arguments_exit_1_with_one_line(tmp_path):
    cases = [
        (["--notify", "wecom"], "GXTAX_WECOM_WEBHOOK"),
        # The webhook is never taken from argv, not even by abbreviation, and never echoed.
        (["--wecom-webhook", "https://x/?key=" + WEBHOOK_KEY], "unrecognized arguments: --wecom-webhook"),
        (["--wecom-webhook-file", "https://x/?key=" + WEBHOOK_KEY], "cannot read --wecom-webhook-file"),
        (["--inventory", "inventories/nope"], "inventory inventories/nope does not exist"),
        (["--notify", "mail", "--mail-to", "a@b.cn"], "--notify mail needs"),
        (["--notify", "mail", "--mail-to", "a@b.cn", "--mail-from", "c@b.cn", "--smtp-host", "mail.b.cn",
          "--smtp-security", "none", "--smtp-user", "u"], "GXTAX_SMTP_PASSWORD"),
        (["--keep-artifacts", "-1"], "--keep-artifacts"),
    ]
    for args, expected in cases:
        proc = subprocess.run([sys.executable, str(SCRIPT), "--runner-dir", str(tmp_path / "r"), *args],
                              cwd=tmp_path, env=_cron_env(), capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, args
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (args, proc.stderr)
        assert WEBHOOK_KEY not in proc.stderr + proc.stdout
    assert not (tmp_path / "r").exists()


def test_help_documents_the_insp15_crontab_and_exit_statuses():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True,
                          timeout=60, env=_cron_env())
    assert proc.returncode == 0
    for text in ("30 8,17 * * *", "0 12 * * *", "gxtax-schedule-gate --when workday --",
                 "analytical systems: 08:30", "exit status:", "--playbook", "--report-kind",
                 "GXTAX_WECOM_WEBHOOK", "--keep-artifacts"):
        assert text in proc.stdout, text


# ------------------------------------------------------------------ lock and status logic

def test_lock_is_exclusive_and_not_inherited_by_children(tmp_path):
    script = _load_script()
    fd = script.acquire_lock(str(tmp_path))
    assert fd is not None and not os.get_inheritable(fd)
    assert script.acquire_lock(str(tmp_path)) is None  # flock is per open file: a second open is refused
    # A background child started without closing descriptors must not keep the lock.
    child = subprocess.Popen(["sleep", "60"], close_fds=False)
    try:
        os.close(fd)
        again = script.acquire_lock(str(tmp_path))
        assert again is not None, "a child process inherited the lock"
        os.close(again)
    finally:
        child.kill()
        child.wait()


def _report(overall="ok", hosts=None, **counts):
    return {"overall_status": overall, "counts": dict({"ok": 3}, **counts),
            "hosts": hosts or {"h1": {"state": "ok"}}}


def test_exit_status_from_the_report():
    assess = _load_script().assess
    assert assess(_report()) == 0
    assert assess(_report("warning", warning=2)) == 0
    assert assess(_report("critical", critical=1)) == 2
    assert assess(_report("error", error=1)) == 2
    assert assess(_report("warning", error=1, warning=1)) == 2  # counts are read, not only the summary
    assert assess(_report("ok", hosts={"h1": {"state": "ok"}, "h2": {"state": "unreachable"}})) == 2
    assert assess(_report("ok", hosts={"h1": {"state": "failed"}})) == 2
