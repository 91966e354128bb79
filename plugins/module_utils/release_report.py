# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the release report (REL-09, REL-08, SEC-03) from plain data.

The callback gxtax.ops.release_report collects steps, release metadata, events
and records of a release run and hands them here; this module turns them into
the report dict written as report.json (schemas/release-report.schema.json) and
the short summary.txt. HTML rendering: release_html.py. Runs on the control node
only (Python 3.11).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping

from ansible_collections.gxtax.ops.plugins.module_utils.inspection_report import status_counts
from ansible_collections.gxtax.ops.plugins.module_utils.records import (
    SEVERITY,
    make_record,
    normalise,
    record_problems,
    worst,
)
from ansible_collections.gxtax.ops.plugins.module_utils.sql_redact import redact_message

REPORT_SCHEMA = "gxtax.ops/release-report/1"
HIDDEN = "（已隐藏）"
MSG_LIMIT = 500
# Variables whose name holds one of these never reach a report, whatever a task returns.
SECRET_WORDS = ("password", "passwd", "secret", "token")

OUTCOME_ZH = {"succeeded": "成功", "refused": "已拒绝（未做任何变更）", "failed": "失败",
              "rolled_back": "已回退"}
STEP_STATUS_ZH = {"ok": "成功", "failed": "失败", "skipped": "跳过", "unreachable": "无法连接",
                  "ignored": "失败（已忽略）", "rescued": "失败（已由 rescue 处理）"}
ENVIRONMENT_ZH = {"production": "生产环境", "preproduction": "预生产环境", "test": "测试环境",
                  "local": "本机"}
KIND_ZH = {"monthly": "月度版本", "patch": "补丁", "emergency": "紧急补丁"}
EVENT_TYPES = ("refused", "rollback", "verification", "db_script")
DB_OUTCOMES = {"succeeded": "succeeded", "success": "succeeded", "ok": "succeeded", "成功": "succeeded",
               "failed": "failed", "failure": "failed", "error": "failed", "失败": "failed",
               "skipped": "skipped", "跳过": "skipped"}
RESULT_ZH = {"succeeded": "成功", "failed": "失败", "skipped": "跳过"}
STEP_TAG = re.compile(r"^(REL-[0-9]{2})\b")
HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256"}
# release_meta keys with a place of their own in the report; anything else goes to `other`.
RELEASE_KEYS = ("title", "version", "package", "package_name", "environment", "kind", "approval",
                "emergency_approval", "application_date", "window_check", "checksums", "notice")


def env_zh(environment):
    return ENVIRONMENT_ZH.get(environment, environment or "")


def result_zh(outcome):
    return RESULT_ZH.get(outcome, outcome)


def is_step_name(name):
    """A task is a release step when its name starts with a REL- requirement tag."""
    return bool(STEP_TAG.match(name or ""))


def step_requirement(name):
    match = STEP_TAG.match(name or "")
    return match.group(1) if match else None


def is_secret_name(name):
    lowered = str(name).lower()
    return any(word in lowered for word in SECRET_WORDS)


