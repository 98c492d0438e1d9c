# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The built collection holds collection content only, and its metadata is what Galaxy and ansible-builder need.

The build runs on a copy of the working tree into which every kind of non-content this repository produces is
planted (a virtualenv, lab state, test output, a Terraform work directory, ...), so that galaxy.yml's
build_ignore is checked against all of them, not only against those that happen to exist in a checkout.
"""

import collections
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Large or machine-specific, and replaced by decoys in the copy anyway.
NOT_COPIED = ('.venv', '.git', '.lab', '.cache', '.pytest_cache', 'tests/output')

# Files of the kinds a developer's checkout accumulates, none of which may reach the artifact.
DECOYS = (
    '.venv/pyvenv.cfg',
    '.lab/sites/site1/state.json',
    '.git/HEAD',
    'lab/decoy.py',
    'tests/output/junit/sanity.xml',
    'inventories/decoy/hosts.yml',
    'cdktf/main.py',
    'cdktf/.terraform/providers.json',
    'molecule/default/molecule.yml',
    'Makefile',
    'pyproject.toml',
    'requirements.in',
    'requirements.txt',
    'ansible.cfg',
    'scmp_iaas_lab.egg-info/PKG-INFO',
    'plugins/module_utils/__pycache__/decoy.cpython-311.pyc',
    'scmp-iaas-0.0.1.tar.gz',
)

# What a collection may carry at its top level; anything else is repository tooling.
CONTENT_TOP_LEVEL = frozenset((
    'MANIFEST.json', 'FILES.json', 'README.md', 'LICENSE', 'COPYING', 'CHANGELOG.rst', 'CHANGELOG.md',
    'meta', 'plugins', 'roles', 'playbooks', 'docs', 'changelogs', 'tests',
))

Artifact = collections.namedtuple('Artifact', 'names manifest files')

NEVER_IN_ARTIFACT = ('lab', '.venv', '.lab', '.git', 'inventories', 'cdktf', 'molecule', 'collections', 'tests/output')


def copy_tree(source, destination):
    def skip(directory, names):
        rel_dir = Path(directory).relative_to(source)
        return [name for name in names if (rel_dir / name).as_posix() in NOT_COPIED]

    shutil.copytree(source, destination, symlinks=True, ignore=skip)
    for rel_path in DECOYS:
        path = destination / rel_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text('decoy\n', encoding='utf-8')
    # The link that lets ansible resolve scmp.iaas from the working tree points back at the collection root.
    link = destination / 'collections' / 'ansible_collections' / 'scmp' / 'iaas'
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path('..', '..', '..'))


def ansible_galaxy():
    beside = Path(sys.executable).parent / 'ansible-galaxy'
    return str(beside) if beside.exists() else shutil.which('ansible-galaxy')


@pytest.fixture(scope='module')
def artifact(tmp_path_factory):
    """Member names, MANIFEST.json and file contents of the collection built from a decoy-laden copy of the tree."""
    assert (PROJECT_ROOT / 'galaxy.yml').exists(), 'no galaxy.yml at {0}: the build cannot be checked'.format(
        PROJECT_ROOT)
    galaxy = ansible_galaxy()
    assert galaxy, 'ansible-galaxy is not installed beside {0} nor on PATH'.format(sys.executable)
    work = tmp_path_factory.mktemp('build')
    tree = work / 'iaas'
    copy_tree(PROJECT_ROOT, tree)
    result = subprocess.run(
        [galaxy, 'collection', 'build', '--output-path', str(work / 'dist'), str(tree)],
        cwd=str(work), stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tarballs = list((work / 'dist').glob('*.tar.gz'))
    assert len(tarballs) == 1, tarballs
    with tarfile.open(tarballs[0]) as tar:
        names = sorted(member.name for member in tar.getmembers())
        manifest = json.load(tar.extractfile('MANIFEST.json'))
        files = {name: tar.extractfile(name).read() for name in names if tar.getmember(name).isfile()}
    return Artifact(names, manifest, files)


def test_only_collection_content_at_the_top_level(artifact):
    top_level = sorted({name.split('/', 1)[0] for name in artifact.names})
    assert [entry for entry in top_level if entry not in CONTENT_TOP_LEVEL] == []


def test_no_repository_tooling_inside(artifact):
    leaked = [
        name for name in artifact.names
        if any(name == excluded or name.startswith(excluded + '/') for excluded in NEVER_IN_ARTIFACT)
        or name in ('Makefile', 'pyproject.toml', 'ansible.cfg')
        or name.startswith('requirements')
        or '__pycache__' in name.split('/') or name.endswith('.pyc')
        or '.egg-info' in name or name.endswith('.tar.gz')
    ]
    assert leaked == []


def test_manifest_carries_galaxy_metadata(artifact):
    info = artifact.manifest['collection_info']
    assert (info['namespace'], info['name']) == ('scmp', 'iaas')
    assert info['license'] == ['GPL-3.0-or-later']
    assert 'community.general' in info['dependencies']


def test_readme_named_by_the_manifest_is_inside(artifact):
    # Galaxy refuses a collection whose readme is missing from the artifact.
    assert artifact.manifest['collection_info']['readme'] in artifact.names


def test_runtime_metadata_is_inside(artifact):
    runtime = yaml.safe_load(artifact.files['meta/runtime.yml'])
    assert 'requires_ansible' in runtime


def test_execution_environment_dependencies_ship(artifact):
    # ansible-builder reads these from the installed collection: a file left out by build_ignore is
    # silently missing from every execution environment built with scmp.iaas.
    files = artifact.files
    definition = yaml.safe_load(files['meta/execution-environment.yml'])
    dependencies = definition['dependencies']
    for kind in ('python', 'system'):
        rel_path = dependencies[kind]
        assert not os.path.isabs(rel_path), 'ansible-builder refuses absolute paths from a collection'
        assert rel_path in files, '%s dependencies file %s is not in the artifact' % (kind, rel_path)
    python_requirements = [
        line.split('>')[0].split('=')[0].split('<')[0].strip().lower()
        for line in files[dependencies['python']].decode('utf-8').splitlines()
        if line.strip() and not line.startswith('#')
    ]
    assert {'proxmoxer', 'requests', 'cryptography'} <= set(python_requirements)
