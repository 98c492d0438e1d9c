"""The lab's BMCs: a Redfish BMC per inventory host, on sushy-tools' emulator with its fake driver.

`server` is the process serving one host's BMC; `manager` starts, waits for and stops those processes.
"""
