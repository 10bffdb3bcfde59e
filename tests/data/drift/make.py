#!/usr/bin/env python3
"""Makes the drift test data from tests/data/x86/spr-05.json (run from the
repository root): spr-05.json is that report with a kernel release, a
microcode revision and a firmware version added; spr-05-tsx-off.json is the
same host after an update that disables TSX: CPUID.(EAX=7,ECX=0):EBX bit 4
(HLE) and bit 11 (RTM) cleared (Intel SDM vol. 2A, CPUID leaf 07H), a newer
microcode revision and kernel."""
import json

src = json.load(open("tests/data/x86/spr-05.json"))


def host(doc, kernel, microcode):
    doc["host"]["kernel"] = kernel
    doc["host"]["microcode"] = microcode
    doc["host"]["firmware"] = "EGSDCRB1.SYS.0105.D74.2308261933"
    return doc


before = host(json.loads(json.dumps(src)), "6.1.0-13-amd64", "0x2b000181")
after = host(json.loads(json.dumps(src)), "6.1.0-18-amd64", "0x2b000590")
for e in after["x86"]["cpuid"]:
    if e["leaf"] == "0x00000007" and e["subleaf"] == "0x00000000":
        ebx = int(e["ebx"], 16)
        assert ebx & (1 << 4) and ebx & (1 << 11), "spr-05 has HLE and RTM"
        e["ebx"] = "0x%08x" % (ebx & ~((1 << 4) | (1 << 11)))
for name, doc in (("spr-05.json", before), ("spr-05-tsx-off.json", after)):
    with open("tests/data/drift/" + name, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
