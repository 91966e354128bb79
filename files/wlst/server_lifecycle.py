# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: F821, E722, PLR1722 - WLST defines connect, deploy, exit(exitcode=...) and execfile (Jython 2.2)
#
# Start, shut down or restart one managed server of a WebLogic 10.3.6 domain (REL-09).
#   wlst.sh server_lifecycle.py start|shutdown|restart <server> [shutdown-timeout] [ignore-sessions]
#           [wait-timeout] [app,app,...]
# shutdown is graceful: in-flight work may finish for shutdown-timeout seconds (0: no limit);
# start goes through the server's Node Manager. With apps, each must be STATE_ACTIVE on the
# server afterwards. Credentials: see gxtax_wlst.py (never on the command line).
# WLST shutdown/start/state: https://docs.oracle.com/cd/E23943_01/web.1111/e13813/reference.htm

import os
import sys

execfile(os.path.join(os.path.dirname(sys.argv[0]), "gxtax_wlst.py"))

args = gxtax_args(2, "server_lifecycle.py start|shutdown|restart <server> [timeout] [ignoreSessions] "
                     "[waitTimeout] [apps]")
action, server = args[0], args[1]
shutdown_timeout, ignore_sessions, wait_timeout, apps = 300, "false", 600, []
if len(args) > 2:
    shutdown_timeout = int(args[2])
if len(args) > 3:
    ignore_sessions = args[3]
if len(args) > 4:
    wait_timeout = int(args[4])
if len(args) > 5 and args[5]:
    apps = args[5].split(",")
if action not in ("start", "shutdown", "restart"):
    gxtax_fail("unknown action %s" % action)

gxtax_connect()
if action in ("shutdown", "restart") and gxtax_server_state(server) != "SHUTDOWN":
    gxtax_say("shutting down %s (timeout %d s, ignoreSessions %s)"
              % (server, shutdown_timeout, ignore_sessions))
    shutdown(server, "Server", ignoreSessions=ignore_sessions, timeOut=shutdown_timeout, force="false",
             block="false")
    gxtax_wait_state(server, "SHUTDOWN", wait_timeout + shutdown_timeout)
if action in ("start", "restart") and gxtax_server_state(server) != "RUNNING":
    gxtax_say("starting %s through Node Manager" % server)
    start(server, "Server", block="false")
    gxtax_wait_state(server, "RUNNING", wait_timeout)
for app in apps:
    app_state = gxtax_app_state(app, server)
    if app_state != "STATE_ACTIVE":
        gxtax_fail("application %s is %s on server %s" % (app, app_state, server))
gxtax_finish()
