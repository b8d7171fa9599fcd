"""The boot catalog on a real machine: a [host] rule for the VM's MAC picks another entry
than the menu default; a one-shot next boot set before a boot wins once (and is cleared
from the store), and the boot after it is the host rule's again. The marker shows which
kernel command line booted. The next boot is written into pixied's state database (table
nextboot) directly; each boot's record (GET /api/v1/clients/<mac>) names the entry and
rule that chose it."""
from e2e_lab import VM_MAC, check_boot, check_client, write_extra

CATALOG = f"""
[host e2e-vm]
mac = {VM_MAC}
boot = marker-host

[entry marker-host]
label = Linux (host rule)
kernel = vmlinuz
initrd = initrd.gz
args = console=ttyS0 panic=-1 pixied=host

[entry marker-next]
label = Linux (one-shot next boot)
kernel = vmlinuz
initrd = initrd.gz
args = console=ttyS0 panic=-1 pixied=next
"""


def test_next_boot_wins_once_then_the_host_rule_beats_the_menu(vmlab, tmp_path):
    lab = vmlab("--mode", "full", "--extra", write_extra(tmp_path, CATALOG))
    lab.set_nextboot(VM_MAC, "marker-next")

    first = lab.boot("bios")
    check_boot(first, expect_args=["initrd=initrd.gz", "console=ttyS0", "panic=-1",
                                   "pixied=next"])
    assert first.lines("boot", "ipxe", mac=VM_MAC, rule="nextboot", entry="marker-next"), \
        first.explain()
    assert lab.nextboot_rows() == [], "the one-shot next boot was not cleared"
    # the entry's own files were declared: booted as soon as the initrd was served
    check_client(first, arch_code=0, entry="marker-next", rule="next boot",
                 kinds=("boot-choice", "http-kernel", "http-initrd", "booted"),
                 files=("vmlinuz", "initrd.gz"))

    second = lab.boot("bios")
    check_boot(second, expect_args=["initrd=initrd.gz", "console=ttyS0", "panic=-1",
                                    "pixied=host"])
    assert second.lines("boot", "ipxe", mac=VM_MAC, rule="host", entry="marker-host"), \
        second.explain()
    rec = check_client(second, arch_code=0, entry="marker-host", rule="host rule",
                       kinds=("boot-choice", "http-kernel", "booted"))
    assert rec is None or rec["host"] == "e2e-vm", rec
