"""Run every benchmark in turn: python -m bench [NAME ...]."""

import sys

from . import bootstrap, lab_api, tenant_vms, terraform_vms

BENCHMARKS = {'lab-api': lab_api.main, 'tenant-vms': tenant_vms.main, 'terraform-vms': terraform_vms.main,
              'bootstrap': bootstrap.main}


def main(argv):
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print('unknown benchmark(s): {0}; known: {1}'.format(', '.join(unknown), ', '.join(BENCHMARKS)))
        return 2
    for name in names:
        BENCHMARKS[name]()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
