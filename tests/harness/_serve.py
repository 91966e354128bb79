"""Tiny static HTTP server for the local apt repository (run as a separate process).

usage: python _serve.py DIRECTORY BIND_ADDRESS PORT_FILE
Binds an ephemeral port on BIND_ADDRESS only, writes the port to PORT_FILE, serves forever.
"""

import functools
import http.server
import os
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))
        sys.stderr.flush()


def main() -> None:
    directory, bind, port_file = sys.argv[1:4]
    handler = functools.partial(Handler, directory=directory)
    server = http.server.ThreadingHTTPServer((bind, 0), handler)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(str(server.server_address[1]))
    os.replace(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
