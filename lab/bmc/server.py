"""One lab host's BMC: sushy-tools' Redfish emulator (fake driver) serving exactly that host, over TLS.

Run as `python -m lab.bmc.server --config <bmc.json>`; `lab.bmc.manager` writes the config and starts it.
sushy-tools does the Redfish work (power, boot override, virtual media, basic auth). This layer only
describes the one system to it and adds what the fake driver leaves out but a real BMC reports: the
host's serial number, manufacturer, model and SKU on the system and its chassis.

Config keys (all paths absolute):
  listen_host, listen_port       the host's BMC address
  cert_file, key_file            the lab-CA-issued certificate (leaf then CA) and its key
  auth_file                      htpasswd with bcrypt entries
  state_dir                      sushy-tools' persistent state (power, boot override, inserted media)
  system                         {uuid, name, nics: [{name, mac}]}
  chassis                        {Id, Name, UUID}
  identity                       {SerialNumber, Manufacturer, Model[, SKU]}
"""

import argparse
import json
import logging
import signal
import ssl
import sys

# Views of sushy-tools' app whose GET answers carry the hardware identity on a real BMC.
IDENTITY_ENDPOINTS = frozenset(['system_resource', 'chassis_resource'])


class _LazyHandshakeContext(ssl.SSLContext):
    """Defer each TLS handshake to the connection's own thread.

    werkzeug wraps the listening socket, so by default the handshake runs inside accept() on the one
    serving thread: a client that connects and stays silent would freeze the whole BMC.
    """

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, **kwargs):
        return super().wrap_socket(sock, server_side=server_side, do_handshake_on_connect=False, **kwargs)


def tls_context(cert_file, key_file):
    context = _LazyHandshakeContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


def sushy_config(config):
    """sushy-tools' settings for a fake driver holding only this host, powered off until told otherwise."""
    system = config['system']
    return {
        'SUSHY_EMULATOR_FAKE_DRIVER': True,
        'SUSHY_EMULATOR_FAKE_SYSTEMS': [{
            'uuid': system['uuid'],
            'name': system['name'],
            'power_state': 'Off',
            'external_notifier': False,
            'nics': [{'mac': nic['mac']} for nic in system['nics']],
        }],
        'SUSHY_EMULATOR_CHASSIS': [dict(config['chassis'])],
        'SUSHY_EMULATOR_STATE_DIR': config['state_dir'],
        'SUSHY_EMULATOR_AUTH_FILE': config['auth_file'],
        'SUSHY_EMULATOR_FEATURE_SET': 'full',
    }


def add_identity(app, identity):
    """Make the system and chassis answers carry the host's identity, as a real BMC's do."""
    import flask

    @app.after_request
    def _with_identity(response):
        request = flask.request
        if request.method == 'GET' and response.status_code == 200 and request.endpoint in IDENTITY_ENDPOINTS:
            body = response.get_json()
            body.update(identity)
            response.set_data(json.dumps(body, indent=4))
        return response
    return app


def build_app(config):
    """sushy-tools' app configured for this host.

    The app is a module-level global of sushy_tools.emulator.main (its views refer to it by name), so a
    process serves one BMC.
    """
    from sushy_tools.emulator import main as sushy
    sushy.app.configure(extra_config=sushy_config(config))
    return add_identity(sushy.app, config['identity'])


def make_server(config, app):
    """werkzeug's threaded server (as sushy-tools' own entry point uses), handshaking off its thread."""
    from werkzeug import serving
    return serving.make_server(config['listen_host'], int(config['listen_port']), app, threaded=True,
                               ssl_context=tls_context(config['cert_file'], config['key_file']))


def _exit_on_sigterm(signum, frame):
    # Leave through SystemExit so serve_forever closes the listening socket.
    sys.exit(0)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m lab.bmc.server', description=__doc__.splitlines()[0])
    parser.add_argument('--config', required=True, help='the BMC config JSON written by lab.bmc.manager')
    args = parser.parse_args(argv)
    # Installed before sushy-tools is imported, so that even a BMC stopped while starting exits cleanly.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with open(args.config) as fh:
        config = json.load(fh)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format='%(asctime)s %(name)s %(levelname)s %(message)s')
    server = make_server(config, build_app(config))
    logging.getLogger('lab.bmc').info('BMC of %s listening on https://%s:%s', config['system']['name'],
                                      config['listen_host'], server.port)
    server.serve_forever()
    return 0


if __name__ == '__main__':
    sys.exit(main())
