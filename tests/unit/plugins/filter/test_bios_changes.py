"""scmp.iaas.bios_changes: only the attributes that differ, and a loud error for a name the BIOS lacks."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.scmp.iaas.plugins.filter.bios_changes import FilterModule, bios_changes

CURRENT = {'Smee': 'Disabled', 'SevSnpSupport': 'Enabled', 'SevEsAsidSpaceLimit': 1, 'Iommu': 'Auto',
           'BootMode': 'Uefi'}


def test_only_differing_attributes_are_returned():
    wanted = {'Smee': 'Enabled', 'SevSnpSupport': 'Enabled', 'SevEsAsidSpaceLimit': 100, 'Iommu': 'Enabled'}
    assert bios_changes(CURRENT, wanted) == {'Smee': 'Enabled', 'SevEsAsidSpaceLimit': 100, 'Iommu': 'Enabled'}


def test_nothing_to_do_when_the_bios_already_has_the_values():
    assert bios_changes(CURRENT, {'Smee': 'Disabled', 'BootMode': 'Uefi'}) == {}


@pytest.mark.parametrize('current, wanted', [('100', 100), (100, '100'), (' 100', 100)])
def test_a_number_equals_its_decimal_spelling(current, wanted):
    assert bios_changes({'SevEsAsidSpaceLimit': current}, {'SevEsAsidSpaceLimit': wanted}) == {}


def test_booleans_are_not_numbers():
    assert bios_changes({'Flag': '1'}, {'Flag': True}) == {'Flag': True}


def test_a_null_wanted_value_leaves_the_attribute_alone():
    assert bios_changes(CURRENT, {'Smee': None, 'NotThere': None}) == {}


def test_an_attribute_the_bios_lacks_is_named_with_the_ones_it_has():
    with pytest.raises(AnsibleFilterError) as err:
        bios_changes(CURRENT, {'SMEE': 'Enabled', 'Iommu': 'Enabled'})
    assert 'no attribute SMEE' in str(err.value) and 'SevSnpSupport' in str(err.value)


def test_bad_input_is_refused():
    with pytest.raises(AnsibleFilterError):
        bios_changes(['Smee'], {'Smee': 'Enabled'})


def test_the_filter_is_registered():
    assert FilterModule().filters()['bios_changes'] is bios_changes
