"""The Proxmox automated installer, as a lab machine would run it.

`payloads` builds what a machine running the installer sends: the answer request it POSTs to the answer
URL and the post-installation webhook body the installed system sends, and describes the machine's disks
and NICs as the installer sees them (kernel names and udev properties). `answer` judges an answer file
the way the installer does before it touches a disk.

Both are derived from Proxmox's own installer sources (pve-installer and proxmox-rs'
proxmox-installer-types), never from the collection: the lab judges the product independently.
"""
