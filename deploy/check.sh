#!/usr/bin/env bash
# `make deploy-check` / `make install-check`: checks deploy/ as far as a machine without
# systemd running, Docker or Kubernetes allows (deploy/README.md says what each step proves).
#   deploy/check.sh install   the Dockerfile's install step into a temp DESTDIR, then runs it
#   deploy/check.sh all       install + systemd-analyze verify + YAML + names + local fleet
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spindle-deploy.XXXXXX")
trap 'FLEET_DIR=$tmp/fleet deploy/local-fleet stop >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
fail() { echo "deploy-check: FAIL: $*" >&2; exit 1; }

# make install into DESTDIR as the Dockerfile does; the tree must run on its own (RPATH) and
# every library it links must come from a runtime package the Dockerfile's last stage installs.
install_check() {
    local root=$tmp/root bin
    make -s install DESTDIR="$root" PREFIX=/usr/local >/dev/null
    bin=$root/usr/local/bin
    "$bin/spindle-worker" --help >/dev/null || fail "installed spindle-worker --help"
    "$bin/spindle" --version >/dev/null || fail "installed spindle --version"
    local runtime_pkgs
    runtime_pkgs=$(sed -n '/^FROM debian:bookworm-slim$/,$p' deploy/docker/Dockerfile |
        grep -oE 'lib[a-z0-9.+-]+[0-9]\b' | sort -u)
    local f lib pkg path libs=""
    for f in "$bin"/* "$root"/usr/local/lib/spindle/*.so; do
        ldd "$f" | grep -q 'not found' && fail "ldd $f: $(ldd "$f" | grep 'not found')"
        libs+=$(ldd "$f" | awk -v r="$root/" '$3 ~ /^\// && index($3, r) != 1 {print $3}')$'\n'
    done
    for lib in $(sort -u <<<"$libs"); do
        # dpkg knows a library by one of its paths (/lib or /usr/lib, link or target).
        pkg=""
        for path in "$lib" "$(readlink -f "$lib")" "/usr$lib" "${lib#/usr}"; do
            pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
            if [ -n "$pkg" ]; then break; fi
        done
        [ -n "$pkg" ] || fail "the install tree links $lib, which no Debian package owns"
        case $pkg in libc6 | libgcc-s1 | libstdc++6) continue ;; esac
        grep -qx "$pkg" <<<"$runtime_pkgs" ||
            fail "the install tree links $lib from $pkg, not installed by the Dockerfile's runtime stage"
    done
    echo "deploy-check: install tree OK ($(ls "$bin" | tr '\n' ' ')): runs, ldd complete, runtime packages in the Dockerfile"
}

systemd_check() {
    if ! command -v systemd-analyze >/dev/null; then
        echo "deploy-check: systemd-analyze absent: unit NOT verified"
        return
    fi
    # verify wants the ExecStart binary to exist: a copy of the unit points at the installed tree.
    local d=$tmp/systemd out
    mkdir -p "$d"
    sed "s|/usr/local/bin/spindle-worker|$tmp/root/usr/local/bin/spindle-worker|" \
        deploy/systemd/spindle-worker@.service >"$d/spindle-worker@.service"
    out=$(cd "$d" && systemd-analyze verify --man=no ./spindle-worker@check.service 2>&1) ||
        fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify warns: $out"
    echo "deploy-check: systemd-analyze verify spindle-worker@.service: clean"
}

# Every YAML document parses, and every binary or library path the Dockerfile, compose file
# and manifests name is one that `make install` (plus the producer the Dockerfile copies) puts
# in /usr/local.
yaml_check() {
    python3 - "$tmp/root" "$BUILD" <<'PY'
import glob, re, sys, yaml
root, build = sys.argv[1], sys.argv[2]
paths = set()
files = sorted(glob.glob("deploy/**/*.yml", recursive=True) + glob.glob("deploy/**/*.yaml", recursive=True))
ndocs = 0
for f in files:
    with open(f) as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d is not None]
    if not docs:
        sys.exit(f"deploy-check: FAIL: {f}: no YAML document")
    ndocs += len(docs)
    for text in re.findall(r"/usr/local/[\w./-]+", open(f).read()):
        paths.add((f, text))
for f in ["deploy/docker/Dockerfile", "deploy/systemd/spindle-worker@.service", "deploy/systemd/example.env"]:
    for text in re.findall(r"/usr/local/[\w./-]+", open(f).read()):
        if "/share/doc/" not in text and not text.endswith("/"):
            paths.add((f, text))
import os
for f, p in sorted(paths):
    if os.path.exists(root + p):
        continue
    if p == "/usr/local/bin/spindle-example-producer" and os.path.exists(build + "/bin/spindle-example-producer"):
        continue
    sys.exit(f"deploy-check: FAIL: {f} names {p}, which make install does not install")
print(f"deploy-check: {ndocs} YAML documents in {len(files)} files parse; {len(paths)} installed paths they name exist")
PY
}

fleet_check() {
    local dir=$tmp/fleet n=60 pids url
    export FLEET_DIR=$dir BUILD
    deploy/local-fleet start -n 3 -- --log-level warn >/dev/null
    pids=$(cat "$dir/workers.pid")
    url=$(cat "$dir/url")
    ids=()
    for i in $(seq 1 $n); do ids+=("$(SPINDLE_REDIS_URL=$url "$BUILD/bin/spindle" enqueue add "$i" 1)"); done
    for i in $(seq 1 $n); do
        got=$(SPINDLE_REDIS_URL=$url "$BUILD/bin/spindle" result "${ids[$((i - 1))]}" --wait 10)
        [ "$got" = "$((i + 1))" ] || fail "fleet: task add($i, 1) gave '$got'"
    done
    # The slots (children of the supervisors, from their heartbeats) must end too.
    slots=$(SPINDLE_REDIS_URL=$url "$BUILD/bin/spindle" workers | awk -v h="$(hostname)" 'index($1, h ":") == 1 {print $3}')
    workers=$(wc -w <<<"$slots")
    [ "$workers" -ge 3 ] || fail "fleet: $workers worker slots seen in Redis, not 3"
    deploy/local-fleet stop >/dev/null
    for p in $pids $slots; do
        [ -d "/proc/$p" ] && grep -q spindle-worker "/proc/$p/cmdline" 2>/dev/null &&
            fail "fleet: worker $p still running after stop"
    done
    [ ! -f "$dir/redis.pid" ] || fail "fleet: redis.pid left behind"
    echo "deploy-check: local fleet of 3 ($workers slots in Redis) ran $n tasks, stopped, no process left"
}

case ${1:-all} in
install) install_check ;;
all) install_check; systemd_check; yaml_check; fleet_check ;;
*) fail "usage: deploy/check.sh install|all" ;;
esac
