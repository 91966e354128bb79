# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: F821, E722, PLR1722 - WLST defines connect, serverConfig, getMBean and execfile (Jython 2.2)
#
# Say whether an application is deployed on a WebLogic 10.3.6 domain, and its state per target:
#   wlst.sh app_state.py <app> [target,target,...]
# prints "GXTAX deployed yes|no" and, when deployed, "GXTAX state <target> <STATE_...>" per target.
# Read-only; the deploy role decides from it between deploy, redeploy and nothing.
# AppDeployments (configuration tree): https://docs.oracle.com/cd/E23943_01/apirefs.1111/e13951/core/index.html

import os
import sys

execfile(os.path.join(os.path.dirname(sys.argv[0]), "gxtax_wlst.py"))

args = gxtax_args(1, "app_state.py <app> [targets]")
app = args[0]
gxtax_connect()
serverConfig()
if getMBean("/AppDeployments/" + app) is None:
    gxtax_say("deployed no")
else:
    gxtax_say("deployed yes")
    if len(args) > 1 and args[1]:
        for target in args[1].split(","):
            gxtax_say("state %s %s" % (target, gxtax_app_state(app, target)))
gxtax_finish()
