"""The lab's system driver: sushy-tools' fake driver with what a server's BMC does and the fake leaves out.

- BIOS settings: current attributes (what the firmware runs with) and pending ones (Bios/Settings), the
  pending ones applied when the system next powers on or restarts, as on real firmware. The attribute
  names are the lab's "vendor" names for AMD's CBS options (see BIOS_DEFAULTS).
- Boot overrides that honour BootSourceOverrideEnabled: `Once` is consumed by the boot it applies to (the
  fake driver stores every override as Continuous), `Disabled` boots the disk.
- Boots: when a pending power change lands as a power-on, the system records the boot (`boot`: sequence
  number, device booted, BIOS in effect, virtual media) before the lab is notified, so the notification
  says what the machine booted from. Virtual media carries the URL the image was inserted from.
- Notifications that never fail the BMC request: sushy-tools PUTs the whole system to the external
  notification URL with no timeout and lets a refused connection fail the Redfish request; here a
  notification that cannot be delivered is logged and the Redfish request answers as a BMC would.
"""

import copy
import threading
import time

import requests

from sushy_tools import error
from sushy_tools.emulator.resources.systems.fakedriver import FakeDriver

# Lab firmware defaults: a machine as delivered, SEV off.
BIOS_DEFAULTS = {
    'Smee': 'Disabled',
    'SevSnpSupport': 'Disabled',
    'SnpMemoryCoverage': 'Disabled',
    'SevEsAsidSpaceLimit': 1,
    'Iommu': 'Auto',
}
_SWITCH = ('Enabled', 'Disabled')
# Allowed values per attribute: a tuple of strings, or (minimum, maximum) for integers.
BIOS_ALLOWED = {
    'Smee': _SWITCH,
    'SevSnpSupport': _SWITCH,
    'SnpMemoryCoverage': _SWITCH,
    'Iommu': _SWITCH + ('Auto',),
    # AMD CBS "SEV-ES ASID Space Limit": ASIDs below it are for SEV-ES/SNP guests.
    'SevEsAsidSpaceLimit': (1, 1007),
}
OVERRIDE_ENABLED = ('Disabled', 'Once', 'Continuous')
# Seconds a notification may take before the BMC gives up on it.
NOTIFY_TIMEOUT = 5


def check_bios_attributes(attributes):
    """Raise sushy's BadRequest (400) for an unknown attribute or a value the firmware would refuse."""
    if not isinstance(attributes, dict) or not attributes:
        raise error.BadRequest('Attributes must be a non-empty object')
    for name, value in attributes.items():
        if name not in BIOS_ALLOWED:
            raise error.BadRequest('BIOS attribute {0} is not supported; supported: {1}'.format(
                name, ', '.join(sorted(BIOS_ALLOWED))))
        allowed = BIOS_ALLOWED[name]
        if isinstance(allowed[0], int):
            if isinstance(value, bool) or not isinstance(value, int) or not allowed[0] <= value <= allowed[1]:
                raise error.BadRequest('BIOS attribute {0} must be an integer from {1} to {2}, not {3!r}'.format(
                    name, allowed[0], allowed[1], value))
        elif value not in allowed:
            raise error.BadRequest('BIOS attribute {0} must be one of {1}, not {2!r}'.format(
                name, ', '.join(allowed), value))


def check_override_enabled(enabled):
    if enabled not in OVERRIDE_ENABLED:
        raise error.BadRequest('BootSourceOverrideEnabled must be one of {0}, not {1!r}'.format(
            ', '.join(OVERRIDE_ENABLED), enabled))


