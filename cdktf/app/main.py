"""The CDKTF app: one Terraform stack per Terraform-managed tenant of an Ansible inventory.

    python cdktf/app/main.py [--inventory DIR] [--tenant NAME ...] [--outdir DIR]
                             [--backend local|pg] [--pg-conn-str S] [--state-dir DIR]

A tenant is Terraform's when the inventory gives it `managed_by: terraform` (and its own SDN zone,
`network_zone`); the other tenants are converged by playbooks/tenants.yml, and a stack of one would fight the
playbooks over the same VMs, so the app synthesizes none for them and refuses `--tenant` naming one.

A stack holds the tenant's vnets (in its zone) and subnets, its VMs, and for each VM with a firewalled nic
the VM's firewall: the tenant's rules, in order, and the tenant role's VM firewall options.

Each stack (`<outdir>/stacks/<tenant>/cdk.tf.json`) talks to the tenant's site with the tenant's own API token
(`<tenant>-automation@pve!api`, created by playbooks/tenants.yml), so a stack can do only what its tenant may.
The token's secret is never written into a stack: it is the sensitive variable `api_token_secret`
(set TF_VAR_api_token_secret when running Terraform).

State: one state per tenant. By default a local file `<state-dir>/<tenant>.tfstate` outside the regenerated
output directory; with `--backend pg` (or SCMP_TF_BACKEND=pg) PostgreSQL, in a schema of its own per tenant
so tenants never share a state row or a lock. The connection string comes from --pg-conn-str or
SCMP_TF_PG_CONN_STR; when neither is given, Terraform reads PG_CONN_STR at `terraform init`, which keeps a
password out of cdk.tf.json.
"""

import argparse
import os
import sys

from cdktf import App, LocalBackend, PgBackend, TerraformStack, TerraformVariable

from bindings import REPO_ROOT, ScmpProvider
from scmp_constructs import TenantNetwork, VmGroup
from tenants import DEFAULT_INVENTORY, TenantError, load_tenants

DEFAULT_OUTDIR = os.path.join(REPO_ROOT, 'build', 'cdktf.out')
DEFAULT_STATE_DIR = os.path.join(REPO_ROOT, 'cdktf', 'app', 'state')
BACKENDS = ('local', 'pg')


def pg_schema_name(tenant_name):
    """The PostgreSQL schema of a tenant's state. Tenant names use "-" but never "_", so mapping one to the
    other keeps schemas distinct and spares quoting them."""
    return 'scmp_tenant_' + tenant_name.replace('-', '_')


class TenantStack(TerraformStack):
    """A tenant's networks and VMs, with the VMs' firewalls, on its site, as the tenant's automation user."""

    def __init__(self, scope, tenant, *, backend='local', state_dir=DEFAULT_STATE_DIR, pg_conn_str=None):
        super().__init__(scope, tenant.name)
        token_secret = TerraformVariable(
            self, 'api_token_secret', type='string', sensitive=True,
            description='Secret of the API token {0}!{1} (set TF_VAR_api_token_secret)'.format(
                tenant.api_user, tenant.api_token_id))
        ScmpProvider(self, 'scmp', api_host=tenant.site.api_host, api_port=tenant.site.api_port,
                     ca_path=tenant.site.ca_path, api_user=tenant.api_user, api_token_id=tenant.api_token_id,
                     api_token_secret=token_secret.string_value, pool=tenant.pool)
        if backend == 'pg':
            pg_backend = PgBackend(self, conn_str=pg_conn_str or '', schema_name=pg_schema_name(tenant.name))
            if not pg_conn_str:
                # CDKTF insists on a conn_str; Terraform does not, and then reads PG_CONN_STR.
                pg_backend.add_override('conn_str', None)
        else:
            LocalBackend(self, path=os.path.join(os.path.abspath(state_dir), tenant.name + '.tfstate'))

        self.networks = {network.name: TenantNetwork(self, 'network-' + network.name, network=network)
                         for network in tenant.networks}
        self.vms = VmGroup(
            self, 'vms', vms=tenant.vms, networks={name: net.vnet for name, net in self.networks.items()},
            firewall_rules=tenant.firewall_rules, firewall_options=tenant.vm_firewall_options, pool=tenant.pool,
            storage=tenant.storages[0] if len(tenant.storages) == 1 else None, state=tenant.vm_state)


