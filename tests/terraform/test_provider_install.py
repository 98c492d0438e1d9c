"""`make provider` builds a mirror Terraform installs the scmp provider from, offline, with a real lock file.

The provider's address lies under the reserved `.invalid` domain, so a successful `terraform init` proves it
came from the mirror: there is no registry to fall back to.
"""

import base64
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_MIRROR = os.path.join(REPOSITORY_ROOT, 'cdktf', 'provider', 'build_mirror.py')
spec = importlib.util.spec_from_file_location('build_mirror', BUILD_MIRROR)
build_mirror = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_mirror)

CONSTANTS = build_mirror.package_constants()
SOURCE, VERSION = CONSTANTS['SOURCE'], CONSTANTS['__version__']


def package_hash(directory):
    """Terraform's `h1:` hash of an unpacked provider package (Go's dirhash.Hash1): what the lock file records."""
    summary = ''.join('%s  %s\n' % (hashlib.sha256(open(os.path.join(directory, name), 'rb').read()).hexdigest(),
                                    name) for name in sorted(os.listdir(directory)))
    return 'h1:' + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


def test_init_installs_the_provider_from_the_mirror(terraform, tmp_path):
    (tmp_path / 'main.tf.json').write_text(json.dumps(
        {'terraform': {'required_providers': {'scmp': {'source': SOURCE, 'version': VERSION}}}}))

    init = terraform(tmp_path, 'init', '-no-color')

    assert 'Installed %s v%s' % (SOURCE, VERSION) in init.stdout
    lock = (tmp_path / '.terraform.lock.hcl').read_text()
    block = re.search(r'provider "%s" \{(.*?)\n\}' % re.escape(SOURCE), lock, re.S)
    assert block, lock
    assert 'version     = "%s"' % VERSION in block.group(1)
    package = build_mirror.MIRROR_DIR / SOURCE / VERSION / build_mirror.terraform_platform()
    assert re.findall(r'"(h1:[^"]+)"', block.group(1)) == [package_hash(package)]
    # With the lock file in place, a second init verifies the mirror's package against it.
    terraform(tmp_path, 'init', '-no-color')
    # Terraform starts the launcher through .terraform/providers: it finds the checkout and serves the schema.
    schema = json.loads(terraform(tmp_path, 'providers', 'schema', '-json').stdout)
    resources = schema['provider_schemas'][SOURCE]['resource_schemas']
    assert 'scmp_vm' in resources and resources['scmp_vm']['block']['attributes']['nics']['nested_type']


def test_build_is_idempotent_and_keeps_only_this_version(terraform_env):
    stale = build_mirror.MIRROR_DIR / SOURCE / '0.0.0-stale'
    stale.mkdir(parents=True, exist_ok=True)

    output = subprocess.run([sys.executable, BUILD_MIRROR], capture_output=True, text=True, check=True).stdout

    assert not stale.exists()
    assert [line.split()[0] for line in output.splitlines()[:2]] == ['unchanged', 'unchanged'], output
    launcher = build_mirror.MIRROR_DIR / SOURCE / VERSION / build_mirror.terraform_platform() / \
        ('terraform-provider-scmp_v%s' % VERSION)
    assert os.access(launcher, os.X_OK)
    script = launcher.read_text()
    # No path of this checkout: the lock file's hash is the same wherever a checkout lives.
    assert str(build_mirror.REPOSITORY_ROOT) not in script
    assert 'exec "$root/.venv/bin/python" -m scmp_provider "$@"\n' in script
