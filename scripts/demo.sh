#!/usr/bin/env bash
# The main job: a real autonomous research session on the default dataset.
#
# Starts mlagentd (release build, embedded defaults, state in ./.mlagent/) unless it already
# runs, queues DEMO_DIRECTIONS directions (default 6) for the reference agent, shows progress
# while three agents work at a time, then prints the leaderboard and the summary and writes
# dashboard.html. The daemon stays up afterwards (`make stop` stops it); running the demo again
# continues the same research with new directions.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${MLAGENT_BIN:-$(swift build -c release --show-bin-path)}"
STATE="${DEMO_STATE:-$PWD/.mlagent}"
DASHBOARD="${DEMO_DASHBOARD:-$PWD/dashboard.html}"
SOCKET="${DEMO_SOCKET:-$STATE/mlagentd.sock}"
# A Unix socket's path holds at most 107 bytes: a clone deep in the filesystem gets its socket in
# the user's runtime directory instead, named after the state directory (the same next time).
if [ -z "${DEMO_SOCKET:-}" ] && [ "$(printf %s "$SOCKET" | LC_ALL=C wc -c)" -gt 107 ]; then
  runtime="${XDG_RUNTIME_DIR:-/tmp/mlagent-$(id -u)}"
  mkdir -p -m 0700 "$runtime"
  if [ -L "$runtime" ] || [ ! -O "$runtime" ]; then echo "$runtime is not $(id -un)'s own directory: set DEMO_SOCKET"; exit 1; fi
  SOCKET="$runtime/mlagent-demo-$(printf %s "$STATE" | sha256sum | cut -c1-12).sock"
fi
DIRECTIONS="${DEMO_DIRECTIONS:-6}"
AGENT="${DEMO_AGENT:-baseline}"
TIMEOUT="${DEMO_TIMEOUT:-1500}"
export MLAGENT_SOCKET="$SOCKET"
export PATH="$BIN:$PATH"

mkdir -p "$STATE"
if mlagentctl status >/dev/null 2>&1; then
  echo "mlagentd is already running (state in $STATE): continuing its research"
else
  echo "starting mlagentd (state in $STATE, log in $STATE/mlagentd.log)"
  # The daemon outlives this script: its own session, output to a log file.
  config=()
  if [ -n "${MLAGENT_CONFIG:-}" ]; then
    config=(--config "$MLAGENT_CONFIG")
  elif ! bwrap --ro-bind / / --dev /dev --proc /proc true >/dev/null 2>&1; then
    # The embedded defaults sandbox agents with bubblewrap; without it (not installed, or no
    # user namespaces here) the demo still runs, and says so.
    echo "warning: bubblewrap cannot create a sandbox on this machine; the demo's agents run unsandboxed"
    printf '# Written by make demo: bubblewrap is unavailable here.\n[sandbox]\nmode = "none"\n' > "$STATE/demo.toml"
    config=(--config "$STATE/demo.toml")
  fi
  setsid "$BIN/mlagentd" --state-dir "$STATE" --socket "$SOCKET" "${config[@]}" \
    >>"$STATE/mlagentd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 300); do
    mlagentctl status >/dev/null 2>&1 && break
    if ! kill -0 $! 2>/dev/null; then echo "mlagentd exited; its log:"; tail -20 "$STATE/mlagentd.log"; exit 1; fi
    sleep 0.1
  done
  mlagentctl status >/dev/null
fi
mlagentctl resume >/dev/null

echo "queueing $DIRECTIONS directions for the '$AGENT' agent (they pick complementary directions themselves)"
jobs=$(mlagentctl explore --count "$DIRECTIONS" --agent "$AGENT" ${DEMO_GUIDANCE:+--guidance "$DEMO_GUIDANCE"})
echo "jobs: $(echo $jobs)"
echo "progress (mlagentctl tail -f shows every event; mlagentctl logs JOB -f an agent's output):"
# shellcheck disable=SC2086
mlagentctl wait $jobs --progress --timeout "$TIMEOUT"

echo
mlagentctl leaderboard
echo
mlagentctl summary
mlagentctl dashboard --output "$DASHBOARD" >/dev/null
cat <<INFO

Where everything is:
  dashboard        $DASHBOARD
  knowledge base   git -C $STATE/workspace log --oneline main   (research_directions/, mlruns/)
  branches         git -C $STATE/workspace branch --list 'exp/*'
  agent logs       mlagentctl logs JOB   ($STATE/logs/)
  events           mlagentctl tail -f
  the daemon       still running (socket $SOCKET); make stop stops it, make demo continues
INFO
if [ "$SOCKET" != "$PWD/.mlagent/mlagentd.sock" ]; then
  echo "  mlagentctl       export MLAGENT_SOCKET=$SOCKET"
fi
