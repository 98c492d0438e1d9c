"""python -m lab.aptrepo build --suite SUITE --dir DIR   build the repository, print what to use it (JSON)
python -m lab.aptrepo serve --root DIR/repo --address A --port P   serve it over HTTP (foreground)"""

import argparse
import json
import sys

from lab.aptrepo import build, server


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m lab.aptrepo', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    build_parser = commands.add_parser('build', help='build the repository directory for a Debian suite')
    build_parser.add_argument('--suite', required=True, choices=sorted(build.standins.RELEASES))
    build_parser.add_argument('--dir', required=True, help='the repository directory (kept between builds)')
    build_parser.add_argument('--mirror', help='the Debian mirror to download from (default: deb.debian.org, '
                                               'or $SCMP_LAB_DEBIAN_MIRROR)')
    serve_parser = commands.add_parser('serve', help='serve a built repository over HTTP')
    serve_parser.add_argument('--root', required=True)
    serve_parser.add_argument('--address', required=True)
    serve_parser.add_argument('--port', type=int, default=80)
    args = parser.parse_args(argv)
    if args.command == 'build':
        json.dump(build.build(args.dir, args.suite, args.mirror), sys.stdout, indent=2)
        sys.stdout.write('\n')
    else:
        server.serve(args.root, args.address, args.port)
    return 0


if __name__ == '__main__':
    sys.exit(main())
