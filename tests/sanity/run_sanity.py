"""Run `ansible-test sanity` on this collection without reaching anything but the Python package index.

Usage (from anywhere, with the project's virtual environment):

    .venv/bin/python tests/sanity/run_sanity.py [--keep] [--output DIR] [ansible-test sanity options]

e.g. `--test pep8` to run one test, `--junit` for junit reports. It exits with ansible-test's exit code.

ansible-test only works on a tree shaped `ansible_collections/<namespace>/<name>/`, and this repository is
the collection root itself, so the collection's content is copied into a temporary tree of that shape first.
The copy is selected the way `ansible-galaxy collection build` selects the artifact (galaxy.yml's
`build_ignore`), so sanity judges exactly what users install, plus the test directories ansible-test reads.

ansible-test bootstraps pip into each sanity test's virtual environment with a get-pip script that it
downloads from the Ansible CI file server unless a cached copy exists. That server is not reachable from
every build machine, so this runner writes its own bootstrap script into that cache (see STAND_IN below).

`--output DIR` copies ansible-test's tests/output/ (reports, and junit files with --junit) to DIR for CI.
"""

import argparse
import contextlib
import fcntl
import fnmatch
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# ansible-test reads these although `ansible-galaxy collection build` may leave them out.
ALWAYS_INCLUDED = ('tests/sanity', 'tests/unit')

# Never part of the collection, whatever galaxy.yml says: the build's own defaults first, then what this
# repository grows. galaxy.yml itself is kept (the build leaves it out): ansible-test reads the version from it.
ALWAYS_IGNORED = (
    'MANIFEST.json',
    'FILES.json',
    '*.pyc',
    '*.retry',
    'tests/output',
    '.venv',
    '.lab',
    'lab',
    'collections',
    '.cache',
    '.pytest_cache',
    '.mypy_cache',
    '.ruff_cache',
)
IGNORED_DIR_NAMES = frozenset(('CVS', '.bzr', '.hg', '.git', '.svn', '__pycache__', '.tox'))

# The bootstrap script ansible-test runs (as __main__, argv = pip options) in each fresh sanity virtualenv.
STAND_IN = '''\
"""Offline stand-in for get-pip.py, written by the scmp.iaas sanity runner (tests/sanity/run_sanity.py).

pip comes from the interpreter's bundled wheel (ensurepip), then is upgraded to the version ansible-test
asks for from the configured package index. ensurepip runs in a child process because it removes every
PIP_* variable and points PIP_CONFIG_FILE at the null device in the process that runs it, which would hide
the pip configuration file that carries the index and certificate settings from the install that follows.
"""

import importlib.metadata
import subprocess
import sys

# get-pip.py's own options: `pip install` does not know them, they name what get-pip must not install.
NOT_WANTED = {'--no-setuptools': 'setuptools', '--no-wheel': 'wheel'}


def installed(distribution):
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def main():
    pip_options = [option for option in sys.argv[1:] if option not in NOT_WANTED]
    unwanted = [NOT_WANTED[option] for option in sys.argv[1:] if option in NOT_WANTED]
    already_there = [distribution for distribution in unwanted if installed(distribution)]
    subprocess.run([sys.executable, '-m', 'ensurepip', '--upgrade'], check=True)
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--upgrade'] + pip_options, check=True)
    # Some Pythons' ensurepip also installs setuptools; get-pip would not have, and the pinned sanity
    # requirements are meant to be the whole environment.
    importlib.invalidate_caches()
    added = [distribution for distribution in unwanted if distribution not in already_there and installed(distribution)]
    if added:
        subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet'] + added, check=True)


if __name__ == '__main__':
    main()
'''


def is_ignored(rel_path, patterns):
    """Match like ansible-galaxy's build: fnmatch of the path relative to the collection root."""
    return any(fnmatch.fnmatch(rel_path, os.path.normpath(pattern)) for pattern in patterns)


def is_forced(rel_path):
    """True for an ALWAYS_INCLUDED directory, anything under one, or a directory leading to one."""
    for kept in ALWAYS_INCLUDED:
        if rel_path == kept or rel_path.startswith(kept + '/') or kept.startswith(rel_path + '/'):
            return True
    return False


def copy_collection(source, destination, build_ignore):
    """Copy the collection's content; return the number of files copied."""
    def excluded(rel_path):
        return is_ignored(rel_path, ALWAYS_IGNORED) or (is_ignored(rel_path, build_ignore) and not is_forced(rel_path))

    count = 0
    for directory, dir_names, file_names in os.walk(source):
        rel_dir = os.path.relpath(directory, source)
        rel_dir = '' if rel_dir == '.' else rel_dir
        kept_dirs = []
        for name in sorted(dir_names):
            rel_path = os.path.join(rel_dir, name)
            if name in IGNORED_DIR_NAMES or excluded(rel_path):
                continue
            absolute = os.path.join(directory, name)
            if os.path.islink(absolute):
                # Only links inside the collection survive a build; they stay links rather than being walked.
                target = os.path.realpath(absolute)
                if os.path.commonpath([target, str(source)]) == str(source):
                    os.makedirs(os.path.join(destination, rel_dir), exist_ok=True)
                    os.symlink(os.readlink(absolute), os.path.join(destination, rel_path))
                continue
            kept_dirs.append(name)
        dir_names[:] = kept_dirs
        os.makedirs(os.path.join(destination, rel_dir), exist_ok=True)
        for name in sorted(file_names):
            rel_path = os.path.join(rel_dir, name)
            if excluded(rel_path):
                continue
            shutil.copy2(os.path.join(directory, name), os.path.join(destination, rel_path))
            count += 1
    return count