def scrub(value):
    """value with every entry whose key names a secret replaced by （已隐藏）, at any depth."""
    if isinstance(value, Mapping):
        return {str(k): HIDDEN if is_secret_name(k) else scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def text(value, limit=MSG_LIMIT):
    """One trimmed line of text from a msg that may be a string, a list or a dict."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = "；".join(text(v, limit) for v in value)
    elif isinstance(value, Mapping):
        value = json.dumps(scrub(value), ensure_ascii=False, sort_keys=True, default=str)
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[:limit - 1] + "…"


def _seconds(started, ended):
    try:
        delta = _dt.datetime.fromisoformat(ended) - _dt.datetime.fromisoformat(started)
    except (TypeError, ValueError):
        return None
    return round(delta.total_seconds(), 1)


def _flag(value):
    """True/False for booleans and the usual words; None when unknown."""
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "yes", "1", "passed", "ok", "通过", "是"):
        return True
    if lowered in ("false", "no", "0", "failed", "未通过", "否"):
        return False
    return None


# -- release metadata ---------------------------------------------------------

def _checksums(raw, problems):
    """{file: {"md5": ..., "sha256": ...}} from {file: digest-or-dict}."""
    out = {}
    if not isinstance(raw, Mapping):
        problems.append("release_meta.checksums 应为 {文件: 校验值} 字典，实为 %s" % type(raw).__name__)
        return out
    for name, digest in raw.items():
        if isinstance(digest, Mapping):
            out[str(name)] = {str(k).lower(): str(v) for k, v in digest.items()}
        else:
            value = str(digest).strip()
            out[str(name)] = {HASH_LENGTHS.get(len(value), "value"): value}
    return out


def _window_check(raw):
    if isinstance(raw, Mapping):
        return {"allowed": _flag(raw.get("allowed")), "reason": text(raw.get("reason")),
                "next_allowed": text(raw.get("next_allowed")) or None}
    return {"allowed": None, "reason": text(raw), "next_allowed": None}


def merge_release(parts, problems):
    """One release dict from the release_meta of every task, later tasks winning key by key."""
    release = {key: None for key in RELEASE_KEYS}
    release.update(checksums={}, environments=[], other={})
    for part in parts:
        if not isinstance(part, Mapping):
            problems.append("release_meta 应为字典，实为 %s，已忽略" % type(part).__name__)
            continue
        for key, value in scrub(part).items():
            if key == "checksums":
                release["checksums"].update(_checksums(value, problems))
            elif key == "window_check":
                release["window_check"] = _window_check(value)
            elif key == "notice":
                release["notice"] = str(value).strip()  # shown verbatim (REL-06): keep its lines
            elif key in RELEASE_KEYS:
                release[key] = None if value is None else text(value)
            else:
                release["other"][key] = text(value)
            if key == "environment" and value and release["environment"] not in release["environments"]:
                release["environments"].append(release["environment"])
    return release


def title_of(release):
    if release.get("title"):
        return release["title"]
    title = "版本发布报告"
    if release.get("version"):
        title += " %s" % release["version"]
    if release["environments"]:
        title += "（%s）" % "、".join(env_zh(e) for e in release["environments"])
    return title


# -- events --------------------------------------------------------------------

def _event(raw, origin, problems):
    kind = raw.get("type")
    base = {"type": kind, "host": origin.get("host"), "task": origin.get("task"), "time": origin.get("time")}
    if kind == "refused":
        base.update(reason=text(raw.get("reason")) or "未说明原因",
                    next_allowed=text(raw.get("next_allowed")) or None)
    elif kind == "rollback":
        base.update({"from": text(raw.get("from")) or None, "to": text(raw.get("to")) or None,
                     "reason": text(raw.get("reason")) or "未说明原因",
                     "outcome": DB_OUTCOMES.get(str(raw.get("outcome", "")).strip().lower())
                     or text(raw.get("outcome")) or "未说明"})
    elif kind == "verification":
        passed = _flag(raw.get("passed"))
        if passed is None:
            problems.append("任务“%s”的验证事件缺少 passed（true/false），按未通过处理" % origin.get("task"))
            passed = False
        checks = []
        for check in raw.get("checks") or []:
            if isinstance(check, Mapping):
                checks.append({"item": text(check.get("item") or check.get("name")) or "检查项",
                               "passed": _flag(check.get("passed")), "detail": text(check.get("detail"))})
            else:  # a bare name: what was checked, with the verification's own verdict
                checks.append({"item": text(check), "passed": passed, "detail": ""})
        base.update(environment=text(raw.get("environment")) or None, passed=passed, checks=checks)
    else:  # db_script
        outcome = DB_OUTCOMES.get(str(raw.get("outcome", "")).strip().lower())
        if outcome is None:
            problems.append("任务“%s”的数据库脚本事件结果 %r 无法识别，按失败处理"
                            % (origin.get("task"), raw.get("outcome")))
            outcome = "failed"
        rows, seconds = raw.get("rows"), raw.get("seconds")
        base.update(script=text(raw.get("script")) or "未命名脚本", outcome=outcome,
                    rows=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
                    seconds=seconds if isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
                    else None,
                    # Oracle messages can quote row values: literals out (SEC-02).
                    error=redact_message(raw.get("error"), limit=300) if raw.get("error") else None)
    return base


def normalise_events(raw_events, problems):
    """[(event dict, {"host", "task", "time"}), ...] -> checked events by type."""
    out = {kind: [] for kind in EVENT_TYPES}
    for raw, origin in raw_events:
        if not isinstance(raw, Mapping) or raw.get("type") not in EVENT_TYPES:
            kind = raw.get("type") if isinstance(raw, Mapping) else type(raw).__name__
            problems.append("任务“%s”返回的 release_event 类型 %r 无法识别（应为 %s），已忽略"
                            % (origin.get("task"), kind, "/".join(EVENT_TYPES)))
            continue
        out[raw["type"]].append(_event(scrub(raw), origin, problems))
    return out


def checked_records(raw_records):
    """Well-formed records kept (normalised); anything else becomes an error record."""
    out = []
    for raw, origin in raw_records:
        problems = record_problems(raw)
        if not problems:
            out.append(normalise(scrub(raw)))
            continue
        out.append(make_record("REL-09", "记录格式错误（任务 %s）" % origin.get("task"),
                               origin.get("host") or "localhost", "error",
                               detail="任务返回的记录不符合统一记录格式：%s" % "；".join(problems)[:300],
                               direction="检查该任务所用模块的版本与记录格式",
                               consequence="该项验证结果缺失"))
    return sorted(out, key=lambda r: (SEVERITY[r["status"]], r["host"]))


# -- steps and outcome ---------------------------------------------------------

def normalise_steps(raw_steps, hosts):
    """Number the steps; a failure a rescue handled (its host ended without failures) is `rescued`."""
    steps = []
    for number, raw in enumerate(raw_steps, start=1):
        step = {
            "seq": number, "play": text(raw.get("play"), 200), "host": raw["host"],
            "task": text(raw["task"], 300), "requirement_id": step_requirement(raw["task"]),
            "started": raw.get("started"), "ended": raw.get("ended"),
            "seconds": _seconds(raw.get("started"), raw.get("ended")),
            "status": raw["status"], "changed": bool(raw.get("changed")),
            "items": raw.get("items"), "hidden": bool(raw.get("hidden")),
            "msg": HIDDEN if raw.get("hidden") else text(raw.get("msg")),
        }
        if step["status"] == "failed" and (hosts.get(step["host"]) or {}).get("failures") == 0:
            step["status"] = "rescued"
        steps.append(step)
    return steps


def _failure_reasons(steps, events, records, hosts):
    reasons = []
    failed = [s for s in steps if s["status"] in ("failed", "unreachable")]
    for step in failed[:3]:
        status = STEP_STATUS_ZH[step["status"]]
        reasons.append("步骤“%s”在主机 %s %s：%s" % (step["task"], step["host"], status,
                                                  step["msg"] or "无详细信息"))
    if len(failed) > 3:
        reasons.append("另有 %d 个步骤失败" % (len(failed) - 3))
    stepped = {s["host"] for s in failed}
    for name, host in sorted(hosts.items()):
        handled = host.get("state") == "failed" and host.get("failures") == 0  # a rescue handled it
        if host.get("state") in ("failed", "unreachable") and not handled and name not in stepped:
            reasons.append("主机 %s %s：%s" % (name, STEP_STATUS_ZH.get(host["state"], host["state"]),
                                            host.get("message") or "无详细信息"))
    for script in events["db_script"]:
        if script["outcome"] == "failed":
            reasons.append("数据库脚本 %s 执行失败%s" % (script["script"],
                                                  "：" + script["error"] if script["error"] else ""))
    for check in events["verification"]:
        if not check["passed"]:
            reasons.append("%s发布后验证未通过" % env_zh(check["environment"]))
    bad = [r for r in records if r["status"] in ("critical", "error")]
    if bad:
        reasons.append("验证记录有 %d 项异常（%s）" % (len(bad), "、".join(
            "%s %s" % (r["host"], r["item"]) for r in bad[:3]) + ("等" if len(bad) > 3 else "")))
    return reasons


def decide_outcome(steps, events, records, hosts):
    """(outcome, reasons): a rollback is always the outcome; a refusal only while nothing changed."""
    reasons = _failure_reasons(steps, events, records, hosts)
    changed = [s for s in steps if s["changed"]]
    if events["rollback"]:
        return "rolled_back", reasons
    if events["refused"]:
        if changed:
            return "failed", ["发布被拒绝，但已有步骤做出变更（%s），需人工核查"
                              % "、".join("%s@%s" % (s["task"], s["host"]) for s in changed[:3])] + reasons
        return "refused", []
    if not steps:
        return "failed", reasons + ["未执行任何发布步骤（任务名以 REL- 开头的任务）"]
    return ("failed", reasons) if reasons else ("succeeded", [])


def first_failed_step(steps):
    for step in steps:
        if step["status"] in ("failed", "unreachable"):
            return step
    return None


def conclusion(outcome, reasons, release, steps, events, records):
    version = release.get("version") or "（未登记版本号）"
    envs = "、".join(env_zh(e) for e in release["environments"]) or "目标环境"
    if outcome == "rolled_back":
        parts = ["发布已回退：" + "；".join("从 %s 回退到 %s，原因：%s，回退结果：%s" % (
            r["from"] or "（未登记）", r["to"] or "（未登记）", r["reason"], result_zh(r["outcome"]))
            for r in events["rollback"])]
        if reasons:
            parts.append("回退前的问题：" + "；".join(reasons))
        return "。".join(parts) + "。"
    if outcome == "refused":
        refusal = events["refused"][0]
        nxt = "；下次允许发布时间：%s" % refusal["next_allowed"] if refusal["next_allowed"] else ""
        return "版本 %s 的发布被拒绝，未做任何变更。原因：%s%s。" % (version, refusal["reason"], nxt)
    if outcome == "failed":
        return "版本 %s 在%s的发布失败：%s。" % (version, envs, "；".join(reasons))
    done = [s for s in steps if s["status"] != "skipped"]
    sentence = "版本 %s 已在%s发布成功：执行 %d 个步骤" % (version, envs, len(done))
    if events["db_script"]:
        sentence += "，数据库脚本 %d 个均执行成功" % len(events["db_script"])
    if events["verification"] or records:
        sentence += "，发布后验证通过"
    else:
        sentence += "，本次未登记发布后验证结果，需人工确认"
    warnings = [r for r in records if r["status"] == "warning"]
    if warnings:
        names = "、".join(r["item"] for r in warnings[:3])
        sentence += "；验证中有 %d 项需关注（%s）" % (len(warnings), names)
    return sentence + "。"


def build_report(meta, steps, release_meta=(), events=(), records=(), hosts=None, problems=()):
    """The report dict.

    meta: run metadata (run_id, operator, inventory, started, ended, ...);
    steps: [{"play", "host", "task", "started", "ended", "status", "changed", "items", "msg",
    "hidden"}] in completion order; release_meta: [dict, ...] in task order; events and records:
    [(raw, {"host", "task", "time"}), ...]; hosts: {name: {"state", "message", "failures"}}
    (failures from the play stats, None when unknown).
    """
    hosts = {name: dict(info) for name, info in (hosts or {}).items()}
    problems = list(problems)
    release = merge_release(release_meta, problems)
    by_type = normalise_events(events, problems)
    records = checked_records(records)
    steps = normalise_steps(steps, hosts)
    outcome, reasons = decide_outcome(steps, by_type, records, hosts)
    for host in hosts.values():
        if host.get("state") == "failed" and host.get("failures") == 0:
            host["state"], host["message"] = "ok", ""
        host.pop("failures", None)
    title = title_of(release)
    return {
        "schema": REPORT_SCHEMA,
        "title": title,
        "meta": dict(meta, kind="release", title=title),
        "outcome": outcome,
        "outcome_zh": OUTCOME_ZH[outcome],
        "conclusion": conclusion(outcome, reasons, release, steps, by_type, records),
        "reasons": reasons,
        # A refused run's failing step is the one that stopped it on purpose, not a failure.
        "failed_step": None if outcome == "refused" else first_failed_step(steps),
        "release": release,
        "steps": steps,
        "refusals": by_type["refused"],
        "rollbacks": by_type["rollback"],
        "db_scripts": by_type["db_script"],
        "verifications": by_type["verification"],
        "records": records,
        "record_status": worst(records) if records else None,
        "counts": status_counts(records),
        "hosts": hosts,
        "problems": problems,
    }


def index_meta(report):
    """The archive index entry's meta: version, package, environment, outcome and title are a
    contract (the version archive finds release reports by kind=release and meta.version)."""
    release = report["release"]
    return {"version": release["version"] or "", "package": release["package"] or "",
            "package_name": release["package_name"] or "", "environment": release["environment"] or "",
            "environments": list(release["environments"]), "release_kind": release["kind"] or "",
            "outcome": report["outcome"], "title": report["title"]}


def render_summary(report):
    """Plain text; the first line carries the outcome so a rollback cannot be missed."""
    release, meta, steps = report["release"], report["meta"], report["steps"]
    failed = [s for s in steps if s["status"] in ("failed", "unreachable")]
    lines = [
        "【%s】%s %s" % (report["outcome_zh"], report["title"], meta.get("run_id", "")),
        "结论: " + report["conclusion"],
        "版本: %s  包: %s" % (release["version"] or "-",
                            release["package_name"] or release["package"] or "-"),
        "环境: %s  类型: %s" % ("、".join(env_zh(e) for e in release["environments"]) or "-",
                             KIND_ZH.get(release["kind"], release["kind"] or "-")),
        "操作人: %s  时间: %s — %s" % (meta.get("operator", ""), meta.get("started", ""),
                                   meta.get("ended", "")),
        "步骤: %d（失败 %d）  数据库脚本: %d  验证: %d  回退: %d" % (
            len(steps), len(failed), len(report["db_scripts"]), len(report["verifications"]),
            len(report["rollbacks"])),
    ]
    if report["failed_step"]:
        step = report["failed_step"]
        lines.append("失败步骤: %s @ %s: %s" % (step["task"], step["host"], step["msg"]))
    return "\n".join(lines) + "\n"
