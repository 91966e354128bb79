# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version numbers of the two platforms (REL-01) and package names (REL-05).

A version is 主版本.大版本.次版本.修改版本 (main.major.minor.patch), e.g. ``1.0.2.06``:

* main: one digit 1-9 (the contract fixes it at 1 until an architecture change);
* major and minor: 0-99, written WITHOUT leading zeros (``0``, ``2``, ``10``), as in the
  contract's example ``1.0.2.06``. One number has one spelling, so ``1.0.02.06`` and
  ``1.0.2.06`` can never name two archive entries for the same version (REL-08);
* patch: exactly two digits ``00``-``99`` (the contract's example writes ``06``).

``normalize`` is the lenient entry point: it accepts the legacy three-part form
(``1.0.2`` -> ``1.0.2.00``), leading zeros in major/minor and a one-digit patch,
and returns the canonical spelling. Everything else insists on the canonical form.

The package name is 版本号_补丁号: ``1.0.2.06`` -> ``1.0.2_06``.

Plain Python, no Ansible imports; valid on Python 3.7.
"""

from __future__ import absolute_import, division, print_function

import re

__metaclass__ = type

PARTS = ("main", "major", "minor", "patch")
BUMP_PARTS = ("patch", "minor", "major")
MAX_PART = 99

_CANONICAL = re.compile(r"^([1-9])\.(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)\.([0-9]{2})$")
_LENIENT = re.compile(r"^([1-9])\.([0-9]{1,2})\.([0-9]{1,2})(?:\.([0-9]{1,2}))?$")
_PACKAGE = re.compile(r"^([1-9]\.(?:0|[1-9][0-9]?)\.(?:0|[1-9][0-9]?))_([0-9]{2})$")

RULE = ("版本号格式为 主版本.大版本.次版本.修改版本（如 1.0.2.06）：主版本 1 位数字 1-9，"
        "大版本、次版本 0-99 不补零，修改版本固定 2 位 / version must be main.major.minor.patch "
        "like 1.0.2.06: main one digit 1-9, major and minor 0-99 without leading zeros, "
        "patch exactly two digits")


class VersionError(ValueError):
    """A version number or package name breaks the REL-01 / REL-05 rules."""


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise VersionError("版本号必须是字符串，收到 %s / version must be a string, got %s"
                           % (type(value).__name__, type(value).__name__))
    return value


def is_valid(version):
    """True when version is a canonical four-part version number."""
    if not isinstance(version, str):
        return False
    return _CANONICAL.fullmatch(version) is not None


def parse(version):
    """Canonical version text -> (main, major, minor, patch) ints; VersionError otherwise."""
    text = _text(version)
    match = _CANONICAL.fullmatch(text)
    if not match:
        raise VersionError("版本号 %r 不符合规则。%s" % (text, RULE))
    return tuple(int(part) for part in match.groups())


def format_version(parts):
    """(1, 0, 2, 6) -> '1.0.2.06'."""
    main, major, minor, patch = parts
    return "%d.%d.%d.%02d" % (main, major, minor, patch)


def normalize(version):
    """Legacy or loosely written version -> canonical text (1.0.2 -> 1.0.2.00)."""
    text = _text(version).strip()
    match = _LENIENT.fullmatch(text)
    if not match:
        raise VersionError("无法识别的版本号 %r：应为 x.xx.xx 或 x.xx.xx.xx。%s" % (text, RULE))
    main, major, minor, patch = match.groups()
    return format_version((int(main), int(major), int(minor), int(patch or 0)))


def bump(version, part="patch"):
    """Next version: patch +1; minor +1 and patch 00; major +1, minor 0 and patch 00.

    The contract resets the patch when the minor changes; resetting minor and patch when
    the major changes is our decision (the same principle one level up).
    """
    if part not in BUMP_PARTS:
        raise VersionError("版本号只能按 patch/minor/major 递增，收到 %r（主版本只在整体架构升级时"
                           "由项目组修改）/ part must be patch, minor or major, got %r"
                           % (part, part))
    main, major, minor, patch = parse(version)
    if part == "patch":
        if patch >= MAX_PART:
            raise VersionError("修改版本 %s 已达 99，不能再加 1，请递增次版本 / patch %s is at 99 and "
                               "cannot be bumped; bump the minor version" % (version, version))
        return format_version((main, major, minor, patch + 1))
    if part == "minor":
        if minor >= MAX_PART:
            raise VersionError("次版本 %s 已达 99，不能再加 1，请递增大版本 / minor %s is at 99 and "
                               "cannot be bumped; bump the major version" % (version, version))
        return format_version((main, major, minor + 1, 0))
    if major >= MAX_PART:
        raise VersionError("大版本 %s 已达 99，不能再加 1（主版本由项目组决定）/ major %s is at 99 "
                           "and cannot be bumped" % (version, version))
    return format_version((main, major + 1, 0, 0))


def package_name(version):
    """'1.0.2.06' -> '1.0.2_06' (版本号_补丁号, REL-05)."""
    main, major, minor, patch = parse(version)
    return "%d.%d.%d_%02d" % (main, major, minor, patch)


def version_from_package_name(name):
    """'1.0.2_06' -> '1.0.2.06'; VersionError when name is not a package name."""
    text = _text(name)
    match = _PACKAGE.fullmatch(text)
    if not match:
        raise VersionError("包名称 %r 不符合 版本号_补丁号 格式（如 1.0.2_06）/ package name %r is not "
                           "<version>_<patch> like 1.0.2_06" % (text, text))
    return "%s.%s" % match.groups()


def series(version):
    """'1.0.2.06' -> '1.0.2', the monthly milestone a patch belongs to (archive folder)."""
    return "%d.%d.%d" % parse(version)[:3]


def version_key(version):
    """Sort key: numbers per part, so 1.0.10.00 sorts after 1.0.9.00."""
    return parse(version)


def compare(left, right):
    """-1, 0 or 1 as left is older than, equal to or newer than right."""
    a, b = version_key(left), version_key(right)
    return (a > b) - (a < b)
