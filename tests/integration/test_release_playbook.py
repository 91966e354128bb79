"""REL-01…09 for real: playbooks/release.yml through ansible-playbook, its weblogic_admin hosts being
harness hosts over SSH (one pre-production, one production), each pointing at its own WebLogic
protocol double on 127.0.0.1 (tests/weblogic_double: not WebLogic, Oracle's documented REST
endpoints), health URLs served on 127.0.0.1, the version archive and the report archive in tmp_path.

Packages here carry no database scripts: no Oracle runs here (the scripts' runner is tested over a
fake driver in tests/unit/test_oracle_script_module.py and live with ORACLE_TEST_DSN).
"""

import json
import os
import pathlib
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from ansible_collections.gxtax.ops.plugins.module_utils import release_package as rp
from ansible_collections.gxtax.ops.plugins.module_utils.report_archive import ReportArchive
from tests.integration.support import prepare_harness, run_name
from tests.weblogic_double import Domain, WeblogicDouble
from tests.weblogic_double import deploy as deploy_routes

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SENTINEL = "Sentinel-release-3f1d-not-for-output"
APP = "gxtax-pub"
TEMPLATE = ROOT / "files" / "release" / "升级说明.md.j2"

def _report_validator():
    """release-report.schema.json refers to the record schema by its $id: resolve it locally."""
    record = json.loads((ROOT / "schemas" / "inspection-record.schema.json").read_text(encoding="utf-8"))
    report = json.loads((ROOT / "schemas" / "release-report.schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(record["$id"], Resource.from_contents(record))
    return jsonschema.Draft202012Validator(report, registry=registry)

# Production windows covering the whole day, so the success path does not depend on the hour the
# tests run at; the contract's windows are tested in tests/unit/test_tax_calendar.py and below.
ALL_DAY = {"production": [{"period": "any", "kinds": ["monthly", "patch", "emergency"],
                           "start": "00:00", "end": "24:00"}]}


def _double():
    server = WeblogicDouble(domain=Domain.sample(), users={"deployer": (SENTINEL, {"Deployer"})})
    server.deploy = deploy_routes.install(server.router)
    server.deploy.delay = 0.05
    return server.start()


class _Health(BaseHTTPRequestHandler):
    """/<env>/health: 200, unless the version deployed in that env's double is listed as bad there."""

    doubles: dict = {}
    bad: set = set()  # (environment, version)

    def do_GET(self):  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        env = self.path.strip("/").split("/")[0]
        meta = self.doubles[env].deploy.meta.get(APP)
        ok = meta is not None and (env, meta.version) not in self.bad
        self.send_response(200 if ok else 503)
        body = ("gxtax-pub %s" % (meta.version if meta else "none")).encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def estate(tmp_path_factory, request):
    """Two harness hosts (pre-production and production Admin hosts), two doubles, a health server."""
    from tests.harness import Harness  # noqa: PLC0415

    prepare_harness("plain")
    harness = Harness(count=2, name=run_name("rel"),
                      groups={"weblogic_admin": ["gxt-h1", "gxt-h2"], "publicity": ["gxt-h1", "gxt-h2"],
                              "preproduction": ["gxt-h1"], "production": ["gxt-h2"]})
    harness.up()
    request.addfinalizer(harness.down)
    doubles = {"preproduction": _double(), "production": _double()}
    for double in doubles.values():
        request.addfinalizer(double.stop)
    _Health.doubles = doubles
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    request.addfinalizer(httpd.server_close)
    request.addfinalizer(httpd.shutdown)

    base = tmp_path_factory.mktemp("estate")
    inventory = base / "inventory"
    inventory.mkdir()
    harness.write_inventory(inventory / "hosts.yml")
    (inventory / "local.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (inventory / "host_vars").mkdir()
    for host, env in (("gxt-h1", "preproduction"), ("gxt-h2", "production")):
        (inventory / "host_vars" / ("%s.yml" % host)).write_text(yaml.safe_dump({
            "gxtax_weblogic_url": doubles[env].url, "gxtax_weblogic_user": "deployer",
            "gxtax_weblogic_password": SENTINEL, "gxtax_weblogic_deploy_timeout": 20,
            "gxtax_release_weblogic_targets": ["gxtax-cluster"],
            "gxtax_release_health_urls": ["http://127.0.0.1:%d/%s/health" % (httpd.server_address[1], env)],
            "gxtax_release_check_retries": 2, "gxtax_release_check_delay": 0,
        }))
    return {"inventory": inventory, "doubles": doubles, "base": base}


def _package(tmp_path, version, **changes):
    src = tmp_path / ("src-" + version)
    (src / "sql").mkdir(parents=True)
    with zipfile.ZipFile(src / "gxtax-pub.war", "w") as war:
        war.writestr("WEB-INF/web.xml", "<web-app/>")
        war.writestr("index.html", "gxtax-pub %s" % version)
    spec = {"version": version, "archive": str(src / "gxtax-pub.war"), "sql_dir": str(src / "sql"),
            "dest": str(tmp_path / "packages"), "instructions_template": str(TEMPLATE),
            "instructions_src": None, "notes": ["%s 版本历史遗留的相关问题。" % version],
            "steps": None, "impact": "升级期间公示平台暂停服务约 30 分钟。",
            "verification": "访问首页，页面正常显示。", "rollback": None, "platform": "publicity",
            "script_encoding": "utf-8", "compress": False, "created_by": "tester",
            "created_at": "2026-11-20T10:00:00+08:00"}
    spec.update(changes)
    return pathlib.Path(rp.build(spec)["path"])


def _release(estate, tmp_path, package, version, *extra, target="production", **variables):
    extra_vars = dict({"gxtax_release_package": str(package), "gxtax_release_version": version,
                       "gxtax_release_platform": "publicity", "gxtax_release_app_name": APP,
                       "gxtax_release_target": target, "gxtax_release_kind": "patch",
                       "gxtax_release_approval": "SQ-2026-118",
                       "gxtax_release_application_date": "2026-01-05",
                       "gxtax_release_window_rules": ALL_DAY,
                       "gxtax_release_archive_root": str(estate["base"] / "releases")}, **variables)
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ["PATH"]),
               GXTAX_REPORT_ROOT=str(tmp_path / "reports"))
    env.pop("ANSIBLE_CONFIG", None)
    inventory = estate["inventory"]
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory / "hosts.yml"),
                           "-i", str(inventory / "local.yml"), "playbooks/release.yml",
                           "-e", json.dumps(extra_vars), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert SENTINEL not in output  # SEC-02
    archive = ReportArchive(str(tmp_path / "reports"))
    [entry] = [e for e in archive.entries() if e["kind"] == "release"]
    assert archive.verify() == []
    run_dir = pathlib.Path(archive.root) / entry["path"]
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    _report_validator().validate(report)
    for name in ("report.json", "report.html", "summary.txt"):
        assert SENTINEL not in (run_dir / name).read_text(encoding="utf-8")
    return proc.returncode, output, report, (run_dir / "report.html").read_text(encoding="utf-8")


