"""Apache Kafka broker (KRaft, broker and controller in one process) from Maven Central jars.

The jars are resolved once per version by Maven into the cache directory (outside the repo);
storage is formatted on the first start only, so topics survive ``down`` then ``up``. The broker
counts as ready when a client can read the cluster metadata, not when the port opens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from ingest.contract import ALL_TOPICS, DLQ_MAX_MESSAGE_BYTES, TOPIC_DLQ
from nengtan.errors import ServiceError
from nengtan.settings import Settings
from nengtan.stack import procs
from nengtan.stack.base import ManagedProcess, Paths, ServiceStatus

log = logging.getLogger(__name__)

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
# Rejected inputs are kept whole; a 10 MB payload is ~14 MB as base64, so the DLQ topic takes
# DLQ_MAX_MESSAGE_BYTES (16 MiB, the contract's); other topics keep the broker default (~1 MB).


def require_tool(name: str, hint: str) -> str:
    """Path of an executable, or a ServiceError saying how to install it."""
    found = shutil.which(name)
    if found is None:
        raise ServiceError(f"{name} was not found on PATH; {hint}")
    return found


def pom_path() -> Path:
    """The pom naming the broker's jars (shipped in the wheel as ``nengtan.deploy``)."""
    return Path(str(resources.files("nengtan.deploy") / "local" / "kafka" / "pom.xml"))


def broker_libs(settings: Settings, *, echo: bool = True) -> Path:
    """The directory of broker jars for ``settings.kafka_version``, resolving them if needed."""
    libs = settings.cache_dir / f"kafka-{settings.kafka_version}" / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    mvn = require_tool(
        "mvn", "install Maven (Debian: apt-get install maven) or set NENGTAN_KAFKA_BOOTSTRAP"
    )
    if echo:
        print(
            f"  resolving Apache Kafka {settings.kafka_version} jars with Maven (first time only)…"
        )
    tmp = libs.with_name("libs.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    argv = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom_path()),
        f"-Dkafka.version={settings.kafka_version}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={tmp}",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-10:])
        raise ServiceError(
            f"Maven could not resolve org.apache.kafka:kafka_2.13:{settings.kafka_version} "
            f"(check the version and network access to Maven Central):\n{tail}"
        )
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    marker.write_text(settings.kafka_version)
    return libs


