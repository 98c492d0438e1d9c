"""The lab's host layer: lab nodes as real Debian hosts in systemd-nspawn containers, reached over SSH.

Some steps have no Proxmox API and go over SSH (kernel command line, SEV-SNP readiness files). For them each
installed lab node is a container host: a Debian bookworm tree built once with debootstrap and cached
(lab.hosts.rootfs), booted with `systemd-nspawn --boot` on an overlay whose upper layer is the host's disk,
with its management address on a per-/24 bridge in the root namespace whose address is the site's gateway, so
the controller reaches 198.18.S.H:22 directly (lab.hosts.network). Inside: the host's hostname/FQDN (resolvable
in /etc/hosts), sshd with the host keys and root's authorized_keys, the emulated hardware files
/run/qemu-server/host-hw-capabilities.json and /sys/module/kvm_amd/parameters/{sev,sev_es,sev_snp}, and lab
stand-ins for proxmox-boot-tool and pveversion (lab.hosts.guest). A reboot from inside works: the container
comes back with the same address and keys, the command line set with `proxmox-boot-tool refresh` and the
hardware the lab reports at that moment.

The lab daemon's API (blocking; needs root, systemd-nspawn, debootstrap):

    layer = HostLayer(lab_dir)      # .available, .why_not ('not root...', '... missing: run make lab-host-deps')
    layer.prepare()                 # build the cached tree (about a minute the first time); idempotent
    layer.boot(name, hostname, fqdn, address_cidr, gateway, dns, ssh_host_keys, authorized_keys, sev)
    layer.set_sev(name, sev)        # the hardware's report from the next boot on
    layer.shutdown(name); layer.destroy(name); layer.running(name); layer.stop_all()

Lower level, e.g. for a molecule scenario's plain Debian test hosts on their own /24 (198.19.x.0/24):

    from lab.hosts import Container, ContainerSpec, RootfsCache
    rootfs = RootfsCache(cache_dir).prepare()
    spec = ContainerSpec(name='instance', hostname='instance', fqdn='instance.example.test',
                         address='198.19.7.10/24', gateway='198.19.7.1',
                         ssh_host_keys={'ed25519': key}, authorized_keys=[public_key_line])
    spec.bridge().ensure()          # the /24's bridge `scmplab-19-7`; .remove() when done
    container = Container(os.path.join(state_dir, spec.name), rootfs)
    container.start(spec); container.wait_for_ssh()
    ...
    container.destroy(); spec.bridge().remove()

Containers outlive the process that started them (each has a supervisor process detached with setsid, PID in
its directory); they are stopped by that PID. Nothing is left behind by stop: the overlay and nspawn's runtime
files live in the supervisor's private mount namespace, the veth pairs die with the container.
"""

from lab.hosts.container import Container, ContainerError, ContainerSpec, HostKey
from lab.hosts.layer import HostLayer, HostLayerError, check_machine
from lab.hosts.network import Bridge
from lab.hosts.rootfs import RootfsCache, RootfsError

__all__ = ['Bridge', 'Container', 'ContainerError', 'ContainerSpec', 'HostKey', 'HostLayer', 'HostLayerError',
           'RootfsCache', 'RootfsError', 'check_machine']
