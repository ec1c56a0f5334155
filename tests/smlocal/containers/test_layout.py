"""The container layout made with Linux namespaces: what a step's process sees and where its
writes go -- the same from the fork server and from a fresh interpreter, as root and inside a
user namespace (as any unprivileged user runs it)."""

import json
import os
import textwrap
import threading
import time

import pytest

from smlocal.containers import layout
from smlocal.containers.launch import NAMESPACES, ContainerSpec
from smlocal.jobs import process

PROBE = """
import json, os, sys
report = {"uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(), "opt": os.listdir("/opt")}
open("/etc/smlocal-layer-probe", "w").write("written in the step")
open("/tmp/scratch.txt", "w").write("scratch")
report["tmp"] = os.listdir("/tmp")
open(os.path.join(sys.argv[1], "from-inside.txt"), "w").write("kept folders are the host's")
json.dump(report, open("/opt/ml/report.json", "w"))
"""


@pytest.fixture(params=["fork server", "spawn"])
def launcher(request, monkeypatch):
    monkeypatch.setenv("PIPELINES_LOCAL_FORKSERVER", "1" if request.param == "fork server" else "0")
    return request.param


@pytest.mark.parametrize("user_namespace", [False, True], ids=["own namespace", "user namespace"])
def test_a_step_sees_its_container_and_writes_to_its_own_layer(tmp_path, launcher, user_namespace):
    if not user_namespace and os.getuid() != 0:
        user_namespace = True  # only root can make mount namespaces without a user namespace
    job = tmp_path / "job"
    kept = tmp_path / "state"
    kept.mkdir()
    root = job / "container"
    (root / "opt" / "ml" / "code").mkdir(parents=True)
    (root / "opt" / "ml" / "code" / "probe.py").write_text(textwrap.dedent(PROBE))
    spec = ContainerSpec(
        command=["python3", "/opt/ml/code/probe.py", str(kept)],
        root=str(root),
        workdir="/opt/ml/code",
        env=process.child_environment(),
        mechanism=NAMESPACES,
        user_namespace=user_namespace,
        keep=process.kept_folders([str(tmp_path)]),
        scratch=str(job / "container-work"),
    )
    code = process.run_container(spec, job / "logs", threading.Event())
    assert code == 0, (job / "logs" / "stderr.log").read_text()

    report = json.loads((root / "opt" / "ml" / "report.json").read_text())
    assert (report["uid"], report["gid"]) == (os.getuid(), os.getgid())  # the user, as itself
    assert os.stat(root / "opt" / "ml" / "report.json").st_uid == os.getuid()
    assert report["cwd"] == "/opt/ml/code"
    assert set(report["opt"]) == set(os.listdir("/opt")) | {"ml"}  # the host's /opt, and ml
    assert "scratch.txt" in report["tmp"]
    assert set(report["tmp"]) <= {"scratch.txt", str(tmp_path).split("/")[2]}  # a /tmp of its own
    assert not os.path.exists("/etc/smlocal-layer-probe")  # the host's /etc is untouched...
    assert (
        root / "etc" / "smlocal-layer-probe"
    ).read_text() == "written in the step"  # ...the layer
    assert (kept / "from-inside.txt").read_text() == "kept folders are the host's"
    # what is left in the container folder is what the step wrote: no mount points, no layers
    # (tidied while the kernel takes the overlays down, after the job)
    deadline = time.monotonic() + 30
    while (job / "container-work").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (job / "container-work").exists()
    assert sorted(os.listdir(root)) == ["etc", "opt", "tmp"]
    assert os.listdir(root / "tmp") == ["scratch.txt"]
    record = json.loads((job / "logs" / "process.json").read_text())
    assert record["launcher"] == launcher and record["writable_layer"] == "overlay"


def test_the_hosts_other_filesystems_are_bound_in_where_they_are_mounted():
    mountinfo = "\n".join(
        [
            "22 1 254:0 / / rw - ext4 /dev/vda rw",
            "23 22 0:5 / /proc rw - proc proc rw",
            "24 22 0:6 / /sys rw - sysfs sysfs rw",
            "25 24 0:7 / /sys/fs/cgroup rw - tmpfs tmpfs rw",
            r"26 22 0:8 / /mnt/with\040space rw - tmpfs tmpfs rw",
            "27 22 0:9 / /etc/hosts rw - ext4 /dev/vdb rw",
        ]
    )
    points = layout.mount_points(mountinfo)
    assert "/mnt/with space" in points and "/" not in points
    # /sys/fs/cgroup comes along with /sys; /etc stays an overlay, only its hosts file is bound
    assert layout.outermost(points) == ["/sys", "/proc", "/etc/hosts", "/mnt/with space"]


NO_LAYER_PROBE = """
import json, os, subprocess
done = subprocess.run(["cat", "/opt/ml/code/probe.py"], capture_output=True, text=True)
json.dump({"opt": os.listdir("/opt"), "cat": done.returncode}, open("/opt/ml/report.json", "w"))
"""


