# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: F821, E722, PLR1722 - WLST defines connect, deploy, exit(exitcode=...) and execfile (Jython 2.2)
#
# Deploy an application on a WebLogic 10.3.6 domain and check it is STATE_ACTIVE on its targets.
#   wlst.sh deploy.py <app> <archive on the Admin host> <target,target,...> [plan]
# Credentials: see gxtax_wlst.py (never on the command line).
# WLST deploy: https://docs.oracle.com/cd/E23943_01/web.1111/e13813/reference.htm

import os
import sys

execfile(os.path.join(os.path.dirname(sys.argv[0]), "gxtax_wlst.py"))

args = gxtax_args(3, "deploy.py <app> <path> <targets> [plan]")
app, path, targets = args[0], args[1], args[2]
gxtax_connect()
gxtax_say("deploying %s from %s to %s" % (app, path, targets))
try:
    if len(args) > 3 and args[3]:
        deploy(app, path, targets=targets, planPath=args[3], block="true")
    else:
        deploy(app, path, targets=targets, block="true")
except:
    gxtax_fail("deployment of %s failed: %s" % (app, sys.exc_info()[1]))
for target in targets.split(","):
    state = gxtax_app_state(app, target)
    if state != "STATE_ACTIVE":
        gxtax_fail("application %s is %s on %s" % (app, state, target))
gxtax_finish()
