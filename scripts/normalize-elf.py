#!/usr/bin/env python3
"""Removes the one build-path-dependent stamp from a linked Swift executable, in place.

    scripts/normalize-elf.py BINARY

swiftc writes a `.swift_modhash` section into every object: an MD5 of the LLVM module, kept for
incremental compilation. It hashes the module's file names, so the same commit built in two
checkouts (or two scratch paths) gives executables that differ in those bytes and, through them,
in the linker's GNU build ID, and in nothing else (checked with `cmp -l`; `-file-prefix-map` does
not help). Nothing reads the section at run time. This script zeroes it, in place and without
moving anything, then sets the build ID to the SHA-1 of the result (with the ID's own bytes
zeroed), so that equal programs get equal IDs again.

Only 64-bit little-endian ELF (x86_64, arm64). A binary with no such section is left as it is.
"""
import hashlib
import struct
import sys


def sections(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit("normalize-elf: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = []
    for index in range(shnum):
        name, kind, flags, addr, offset, size = struct.unpack_from("<IIQQQQ", data, shoff + index * shentsize)
        headers.append((name, kind, offset, size))
    strtab_offset = headers[shstrndx][2]
    result = {}
    for name, kind, offset, size in headers:
        end = data.index(b"\0", strtab_offset + name)
        result[data[strtab_offset + name:end].decode()] = (kind, offset, size)
    return result


def main(path):
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    table = sections(data)
    modhash = table.get(".swift_modhash")
    if modhash is None:
        return
    SHT_NOBITS = 8
    kind, offset, size = modhash
    if kind != SHT_NOBITS:
        data[offset:offset + size] = bytes(size)
    note = table.get(".note.gnu.build-id")
    if note is not None:
        _, offset, size = note
        namesz, descsz, note_type = struct.unpack_from("<III", data, offset)
        desc = offset + 12 + ((namesz + 3) & ~3)
        if note_type != 3 or desc + descsz > offset + size:  # NT_GNU_BUILD_ID
            sys.exit("normalize-elf: unexpected .note.gnu.build-id layout")
        data[desc:desc + descsz] = bytes(descsz)
        digest = hashlib.sha1(data).digest()
        data[desc:desc + descsz] = (digest * (descsz // len(digest) + 1))[:descsz]
    with open(path, "r+b") as handle:
        handle.write(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
