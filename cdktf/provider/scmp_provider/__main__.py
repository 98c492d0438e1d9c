"""`python -m scmp_provider`: what Terraform starts (through the launcher in the provider mirror)."""

from scmp_provider.framework import serve

serve()
