#!/usr/bin/env python3
"""Writes the chunk worker's container image as an OCI image layout, without Docker.

    scripts/worker-image.py BOOTSTRAP_ZIP CA_BUNDLE OUTPUT_DIR TAG

The worker is one static binary, so the image is one layer: /usr/local/bin/chunk-processor (the
zip's `bootstrap`), the CA bundle at /etc/ssl/certs/ca-certificates.crt, /etc/passwd and /etc/group
naming the unprivileged user it runs as (nobody, 65534). The worker writes no files. The config's entrypoint is the
worker (a Batch job definition's command is its arguments: `batch --fileId ...`), its default
command `--help`.

Byte-reproducible: entries sorted, every mtime 0, owner 0:0 with no names, fixed modes, USTAR
headers, gzip at level 9 with mtime 0 and no file name, JSON with sorted keys and no spaces. The same
inputs give the same manifest digest.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import zipfile

USER = "65534:65534"
PASSWD = b"root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
GROUP = b"root:x:0:\nnogroup:x:65534:\n"
# ELF e_machine -> OCI architecture.
ARCHITECTURES = {62: "amd64", 183: "arm64"}


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def layer(binary, certificates):
    """The layer's tar (uncompressed), entries sorted by path."""
    directories = ["etc", "etc/ssl", "etc/ssl/certs", "usr", "usr/local", "usr/local/bin"]
    files = {
        "etc/group": (GROUP, 0o644),
        "etc/passwd": (PASSWD, 0o644),
        "etc/ssl/certs/ca-certificates.crt": (certificates, 0o644),
        "usr/local/bin/chunk-processor": (binary, 0o755),
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(directories + list(files)):
            info = tarfile.TarInfo(path)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if path in files:
                data, info.mode = files[path]
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
    return out.getvalue()


def compress(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as stream:
        stream.write(data)
    return out.getvalue()


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    bootstrap_zip, ca_bundle, output, tag = sys.argv[1:]
    with zipfile.ZipFile(bootstrap_zip) as archive:
        binary = archive.read("bootstrap")
    if binary[:4] != b"\x7fELF":
        sys.exit(f"{bootstrap_zip}: bootstrap is not an ELF executable")
    machine = int.from_bytes(binary[18:20], "little")
    if machine not in ARCHITECTURES:
        sys.exit(f"{bootstrap_zip}: bootstrap is for ELF machine {machine}, not x86_64 or arm64")
    with open(ca_bundle, "rb") as handle:
        certificates = handle.read()

    tar = layer(binary, certificates)
    blobs = {}

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest

    layer_gz = compress(tar)
    platform = {"architecture": ARCHITECTURES[machine], "os": "linux"}
    config = canonical({
        **platform,
        "config": {
            "User": USER,
            "Entrypoint": ["/usr/local/bin/chunk-processor"],
            "Cmd": ["--help"],
            "Env": ["PATH=/usr/local/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        "history": [{"created_by": "scripts/worker-image.sh: chunk-processor, CA certificates, user nobody"}],
    })
    manifest = canonical({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(layer_gz), "size": len(layer_gz)}],
    })
    index = canonical({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(manifest), "size": len(manifest),
            "platform": platform, "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    })

    # Written beside the output, then swapped in: a half-written layout is never left behind.
    staging = output.rstrip("/") + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(os.path.join(staging, "blobs", "sha256"))
    for digest, data in blobs.items():
        with open(os.path.join(staging, "blobs", "sha256", digest.split(":", 1)[1]), "wb") as handle:
            handle.write(data)
    with open(os.path.join(staging, "oci-layout"), "wb") as handle:
        handle.write(canonical({"imageLayoutVersion": "1.0.0"}))
    with open(os.path.join(staging, "index.json"), "wb") as handle:
        handle.write(index)
    shutil.rmtree(output, ignore_errors=True)
    os.rename(staging, output)
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    print(f"{output}: {tag} {manifest_digest} ({len(layer_gz)} bytes compressed, {platform['architecture']})")


if __name__ == "__main__":
    main()