def synthesize(tenants, outdir=DEFAULT_OUTDIR, **backend):
    """Synthesize one stack per tenant into outdir; returns the App."""
    app = App(outdir=outdir)
    for tenant in tenants:
        TenantStack(app, tenant, **backend)
    app.synth()
    return app


def select(tenants, names):
    """The tenants named (every Terraform-managed tenant when none is named), failing on a name the inventory
    does not have, on a tenant Ansible manages, and when there is no tenant to synthesize."""
    if not names:
        selected = [tenant for tenant in tenants if tenant.managed_by == 'terraform']
        if not selected:
            raise TenantError('no tenant of the inventory is managed by Terraform (tenants: {0}); set '
                              '`managed_by: terraform` on the tenants a stack should manage'.format(
                                  ', '.join(tenant.name for tenant in tenants) or 'none'))
        return selected
    known = {tenant.name: tenant for tenant in tenants}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise TenantError('tenant {0}: not in the inventory (tenants: {1})'.format(
            ', '.join(unknown), ', '.join(known) or 'none'))
    for name in names:
        if known[name].managed_by != 'terraform':
            raise TenantError('tenant {0}: managed by Ansible (playbooks/tenants.yml), not Terraform; set '
                              '`managed_by: terraform` (and its `network_zone`) in the inventory to give it '
                              'a stack'.format(name))
    return [known[name] for name in dict.fromkeys(names)]


def parse_args(argv):
    parser = argparse.ArgumentParser(description='Synthesize one Terraform stack per tenant of an inventory.')
    parser.add_argument('--inventory', default=DEFAULT_INVENTORY, help='Ansible inventory (default: %(default)s)')
    parser.add_argument('--tenant', action='append', default=[], metavar='NAME',
                        help='only this tenant (repeatable; default: every tenant with managed_by: terraform)')
    # The cdktf CLI passes its output directory as CDKTF_OUTDIR.
    parser.add_argument('--outdir', default=os.environ.get('CDKTF_OUTDIR') or DEFAULT_OUTDIR,
                        help='where the stacks are written (default: %(default)s)')
    parser.add_argument('--backend', choices=BACKENDS, default=os.environ.get('SCMP_TF_BACKEND') or 'local',
                        help='where Terraform keeps each tenant\'s state (default: %(default)s, or SCMP_TF_BACKEND)')
    parser.add_argument('--pg-conn-str', default=os.environ.get('SCMP_TF_PG_CONN_STR'),
                        help='PostgreSQL connection string for --backend pg (or SCMP_TF_PG_CONN_STR; without '
                             'either, Terraform reads PG_CONN_STR). It is written into cdk.tf.json: keep the '
                             'password out of it (PGPASSWORD, ~/.pgpass)')
    parser.add_argument('--state-dir', default=DEFAULT_STATE_DIR,
                        help='directory of the local state files, <tenant>.tfstate (default: %(default)s)')
    args = parser.parse_args(argv)
    if args.backend not in BACKENDS:
        parser.error('SCMP_TF_BACKEND: {0!r} is not one of {1}'.format(args.backend, ', '.join(BACKENDS)))
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        tenants = select(load_tenants(args.inventory), args.tenant)
    except TenantError as exc:
        print('error: {0}'.format(exc), file=sys.stderr)
        return 2
    synthesize(tenants, args.outdir, backend=args.backend, state_dir=args.state_dir, pg_conn_str=args.pg_conn_str)
    for tenant in tenants:
        secret_hint = 'TF_VAR_api_token_secret from {0}'.format(tenant.token_file) if tenant.token_file else \
            'TF_VAR_api_token_secret'
        print('{0}: {1} (site {2}; set {3})'.format(
            tenant.name, os.path.join(args.outdir, 'stacks', tenant.name), tenant.site.site, secret_hint))
    return 0


if __name__ == '__main__':
    sys.exit(main())
