"""Command line: python -m tests.harness {up,down,status,image,reset,ssh} (as root).

  up --count 3 [--flavour plain|systemd] [--name RUN] [--group G=h1,h2]...
                       bring hosts up; prints the inventory path
  down [--name RUN]    tear one run down; without --name every recorded run, and sweep
  status [--json]      recorded runs and their hosts
  image [--force]      build (or rebuild) the cached image only; prints its root
  reset HOST [--name RUN]   put a host back to the pristine image
  ssh HOST [--name RUN] [COMMAND...]   ssh into a host as root
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

NEEDS_ROOT = ("gxtax harness: this command needs root (network namespaces, mounts, a bridge);"
              " run it as root")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.harness",
                                description="gxtax test-host harness (needs root)")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="bring hosts up and print the inventory path")
    up.add_argument("--count", type=int, default=3)
    up.add_argument("--flavour", "--flavor", choices=("plain", "systemd"), default="plain")
    up.add_argument("--name", default="default", help="run name (default: default)")
    up.add_argument("--group", action="append", default=[], metavar="GROUP=HOST,HOST",
                    help="extra inventory group (repeatable)")

    down = sub.add_parser("down", help="tear down a run (all runs without --name)")
    down.add_argument("--name")

    st = sub.add_parser("status", help="show recorded runs")
    st.add_argument("--json", action="store_true")

    img = sub.add_parser("image", help="build the cached image only")
    img.add_argument("--force", action="store_true", help="rebuild even if cached")

    rs = sub.add_parser("reset", help="reset a host to the pristine image")
    rs.add_argument("host")
    rs.add_argument("--name", help="run name (default: the run that has HOST)")

    sh = sub.add_parser("ssh", help="ssh into a host as root")
    sh.add_argument("host")
    sh.add_argument("--name", help="run name (default: the run that has HOST)")
    sh.add_argument("remote", nargs=argparse.REMAINDER)
    return p


def _parse_groups(specs) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, members = spec.partition("=")
        if not sep or not name:
            raise SystemExit(f"bad --group {spec!r}: use GROUP=host1,host2")
        groups.setdefault(name, []).extend(m for m in members.split(",") if m)
    return groups


def _find_run(host: str, name: str | None) -> str:
    from .state import RunState, all_runs
    from .util import HarnessError
    if name:
        return name
    owners = []
    for n in all_runs():
        rs = RunState.load(n)
        if rs and any(host in (h.name, h.address) for h in rs.hosts):
            owners.append(n)
    if len(owners) != 1:
        raise HarnessError(f"host {host!r} is in {len(owners)} runs ({', '.join(owners)}); "
                           "say which with --name")
    return owners[0]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if os.geteuid() != 0 and not {"-h", "--help"} & set(argv):
        print(NEEDS_ROOT, file=sys.stderr)
        return 2
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(message)s", stream=sys.stderr)

    from . import api, image
    from .util import HarnessError

    try:
        if args.command == "up":
            h = api.Harness(count=args.count, flavour=args.flavour, name=args.name,
                            groups=_parse_groups(args.group), persistent=True)
            h.up()
            print(h.inventory_path)
        elif args.command == "down":
            names = api.down(args.name)
            print("down: " + (" ".join(names) if names else "(no runs)"), file=sys.stderr)
        elif args.command == "status":
            st = api.status()
            if args.json:
                print(json.dumps(st, indent=2))
            elif not st:
                print("no runs")
            for r in st if not args.json else []:
                print(f"{r['name']}: {r.get('flavour', '?')} inventory={r.get('inventory')}"
                      f" apt={r.get('apt_repo')}")
                for hh in r.get("hosts", []):
                    print(f"  {hh['name']:<10} {hh['address']:<14} "
                          f"{'running' if hh['running'] else 'STOPPED'}"
                          f"{'' if hh['mounted'] else ' (root not mounted)'}")
        elif args.command == "image":
            print(image.ensure_image(force=args.force))
        elif args.command == "reset":
            h = api.Harness.attach(_find_run(args.host, args.name))
            host = h.reset(args.host)
            print(f"{host.name} {host.address} reset", file=sys.stderr)
        elif args.command == "ssh":
            h = api.Harness.attach(_find_run(args.host, args.name))
            remote = args.remote[1:] if args.remote[:1] == ["--"] else args.remote
            cmd = h.ssh_command(args.host) + remote
            os.execvp(cmd[0], cmd)
    except HarnessError as exc:
        print(f"gxtax harness: error: {exc}", file=sys.stderr)
        return 1
    return 0