def test_without_a_writable_layer_opt_ml_is_still_the_jobs(tmp_path):
    # what runs where the kernel refuses overlays (say, the job folder is on an overlayfs)
    root = tmp_path / "job" / "container"
    (root / "opt" / "ml" / "code").mkdir(parents=True)
    (root / "opt" / "ml" / "code" / "probe.py").write_text(textwrap.dedent(NO_LAYER_PROBE))
    spec = ContainerSpec(
        command=["python3", "/opt/ml/code/probe.py"],
        root=str(root),
        env=process.child_environment(),
        mechanism=NAMESPACES,
        user_namespace=True,
        keep=process.kept_folders([str(tmp_path)]),
        scratch=str(tmp_path / "job" / "container-work"),
        layer=False,
    )
    code = process.run_container(spec, tmp_path / "job" / "logs", threading.Event())
    assert code == 0, (tmp_path / "job" / "logs" / "stderr.log").read_text()
    report = json.loads((root / "opt" / "ml" / "report.json").read_text())
    assert set(report["opt"]) == set(os.listdir("/opt")) | {"ml"} and report["cat"] == 0
    record = json.loads((tmp_path / "job" / "logs" / "process.json").read_text())
    assert record["writable_layer"].startswith("no writable layer")


TOOLING_PROBE = """
import sys
sys.path.insert(0, "/opt/ml/code/lib")
import helper  # compiled on import: the bytecode goes where PYTHONPYCACHEPREFIX says
"""


def test_the_hosts_tooling_folders_stay_the_hosts(tmp_path, monkeypatch):
    # a test run measures step processes and keeps bytecode outside the checkout: what a step
    # writes there is the host tool's, not the step's layer (else it is lost, and left behind)
    prefix = tmp_path / "tooling" / "pycache"
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(prefix))
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    root = tmp_path / "job" / "container"
    (root / "opt" / "ml" / "code" / "lib").mkdir(parents=True)
    (root / "opt" / "ml" / "code" / "lib" / "helper.py").write_text("VALUE = 1\n")
    (root / "opt" / "ml" / "code" / "probe.py").write_text(textwrap.dedent(TOOLING_PROBE))
    keep = process.kept_folders([str(tmp_path / "job")])
    assert str(prefix) in keep
    spec = ContainerSpec(
        command=["python3", "/opt/ml/code/probe.py"],
        root=str(root),
        env=process.child_environment(),
        mechanism=NAMESPACES,
        user_namespace=os.getuid() != 0,
        keep=keep,
        scratch=str(tmp_path / "job" / "container-work"),
    )
    code = process.run_container(spec, tmp_path / "job" / "logs", threading.Event())
    assert code == 0, (tmp_path / "job" / "logs" / "stderr.log").read_text()
    assert list(prefix.rglob("helper*.pyc"))  # on the host, where the tool looks
    deadline = time.monotonic() + 30  # the container folder is tidied after the job: let it be
    while (tmp_path / "job" / "container-work").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(root.rglob("helper*.pyc"))  # not in the step's layer


CLIMBING_PROBE = """
import sys
name = sys.argv[1]
for top in ("tmp", "etc", "usr"):
    open(f"/opt/ml/processing/{'../' * 8}{top}/{name}", "w").write("climbed")
"""


@pytest.mark.parametrize("user_namespace", [False, True], ids=["own namespace", "user namespace"])
def test_a_script_climbing_out_of_opt_ml_writes_into_its_own_layer(tmp_path, user_namespace):
    """``/opt/ml/processing/../../..`` is the container's root: the step's, never the host's."""
    if not user_namespace and os.getuid() != 0:
        user_namespace = True
    name = f"smlocal-climbed-{os.getpid()}-{user_namespace}"
    root = tmp_path / "job" / "container"
    (root / "opt" / "ml" / "code").mkdir(parents=True)
    (root / "opt" / "ml" / "processing").mkdir()
    (root / "opt" / "ml" / "code" / "probe.py").write_text(textwrap.dedent(CLIMBING_PROBE))
    spec = ContainerSpec(
        command=["python3", "/opt/ml/code/probe.py", name],
        root=str(root),
        env=process.child_environment(),
        mechanism=NAMESPACES,
        user_namespace=user_namespace,
        keep=process.kept_folders([str(tmp_path / "job")]),
        scratch=str(tmp_path / "job" / "container-work"),
    )
    code = process.run_container(spec, tmp_path / "job" / "logs", threading.Event())
    assert code == 0, (tmp_path / "job" / "logs" / "stderr.log").read_text()
    for top in ("tmp", "etc", "usr"):
        assert not os.path.exists(f"/{top}/{name}")
        assert (root / top / name).read_text() == "climbed"
