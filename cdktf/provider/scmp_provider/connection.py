"""The provider's configuration: where the Proxmox VE API is and whose token to use.

Each setting falls back to the environment variable the Ansible modules read, so one shell set-up serves both.
The engine's ConnectionSettings validates the result (TLS verification stays on unless switched off).
"""

import os

from ansible_collections.scmp.iaas.plugins.module_utils.client import ConnectionSettings, PveClient
from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError

from scmp_provider.base import UNKNOWN
from scmp_provider.schema import BOOL, NUMBER, STRING, optional

SCHEMA = [
    optional('api_host', STRING, 'Host name or address of the Proxmox VE API (PROXMOX_HOST).'),
    optional('api_port', NUMBER, 'Port of the API (PROXMOX_PORT); 8006 by default.'),
    optional('api_user', STRING, 'The user the token belongs to, e.g. acme-automation@pve (PROXMOX_USER).'),
    optional('api_token_id', STRING, "The token's name, e.g. api (PROXMOX_TOKEN_ID)."),
    optional('api_token_secret', STRING, "The token's secret (PROXMOX_TOKEN_SECRET).", sensitive=True),
    optional('ca_path', STRING, 'CA certificate file the API certificate is verified against (PROXMOX_CA_PATH).'),
    optional('validate_certs', BOOL, 'Verify the API certificate (PROXMOX_VALIDATE_CERTS); true by default.'),
    optional('api_fingerprint', STRING, "SHA-256 fingerprint to pin the API certificate to (PROXMOX_FINGERPRINT)."),
    optional('api_timeout', NUMBER, 'Seconds to wait for one API response; 30 by default.'),
    optional('pool', STRING, "The tenant's pool: the default pool of the VMs this provider creates."),
]
ENVIRONMENT = {
    'api_host': 'PROXMOX_HOST', 'api_port': 'PROXMOX_PORT', 'api_user': 'PROXMOX_USER',
    'api_token_id': 'PROXMOX_TOKEN_ID', 'api_token_secret': 'PROXMOX_TOKEN_SECRET', 'ca_path': 'PROXMOX_CA_PATH',
    'validate_certs': 'PROXMOX_VALIDATE_CERTS', 'api_fingerprint': 'PROXMOX_FINGERPRINT',
}
FALSE_WORDS = ('0', 'false', 'no', 'off')


class Connection(object):
    """A configured provider: settings checked once, a client made per call."""

    def __init__(self, settings, pool):
        self.settings = settings
        self.pool = pool

    def client(self):
        return PveClient(self.settings)


def settings_from(config, environ=None):
    """The configuration with the environment's fallbacks: (ConnectionSettings, pool)."""
    environ = os.environ if environ is None else environ
    values = {}
    for attr in SCHEMA:
        value = config.get(attr.name)
        if value is UNKNOWN:
            raise ValidationError(attr.name, 'must be known when Terraform configures the provider, not computed '
                                  'from another resource')
        if value is None and attr.name in ENVIRONMENT and environ.get(ENVIRONMENT[attr.name]):
            value = environ[ENVIRONMENT[attr.name]]
            if attr.kind == BOOL:
                value = value.strip().lower() not in FALSE_WORDS
            elif attr.kind == NUMBER:
                value = _number(attr.name, value)
        values[attr.name] = value
    pool = values.pop('pool')
    if values['api_timeout'] is not None:
        values['api_timeout'] = int(values['api_timeout'])
    if values['validate_certs'] is None:
        values['validate_certs'] = True
    given = dict((k, v) for k, v in values.items() if v is not None)
    try:
        settings = ConnectionSettings(api_host=given.pop('api_host', None), api_user=given.pop('api_user', None),
                                      **given)
    except TypeError as exc:
        raise ValidationError('api_host', str(exc))
    return settings, pool


def _number(name, text):
    try:
        return int(text)
    except ValueError:
        raise ValidationError(name, 'must be a whole number, got {0!r} from {1}'.format(text, ENVIRONMENT[name]))
