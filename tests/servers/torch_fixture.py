"""A valid torchvision checkpoint whose sha256 starts with the prefix its real file name carries.

torchvision names its weights ``<name>-<first 8 hex digits of the file's sha256>.pth`` and
``torch.hub`` checks that prefix on download, so a test server can only serve a file under the
real name if its hash matches. ``checkpoint(name)`` builds one: the model's freshly initialised
``state_dict()`` (``torch.manual_seed(0)``) saved with ``torch.save`` (a zip archive), with a
nonce in the zip's comment field chosen so that the sha256 starts with the real prefix.
``torch.load`` (and ``get_model(..., weights="DEFAULT")``) read it like any checkpoint.

The nonces below were found by ``python -m servers.torch_fixture <name>`` (from tests/): a small
C program (gcc, OpenSSL's SHA-256 block function) resumes the hash from the midstate of every
byte before the nonce, so each try is one SHA-256 block. About 2^32 tries are expected.

A nonce holds for the bytes torch.save writes and the weights torchvision initialises, so for
the versions recorded with it; ``checkpoint`` raises ``StaleNonce`` (never a wrong file) when
another version makes other bytes: run the search again and record the new nonce.
"""

from __future__ import annotations

import hashlib
import io
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: name -> (url file name, nonce, torch version, torchvision version) the nonce was found with.
NONCES: dict[str, tuple[str, int, str, str]] = {
    # Found in 194 s (2.2e9 tries at 10-17 M/s, two cores shared with other work).
    "squeezenet1_1": ("squeezenet1_1-b8a52dc0.pth", 2244314235, "2.14.1+cu130", "0.29.1+cu130"),
}

FILLER = b"zoofind test checkpoint; nonce follows:"


class StaleNonce(RuntimeError):
    pass


def _model_bytes(name: str) -> bytes:
    import torch
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def prefix_bytes(name: str) -> bytes:
    """Everything before the nonce: the archive with its comment length set, padded to a 64-byte block."""
    data = _model_bytes(name)
    end = data.rfind(b"PK\x05\x06")  # the end of central directory record, 22 bytes when it has no comment
    assert end == len(data) - 22, "torch.save wrote a zip comment of its own"
    pad = -(end + 22 + len(FILLER)) % 64
    comment_length = len(FILLER) + pad + 8
    eocd = data[end:end + 20] + struct.pack("<H", comment_length)
    out = data[:end] + eocd + FILLER + b" " * pad
    assert len(out) % 64 == 0
    return out


def checkpoint(name: str) -> tuple[str, bytes]:
    """(file name, bytes) of ``name``'s default-weights checkpoint with its real hash prefix."""
    file_name, nonce, *_ = NONCES[name]
    data = prefix_bytes(name) + struct.pack("<Q", nonce)
    want = file_name.rsplit("-", 1)[1].split(".")[0]
    if not hashlib.sha256(data).hexdigest().startswith(want):
        import torch
        import torchvision

        raise StaleNonce(f"the nonce for {name} was found with torch {NONCES[name][2]} / torchvision {NONCES[name][3]}; "
                         f"torch {torch.__version__} / torchvision {torchvision.__version__} write other bytes: "
                         f"run `python -m servers.torch_fixture {name}` in tests/ and record the new nonce")
    return file_name, data


SEARCH_C = r"""
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SHA256_CTX mid;
static uint64_t total_bits, start, count;
static uint32_t target;
static int threads;
static volatile int found;
static volatile uint64_t answer;

static void *work(void *arg) {
    long t = (long)arg;
    unsigned char block[64] = {0};
    block[8] = 0x80;
    for (int i = 0; i < 8; i++) block[63 - i] = (unsigned char)(total_bits >> (8 * i));
    SHA256_CTX c;
    for (uint64_t n = start + t; n < start + count && !found; n += threads) {
        memcpy(block, &n, 8);  /* little-endian, as struct.pack("<Q") */
        memcpy(c.h, mid.h, sizeof c.h);
        SHA256_Transform(&c, block);
        if (c.h[0] == target) { answer = n; found = 1; }
    }
    return NULL;
}

int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb");
    fseek(f, 0, SEEK_END); long size = ftell(f); fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(size);
    if (fread(data, 1, size, f) != (size_t)size) return 2;
    target = (uint32_t)strtoul(argv[2], NULL, 16);
    start = strtoull(argv[3], NULL, 10); count = strtoull(argv[4], NULL, 10); threads = atoi(argv[5]);
    SHA256_Init(&mid); SHA256_Update(&mid, data, size);
    total_bits = (uint64_t)(size + 8) * 8;
    pthread_t tid[64];
    for (long t = 0; t < threads; t++) pthread_create(&tid[t], NULL, work, (void *)t);
    for (long t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    if (!found) return 1;
    printf("%llu\n", (unsigned long long)answer);
    return 0;
}
"""


def search(name: str, file_name: str, *, threads: int = 2, batch: int = 1 << 30) -> int:
    """Find a nonce giving ``name``'s checkpoint the hash prefix in ``file_name``; print progress to stderr."""
    want = file_name.rsplit("-", 1)[1].split(".")[0]
    assert len(want) == 8, "the C search compares the first 32 bits"
    with tempfile.TemporaryDirectory() as tmp:
        exe, prefix = Path(tmp, "search"), Path(tmp, "prefix")
        subprocess.run(["gcc", "-O3", "-march=native", "-x", "c", "-", "-o", str(exe), "-lcrypto", "-lpthread"],
                       input=SEARCH_C.encode(), check=True)
        prefix.write_bytes(prefix_bytes(name))
        started, at = time.monotonic(), 0
        while True:
            done = subprocess.run([str(exe), str(prefix), want, str(at), str(batch), str(threads)], capture_output=True, text=True)
            at += batch
            rate = at / (time.monotonic() - started)
            print(f"{at:,} tries, {rate / 1e6:.1f} M/s", file=sys.stderr)
            if done.returncode == 0:
                return int(done.stdout)


if __name__ == "__main__":
    import torch
    import torchvision

    model = sys.argv[1]
    weights = torchvision.models.get_model_weights(model).DEFAULT
    url_name = weights.url.rsplit("/", 1)[1]
    started = time.monotonic()
    nonce = search(model, url_name)
    print(f'    "{model}": ("{url_name}", {nonce}, "{torch.__version__}", "{torchvision.__version__}"),  '
          f"# {time.monotonic() - started:.0f} s")