def _changes(double):
    return [(r.method, r.path) for r in double.requests
            if r.method != "GET" and not r.path.endswith("/getCurrentState")]


def _clear(estate):
    for double in estate["doubles"].values():
        double.requests.clear()


def test_good_package_goes_preproduction_then_production_then_a_bad_version_is_rolled_back(estate, tmp_path):
    _Health.bad = set()
    first = _package(tmp_path, "1.0.2.05")
    rc, output, report, page = _release(estate, tmp_path / "r1", first, "1.0.2.05")
    assert rc == 0, output
    assert report["outcome"] == "succeeded"
    for env in ("preproduction", "production"):
        assert estate["doubles"][env].deploy.meta[APP].version == "1.0.2.05"
    checks = report["verifications"]
    assert [v["environment"] for v in checks] == ["preproduction", "production"]
    assert all(v["passed"] for v in checks)
    assert report["release"]["package_name"] == "1.0.2_05" and "【系统应用系统补丁升级通知】" in page
    versions = (estate["base"] / "releases" / "versions.jsonl").read_text(encoding="utf-8")
    assert '"1.0.2.05"' in versions and "succeeded" in versions

    # 1.0.2.06 passes pre-production but is unhealthy in production: rolled back to 1.0.2.05.
    _clear(estate)
    _Health.bad = {("production", "1.0.2.06")}
    second = _package(tmp_path, "1.0.2.06")
    rc, output, report, page = _release(estate, tmp_path / "r2", second, "1.0.2.06")
    assert rc != 0
    assert report["outcome"] == "rolled_back", report["conclusion"]
    [rollback] = report["rollbacks"]
    assert (rollback["from"], rollback["to"], rollback["outcome"]) == ("1.0.2.06", "1.0.2.05", "succeeded")
    assert estate["doubles"]["production"].deploy.meta[APP].version == "1.0.2.05"
    redeploys = [p for m, p in _changes(estate["doubles"]["production"]) if p.endswith("/redeploy")]
    assert len(redeploys) == 2  # the new version, then the previous one back
    assert estate["doubles"]["preproduction"].deploy.meta[APP].version == "1.0.2.06"  # verified there
    assert "已回退" in page


