# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version filters (REL-01, REL-05): thin wrappers over module_utils/release_version.py.

version_valid             '1.0.2.06' -> True
version_bump(part)        '1.0.2.06' | version_bump('minor') -> '1.0.3.00'
version_normalize         '1.0.2' -> '1.0.2.00'
release_package_name      '1.0.2.06' -> '1.0.2_06'
Each filter has its documentation in plugins/filter/<name>.yml (ansible-doc -t filter).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.gxtax.ops.plugins.module_utils import release_version as _rv


def _filter_error(func, *args):
    try:
        return func(*args)
    except _rv.VersionError as exc:
        raise AnsibleFilterError(str(exc)) from None


def version_valid(version):
    return _rv.is_valid(str(version)) if isinstance(version, str) else False


def version_bump(version, part="patch"):
    return _filter_error(_rv.bump, str(version) if isinstance(version, str) else version, part)


def version_normalize(version):
    return _filter_error(_rv.normalize, str(version) if isinstance(version, str) else version)


def release_package_name(version):
    return _filter_error(_rv.package_name, str(version) if isinstance(version, str) else version)


class FilterModule:
    def filters(self):
        return {
            "version_valid": version_valid,
            "version_bump": version_bump,
            "version_normalize": version_normalize,
            "release_package_name": release_package_name,
        }