class LabDriver(FakeDriver):
    """FakeDriver with BIOS settings, honoured override frequency, recorded boots and safe notifications."""

    # werkzeug serves each request on its own thread; a power change landing on a read must happen once.
    _lock = threading.RLock()

    def _get(self, identity):
        with self._lock:
            return super()._get(identity)

    def _update_if_needed(self, system):
        pending = system.get('pending_power')
        if not pending or time.time() < pending['apply_time']:
            return system
        target = 'On' if 'Restart' in pending['power_state'] else pending['power_state']
        changes = {'power_state': target, 'pending_power': None}
        if target == 'On':
            changes.update(self._boot(system))
        self._update(system, **changes)
        return system

    def _boot(self, system):
        """What a power-on does before the OS starts: firmware applies pending BIOS, picks the boot device."""
        bios = dict(system.get('bios') or BIOS_DEFAULTS)
        bios.update(system.get('bios_pending') or {})
        enabled = system.get('boot_override_enabled', 'Disabled')
        device = system.get('boot_device', 'Hdd') if enabled in ('Once', 'Continuous') else 'Hdd'
        changes = {'bios': bios, 'bios_pending': {}}
        if enabled == 'Once':
            changes['boot_override_enabled'] = 'Disabled'
        previous = system.get('boot') or {}
        changes['boot'] = {
            'sequence': int(previous.get('sequence', 0)) + 1,
            'time': time.time(),
            'device': device,
            'mode': system.get('boot_mode', 'UEFI'),
            'bios': dict(bios),
            'media': copy.deepcopy((system.get('media') or {}).get(device)),
        }
        return changes

    # ------------------------------------------------------------------ BIOS

    def get_bios(self, identity):
        return dict(self._get(identity).get('bios') or BIOS_DEFAULTS)

    def get_bios_pending(self, identity):
        """The settings object: current attributes with the pending changes over them."""
        system = self._get(identity)
        attributes = dict(system.get('bios') or BIOS_DEFAULTS)
        attributes.update(system.get('bios_pending') or {})
        return attributes

    def set_bios(self, identity, attributes):
        check_bios_attributes(attributes)
        with self._lock:
            system = self._get(identity)
            pending = dict(system.get('bios_pending') or {})
            pending.update(attributes)
            self._update(system, bios_pending=pending)

    def reset_bios(self, identity):
        with self._lock:
            self._update(identity, bios_pending=dict(BIOS_DEFAULTS))

    # ---------------------------------------------------------- boot override

    def get_boot_override_enabled(self, identity):
        return self._get(identity).get('boot_override_enabled', 'Disabled')

    def set_boot_override_enabled(self, identity, enabled):
        check_override_enabled(enabled)
        with self._lock:
            self._update(identity, boot_override_enabled=enabled)

    def set_boot_image(self, identity, device, boot_image=None, write_protected=True):
        with self._lock:
            system = self._get(identity)
            images = dict(system.get('boot_image') or {})
            images[device] = (boot_image, write_protected, bool(boot_image))
            media = dict(system.get('media') or {})
            media[device] = {'url': _inserted_url(identity, device) if boot_image else None,
                             'inserted': bool(boot_image), 'local_file': boot_image}
            self._update(system, boot_image=images, media=media)

    def set_power_state(self, identity, state):
        with self._lock:
            super().set_power_state(identity, state)

    # --------------------------------------------------------- notifications

    def _update(self, system, **changes):
        with self._lock:
            super()._update(system, **changes)

    def _send_external_notification(self, system):
        url = self._config.get('EXTERNAL_NOTIFICATION_URL')
        with requests.Session() as session:
            # The lab is on loopback: never through a proxy from the environment.
            session.trust_env = False
            try:
                response = session.put(url, json=system, timeout=NOTIFY_TIMEOUT,
                                       verify=self._config.get('EXTERNAL_NOTIFICATION_CAFILE') or True)
                if response.status_code >= 400:
                    self._logger.error('notification to %s refused: HTTP %s', url, response.status_code)
            except requests.RequestException as exc:
                self._logger.error('notification to %s failed: %s', url, exc)


def _inserted_url(identity, device):
    """The URL the image in `device` was inserted from, as the virtual media resource reports it."""
    import flask
    if not flask.has_app_context():
        return None
    try:
        return flask.current_app.vmedia.get_device_image_info(identity, device).image_url or None
    except error.FishyError:
        return None
