"""scmp-lab: bring the emulated datacenter up and down, look at it, and break it on purpose.

  scmp-lab up [-i INVENTORY] [--stage bare|installed|clustered|ready] [--[no-]host-layer] [--install-seconds S]
                                    start (idempotent: nothing to do when already up at that stage)
  scmp-lab down                     stop, leaving no process behind
  scmp-lab status [--json]          a short summary: sites, and every host's power, stage and node
  scmp-lab reset [-i INVENTORY] [--stage ...] [--[no-]host-layer] [--install-seconds S]
                                    a fresh datacenter from the inventory (its CA stays trusted)
  scmp-lab fault SITE KIND [NAME=VALUE ...]   inject a fault; `scmp-lab fault SITE clear` heals the site
  scmp-lab env SITE                 shell exports for the site's API (PROXMOX_* as the modules read them)

Stages: `ready` (default) is `clustered` plus Ceph, its VM pool and RBD storage on every site; `clustered`
is `installed` plus every site's cluster formed through its nodes' APIs; `installed` installs every host
through its BMC before `up` returns, each node standalone on its own API address; `bare` starts the BMCs
only (hosts off, no OS): a site's API comes up when its first host is installed from media. Installed hosts run as containers (lab.hosts) at the bare stage
whenever this machine can run them; `--host-layer` does so at the installed stage too, `--no-host-layer`
never does.

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

from .client import DEFAULT_STAGE, STAGES, LabClient, LabError
from .inventory import DEFAULT_INVENTORY, InventoryError


def _print_summary(status):
    started = datetime.datetime.fromtimestamp(status['started']).strftime('%Y-%m-%d %H:%M:%S')
    print('scmp lab up since {0} (pid {1}), stage {2}'.format(started, status['pid'], status.get('stage')))
    print('  inventory {0}'.format(status['inventory']))
    print('  CA        {0}'.format(status['ca']))
    print('  media     {0}'.format(status.get('media')))
    bmcs = status['bmcs']
    hosts = status.get('hosts', {})
    for name, site in sorted(status['sites'].items()):
        own = [b for b in bmcs.values() if b['site'] == name]
        running = sum(1 for b in own if b.get('running'))
        if site.get('api') == 'down':
            print('  site {0:<8} {1}  API down (no host installed yet)  BMCs {2}/{3} up'.format(
                name, site['url'], running, len(own)))
        else:
            print('  site {0:<8} {1}  pool {2:<7} nodes {3}/{4} online  {5}  VMs {6}  BMCs {7}/{8} up'.format(
                name, site['url'], site['pool_size'] or '-', len(site['nodes_online']), len(site['nodes']),
                'quorate' if site['quorate'] else 'NO QUORUM', site['vms'], running, len(own)))
        if site.get('error'):
            print('    error: {0}'.format(site['error']))
        if site.get('pools'):
            print('    pools: {0}'.format(', '.join(site['pools'])))
        faults = site.get('faults') or {}
        if faults.get('errors') or faults.get('slow_tasks'):
            print('    faults: {0}'.format(', '.join(faults['errors'] + ['slow {0}'.format(t) for t in
                                                                           faults['slow_tasks']])))
        for host_name, host in sorted(hosts.items()):
            if host['site'] != name:
                continue
            stage = host['stage'] + (': ' + host['reason'] if host.get('reason') else '')
            sev = host.get('sev')
            print('    host {0:<14} power {1:<3}  {2}  node {3}  SEV {4}  host layer {5}'.format(
                host_name, host['power'], stage, host.get('node') or '-',
                '/'.join('{0}={1}'.format(k, sev[k]) for k in ('sev', 'sev_es', 'sev_snp')) if sev else '-',
                host.get('host_layer')))


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
        cmd.add_argument('--stage', choices=STAGES, default=DEFAULT_STAGE)
        layer = cmd.add_mutually_exclusive_group()
        layer.add_argument('--host-layer', dest='host_layer', action='store_true', default=None)
        layer.add_argument('--no-host-layer', dest='host_layer', action='store_false')
        cmd.add_argument('--install-seconds', type=float)
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
            state, started = (client.up if args.command == 'up' else client.reset)(
                args.inventory, args.stage, args.host_layer, args.install_seconds)
            print('lab {0} in {1:.1f} s at stage {2}: {3} sites, {4} BMCs'.format(
                'started' if started else 'already up', time.monotonic() - began, state.get('stage'),
                len(state['sites']), len(state['bmcs'])))
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
