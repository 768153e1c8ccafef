#!/usr/bin/env python3
"""One-shot comparison: the dbss-jobs CLI's single call against the official Python SDK doing the
same call, both against the same loopback server (shared/oracle/verify_server.py, which checks
both signatures with Huawei's signer). Reports median wall time and peak RSS of each over several
runs, and the ratios.

Run from the repository root: python3 benches/oneshot.py [RUNS]
It creates target/oneshot-venv (huaweicloudsdkdbss from PyPI) and builds the CLI in release.
Peak RSS needs GNU time at /usr/bin/time (Debian package `time`); without it RSS shows as nan.
Wall time includes the GNU time wrapper's own start (well under a millisecond) for both.
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "oneshot-venv")
PYTHON = os.path.join(VENV, "bin", "python")
SERVER = os.environ.get("DBSS_ORACLE_SERVER", os.path.join(ROOT, "..", "shared", "oracle", "verify_server.py"))
AK, SK, PROJECT, RESOURCE = "ONESHOTAK00000000001", "oneshot-secret-key", "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "instance-1"

SDK_CALL = """
import sys
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkdbss.v1 import DbssClient, ListAuditInstanceJobsRequest
endpoint, ak, sk, project, resource = sys.argv[1:6]
client = DbssClient.new_builder().with_credentials(BasicCredentials(ak, sk, project)).with_endpoint(endpoint).build()
response = client.list_audit_instance_jobs(ListAuditInstanceJobsRequest(resource_id=resource))
print(len(response.jobs), "job(s)")
"""


def setup():
    if not os.path.exists(PYTHON):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "huaweicloudsdkcore", "huaweicloudsdkdbss"], check=True)
    subprocess.run(["cargo", "build", "--quiet", "--release", "--features", "cli", "--bin", "dbss-jobs"], cwd=ROOT, check=True)


def start_server():
    server = subprocess.Popen([PYTHON, SERVER, "0", "600", AK, SK, "--project-id", PROJECT],
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in server.stderr:
        if line.startswith("LISTENING 127.0.0.1:"):
            port = int(line.split(":")[1].split()[0])
            break
    else:
        raise SystemExit("verify server did not start")
    # Keep draining its log so that it never blocks on a full pipe.
    import threading
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    return server, "http://127.0.0.1:%d" % port


GNU_TIME = "/usr/bin/time"


def measure(argv, env):
    """Wall seconds and peak RSS (KiB) of one run; fails if the run fails.

    The peak RSS comes from GNU time (`%M`): a child forked from this Python process would count
    Python's own pages in its ru_maxrss, while GNU time is small."""
    rss_file = os.path.join(ROOT, "target", "oneshot-rss")
    wrapped = [GNU_TIME, "-f", "%M", "-o", rss_file] + argv if os.path.exists(GNU_TIME) else argv
    started = time.perf_counter()
    done = subprocess.run(wrapped, env=env, capture_output=True)
    wall = time.perf_counter() - started
    if done.returncode != 0 or b"2 job(s)" not in done.stdout:
        raise SystemExit("run failed: %s\n%s\n%s" % (argv, done.stdout.decode(), done.stderr.decode()))
    rss = float(open(rss_file).read().split()[-1]) if wrapped is not argv else float("nan")
    return wall, rss


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    setup()
    server, url = start_server()
    try:
        env = dict(os.environ, HUAWEICLOUD_SDK_AK=AK, HUAWEICLOUD_SDK_SK=SK, HOME="/nonexistent")
        ours = [os.path.join(ROOT, "target", "release", "dbss-jobs"),
                "--endpoint", url, "--project-id", PROJECT, RESOURCE]
        theirs = [PYTHON, "-c", SDK_CALL, url, AK, SK, PROJECT, RESOURCE]
        results = {"dbss-jobs example": [], "Python SDK": []}
        for _ in range(runs):  # alternate, so that drift hits both
            results["dbss-jobs example"].append(measure(ours, env))
            results["Python SDK"].append(measure(theirs, env))
        medians = {}
        for name, samples in results.items():
            wall = statistics.median(s[0] for s in samples)
            rss = statistics.median(s[1] for s in samples)
            medians[name] = (wall, rss)
            print("%-18s median wall %7.1f ms, median peak RSS %6.1f MiB (%d runs)" % (name, wall * 1e3, rss / 1024, runs))
        (ow, orss), (pw, prss) = medians["dbss-jobs example"], medians["Python SDK"]
        print("ratio (Python SDK / dbss-jobs): wall %.1fx, peak RSS %.1fx" % (pw / ow, prss / orss))
    finally:
        server.kill()


if __name__ == "__main__":
    main()
