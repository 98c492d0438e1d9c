"""The AMD SEV readiness an emulated host shows after a boot, from its BIOS and its SEV firmware.

A real host's kernel decides at boot whether kvm_amd offers SEV, SEV-ES and SEV-SNP, from what the
firmware enabled: SMEE (memory encryption), an SEV-ES ASID space (limit > 1), SNP with its memory
coverage and the IOMMU, and an SEV firmware recent enough for SNP (1.51). The lab computes the same at
each boot from the BIOS attributes in effect (lab.bmc.driver) and the host's `lab_sev_firmware`.

What the host then shows (written into the host's container by the host layer):
  /sys/module/kvm_amd/parameters/{sev,sev_es,sev_snp}   "Y" or "N"
  /run/qemu-server/host-hw-capabilities.json            as qemu-server writes it: {"amd-sev": {"cbitpos",
      "reduced-phys-bits", "sev-support", "sev-support-es", "sev-support-snp"}}; without SEV QEMU reports
      no SEV capabilities and the file holds no "amd-sev" entry.
"""

# The oldest SEV firmware with SEV-SNP support.
SNP_MIN_FIRMWARE = (1, 51)
DEFAULT_FIRMWARE = '1.55'
# What EPYC (Zen 3/4) reports to QEMU's query-sev-capabilities.
CBITPOS = 51
REDUCED_PHYS_BITS = 1


def firmware_version(text):
    """(major, minor) of "1.55"; a version the lab cannot read counts as none at all."""
    try:
        major, minor = str(text).split('.', 1)
        return int(major), int(minor)
    except ValueError:
        return (0, 0)


def _enabled(bios, name):
    return bios.get(name) == 'Enabled'


def readiness(bios, firmware=DEFAULT_FIRMWARE):
    """{'params': {sev, sev_es, sev_snp: 'Y'|'N'}, 'capabilities': host-hw-capabilities.json content}."""
    sev = _enabled(bios, 'Smee')
    try:
        asid_limit = int(bios.get('SevEsAsidSpaceLimit', 1))
    except (TypeError, ValueError):
        asid_limit = 1
    sev_es = sev and asid_limit > 1
    sev_snp = (sev_es and all(_enabled(bios, n) for n in ('SevSnpSupport', 'SnpMemoryCoverage', 'Iommu'))
               and firmware_version(firmware) >= SNP_MIN_FIRMWARE)
    params = {'sev': 'Y' if sev else 'N', 'sev_es': 'Y' if sev_es else 'N', 'sev_snp': 'Y' if sev_snp else 'N'}
    capabilities = {}
    if sev:
        capabilities['amd-sev'] = {'cbitpos': CBITPOS, 'reduced-phys-bits': REDUCED_PHYS_BITS,
                                   'sev-support': True, 'sev-support-es': sev_es, 'sev-support-snp': sev_snp}
    return {'params': params, 'capabilities': capabilities}
