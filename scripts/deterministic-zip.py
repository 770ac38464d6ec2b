#!/usr/bin/env python3
"""Writes a reproducible zip: the same inputs give byte-identical archives.

    scripts/deterministic-zip.py OUT.zip ENTRY=FILE [ENTRY=FILE ...]
    scripts/deterministic-zip.py --check OUT.zip ENTRY:MODE [ENTRY:MODE ...]

Everything a zip records besides the file contents is fixed:
- entries are sorted by name;
- every timestamp is 1980-01-01 00:00:00 (the zip epoch), whatever the files' mtimes;
- permissions are 0755 for files with any execute bit and 0644 otherwise, recorded as Unix
  attributes (made by "Unix", regular file), which is what Lambda reads;
- no extra fields (no uid/gid, no extended timestamps), no comment, no data descriptors;
- deflate through zopfli (one iteration): deterministic like zlib, and about 3% smaller, which
  is what keeps the bootstraps inside their 8 MB budget. It needs the `zopfli` Python package
  (scripts/setup.sh installs it); there is no fallback, since another compressor would give
  other bytes.

--check reads an archive back and fails unless it holds exactly the given entries, with those
modes, the fixed timestamp and nothing else.
"""
import os
import stat
import struct
import sys
import zipfile
import zlib

try:
    import zopfli.zlib
except ImportError:
    sys.exit("deterministic-zip: the zopfli Python package is missing: pip install zopfli (scripts/setup.sh does)")

EPOCH = (1980, 1, 1, 0, 0, 0)
DOS_TIME, DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 00:00:00, 1980-01-01
VERSION = 20  # 2.0: deflate
UNIX = 3


def deflate(data):
    # zopfli writes a zlib stream: two header bytes, the raw deflate data, four checksum bytes.
    return zopfli.zlib.compress(data, numiterations=1)[2:-4]


def write(out, pairs):
    entries = []
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or name.startswith("/") or ".." in name.split("/"):
            sys.exit(f"deterministic-zip: bad entry {pair!r}; want NAME=FILE with a relative NAME")
        entries.append((name, path))
    names = [name for name, _ in entries]
    if len(set(names)) != len(names):
        sys.exit("deterministic-zip: duplicate entry names")
    # Zip's layout written out by hand, because zipfile cannot take an already deflated stream.
    local, central = bytearray(), bytearray()
    for name, path in sorted(entries):
        mode = 0o755 if os.stat(path).st_mode & 0o111 else 0o644
        with open(path, "rb") as source:
            data = source.read()
        packed, encoded = deflate(data), name.encode()
        crc = zlib.crc32(data)
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, VERSION, 0, 8, DOS_TIME, DOS_DATE, crc, len(packed), len(data), len(encoded), 0)
        local += encoded + packed
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (UNIX << 8) | VERSION, VERSION, 0, 8, DOS_TIME, DOS_DATE, crc,
            len(packed), len(data), len(encoded), 0, 0, 0, 0, (stat.S_IFREG | mode) << 16, offset)
        central += encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0)
    tmp = out + ".tmp"
    with open(tmp, "wb") as archive:
        archive.write(local + central + end)
    os.replace(tmp, out)


def check(out, specs):
    wanted = {}
    for spec in specs:
        name, _, mode = spec.partition(":")
        wanted[name] = int(mode or "755", 8)
    problems = []
    with zipfile.ZipFile(out) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if names != sorted(wanted):
            problems.append(f"entries are {names}, want {sorted(wanted)}")
        for info in infos:
            mode = (info.external_attr >> 16) & 0o7777
            kind = stat.S_IFMT(info.external_attr >> 16)
            if info.filename in wanted and mode != wanted[info.filename]:
                problems.append(f"{info.filename}: mode {mode:o}, want {wanted[info.filename]:o}")
            if kind != stat.S_IFREG or info.create_system != 3:
                problems.append(f"{info.filename}: not recorded as a regular Unix file")
            if info.date_time != EPOCH:
                problems.append(f"{info.filename}: timestamp {info.date_time}, want {EPOCH}")
            if info.extra or info.comment:
                problems.append(f"{info.filename}: has extra fields or a comment")
        if archive.comment:
            problems.append("archive has a comment")
        bad = archive.testzip()
        if bad:
            problems.append(f"{bad}: CRC mismatch")
    if problems:
        sys.exit(f"deterministic-zip: {out}: " + "; ".join(problems))


def main(argv):
    if len(argv) >= 3 and argv[1] == "--check":
        check(argv[2], argv[3:])
    elif len(argv) >= 3 and not argv[1].startswith("-"):
        write(argv[1], argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
