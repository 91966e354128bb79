# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inspection filters (control node): thin wrappers over plugins/module_utils.

basic_info_records  INSP-14: ansible_facts + documented inventory vars -> basic-information records
threshold_problems  INSP-01: the problems of a thresholds dict (Chinese / English), [] when usable
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.validation import check_type_dict
from ansible_collections.gxtax.ops.plugins.module_utils.basic_info import INVENTORY_VARS
from ansible_collections.gxtax.ops.plugins.module_utils.basic_info import (
    basic_info_records as _basic_info_records,
)
from ansible_collections.gxtax.ops.plugins.module_utils.host_metrics import (
    merge_thresholds,
    validate_thresholds,
)


def _plain(value):
    """Jinja's mapping/sequence proxies (hostvars, AnsibleUnsafe) as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def basic_info_records(facts, inventory_vars, host, ssh_version=None):
    """{{ ansible_facts | gxtax.ops.basic_info_records(vars_dict, inventory_hostname, ssh_v) }}

    Only the documented inventory variables are read from inventory_vars (even when it is
    the whole of hostvars[inventory_hostname]), so credentials never reach a record.
    """
    if not host:
        raise AnsibleFilterError("basic_info_records needs the host name (inventory_hostname)")
    if inventory_vars is not None and not isinstance(inventory_vars, Mapping):
        raise AnsibleFilterError("basic_info_records: inventory_vars must be a dict, got %s"
                                 % type(inventory_vars).__name__)
    chosen = {k: _plain(inventory_vars[k]) for k in INVENTORY_VARS if k in (inventory_vars or {})}
    return _basic_info_records(_plain(facts or {}), chosen, str(host), ssh_version or "")


def threshold_problems(thresholds):
    """{{ gxtax_inspection_thresholds | gxtax.ops.threshold_problems }} -> list of messages."""
    if thresholds is None:
        thresholds = {}
    if isinstance(thresholds, str):  # -e key=value gives text; the module's dict type parses it too
        try:
            thresholds = check_type_dict(thresholds)
        except (TypeError, ValueError):
            pass  # reported below as not a dictionary
    if not isinstance(thresholds, Mapping):
        return validate_thresholds(thresholds)
    return validate_thresholds(merge_thresholds(_plain(thresholds)))


class FilterModule:
    def filters(self):
        return {
            "basic_info_records": basic_info_records,
            "threshold_problems": threshold_problems,
        }