class KafkaService(ManagedProcess):
    """The local Kafka broker, or an external one named by ``NENGTAN_KAFKA_BOOTSTRAP``."""

    stop_timeout_s = 30.0
    name = "kafka"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths = Paths.of(settings, self.name)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        s = self.settings
        if s.kafka_external:
            if not self.metadata_ok(timeout_ms=10_000):
                raise ServiceError(
                    f"NENGTAN_KAFKA_BOOTSTRAP={s.bootstrap}: no Kafka broker answered within 10 s; "
                    "check the address or unset it to use the local stack"
                )
            self.create_topics()
            return
        if self.pid() is not None:
            return
        java = require_tool(
            "java",
            "install a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless) "
            "or set NENGTAN_KAFKA_BOOTSTRAP to an existing broker",
        )
        procs.ensure_port_free(s.kafka_port, "Kafka", "NENGTAN_KAFKA_PORT")
        procs.ensure_port_free(
            s.kafka_controller_port, "Kafka controller", "NENGTAN_KAFKA_CONTROLLER_PORT"
        )
        libs = broker_libs(s)
        config = self.write_config()
        classpath = f"{libs}/*"
        data = self.paths.root / "data"
        if not (data / "meta.properties").exists():
            self.format_storage(java, classpath, config)
        env = dict(os.environ, KAFKA_HEAP_OPTS=f"-Xmx{s.kafka_heap_mb}m")
        argv = [
            java,
            f"-Xms{s.kafka_heap_mb // 2}m",
            f"-Xmx{s.kafka_heap_mb}m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{self.paths.root / 'log4j.properties'}",
            f"-Dnengtan.state={s.state_dir}",
            "-cp",
            classpath,
            MAIN_CLASS,
            str(config),
        ]
        procs.spawn(argv, log_file=self.paths.log, pid_file=self.paths.pid, env=env)
        procs.wait_until(
            lambda: self.pid() is not None and self.metadata_ok(timeout_ms=2_000),
            timeout_s=90,
            what="Kafka broker",
            log_file=self.paths.log,
        )
        self.create_topics()

    def status(self) -> ServiceStatus:
        s = self.settings
        if s.kafka_external:
            ok = self.metadata_ok(timeout_ms=5_000)
            return ServiceStatus(self.name, "external" if ok else "unreachable", s.bootstrap)
        pid = self.pid()
        if pid is None:
            return ServiceStatus(self.name, "stopped", s.bootstrap)
        ready = self.metadata_ok(timeout_ms=3_000)
        detail = f"Apache Kafka {s.kafka_version} (KRaft)" + ("" if ready else ", not answering")
        return ServiceStatus(
            self.name, "running" if ready else "unreachable", s.bootstrap, detail, pid
        )

    # -- pieces ---------------------------------------------------------------------------
    def write_config(self) -> Path:
        s = self.settings
        root = self.paths.root
        root.mkdir(parents=True, exist_ok=True)
        config = root / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "# generated by `nengtan stack up`; edits are overwritten",
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{s.kafka_controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{s.kafka_port},CONTROLLER://127.0.0.1:{s.kafka_controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{s.kafka_port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    f"log.dirs={root / 'data'}",
                    f"num.partitions={s.kafka_partitions}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=8",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=true",
                    "log.retention.ms=-1",
                    "log.segment.bytes=268435456",
                    "num.network.threads=2",
                    "num.io.threads=4",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        (root / "log4j.properties").write_text(
            "log4j.rootLogger=WARN, stdout\n"
            "log4j.logger.kafka.server.KafkaServer=INFO\n"
            "log4j.logger.kafka.server.KafkaRaftServer=INFO\n"
            "log4j.logger.kafka.server.BrokerServer=INFO\n"
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n"
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n",
            encoding="utf-8",
        )
        return config

    def format_storage(self, java: str, classpath: str, config: Path) -> None:
        """Format the KRaft log directory once, with a cluster id kept in the state dir."""
        id_file = self.paths.root / "cluster.id"
        if not id_file.exists():
            out = subprocess.run(
                [java, "-cp", classpath, STORAGE_TOOL, "random-uuid"],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                raise ServiceError(f"kafka storage tool failed: {out.stderr.strip()[-500:]}")
            id_file.write_text(out.stdout.strip().splitlines()[-1])
        cluster_id = id_file.read_text().strip()
        done = subprocess.run(
            [
                java,
                "-cp",
                classpath,
                STORAGE_TOOL,
                "format",
                "-t",
                cluster_id,
                "-c",
                str(config),
                "--ignore-formatted",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ServiceError(
                f"formatting Kafka storage failed: {(done.stdout + done.stderr)[-800:]}"
            )

    def metadata_ok(self, *, timeout_ms: int) -> bool:
        """True when a client can read the cluster metadata (at least one broker listed)."""
        from kafka.admin import KafkaAdminClient

        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.settings.bootstrap,
                request_timeout_ms=timeout_ms,
                bootstrap_timeout_ms=timeout_ms,
                client_id="nengtan-stack",
            )
        except Exception:
            return False
        try:
            brokers = admin.describe_cluster().get("brokers", [])
            return len(brokers) > 0
        except Exception:
            return False
        finally:
            with contextlib.suppress(Exception):
                admin.close()

    def create_topics(self) -> None:
        """Create the contract's topics if missing (existing ones, and their data, are kept).

        A broker that has just started may still refuse topic creation for a moment, so this
        retries until every topic is listed.
        """
        from kafka.admin import KafkaAdminClient, NewTopic
        from kafka.errors import KafkaError

        def attempt() -> bool:
            admin = KafkaAdminClient(
                bootstrap_servers=self.settings.bootstrap, client_id="nengtan-stack"
            )
            try:
                missing = [t for t in ALL_TOPICS if t not in set(admin.list_topics())]
                if not missing:
                    return True
                dlq_config = {"max.message.bytes": str(DLQ_MAX_MESSAGE_BYTES)}
                new = [
                    NewTopic(
                        t,
                        num_partitions=self.settings.kafka_partitions,
                        replication_factor=1,
                        topic_configs=dlq_config if t == TOPIC_DLQ else {},
                    )
                    for t in missing
                ]
                with contextlib.suppress(KafkaError):
                    admin.create_topics(new, raise_errors=False)
                return False
            finally:
                admin.close()

        procs.wait_until(
            attempt, timeout_s=60, what="Kafka topic creation", log_file=self.paths.log
        )
