# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every WebLogic REST module, used as gxtax.ops.weblogic.

The argument spec that goes with it is weblogic_rest.connection_argument_spec(). A module
documents O(user) again when it needs a particular role.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  url:
    description: The Admin Server, C(https://host:port) or C(http://host:port), e.g. C(https://wls-admin:7002).
    type: str
    required: true
  user:
    description: A WebLogic user in the role the operation needs.
    type: str
    required: true
  password:
    description: The user's password (from Ansible Vault); never logged or returned.
    type: str
    required: true
  validate_certs:
    description:
      - Verify the Admin Server's HTTPS certificate and host name. Leave on; for an internal CA give
        O(ca_path) instead.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file, or directory of hashed PEM files, of the CA that signs the Admin Server's certificate.
    type: path
"""
