#!/usr/bin/env bash
# Idle CPU of the real binary: `gitops-tui demo` in a 160x48 tmux pane; once
# the screen is ready and settled, the process's CPU time (utime + stime of
# all its threads, from /proc/PID/stat) over IDLE_SECONDS (default 10).
# The demo process holds its own kube-sim and the demo's background actor
# (a ConfigMap patch every 7 s, a Pod deletion every 14 s), so the figure
# includes them and the watch-driven reloads they cause.
#
#   benches/idle_cpu.sh            (builds target/release/gitops-tui if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/gitops-tui}
IDLE_SECONDS=${IDLE_SECONDS:-10}
SETTLE_SECONDS=${SETTLE_SECONDS:-3}
[ -x "$BIN" ] || cargo build --release --bin gitops-tui
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy

work=$(mktemp -d /tmp/gitops-tui-idle.XXXXXX)
session="gitops-idle-$$"
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

tmux new-session -d -s "$session" -x 160 -y 48 "exec $BIN demo --dir $work/demo"
pid=$(tmux display -p -t "$session" '#{pane_pid}')
if [ "$(cat /proc/"$pid"/comm)" != "gitops-tui" ]; then
    pid=$(pgrep -P "$pid" -x gitops-tui | head -1)
fi

# Ready: the demo writes its public kubeconfig last, then the TUI starts and
# draws; wait until the apps pane shows a sync status for all five apps.
ready() {
    [ -f "$work/demo/kubeconfig" ] &&
        [ "$(tmux capture-pane -p -t "$session" |
            grep -cE '(catalog|checkout|payments|search|storefront) +[✓✗] ')" -ge 5 ]
}
for _ in $(seq 1 120); do
    ready && break
    sleep 0.5
done
ready || {
    echo "the demo did not become ready" >&2
    tmux capture-pane -p -t "$session" >&2
    exit 1
}
sleep "$SETTLE_SECONDS"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
start_ticks=$(ticks "$pid")
start_ns=$(date +%s%N)
sleep "$IDLE_SECONDS"
end_ticks=$(ticks "$pid")
end_ns=$(date +%s%N)

awk -v t=$((end_ticks - start_ticks)) -v hz="$hz" -v ns=$((end_ns - start_ns)) \
    -v load="$(cut -d' ' -f1-3 /proc/loadavg)" -v cores="$(nproc)" 'BEGIN {
    cpu = t / hz; wall = ns / 1e9;
    printf "idle CPU: %.3f s of CPU in %.2f s wall = %.2f%% of one core (load average %s on %d cores)\n",
        cpu, wall, 100 * cpu / wall, load, cores
}'
