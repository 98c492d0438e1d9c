"""scmp-lab: bring the emulated datacenter up and down, look at it, and break it on purpose.

  scmp-lab up [-i INVENTORY]        start (idempotent: nothing to do when already up)
  scmp-lab down                     stop, leaving no process behind
  scmp-lab status [--json]          a short summary of the emulated datacenter
  scmp-lab reset [-i INVENTORY]     a fresh datacenter from the inventory (its CA stays trusted)
  scmp-lab fault SITE KIND [NAME=VALUE ...]   inject a fault; `scmp-lab fault SITE clear` heals the site
  scmp-lab env SITE                 shell exports for the site's API (PROXMOX_* as the modules read them)

Fault kinds: error method=POST path=/qemu status=500 [message=..] [times=N] | error method=.. path=..
pve_error=<PVE error name> | lock vmid=N [seconds=S] | slow-task seconds=S [task_type=qmclone] |
offline node=N | online node=N | quorum-lost | quorum-regained | drop-connections rate=0.2
"""

import argparse
import datetime
import json
import shlex
import signal
import sys
import time

from .client import LabClient, LabError
from .inventory import DEFAULT_INVENTORY, InventoryError


def _print_summary(status):
    started = datetime.datetime.fromtimestamp(status['started']).strftime('%Y-%m-%d %H:%M:%S')
    print('scmp lab up since {0} (pid {1})'.format(started, status['pid']))
    print('  inventory {0}'.format(status['inventory']))
    print('  CA        {0}'.format(status['ca']))
    bmcs = status['bmcs']
    for name, site in sorted(status['sites'].items()):
        own = [b for b in bmcs.values() if b['site'] == name]
        running = sum(1 for b in own if b.get('running'))
        print('  site {0:<8} {1}  pool {2:<7} nodes {3}/{4} online  {5}  VMs {6}  BMCs {7}/{8} up'.format(
            name, site['url'], site['pool_size'] or '-', len(site['nodes_online']), len(site['nodes']),
            'quorate' if site['quorate'] else 'NO QUORUM', site['vms'], running, len(own)))
        if site['pools']:
            print('    pools: {0}'.format(', '.join(site['pools'])))
        faults = site['faults']
        if faults['errors'] or faults['slow_tasks']:
            print('    faults: {0}'.format(', '.join(faults['errors'] + ['slow {0}'.format(t) for t in
                                                                           faults['slow_tasks']])))


def _parse_args_list(pairs):
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition('=')
        if not sep:
            raise LabError('fault arguments are NAME=VALUE, got {0!r}'.format(pair))
        out[name.replace('-', '_')] = int(value) if value.isdigit() else value
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog='scmp-lab', description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--lab-dir', help='where the lab keeps its state (default: $SCMP_LAB_DIR or ./.lab)')
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('up', 'reset'):
        cmd = sub.add_parser(name)
        cmd.add_argument('-i', '--inventory', default=DEFAULT_INVENTORY)
    sub.add_parser('down')
    status = sub.add_parser('status')
    status.add_argument('--json', action='store_true')
    fault = sub.add_parser('fault')
    fault.add_argument('site')
    fault.add_argument('kind')
    fault.add_argument('args', nargs='*')
    env = sub.add_parser('env')
    env.add_argument('site')
    args = parser.parse_args(argv)
    # `scmp-lab status | head` should end quietly, as shell tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    client = LabClient(args.lab_dir)
    try:
        if args.command in ('up', 'reset'):
            began = time.monotonic()
            state, started = (client.up if args.command == 'up' else client.reset)(args.inventory)
            print('lab {0} in {1:.1f} s: {2} sites, {3} BMCs'.format(
                'started' if started else 'already up', time.monotonic() - began, len(state['sites']),
                len(state['bmcs'])))
        elif args.command == 'down':
            print('lab stopped' if client.down() else 'lab was not running')
        elif args.command == 'status':
            if client.state() is None:
                print('lab is not up')
                return 3
            status = client.status()
            if args.json:
                json.dump(status, sys.stdout, indent=2, sort_keys=True)
                print()
            else:
                _print_summary(status)
        elif args.command == 'fault':
            if args.kind == 'clear':
                print(client.clear_faults(args.site))
            else:
                print(client.fault(args.site, args.kind, **_parse_args_list(args.args)))
        elif args.command == 'env':
            creds = client.credentials(args.site)
            exports = {'PROXMOX_HOST': creds['api_host'], 'PROXMOX_PORT': str(creds['api_port']),
                       'PROXMOX_USER': creds['token_id'].split('!')[0],
                       'PROXMOX_TOKEN_ID': creds['token_id'].split('!')[1],
                       'PROXMOX_TOKEN_SECRET': creds['token_secret'], 'PROXMOX_CA_PATH': client.paths.ca}
            for key, value in exports.items():
                print('export {0}={1}'.format(key, shlex.quote(value)))
    except (LabError, InventoryError) as exc:
        print('scmp-lab: {0}'.format(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
