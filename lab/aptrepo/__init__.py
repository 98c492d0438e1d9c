"""A local stand-in for the Proxmox VE package repository, and the Debian packages a conversion needs.

Converting Debian to Proxmox VE (roles/pve_from_debian) installs packages from two places: Proxmox's repository
(proxmox-ve, proxmox-default-kernel, ...) and Debian's (postfix, open-iscsi, chrony). Lab containers reach
neither, so this package builds one directory holding two signed apt archives:

  pve/     Proxmox's names, lab stand-ins: every package installs marker files only (no Proxmox software),
           says so in its Description and in /usr/share/doc/<package>/LAB-STAND-IN, and carries the control
           field `X-Lab-Stand-In: yes`. Suite = the Debian codename, component pve-no-subscription, as at
           download.proxmox.com/debian/pve. See lab.aptrepo.standins.
  debian/  real Debian packages: postfix, open-iscsi, chrony, os-prober, python3-apt (Ansible's apt module
           needs it) and their whole dependency closure,
           downloaded once with apt-get from this machine's Debian mirror (apt verifies them against Debian's
           archive key), plus stand-ins for the Debian kernel packages (a container cannot use a real kernel
           package: its postinst builds an initramfs and updates a boot loader the container does not have).
           Component main.

Both archives are indexed (Packages, Release) and signed (InRelease, Release.gpg) with a throwaway key made
for this directory; `keyring.gpg` is its public half, binary, as Proxmox publishes its archive keyring, and is
what the stand-in proxmox-archive-keyring package installs. Nothing in it is trusted outside the lab.

Layout of the built directory:

  keyring.gpg             the archive key (binary OpenPGP public key)
  gnupg/                  its private half (mode 0700)
  downloads/<suite>/      the downloaded Debian packages (kept: later builds download only what is new)
  repo/pve/dists/<suite>/{Release,InRelease,Release.gpg,pve-no-subscription/binary-amd64/Packages{,.gz}}
  repo/pve/pool/...
  repo/debian/dists/<suite>/{Release,InRelease,Release.gpg,main/binary-amd64/Packages{,.gz}}
  repo/debian/pool/...
  repo/proxmox-archive-keyring-<suite>.gpg   the keyring again, where a conversion downloads it from

`python -m lab.aptrepo build --suite bookworm --dir DIR` builds it; `python -m lab.aptrepo serve` serves
DIR/repo over HTTP on one address (see lab.aptrepo.__main__).
"""
