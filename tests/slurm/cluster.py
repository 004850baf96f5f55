"""A real single-node SLURM cluster in a temporary folder, for tests.

Debian's ``slurm-wlm`` and ``munge`` packages provide the daemons; this module writes their configuration into a
temporary folder and starts ``munged``, ``slurmctld`` and ``slurmd`` directly (no systemd), each in the foreground
of its own process so that it can be stopped by its PID. Nothing outside the folder is touched: ports are picked
free, the munge socket, state, spool, pid and log files all live in the folder, and client commands find the
cluster through ``SLURM_CONF``.

The node advertises more CPUs, memory and GPUs than this machine has (``SlurmdParameters=config_overrides``): the
workflow's rules declare the resources of a real cluster (several CPUs, GBs of memory, ``gpu: 1``) and the test
wants those very requests submitted and scheduled. The GPUs are character devices that point to ``/dev/null``, so
SLURM allocates them and sets ``CUDA_VISIBLE_DEVICES`` like on a GPU node, while torch in the job sees no CUDA and
``device: auto`` falls back to the CPU.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SlurmUnavailable", "LocalSlurm", "missing_programs"]

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "squeue", "scancel", "sinfo", "scontrol", "sacct", "sacctmgr", "sshare")
# Debian puts the daemons in /usr/sbin, which is not on every user's PATH.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])

NODE = "facesymnode"
PARTITION = "debug"
NODE_CPUS = 16
NODE_MEMORY_MB = 256_000
NODE_GPUS = 4


class SlurmUnavailable(RuntimeError):
    """SLURM cannot run here (not installed, or not allowed); the message says why and how to fix it."""


def missing_programs() -> list[str]:
    """Daemons and client commands the cluster needs that are not installed."""
    return [name for name in (*DAEMONS, *CLIENTS) if shutil.which(name, path=SEARCH_PATH) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalSlurm:
    """One controller, one compute node and a munge daemon, all in ``root``.

    Use as a context manager, or call :meth:`start` and (always) :meth:`stop`.
    """

    root: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.conf = self.root / "slurm.conf"
        self.bin = self.root / "bin"
        self.logs = self.root / "log"
        self.munge_socket = self.root / "munge" / "munge.socket"

    # --- environment -------------------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Variables a client (snakemake, sbatch, squeue …) needs to talk to this cluster.

        ``bin`` comes first on ``PATH``: it holds wrappers of the client commands that set ``SLURM_CONF``. They
        are needed because the SLURM executor's job step removes every ``SLURM_*`` variable before it calls
        ``srun`` inside the job, and a real cluster's ``srun`` finds its configuration in ``/etc/slurm``, which a
        test must not write.
        """
        return {"SLURM_CONF": str(self.conf), "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run(self, *args: str, timeout: float = 30) -> str:
        """Run a client command against this cluster and return its standard output."""
        env = {**os.environ, **self.env()}
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    # --- configuration -----------------------------------------------------------------------------------------

    def _write_configuration(self) -> None:
        for sub in ("munge", "state", "spool", "log", "bin", "gpu"):
            (self.root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        # munged wants its key private to its user and readable only
        key = self.root / "munge" / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)

        gres_lines = ["AutoDetect=off"]
        node_gres = ""
        if os.geteuid() == 0:
            # SLURM only accepts device files for GPUs; these behave like /dev/null (major 1, minor 3).
            for i in range(NODE_GPUS):
                device = self.root / "gpu" / f"nvidia{i}"
                if not device.exists():
                    os.mknod(device, 0o666 | 0o020000, os.makedev(1, 3))
            gres_lines.append(f"NodeName={NODE} Name=gpu File={self.root / 'gpu'}/nvidia[0-{NODE_GPUS - 1}]")
            node_gres = f" Gres=gpu:{NODE_GPUS}"
        (self.root / "gres.conf").write_text("\n".join(gres_lines) + "\n")

        user = getpass.getuser()
        host = socket.gethostname().split(".")[0]
        r = self.root
        self.conf.write_text(
            f"""# written by tests/slurm/cluster.py for one test session
ClusterName=facesymtest
SlurmctldHost={host}(127.0.0.1)
SlurmUser={user}
SlurmdUser={user}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# finished jobs stay visible to squeue/scontrol for 5 minutes: the executor's squeue status command needs that,
# and the test counts the jobs that ran
MinJobAge=300
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
GresTypes=gpu
SlurmdParameters=config_overrides
NodeName={NODE} NodeHostname={host} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} RealMemory={NODE_MEMORY_MB}{node_gres}
PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
"""
        )
        for name in CLIENTS:
            wrapper = self.bin / name
            wrapper.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {shutil.which(name, path=SEARCH_PATH)} "$@"\n')
            wrapper.chmod(0o755)

    # --- life cycle --------------------------------------------------------------------------------------------

    def _spawn(self, name: str, *args: str) -> None:
        program = shutil.which(name, path=SEARCH_PATH)
        out = open(self.logs / f"{name}.out", "wb")  # noqa: SIM115 - closed with the process in stop()
        env = {**os.environ, "SLURM_CONF": str(self.conf)}
        # a new session: a Ctrl-C in the terminal reaches pytest, which then stops the daemons in order
        self.processes[name] = subprocess.Popen(
            [program, *args], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.processes[name]._facesym_log = out  # type: ignore[attr-defined]

    def _wait(self, what: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited ({process.returncode}) while waiting for {what}:\n{self.log_tail()}"
                    )
            try:
                if ready():
                    return
            except (OSError, RuntimeError, subprocess.TimeoutExpired):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}:\n{self.log_tail()}")

    def start(self, timeout: float = 60) -> LocalSlurm:
        """Write the configuration, start the three daemons and wait until the node accepts jobs.

        Raises
        ------
        SlurmUnavailable
            When a program is missing.
        RuntimeError
            When a daemon does not come up (with the tail of its log); the daemons already started are stopped.
        """
        missing = missing_programs()
        if missing:
            raise SlurmUnavailable(f"not installed: {', '.join(missing)} (Debian: apt-get install slurm-wlm munge)")
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_configuration()
        try:
            m = self.root / "munge"
            self._spawn(
                "munged", "--foreground", "--force", f"--socket={self.munge_socket}", f"--key-file={m}/munge.key",
                f"--pid-file={m}/munged.pid", f"--log-file={m}/munged.log", f"--seed-file={m}/munged.seed",
            )  # fmt: skip
            self._wait("the munge socket", self.munge_socket.exists, timeout)
            self._spawn("slurmctld", "-D", "-i", "-f", str(self.conf))
            self._wait("slurmctld", lambda: bool(self.run("sinfo", "-h", "-o", "%P", timeout=5).strip()), timeout)
            self._spawn("slurmd", "-D", "-N", NODE, "-f", str(self.conf))
            self._wait("the node to become idle", lambda: self.node_state() == "idle", timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def node_state(self) -> str:
        return self.run("sinfo", "-h", "-n", NODE, "-o", "%t", timeout=5).strip()

    def jobs(self) -> list[dict[str, str]]:
        """Every job the controller remembers (running, pending and finished within ``MinJobAge``)."""
        # "tres": per-job requests (sbatch --gpus) and per-node ones (--gres), N/A where none; "cpus" allocated
        fields = ("id", "name", "state", "comment", "partition", "tres_per_job", "tres_per_node", "cpus")
        columns = ("JobID", "Name", "State", "Comment", "Partition", "tres-per-job", "tres-per-node", "NumCPUs")
        out = self.run("squeue", "--states=all", "--noheader", "-O", ",".join(f"{c}:0|" for c in columns)[:-1])
        jobs = [dict(zip(fields, line.split("|"), strict=True)) for line in out.splitlines() if line.strip()]
        for job in jobs:
            job["tres"] = ",".join(t for t in (job.pop("tres_per_job"), job.pop("tres_per_node")) if t != "N/A")
        return jobs

    def stop(self, timeout: float = 20) -> None:
        """Cancel leftover jobs, then stop slurmd, slurmctld and munged by their PIDs (TERM, then KILL).

        Job processes (``slurmstepd`` and what it started) that are still alive afterwards are found by the
        ``SLURM_CONF`` of this cluster in their environment and killed by PID, so nothing of the test outlives it.
        """
        if "slurmctld" in self.processes and self.processes["slurmctld"].poll() is None:
            try:
                active = [j["id"] for j in self.jobs() if j["state"] in ("PENDING", "RUNNING", "CONFIGURING")]
                if active:
                    self.run("scancel", *active, timeout=10)
                    deadline = time.monotonic() + timeout
                    while time.monotonic() < deadline and any(
                        j["state"] in ("RUNNING", "COMPLETING") for j in self.jobs()
                    ):
                        time.sleep(0.5)
            except (OSError, RuntimeError, subprocess.TimeoutExpired):
                pass  # the controller is going down anyway; leftover job processes are handled below
        for name in reversed(DAEMONS):
            process = self.processes.get(name)
            if process is None:
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout)
            process._facesym_log.close()  # type: ignore[attr-defined]
        for pid in self.stray_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stray_processes(self) -> list[int]:
        """PIDs of processes, other than this one, whose environment points at this cluster."""
        marker = f"SLURM_CONF={self.conf}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                found.append(int(entry.name))
        return found

    def running_daemons(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is None]

    def log_tail(self, lines: int = 15) -> str:
        parts = []
        for path in sorted(self.logs.glob("*")) + [self.root / "munge" / "munged.log"]:
            if path.is_file():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts)

    def __enter__(self) -> LocalSlurm:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
