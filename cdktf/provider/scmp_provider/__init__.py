"""terraform-provider-scmp: Terraform resources for scmp.iaas tenants, served by the same engine as the
Ansible collection's modules (plugins/module_utils)."""

__version__ = '0.1.0'
# The source address Terraform configurations require the provider by (installed from a local mirror only).
SOURCE = 'scmp.invalid/iaas/scmp'