def test_packages_with_a_wrong_md5_a_missing_instruction_or_a_bad_name_are_refused_before_any_change(
        estate, tmp_path):
    good = _package(tmp_path, "1.0.3.01")
    broken = {"md5": tmp_path / "md5" / good.name, "instructions": tmp_path / "instructions" / good.name,
              "name": tmp_path / "name" / "1.0.3-01"}
    for path in broken.values():
        path.parent.mkdir(parents=True)
        subprocess.run(["cp", "-a", str(good), str(path)], check=True)
    md5 = next(broken["md5"].glob("*.md5.txt"))
    md5.write_text("0" * 32 + "  gxtax-pub.war\n", encoding="ascii")
    (broken["instructions"] / "升级说明.md").unlink()
    _clear(estate)
    for why, path in broken.items():
        rc, output, report, _page = _release(estate, tmp_path / ("r-" + why), path, "1.0.3.01")
        assert rc != 0, why
        assert report["outcome"] in ("failed", "refused"), (why, report["outcome"])
        assert report["failed_step"], why
        for double in estate["doubles"].values():
            assert _changes(double) == [], why
    assert "md5.txt" in json.dumps(_release_msgs(tmp_path / "r-md5"), ensure_ascii=False)


def _release_msgs(reports):
    archive = ReportArchive(str(reports / "reports"))
    run_dir = pathlib.Path(archive.root) / archive.entries()[-1]["path"]
    return json.loads((run_dir / "report.json").read_text(encoding="utf-8"))["steps"]


def test_a_release_outside_its_window_is_refused_with_the_next_slot(estate, tmp_path):
    package = _package(tmp_path, "1.0.4.01")
    _clear(estate)
    # A planned monthly production release on the 25th of October 2026 falls in 征期 (to the 26th).
    rc, output, report, page = _release(estate, tmp_path / "plan", package, "1.0.4.01", "--check",
                                        gxtax_release_kind="monthly", gxtax_release_window_rules={},
                                        gxtax_release_at="2026-10-25T18:30:00+08:00",
                                        gxtax_release_application_date="2026-10-20")
    assert rc != 0
    assert report["outcome"] == "refused"
    [refusal] = report["refusals"]
    assert refusal["next_allowed"] == "2026-10-27T18:00:00" and "征期" in refusal["reason"]
    # A real run at this very moment, with a production window that is closed now.
    closed = {"production": []}
    rc, output, report, page = _release(estate, tmp_path / "now", package, "1.0.4.01",
                                        gxtax_release_window_rules=closed)
    assert rc != 0 and report["outcome"] == "refused"
    assert "不允许" in report["refusals"][0]["reason"]
    for double in estate["doubles"].values():
        assert _changes(double) == []


def test_a_release_that_reaches_no_host_fails_instead_of_ending_green(estate, tmp_path):
    package = _package(tmp_path, "1.0.5.01")
    _clear(estate)
    rc, output, report, _page = _release(estate, tmp_path / "nohost", package, "1.0.5.01",
                                         gxtax_release_platform="avrecord")
    assert rc != 0 and "发布未在所有环境完成验证（已验证：无）" in output
    assert report["outcome"] == "failed"
    for double in estate["doubles"].values():
        assert _changes(double) == []
