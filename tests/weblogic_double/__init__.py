"""A protocol double of Oracle WebLogic Server's RESTful Management API, for tests.

It is a double, not WebLogic: a loopback HTTP(S) server that answers the documented
endpoints gxtax-ops uses (see runtime.py for each endpoint and the Oracle page it follows)
from a small in-memory domain (domain.py) that tests change.

    from tests.weblogic_double import Domain, WeblogicDouble

    with WeblogicDouble(domain=Domain.sample()) as double:
        double.domain.set_state("ms2", "SHUTDOWN")
        client = WeblogicClient(double.url, "monitor", double.users["monitor"][0])

New endpoints (deployment, life cycle) register on `double.router` with
`register(method, path_regex, handler, roles=...)`, as runtime.install() does.
"""

from tests.weblogic_double.domain import (
    DOWN_STATES,
    HEALTH_STATES,
    SERVER_STATES,
    Application,
    DataSource,
    DataSourceRuntime,
    Domain,
    Server,
    ThreadPool,
)
from tests.weblogic_double.server import READ_ROLES, ROLES, DoubleError, Request, Router, WeblogicDouble

__all__ = [
    "DOWN_STATES", "HEALTH_STATES", "READ_ROLES", "ROLES", "SERVER_STATES", "Application", "DataSource",
    "DataSourceRuntime", "Domain", "DoubleError", "Request", "Router", "Server", "ThreadPool",
    "WeblogicDouble",
]
