#!/usr/bin/env bash
# What happens at end of file, observed: jsock connect next to ncat, socat and OpenBSD nc, each as
# the client of the same small Python servers on 127.0.0.1. Prints a Markdown table (the one in
# docs/cli/connect-listen.md). Needs python3, ncat, socat, nc.openbsd; run from the repository root
# (or set JSOCK to the command to run). Every client is bounded by `timeout 10`.
#
#   reply:  the server reads until end of file, then answers "got N bytes" and closes.
#           Client: printf 'hi' | CLIENT 127.0.0.1 PORT
#   early:  the server sends "bye" and closes at once, reading nothing.
#           Client: (sleep 3) | CLIENT 127.0.0.1 PORT   (stdin stays open for 3 s, then ends)
#   linger: the server reads until end of file, answers, and keeps the connection open 4 s.
#           Client: printf 'hi' | CLIENT 127.0.0.1 PORT
set -u
JSOCK=${JSOCK:-./jsock}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

server() { # $1: reply | early | linger; serves one client in the background, sets $port
  python3 - "$1" "$tmp/port" >/dev/null 2>&1 <<'PY' &
import socket, sys, time
mode, portfile = sys.argv[1], sys.argv[2]
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(portfile + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(portfile + ".tmp", portfile)
s.settimeout(10)
c, _ = s.accept(); c.settimeout(8)
if mode == "early":
    c.sendall(b"bye"); c.close(); sys.exit()
n = 0
try:
    while (d := c.recv(65536)):
        n += len(d)
    c.sendall(b"got %d bytes" % n)
    if mode == "linger":
        time.sleep(4)
except socket.timeout:
    pass
c.close()
PY
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  port=$(cat "$tmp/port"); rm -f "$tmp/port"
}

run() { # $1 scenario, $2 client command (PORT substituted)
  local start end out rc input
  server "$1"
  if [ "$1" = early ]; then input="sleep 3"; else input="printf hi"; fi
  start=$(date +%s.%N)
  out=$(bash -c "$input | timeout 10 ${2//PORT/$port}" 2>/dev/null); rc=$?
  end=$(date +%s.%N)
  wait
  printf '| `%s` | %s | `%s` | %s | %.1f s |\n' "$2" "$1" "$out" \
    "$([ $rc = 124 ] && echo 'killed by timeout' || echo "exit $rc")" "$(echo "$end - $start" | bc)"
}

echo '| client (PORT: the server'"'"'s) | scenario | stdout | ending | time |'
echo '|---|---|---|---|---|'
for scenario in reply early linger; do
  for client in \
    "$JSOCK connect 127.0.0.1 PORT" \
    "$JSOCK connect --no-shutdown 127.0.0.1 PORT" \
    "$JSOCK connect --send-only 127.0.0.1 PORT" \
    "$JSOCK connect --recv-only 127.0.0.1 PORT" \
    "ncat 127.0.0.1 PORT" \
    "ncat --no-shutdown 127.0.0.1 PORT" \
    "socat - TCP:127.0.0.1:PORT" \
    "nc.openbsd 127.0.0.1 PORT" \
    "nc.openbsd -N 127.0.0.1 PORT" \
    "nc.openbsd -q 1 127.0.0.1 PORT"; do
    run "$scenario" "$client"
  done
done
