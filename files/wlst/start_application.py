# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: F821, E722, PLR1722 - WLST defines connect, startApplication, exit(exitcode=...), execfile (Jython 2.2)
#
# Start a deployed application of a WebLogic 10.3.6 domain and check it is STATE_ACTIVE.
#   wlst.sh start_application.py <app> [target,target,...]
# Credentials: see gxtax_wlst.py (never on the command line).
# WLST startApplication: https://docs.oracle.com/cd/E23943_01/web.1111/e13813/reference.htm

import os
import sys

execfile(os.path.join(os.path.dirname(sys.argv[0]), "gxtax_wlst.py"))

args = gxtax_args(1, "start_application.py <app> [targets]")
app = args[0]
gxtax_connect()
gxtax_say("starting application %s" % app)
try:
    startApplication(app, block="true")
except:
    gxtax_fail("start of %s failed: %s" % (app, sys.exc_info()[1]))
if len(args) > 1 and args[1]:
    for target in args[1].split(","):
        state = gxtax_app_state(app, target)
        if state != "STATE_ACTIVE":
            gxtax_fail("application %s is %s on %s" % (app, state, target))
gxtax_finish()
