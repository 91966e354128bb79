#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: url_check
short_description: Check that web application entries answer in time with the expected page (INSP-17)
version_added: 0.1.0
description:
  - Requests each URL with HTTP GET from where the module runs (normally the control node,
    C(delegate_to=localhost)) and returns one inspection record per URL (requirement C(INSP-17)),
    in the record format every gxtax.ops check yields (C(schemas/inspection-record.schema.json)).
  - The record's value is the response time in milliseconds (request until the body, at most 1 MiB,
    has been read). A connection error, a timeout, a TLS failure, an unexpected HTTP status or a
    missing expected text is C(critical); a response time at or above O(urls[].warn_ms) or
    O(urls[].crit_ms) is C(warning) or C(critical).
  - Proxy variables of the environment (C(http_proxy), C(https_proxy), C(no_proxy)) are ignored on
    purpose, the inspection must measure the service itself, not a proxy that may answer from its
    cache or add its own delay.
  - Redirects are not followed unless O(follow_redirects) (or the entry's C(follow_redirects)) is set,
    so a redirect to a login or error page shows up as an unexpected status C(3xx).
  - Records and results never contain the response body or credentials; the URL they show has its
    user information, query string and fragment removed (SEC-02).
  - An entry that cannot be checked (no C(url), not C(http)/C(https), impossible thresholds) gives a
    record with status C(error) saying why; the other URLs are still checked and the module does not
    fail, so one bad entry cannot fail a C(run_once) task for every host of a play.
  - A URL listed twice is checked once, under its first entry.
  - Read-only; runs in check mode too.
options:
  urls:
    description:
      - The URLs to check.
    type: list
    elements: dict
    required: true
    suboptions:
      url:
        description:
          - C(http://) or C(https://) URL. User information (C(user:password@)) is used only to answer
            a C(401) Basic challenge from that URL and is never shown.
        type: str
        required: true
      name:
        description: Chinese label for the report (e.g. C(公示平台首页)); default is the URL.
        type: str
      expect_status:
        description: HTTP status code, or list of codes, that count as available.
        type: raw
        default: 200
      expect_text:
        description:
          - Text that must appear in the first 1 MiB of the body (matched in the charset the server
            declares, else UTF-8 or GB18030). Pick a stable marker such as the page title.
        type: str
      timeout:
        description: Seconds to wait for the connection and for each read; default O(timeout).
        type: float
      warn_ms:
        description: Response time in ms at or above which the record is C(warning); default O(warn_ms).
        type: float
      crit_ms:
        description: Response time in ms at or above which the record is C(critical); default O(crit_ms).
        type: float
      follow_redirects:
        description: Follow redirects for this URL; default O(follow_redirects).
        type: bool
      record_host:
        description: Inventory host name the record is about; default O(host).
        type: str
  host:
    description:
      - Inventory host name put into the records of entries without C(record_host).
    type: str
    default: localhost
  timeout:
    description: Default of O(urls[].timeout), in seconds.
    type: float
    default: 10
  warn_ms:
    description: Default of O(urls[].warn_ms).
    type: float
    default: 3000
  crit_ms:
    description: Default of O(urls[].crit_ms).
    type: float
    default: 8000
  follow_redirects:
    description: Default of O(urls[].follow_redirects).
    type: bool
    default: false
  validate_certs:
    description:
      - Verify HTTPS certificates and host names. Leave on; for an internal CA give O(ca_path) instead.
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA certificates that sign the applications' certificates.
    type: path
  url_username:
    description:
      - User name sent, with O(url_password), in answer to a C(401) Basic challenge from any of O(urls)
        (never preemptively). Use one task per set of credentials.
    type: str
  url_password:
    description: Password for O(url_username).
    type: str
  parallel:
    description:
      - How many URLs are checked at the same time. V(1) checks them one after another, which gives the
        truest response times at the cost of the sum of the timeouts in the worst case.
    type: int
    default: 4
notes:
  - Uses only the Python standard library (urllib); runs on Python 3.7 and later.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.tcp_port_check
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: Check both platforms' entry pages from the control node
  gxtax.ops.url_check:
    host: "{{ inventory_hostname }}"
    urls:
      - url: "http://{{ ansible_host }}:7001/gsgs/"
        name: 行政执法信息公示平台首页
        expect_text: 行政执法信息公示
      - url: https://avrecord.example.gov.cn/login
        name: 执法音像记录平台登录页
        expect_status: [200, 302]
        warn_ms: 2000
    ca_path: /etc/pki/gxtax/ca.pem
  delegate_to: localhost
  register: app_urls
"""

RETURN = r"""
records:
  description: One inspection record per URL (requirement C(INSP-17)), in the shared record format.
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-17
      item: 应用访问 行政执法信息公示平台首页
      host: pub-wls01
      status: warning
      value: 3512.4
      unit: ms
      threshold: {warning: 3000, critical: 8000}
      detail: >-
        行政执法信息公示平台首页（http://192.0.2.22:7001/gsgs/）返回 HTTP 200，
        响应时间 3512.4 ms，已达到告警阈值 3000 ms。
      direction: 检查应用服务器CPU、内存和JVM GC情况，数据库TOP SQL和锁等待，以及网络带宽和延迟
      consequence: 页面响应慢，用户办理业务等待时间长，高峰期可能超时
results:
  description: Raw figures per URL, in the order of O(urls) (duplicates removed).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The entry's name, or null.
      type: str
    url:
      description: The URL without user information, query string and fragment.
      type: str
    record_host:
      description: Host name of the record.
      type: str
    status:
      description: HTTP status code, null when there was no answer.
      type: int
    elapsed_ms:
      description: Response time in ms, null when there was no answer.
      type: float
    bytes:
      description: Body bytes read (at most 1 MiB).
      type: int
    truncated:
      description: Whether the body was longer than what was read.
      type: bool
    text_found:
      description: Whether C(expect_text) was found; null when none was asked for.
      type: bool
    location:
      description: The C(Location) header of a redirect, without query string.
      type: str
    error:
      description: Why there was no answer (exception type and message), or null.
      type: str
status:
  description: The worst status among O(records).
  returned: always
  type: str
  sample: ok
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.probes import check_urls, fetch, split_url
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst


def main():
    module = AnsibleModule(
        argument_spec=dict(
            # elements raw, validated per entry in module_utils: one bad entry becomes one
            # error record instead of failing the task (a failed run_once task fails every host).
            urls=dict(type="list", elements="raw", required=True),
            host=dict(type="str", default="localhost"),
            timeout=dict(type="float", default=10.0),
            warn_ms=dict(type="float", default=3000.0),
            crit_ms=dict(type="float", default=8000.0),
            follow_redirects=dict(type="bool", default=False),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            url_username=dict(type="str"),
            url_password=dict(type="str", no_log=True),
            parallel=dict(type="int", default=4),
        ),
        supports_check_mode=True,
    )
    p = module.params
    # Passwords written into a URL are not no_log options: mask them in everything returned.
    for entry in p["urls"]:
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            try:
                _bare, _user, secret, _display = split_url(entry["url"])
            except ValueError:
                continue
            if secret:
                module.no_log_values.add(secret)

    def fetcher(spec):
        return fetch(spec, validate_certs=p["validate_certs"], ca_path=p["ca_path"],
                     username=p["url_username"], password=p["url_password"])

    defaults = {"timeout": p["timeout"], "warn_ms": p["warn_ms"], "crit_ms": p["crit_ms"],
                "follow_redirects": p["follow_redirects"]}
    records, results = check_urls(p["urls"], defaults, p["host"], fetcher, p["parallel"])
    module.exit_json(changed=False, records=records, results=results, status=worst(records))


if __name__ == "__main__":
    main()
