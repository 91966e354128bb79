# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The archive_root option of every report callback, used as gxtax.ops.report_archive.

Every kind of report goes to one archive (DESIGN.md); the callbacks resolve its default with
module_utils/run_context.default_archive_root().
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  archive_root:
    description:
      - Root of the report archive shared by every kind of report (inspection, release, patch,
        hardening, holiday). A relative path is taken from the current directory.
      - Default is C(reports) beside the C(playbooks) directory of the playbook being run.
    type: path
    env:
      - name: GXTAX_REPORT_ROOT
    ini:
      - section: gxtax_report
        key: archive_root
"""
