#!/usr/bin/env python3
"""Independent check of an EIF's PCRs and CRC, written from
../shared/spec/eif.md alone (it shares no code with src/eif/).

Usage: pcr_independent_check.py FILE.eif

Prints one JSON object:
  {"version": 4, "flags": 0, "num_sections": 5,
   "sections": [{"type": 1, "offset": 548, "size": N}, ...],
   "crc_stored": "0x........", "crc_computed": "0x........", "crc_ok": true,
   "PCR0": "...", "PCR1": "...", "PCR2": "..."}
and exits 0; exits 1 with a message on stderr if the file is not a
well-formed, contiguous EIF.

Python 3 standard library only: struct, hashlib, zlib, json.
"""
import hashlib
import json
import struct
import sys
import zlib

HEADER_SIZE = 548
SECTION_HEADER_SIZE = 12
MAX_SECTIONS = 32
KERNEL, CMDLINE, RAMDISK, SIGNATURE, METADATA = 1, 2, 3, 4, 5


def fail(message):
    print("pcr_independent_check: " + message, file=sys.stderr)
    sys.exit(1)


def pcr(content_digest):
    # PCRn = SHA-384(48 zero bytes || SHA-384(Mn))
    return hashlib.sha384(b"\x00" * 48 + content_digest).hexdigest()


def main():
    if len(sys.argv) != 2:
        fail("usage: pcr_independent_check.py FILE.eif")
    with open(sys.argv[1], "rb") as f:
        data = f.read()

    if len(data) < HEADER_SIZE:
        fail("file shorter than the 548-byte header")
    if data[0:4] != b".eif":
        fail("bad magic")
    # Big-endian: magic[4] version u16 flags u16 default_mem u64 default_cpus u64
    # reserved u16 num_sections u16 offsets[32] u64 sizes[32] u64 unused u32 crc u32
    version, flags, _mem, _cpus, _reserved, num_sections = struct.unpack_from(">HHQQHH", data, 4)
    offsets = struct.unpack_from(">32Q", data, 28)
    sizes = struct.unpack_from(">32Q", data, 284)
    (crc_stored,) = struct.unpack_from(">I", data, 544)
    if num_sections > MAX_SECTIONS:
        fail("too many sections")

    # CRC-32 (zlib) over header bytes 0..543, then each section's header and
    # data in table order.
    crc = zlib.crc32(data[0:544])

    m0 = hashlib.sha384()  # kernel, cmdline, every ramdisk
    m1 = hashlib.sha384()  # kernel, cmdline, first ramdisk
    m2 = hashlib.sha384()  # ramdisks after the first
    ramdisk_index = 0
    sections = []
    expected = HEADER_SIZE
    for i in range(num_sections):
        offset, size = offsets[i], sizes[i]
        if offset != expected:
            fail("section %d at %d, expected %d" % (i, offset, expected))
        if offset + SECTION_HEADER_SIZE + size > len(data):
            fail("section %d runs past the end of the file" % i)
        stype, sflags, ssize = struct.unpack_from(">HHQ", data, offset)
        if ssize != size or sflags != 0:
            fail("section %d header disagrees with the table" % i)
        body = data[offset + SECTION_HEADER_SIZE: offset + SECTION_HEADER_SIZE + size]
        crc = zlib.crc32(data[offset: offset + SECTION_HEADER_SIZE], crc)
        crc = zlib.crc32(body, crc)
        if stype in (KERNEL, CMDLINE):
            m0.update(body)
            m1.update(body)
        elif stype == RAMDISK:
            m0.update(body)
            if ramdisk_index == 0:
                m1.update(body)
            else:
                m2.update(body)
            ramdisk_index += 1
        sections.append({"type": stype, "offset": offset, "size": size})
        expected = offset + SECTION_HEADER_SIZE + size
    if expected != len(data):
        fail("%d bytes after the last section" % (len(data) - expected))

    print(json.dumps({
        "version": version,
        "flags": flags,
        "num_sections": num_sections,
        "sections": sections,
        "crc_stored": "0x%08x" % crc_stored,
        "crc_computed": "0x%08x" % crc,
        "crc_ok": crc == crc_stored,
        "PCR0": pcr(m0.digest()),
        "PCR1": pcr(m1.digest()),
        "PCR2": pcr(m2.digest()),
    }))


if __name__ == "__main__":
    main()
