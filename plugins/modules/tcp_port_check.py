#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_port_check
short_description: Check that database listener ports accept TCP connections (INSP-02, network part)
version_added: 0.1.0
description:
  - Opens, and at once closes, one TCP connection to each target from where the module runs (normally
    the control node, C(delegate_to=localhost), which is where applications' traffic is judged from)
    and returns one inspection record per target (requirement C(INSP-02)) in the record format every
    gxtax.ops check yields (C(schemas/inspection-record.schema.json)).
  - The record's item is C(数据库监听端口 <host>:<port> 可达性) and its value the connect time in
    milliseconds. A refused connection, a timeout, an unresolvable host name or any other connection
    error is C(critical), with the investigation direction (listener process, C(lsnrctl status),
    firewall, network) and the consequence.
  - This is the network half of INSP-02; a real database login is the Oracle checks' part.
  - An entry that cannot be checked (no C(host), a port outside 1-65535) gives a record with status
    C(error); the others are still checked and the module does not fail.
  - A C(host:port) listed twice is checked once, under its first entry.
  - Read-only; runs in check mode too.
options:
  targets:
    description: The listeners to check.
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description: Address or host name to connect to.
        type: str
        required: true
      port:
        description: TCP port (the Oracle listener's is usually V(1521)).
        type: int
        required: true
      name:
        description: Label shown in the record's detail (e.g. the inventory host name or C(公示平台数据库)).
        type: str
      record_host:
        description: Inventory host name the record is about; default O(host).
        type: str
  timeout:
    description:
      - Seconds to wait for each connection. The default, 3, lets one lost SYN be retransmitted
        (after 1 s on Linux) while a dead host cannot stall the inspection.
    type: float
    default: 3
  host:
    description: Inventory host name put into the records of targets without C(record_host).
    type: str
    default: localhost
  parallel:
    description: How many targets are checked at the same time.
    type: int
    default: 8
notes:
  - Uses only the Python standard library; runs on Python 3.7 and later.
extends_documentation_fragment:
  - gxtax.ops.attributes.read_only
seealso:
  - module: gxtax.ops.url_check
author:
  - gxtax-ops contributors
"""

EXAMPLES = r"""
- name: Check every Oracle listener from the control node
  gxtax.ops.tcp_port_check:
    targets:
      - host: 192.0.2.11
        port: 1521
        name: pub-db01
        record_host: pub-db01
      - host: 192.0.2.31
        port: 1521
        name: av-db01
        record_host: av-db01
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
records:
  description: One inspection record per target (requirement C(INSP-02)), in the shared record format.
  returned: always
  type: list
  elements: dict
  sample:
    - requirement_id: INSP-02
      item: 数据库监听端口 192.0.2.11:1521 可达性
      host: pub-db01
      status: critical
      value: null
      unit: ms
      threshold: 3 秒内可建立TCP连接
      detail: pub-db01（192.0.2.11:1521）TCP连接失败：连接被拒绝（端口未监听或服务未启动）。
      direction: >-
        检查数据库监听进程是否运行（lsnrctl status）及 listener.ora 中的地址和端口，
        检查主机防火墙（firewalld/iptables）和控制节点到数据库的网络链路
      consequence: 应用无法连接数据库，业务中断
results:
  description: Raw figures per target, in the order of O(targets) (duplicates removed).
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: Address connected to.
      type: str
    port:
      description: Port connected to.
      type: int
    name:
      description: The entry's name, or null.
      type: str
    record_host:
      description: Host name of the record.
      type: str
    connected:
      description: Whether the connection was accepted.
      type: bool
    elapsed_ms:
      description: Connect time in ms, null when it failed.
      type: float
    error:
      description: Why it failed (exception type and message), or null.
      type: str
status:
  description: The worst status among O(records).
  returned: always
  type: str
  sample: ok
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gxtax.ops.plugins.module_utils.probes import check_tcp
from ansible_collections.gxtax.ops.plugins.module_utils.records import worst


def main():
    module = AnsibleModule(
        argument_spec=dict(
            # elements raw: a bad entry is an error record, not a failed (run_once) task.
            targets=dict(type="list", elements="raw", required=True),
            timeout=dict(type="float", default=3.0),
            host=dict(type="str", default="localhost"),
            parallel=dict(type="int", default=8),
        ),
        supports_check_mode=True,
    )
    p = module.params
    records, results = check_tcp(p["targets"], p["timeout"], p["host"], parallel=p["parallel"])
    module.exit_json(changed=False, records=records, results=results, status=worst(records))


if __name__ == "__main__":
    main()