def pip_version_bootstrapped_by_ansible_test():
    """The pip version ansible-test pins in its sanity virtualenvs; it names the cached bootstrap script."""
    spec = importlib.util.find_spec('ansible_test')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('ansible-test is not installed in this Python environment: %s' % sys.executable)
    source = Path(list(spec.submodule_search_locations)[0], '_internal', 'python_requirements.py')
    match = re.search(r"default_packages = dict\(\s*pip='([0-9.]+)'", source.read_text(encoding='utf-8'))
    if not match:
        raise SystemExit('cannot find the pip version ansible-test bootstraps in %s; update this runner' % source)
    return match.group(1)


def install_stand_in(pip_version):
    """Write the bootstrap script where ansible-test looks for its cached get-pip; return its path."""
    path = Path.home() / '.ansible' / 'test' / 'cache' / ('get_pip_%s.py' % pip_version.replace('.', '_'))
    if not path.exists() or path.read_text(encoding='utf-8') != STAND_IN:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + '.tmp')
        temporary.write_text(STAND_IN, encoding='utf-8')
        temporary.replace(path)
    return path


@contextlib.contextmanager
def exclusive_test_cache():
    """Serialise runs: ansible-test's virtualenv cache is shared per user and not safe for concurrent runs
    (one run deletes a half-built environment while another is installing into it)."""
    lock_path = Path.home() / '.ansible' / 'test' / 'scmp-iaas-sanity.lock'
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, 'w', encoding='utf-8') as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print('scmp.iaas sanity: waiting for another sanity run to finish (%s)' % lock_path, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def find_ansible_test():
    """ansible-test from the same environment as this interpreter, so its version matches the project's pins."""
    beside = Path(sys.executable).parent / 'ansible-test'
    if beside.exists():
        return str(beside)
    found = shutil.which('ansible-test')
    if not found:
        raise SystemExit('ansible-test not found next to %s nor on PATH' % sys.executable)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--keep', action='store_true', help='keep the temporary collection tree for inspection')
    parser.add_argument('--output', type=Path, help="copy ansible-test's tests/output/ to this directory")
    options, ansible_test_options = parser.parse_known_args()

    with open(PROJECT_ROOT / 'galaxy.yml', encoding='utf-8') as galaxy_file:
        galaxy = yaml.safe_load(galaxy_file)
    namespace, name = galaxy['namespace'], galaxy['name']
    python_version = '%d.%d' % sys.version_info[:2]

    started = time.monotonic()
    workspace = Path(tempfile.mkdtemp(prefix='%s-%s-sanity-' % (namespace, name)))
    collection = workspace / 'ansible_collections' / namespace / name
    try:
        file_count = copy_collection(PROJECT_ROOT, collection, galaxy.get('build_ignore') or [])
        # A repository of its own stops ansible-test from adopting an enclosing one (a temp dir inside a checkout).
        if shutil.which('git'):
            subprocess.run(['git', 'init', '--quiet', str(collection)], check=True, stdin=subprocess.DEVNULL)
        command = [find_ansible_test(), 'sanity', '--python', python_version, '--color', 'no'] + ansible_test_options
        print('scmp.iaas sanity: %d files copied to %s' % (file_count, collection), flush=True)
        with exclusive_test_cache():
            stand_in = install_stand_in(pip_version_bootstrapped_by_ansible_test())
            print('scmp.iaas sanity: pip bootstrap stand-in at %s' % stand_in, flush=True)
            print('scmp.iaas sanity: running %s' % ' '.join(command), flush=True)
            returncode = subprocess.run(command, cwd=str(collection), stdin=subprocess.DEVNULL, check=False).returncode

        results = collection / 'tests' / 'output'
        if options.output and results.is_dir():
            shutil.copytree(results, options.output, symlinks=True, dirs_exist_ok=True)
    finally:
        if options.keep:
            print('scmp.iaas sanity: temporary tree kept at %s' % workspace)
        else:
            shutil.rmtree(workspace, ignore_errors=True)

    verdict = 'passed' if returncode == 0 else 'FAILED (ansible-test exit code %d, details above)' % returncode
    print('scmp.iaas sanity: %s in %.0f s' % (verdict, time.monotonic() - started))
    return returncode


if __name__ == '__main__':
    sys.exit(main())
