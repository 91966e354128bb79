# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: F821, E722, PLR1722 - WLST defines connect, deploy, exit(exitcode=...) and execfile (Jython 2.2)
#
# Shared part of the gxtax-ops WLST scripts for WebLogic 10.3.6, whose REST API is read-only.
# Loaded by each script with execfile(), so it runs in the script's namespace and sees the WLST
# commands (connect, deploy, shutdown, ...).
#
# Syntax kept to what WLST 10.3.6's Jython 2.2.1 accepts (no `with`, no `x if c else y`, no
# `except E as e`, no print function, no try/except/finally in one statement), which also
# parses as Python 3 so that the tests can check it.
#
# Credentials are read from the file named by the environment variable GXTAX_WLST_CREDENTIALS
# (lines url=..., user=..., password=...; written with mode 0600 by the role and deleted after
# the run), never from the command line, where `ps` shows them to every user of the host.
# WLST commands: "WLST Command Reference for WebLogic Server" (11g, 10.3.6),
# https://docs.oracle.com/cd/E23943_01/web.1111/e13813/toc.htm

import os
import sys
import time

GXTAX_CREDENTIALS_ENV = "GXTAX_WLST_CREDENTIALS"


def gxtax_say(message):
    # One line per event; the role shows the last GXTAX line as the reason of a failure.
    sys.stdout.write("GXTAX %s\n" % message)
    sys.stdout.flush()


def gxtax_fail(message, code=2):
    gxtax_say(message)
    exit(exitcode=code)


def gxtax_read_credentials():
    path = os.environ.get(GXTAX_CREDENTIALS_ENV)
    if not path:
        gxtax_fail("no credentials file: set %s to its path" % GXTAX_CREDENTIALS_ENV)
    values = {}
    handle = open(path, "r")
    try:
        for raw in handle.readlines():
            line = raw.strip()
            if not line or line[0] == "#" or line.find("=") < 0:
                continue
            key = line[:line.find("=")].strip()
            values[key] = line[line.find("=") + 1:]
    finally:
        handle.close()
    for key in ("url", "user", "password"):
        if not values.get(key):
            gxtax_fail("credentials file lacks %s" % key)
    return values


def gxtax_connect():
    creds = gxtax_read_credentials()
    try:
        connect(creds["user"], creds["password"], creds["url"])
    except:  # Jython 2.2 has no `except E as e`; the message is all we need
        # The exception text of a failed login never holds the password, but say only the URL.
        gxtax_fail("cannot connect to %s as %s" % (creds["url"], creds["user"]))
    creds["password"] = None


def gxtax_args(count, usage):
    # sys.argv[0] is the script; names of servers and applications only, never a secret.
    if len(sys.argv) < count + 1:
        gxtax_fail("usage: %s" % usage)
    return sys.argv[1:]


def gxtax_server_state(name):
    domainRuntime()
    return str(getMBean("/ServerLifeCycleRuntimes/" + name).getState())


def gxtax_app_state(app, target):
    domainRuntime()
    return str(getMBean("/AppRuntimeStateRuntime/AppRuntimeStateRuntime").getCurrentState(app, target))


def gxtax_wait_state(name, wanted, timeout):
    deadline = time.time() + timeout
    state = gxtax_server_state(name)
    while state != wanted:
        if wanted == "RUNNING" and state == "FAILED_NOT_RESTARTABLE":
            gxtax_fail("server %s failed to start (state %s)" % (name, state))
        if time.time() >= deadline:
            gxtax_fail("server %s did not reach %s within %d s (state %s)" % (name, wanted, timeout, state))
        time.sleep(2)
        state = gxtax_server_state(name)
    gxtax_say("server %s is %s" % (name, state))


def gxtax_finish():
    disconnect()
    exit(exitcode=0)
