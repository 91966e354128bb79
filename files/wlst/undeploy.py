# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: F821, E722, PLR1722 - WLST defines connect, undeploy, exit(exitcode=...) and execfile (Jython 2.2)
#
# Undeploy an application from a WebLogic 10.3.6 domain.
#   wlst.sh undeploy.py <app>
# Credentials: see gxtax_wlst.py (never on the command line).
# WLST undeploy: https://docs.oracle.com/cd/E23943_01/web.1111/e13813/reference.htm

import os
import sys

execfile(os.path.join(os.path.dirname(sys.argv[0]), "gxtax_wlst.py"))

args = gxtax_args(1, "undeploy.py <app>")
app = args[0]
gxtax_connect()
gxtax_say("undeploying %s" % app)
try:
    undeploy(app, block="true")
except:
    gxtax_fail("undeployment of %s failed: %s" % (app, sys.exc_info()[1]))
gxtax_finish()
