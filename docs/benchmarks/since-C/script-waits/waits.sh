#!/usr/bin/env bash
# docs/benchmarks/since-C/script-waits/waits.sh [TRIPLES]: does the bench scripts' waiting slow the
# load generator? jsock bench (pingpong -c 100 -s 64, 5 s warm-up, 10 s measured) against the C
# server, the server on CPU 0 and the load and this script on CPU 1, in three ways, their order
# turned round each triple: quiet (the script waits for jsock bench to exit), new (it waits for
# "jsock bench: stopped" with bench/lib.sh's await_phase, as the scripts do since this run), old
# (with the loop await_phase had before: grep and sleep 0.02, two programs started per try).
# Prints triple, way, msgs/s. Run from the repository's root after bench/compare has built.
set -euo pipefail
. bench/lib.sh
java=$(find_java)
jar=$(ls cli/target/jsock-cli-*-all.jar | head -n 1)
triples=${1:-4}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
ulimit -n 20000
taskset -cp 1 $$ >/dev/null
for t in $(seq "$triples"); do
  for way in $([ $(( t % 2 )) = 1 ] && echo "quiet new old" || echo "old new quiet"); do
    : >"$work/server.out"
    : >"$work/bench.err"
    taskset -c 0 bench/target/epoll_echo --host 127.0.0.1 --port 0 >"$work/server.out" 2>&1 &
    server=$!
    pids=("$server")
    port=$(listening_port "$work/server.out" "$server" 30)
    taskset -c 1 "$java" "${jsock_flags[@]}" -jar "$jar" bench pingpong -c 100 -s 64 --host 127.0.0.1 \
      --port "$port" --duration 10s --warmup 5s --json --phases >"$work/bench.json" 2>"$work/bench.err" &
    load=$!
    pids+=("$load")
    case "$way" in
      new) await_phase "$work/bench.err" stopped "$load" 120 || true ;;
      old) for _ in $(seq 6000); do
             grep -q "jsock bench: stopped" "$work/bench.err" && break
             kill -0 "$load" 2>/dev/null || break
             sleep 0.02
           done ;;
    esac
    wait "$load"
    kill "$server" && wait "$server" 2>/dev/null || true
    pids=()
    printf '%s\t%s\t%s\n' "$t" "$way" "$(jq -r '.messagesPerSecond | floor' "$work/bench.json")"
  done
done
