# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of warning/critical threshold pairs, shared by every check family.

Keys are <kind>_warning / <kind>_critical, optionally with a unit suffix
(clock_offset_warning_ms). Runs on managed hosts too (host_metrics): Python 3.7.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def kind_of(key):
    """cpu_warning -> cpu; clock_offset_critical_ms -> clock_offset."""
    base = str(key).replace("_warning", "", 1).replace("_critical", "", 1)
    return base[:-3] if base.endswith("_ms") else base


def key_problem(key, value, defaults, percent_kinds):
    """A Chinese / English sentence when one threshold value is impossible, else None.
    None as value is allowed: it switches that level off."""
    if key not in defaults:
        return ("未知阈值 %s / unknown threshold %s (known: %s)"
                % (key, key, ", ".join(sorted(defaults))))
    if value is None:
        return None
    if not is_number(value):
        return "阈值 %s 必须是数字 / threshold %s must be a number, got %r" % (key, key, value)
    if kind_of(key) in percent_kinds and not 0 <= value <= 100:
        return ("阈值 %s 必须在 0 到 100 之间 / threshold %s must be between 0 and 100, got %s"
                % (key, key, value))
    if value < 0:
        return "阈值 %s 不能为负数 / threshold %s must not be negative, got %s" % (key, key, value)
    return None


def order_problems(thresholds, defaults, usable):
    """Sentences for each pair whose warning lies above its critical.

    Compared on the values in force (the override where usable, else the
    default), so raising only the warning above the default critical is
    caught too; a pair with a refused or switched-off value is not compared.
    """
    problems = []
    for low in sorted(k for k in defaults if "_warning" in k):
        high = low.replace("_warning", "_critical", 1)
        if high not in defaults or not (low in thresholds or high in thresholds):
            continue
        if any(k in thresholds and k not in usable for k in (low, high)):
            continue
        low_value, high_value = thresholds.get(low, defaults[low]), thresholds.get(high, defaults[high])
        if low_value is not None and high_value is not None and low_value > high_value:
            problems.append("告警阈值 %s (%s) 高于严重阈值 %s (%s) / "
                            "warning threshold %s (%s) is above critical threshold %s (%s)"
                            % (low, low_value, high, high_value, low, low_value, high, high_value))
    return problems


def validate(thresholds, defaults, percent_kinds):
    """Every problem of a threshold override dict; [] if all is well.

    The order of a pair is compared only between two otherwise valid values,
    so one mistake gives one message.
    """
    if not isinstance(thresholds, dict):
        return ["阈值必须是字典 / thresholds must be a dictionary"]
    problems, usable = [], set()
    for key in sorted(thresholds, key=str):
        problem = key_problem(key, thresholds[key], defaults, percent_kinds)
        if problem:
            problems.append(problem)
        elif thresholds[key] is not None:
            usable.add(key)
    return problems + order_problems(thresholds, defaults, usable)
