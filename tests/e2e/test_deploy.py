"""The deployment files hold: Kubernetes manifests against the schema and tsc --strict,
the Prometheus config, the Grafana dashboard against a real scrape, the Dockerfile's
structure, and (when VOCR_CONTAINER_TESTS=1) the container itself."""
import json
import os
import re
import shutil
import socket
import subprocess
import urllib.request

import pytest

from server_process import ROOT, SAMPLE_LINES, client, running_server

DEPLOY = ROOT / "deploy"
VALIDATE = DEPLOY / "validate"


@pytest.fixture(scope="module")
def validator():
    """deploy/validate with its pinned npm packages installed."""
    if not shutil.which("node") or not shutil.which("kubectl"):
        pytest.fail("node and kubectl are needed: run tools/install-deps.sh")
    if not (VALIDATE / "node_modules" / "kubernetes-models").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=VALIDATE, check=True, capture_output=True,
                       timeout=600)
    return VALIDATE / "validate.mjs"


def run_validator(validator, k8s_dir=None):
    env = dict(os.environ, **({"VOCR_K8S_DIR": str(k8s_dir)} if k8s_dir else {}))
    return subprocess.run(["node", str(validator)], capture_output=True, text=True, env=env, timeout=300)


def test_manifests_pass_schema_tsc_and_pod_rules(validator):
    done = run_validator(validator)
    assert done.returncode == 0, done.stderr
    assert "16 manifests" in done.stdout


@pytest.mark.parametrize("break_it, expected", [
    (lambda t: t.replace("          readinessProbe:", "          readinesProbe:"), "'\"readinesProbe\"' does not exist"),
    (lambda t: t.replace("terminationGracePeriodSeconds: 40", "terminationGracePeriodSeconds: 20"),
     "must exceed preStop 5 s + drain 20 s"),
    (lambda t: t.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"),
     "readOnlyRootFilesystem must be true"),
    (lambda t: t.replace("containerPort: 9090", "containerPort: metrics"), "must be integer"),
])
def test_the_validator_catches_a_broken_deployment(validator, tmp_path, break_it, expected):
    copy = tmp_path / "k8s"
    shutil.copytree(DEPLOY / "k8s", copy)
    deployment = copy / "base" / "deployment.yaml"
    broken = break_it(deployment.read_text())
    assert broken != deployment.read_text()
    deployment.write_text(broken)
    done = run_validator(validator, copy)
    assert done.returncode == 1 and expected in done.stderr, done.stderr


def test_prometheus_config_is_valid():
    done = subprocess.run(["promtool", "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dashboard_queries_only_metrics_a_real_server_exports(bundle):
    dashboard = json.loads((DEPLOY / "grafana" / "vocr-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    wanted = {m for e in exprs for m in re.findall(r"\b((?:vocr|process)_[a-z_]+)\b", e)}
    assert len(wanted) >= 8, wanted
    metrics_port = free_port()
    with running_server(bundle, metrics_port=metrics_port) as target:
        client("recognize", "--target", target, *SAMPLE_LINES)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
            scrape = r.read().decode()
    exported = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", scrape, re.M))
    assert wanted <= exported, sorted(wanted - exported)
    # The label values the panels select on are the ones the server writes.
    assert 'vocr_requests_total{code="OK",method="Recognize"}' in scrape


def dockerfile_instructions():
    """(instruction, arguments) per logical line of the Dockerfile, continuations joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    return [(l.split(None, 1)[0], l.split(None, 1)[1] if " " in l else "") for l in lines]


def test_dockerfile_is_well_formed():
    known = {"FROM", "RUN", "COPY", "ENV", "EXPOSE", "USER", "WORKDIR", "HEALTHCHECK", "STOPSIGNAL", "ENTRYPOINT",
             "CMD", "ARG", "LABEL", "SHELL"}
    instructions = dockerfile_instructions()
    assert {i for i, _ in instructions} <= known, {i for i, _ in instructions} - known
    stages = [args.split()[-1] for i, args in instructions if i == "FROM" and " AS " in args]
    froms = [args for i, args in instructions if i == "FROM"]
    assert len(froms) == 2 and all(f.split()[0] == "debian:bookworm-slim" for f in froms)
    for i, args in instructions:
        if i == "COPY" and "--from=" in args:
            assert args.split("--from=")[1].split()[0] in stages
        elif i == "COPY":
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY source {source} is not in the repository"
    final = instructions[[k for k, (i, _) in enumerate(instructions) if i == "FROM"][-1]:]
    names = [i for i, _ in final]
    assert "USER" in names and "HEALTHCHECK" in names and "EXPOSE" in names
    user = dict(final)["USER"]
    assert not user.startswith("0") and user != "root"
    assert "ocr_client health" in dict(final)["HEALTHCHECK"]
    assert "install-deps.sh server" in " ".join(a for i, a in instructions if i == "RUN")
    for script in ("build-image.sh", "make-base-image.sh", "smoke-test.sh"):
        subprocess.run(["bash", "-n", str(DEPLOY / "container" / script)], check=True)


@pytest.mark.skipif(os.environ.get("VOCR_CONTAINER_TESTS") != "1",
                    reason="builds the image (minutes); VOCR_CONTAINER_TESTS=1 runs it, as tools/test.sh does")
def test_container_smoke():
    done = subprocess.run([str(DEPLOY / "container" / "smoke-test.sh")], capture_output=True, text=True,
                          timeout=3600)
    print(done.stdout[-4000:])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PASS" in done.stdout
