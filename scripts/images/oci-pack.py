#!/usr/bin/env python3
"""Packs uncompressed layer tars into an OCI image archive that `ctr images import` accepts.

Usage: oci-pack.py --name REF --out ARCHIVE.tar [--config JSON] LAYER.tar...
--config holds the image's runtime config (Entrypoint, Cmd, Env, WorkingDir, ExposedPorts, User).
The archive is reproducible: fixed timestamps and owners, so the same layers give the same digests.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return 'sha256:' + h.hexdigest()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    tar.addfile(info, io.BytesIO(data))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--name', required=True, help='full image reference, e.g. docker.io/library/busybox:1.36')
    p.add_argument('--out', required=True)
    p.add_argument('--config', default='{}')
    p.add_argument('--arch', default='amd64')
    p.add_argument('layers', nargs='+')
    a = p.parse_args()

    runtime = json.loads(a.config)
    runtime.setdefault('Env', ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'])
    # Layers are stored uncompressed, so each layer's diff_id is its blob digest.
    layers = [(path, sha256_file(path), os.path.getsize(path)) for path in a.layers]
    config = {
        'created': '1970-01-01T00:00:00Z',
        'architecture': a.arch,
        'os': 'linux',
        'config': runtime,
        'rootfs': {'type': 'layers', 'diff_ids': [d for _, d, _ in layers]},
        'history': [{'created': '1970-01-01T00:00:00Z', 'created_by': 'scripts/images.sh'}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(',', ':')).encode()
    config_digest = 'sha256:' + hashlib.sha256(config_bytes).hexdigest()
    manifest = {
        'schemaVersion': 2,
        'mediaType': 'application/vnd.oci.image.manifest.v1+json',
        'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                   'digest': config_digest, 'size': len(config_bytes)},
        'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': d, 'size': s}
                   for _, d, s in layers],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(',', ':')).encode()
    manifest_digest = 'sha256:' + hashlib.sha256(manifest_bytes).hexdigest()
    tag = a.name.rsplit(':', 1)[1] if ':' in a.name.rsplit('/', 1)[-1] else 'latest'
    index = {
        'schemaVersion': 2,
        'mediaType': 'application/vnd.oci.image.index.v1+json',
        'manifests': [{
            'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'digest': manifest_digest, 'size': len(manifest_bytes),
            'platform': {'architecture': a.arch, 'os': 'linux'},
            'annotations': {'io.containerd.image.name': a.name,
                            'org.opencontainers.image.ref.name': tag},
        }],
    }

    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(a.out)), suffix='.partial')
    os.close(fd)
    with tarfile.open(tmp, 'w', format=tarfile.PAX_FORMAT) as tar:
        add_bytes(tar, 'oci-layout', b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes(tar, 'index.json', json.dumps(index, sort_keys=True).encode())
        add_bytes(tar, 'blobs/sha256/' + config_digest[7:], config_bytes)
        add_bytes(tar, 'blobs/sha256/' + manifest_digest[7:], manifest_bytes)
        seen = set()
        for path, digest, size in layers:
            if digest in seen:
                continue
            seen.add(digest)
            info = tarfile.TarInfo('blobs/sha256/' + digest[7:])
            info.size, info.mtime, info.mode = size, 0, 0o644
            with open(path, 'rb') as f:
                tar.addfile(info, f)
    os.replace(tmp, a.out)
    print(manifest_digest)


if __name__ == '__main__':
    sys.exit(main())
