"""One lab host's BMC: sushy-tools' Redfish emulator (fake driver) serving exactly that host, over TLS.

Run as `python -m lab.bmc.server --config <bmc.json>`; `lab.bmc.manager` writes the config and starts it.
sushy-tools does the Redfish work (power, boot override, virtual media, basic auth). This layer
describes the one system to it, runs it on the lab's driver (lab.bmc.driver: BIOS settings, one-time boot
overrides, recorded boots, notifications to the lab) and adds what the fake driver leaves out but a real
BMC reports: the host's serial number, manufacturer, model and SKU on the system and its chassis, the
BIOS resource at Systems/{id}/Bios with its pending settings at Bios/Settings, and the boot override's
real frequency (BootSourceOverrideEnabled).

Config keys (all paths absolute):
  listen_host, listen_port       the host's BMC address
  cert_file, key_file            the lab-CA-issued certificate (leaf then CA) and its key
  auth_file                      htpasswd with bcrypt entries
  state_dir                      sushy-tools' persistent state (power, boot override, inserted media)
  system                         {uuid, name, nics: [{name, mac}]}
  chassis                        {Id, Name, UUID}
  identity                       {SerialNumber, Manufacturer, Model[, SKU]}
  notify_url, notify_ca          optional: where every change of the system is PUT (the lab daemon), and
                                 the CA that URL's certificate is verified with
"""

import argparse
import json
import logging
import signal
import ssl
import sys

from .driver import OVERRIDE_ENABLED, LabDriver, check_override_enabled

# The attribute registry the lab's BIOS resource names: the lab firmware's own, plainly not a vendor's.
BIOS_REGISTRY = 'ScmpLabBiosAttributeRegistry.v1_0_0'
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
    settings = {
        'SUSHY_EMULATOR_FAKE_DRIVER': True,
        'SUSHY_EMULATOR_FAKE_SYSTEMS': [{
            'uuid': system['uuid'],
            'name': system['name'],
            'power_state': 'Off',
            'external_notifier': bool(config.get('notify_url')),
            'nics': [{'mac': nic['mac']} for nic in system['nics']],
        }],
        'SUSHY_EMULATOR_CHASSIS': [dict(config['chassis'])],
        'SUSHY_EMULATOR_STATE_DIR': config['state_dir'],
        'SUSHY_EMULATOR_AUTH_FILE': config['auth_file'],
        'SUSHY_EMULATOR_FEATURE_SET': 'full',
    }
    if config.get('notify_url'):
        settings['EXTERNAL_NOTIFICATION_URL'] = config['notify_url']
        settings['EXTERNAL_NOTIFICATION_CAFILE'] = config.get('notify_ca')
    return settings


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


def _bios_body(identity, settings, attributes):
    base = '/redfish/v1/Systems/{0}/Bios'.format(identity)
    if settings:
        return {'@odata.type': '#Bios.v1_1_0.Bios', '@odata.id': base + '/Settings', 'Id': 'Settings',
                'Name': 'BIOS Configuration Pending Settings', 'AttributeRegistry': BIOS_REGISTRY,
                'Attributes': attributes}
    return {'@odata.type': '#Bios.v1_1_0.Bios', '@odata.id': base, 'Id': 'Bios',
            'Name': 'BIOS Configuration Current Settings', 'AttributeRegistry': BIOS_REGISTRY,
            'Attributes': attributes,
            '@Redfish.Settings': {'@odata.type': '#Settings.v1_3_3.Settings',
                                  'SettingsObject': {'@odata.id': base + '/Settings'},
                                  'SupportedApplyTimes': ['OnReset']},
            'Actions': {'#Bios.ResetBios': {'target': base + '/Actions/Bios.ResetBios'}}}


def add_bios(app):
    """Systems/{id}/Bios (current attributes) and Bios/Settings (pending, applied at the next boot).

    sushy-tools serves one attribute set as both, under /BIOS; the lab's views replace its own, and the
    Redfish-cased /Bios paths are served too (the system links to those).
    """
    import flask

    def bios(identity):
        app.systems.uuid(identity)
        return flask.jsonify(_bios_body(identity, False, app.systems.get_bios(identity)))

    def bios_settings(identity):
        if flask.request.method == 'PATCH':
            body = flask.request.get_json(silent=True) or {}
            app.systems.set_bios(identity, body.get('Attributes'))
            return '', 204
        return flask.jsonify(_bios_body(identity, True, app.systems.get_bios_pending(identity)))

    app.view_functions['bios'] = bios
    app.view_functions['bios_settings'] = bios_settings
    prefix = '/redfish/v1/Systems/<identity>/Bios'
    app.add_url_rule(prefix, 'lab_bios', bios, methods=['GET'])
    app.add_url_rule(prefix + '/Settings', 'lab_bios_settings', bios_settings, methods=['GET', 'PATCH'])
    app.add_url_rule(prefix + '/Actions/Bios.ResetBios', 'lab_bios_reset', app.view_functions['system_reset_bios'],
                     methods=['POST'])
    return app


def add_boot_override(app):
    """Keep BootSourceOverrideEnabled as asked (Once, Continuous, Disabled) and report it as it is."""
    import flask

    original = app.view_functions['system_resource']

    def system_resource(identity):
        if flask.request.method != 'PATCH':
            return original(identity)
        boot = (flask.request.get_json(silent=True) or {}).get('Boot') or {}
        enabled = boot.get('BootSourceOverrideEnabled')
        if enabled is not None and set(boot) == {'BootSourceOverrideEnabled'}:
            app.systems.set_boot_override_enabled(identity, enabled)
            return '', 204
        if enabled is not None:
            check_override_enabled(enabled)
        response = original(identity)
        status = response[1] if isinstance(response, tuple) else getattr(response, 'status_code', 200)
        if enabled is not None and status < 300:
            app.systems.set_boot_override_enabled(identity, enabled)
        return response

    app.view_functions['system_resource'] = system_resource

    @app.after_request
    def _override_as_set(response):
        request = flask.request
        if request.method == 'GET' and response.status_code == 200 and request.endpoint == 'system_resource':
            body = response.get_json()
            identity = request.view_args['identity']
            boot = body.setdefault('Boot', {})
            boot['BootSourceOverrideEnabled'] = app.systems.get_boot_override_enabled(identity)
            boot['BootSourceOverrideEnabled@Redfish.AllowableValues'] = list(OVERRIDE_ENABLED)
            body['Bios'] = {'@odata.id': '/redfish/v1/Systems/{0}/Bios'.format(identity)}
            response.set_data(json.dumps(body, indent=4))
        return response
    return app


def build_app(config):
    """sushy-tools' app configured for this host, on the lab's driver.

    The app is a module-level global of sushy_tools.emulator.main (its views refer to it by name), so a
    process serves one BMC; for the same reason the lab's driver takes the fake driver's place in the
    module the app instantiates it from.
    """
    from sushy_tools.emulator import main as sushy
    sushy.fakedriver.FakeDriver = LabDriver
    sushy.app.configure(extra_config=sushy_config(config))
    add_bios(sushy.app)
    add_boot_override(sushy.app)
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
