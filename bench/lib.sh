# bench/lib.sh: shell functions that the bench scripts share; sourced by them, not run.

# Prints the path of a java of JDK 25 or newer (JAVA_HOME first, then /usr/lib/jvm); fails if none.
find_java() {
  local candidate
  for candidate in "${JAVA_HOME:-}/bin/java" /usr/lib/jvm/*25*/bin/java /usr/lib/jvm/*/bin/java; do
    if [ -x "$candidate" ] && "$candidate" -version 2>&1 | head -n 1 | grep -Eq '"(2[5-9]|[3-9][0-9])'; then
      printf '%s' "$candidate"
      return 0
    fi
  done
  return 1
}

# The scripts' usage errors, exit 2 as the command line's: "bench/NAME: MESSAGE (try --help)".
usage_error() { # script message
  printf '%s: %s (try --help)\n' "$1" "$2" >&2
  exit 2
}

# Prints the comment at the top of the running script, its usage, without the "# ". The scripts cd
# to the checkout first, so the script is read as bench/NAME: "$0" itself failed once run from
# another directory (cd bench && ./ab --help: "awk: cannot open ./ab", exit 2).
show_usage() {
  awk 'NR > 1 && !/^#/ {exit} NR > 1' "bench/${0##*/}" | sed 's/^# \{0,1\}//'
}

# For the scripts that take only positional arguments ([N] [SECONDS] ...), checked before anything
# starts: --help or -h prints the usage and exits 0; an option (an argument beginning with "-")
# or more than MAX arguments is a usage error. (bench/idle-memory --help had started jsock echo
# with "--help" for N.)
positional_only() { # script max arguments...
  local script=$1 max=$2 argument
  shift 2
  for argument in "$@"; do
    case "$argument" in -h | --help) show_usage; exit 0 ;; esac
  done
  for argument in "$@"; do
    case "$argument" in -?*) usage_error "$script" "unknown option $argument" ;; esac
  done
  (( $# <= max )) || usage_error "$script" "unexpected argument ${*:max+1:1} (it takes $max at most)"
}

# Fails with a usage error unless SECONDS is a whole number of seconds that jsock bench takes as a
# --duration (from 1 to under an hour), which it would otherwise refuse only once a server is up.
need_seconds() { # script name value
  need_count "$1" "$2" "$3"
  (( 10#$3 < 3600 )) || usage_error "$1" "$2 must be under an hour (jsock bench's longest run): $3"
}

# Fails with a usage error unless OPTION has a value (ARGUMENTS is what is left of the command
# line, OPTION first): "--repeat" last on the line stopped the script on bash's "$2: unbound variable".
need_value() { # script argument-count option
  [ "$2" -ge 2 ] || usage_error "$1" "$3 needs a value"
}

# Fails with a usage error unless VALUE is a whole number from 1 (0 with "or 0"), written without
# a leading zero: the scripts' own arithmetic reads "010" as octal 8 (while jsock bench and python
# take 10) and "08" as an error, after they have started servers.
need_count() { # script option value [or 0]
  local lowest=1
  [ -z "${4:-}" ] || lowest=0
  [[ $3 =~ ^[0-9]{1,9}$ ]] && (( 10#$3 >= lowest )) \
    || usage_error "$1" "$2 must be a whole number from $lowest: $3"
  [[ $3 =~ ^(0|[1-9][0-9]*)$ ]] || usage_error "$1" "$2 must be written without a leading zero: $3"
}

# Milliseconds in a duration written as jsock bench reads it (500ms, 2s, 1m); fails with a usage
# error naming OPTION for any other form, which jsock bench would refuse in every run.
duration_ms() { # script option value
  [[ $3 =~ ^([0-9]{1,9})(ms|s|m)$ ]] \
    || usage_error "$1" "$2: not a duration (a whole number and ms, s or m, as 500ms, 2s, 1m): $3"
  case "${BASH_REMATCH[2]}" in
    ms) echo $(( 10#${BASH_REMATCH[1]} )) ;;
    s) echo $(( 10#${BASH_REMATCH[1]} * 1000 )) ;;
    m) echo $(( 10#${BASH_REMATCH[1]} * 60000 )) ;;
  esac
}

# Fails with a usage error unless --duration and --warmup are what jsock bench takes (from 100ms to
# under an hour, and under 10 minutes), so that a long run does not find out run by run.
need_run_durations() { # script duration warmup
  local ms
  ms=$(duration_ms "$1" --duration "$2") || exit 2
  (( ms >= 100 && ms < 3600000 )) || usage_error "$1" "--duration must be from 100ms to under an hour: $2"
  ms=$(duration_ms "$1" --warmup "$3") || exit 2
  (( ms < 600000 )) || usage_error "$1" "--warmup must be under 10 minutes: $3"
}

# Fails with a usage error unless LIST (as taskset -c reads it) names a CPU the kernel lets this
# process run on: one missing (CPU 1 on a one-CPU host or cgroup) failed each server's or load's
# start, after the build, with taskset's "failed to set pid's affinity: Invalid argument".
need_cpus() { # script option list
  taskset -c "$3" true 2>/dev/null || usage_error "$1" \
    "$2 $3: no CPU this process may run on (it may run on $(awk '/^Cpus_allowed_list:/ {print $2}' /proc/self/status))"
}

# Clock ticks from a /proc stat file, a process's or a thread's: utime+stime, or with "user" utime
# alone (fields 14 and 15, counted after the command name, which may hold spaces); 0 once it has gone.
stat_ticks() { # stat-file [user]
  local stat
  stat=$(cat "$1" 2>/dev/null) || { echo 0; return; }
  stat=${stat##*) }
  awk -v user="${2:-}" '{print (user != "" ? $12 : $12 + $13)}' <<<"$stat"
}
# utime+stime of a process, and utime alone, in clock ticks.
cpu_ticks() { stat_ticks "/proc/$1/stat"; }
user_ticks() { stat_ticks "/proc/$1/stat" user; }
ticks_per_second=$(getconf CLK_TCK)

# utime+stime of a JVM's JIT compiler threads ("C1 CompilerThre...", "C2 CompilerThre..."), in
# clock ticks; 0 for a process that has none (the C server) or has gone.
jit_ticks() {
  local task sum=0
  for task in /proc/"$1"/task/*; do
    case "$(cat "$task/comm" 2>/dev/null)" in
      C1\ CompilerThre* | C2\ CompilerThre*)
        sum=$(( sum + $(stat_ticks "$task/stat") ))
        ;;
    esac
  done
  echo "$sum"
}

# The jcmd of the JDK a running JVM was started from (its executable's directory).
jcmd_of() { # pid
  printf '%s/jcmd' "$(dirname "$(readlink -f "/proc/$1/exe")")"
}

# VmRSS of a process in KiB; 0 once it has gone.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# The median of the numbers on standard input, one per line; NA if there are none.
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "NA"; else printf "%.10g\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

# The median and the lowest–highest of the ratios on standard input, "1.04 (0.91–1.12)"; "–" if none.
median_range() {
  local numbers
  numbers=$(sort -g)
  [ -n "$numbers" ] || { echo "–"; return; }
  printf '%.2f (%.2f–%.2f)\n' "$(median <<<"$numbers")" "$(head -n 1 <<<"$numbers")" "$(tail -n 1 <<<"$numbers")"
}

# Builds the C epoll echo server into bench/target/epoll_echo, and its io_uring twin into
# bench/target/uring_echo where liburing's header is installed (Debian: liburing-dev).
build_c_server() {
  gcc -O2 -Wall -o bench/target/epoll_echo bench/src/main/c/epoll_echo.c
  if echo '#include <liburing.h>' | gcc -E - >/dev/null 2>&1; then
    gcc -O2 -Wall -o bench/target/uring_echo bench/src/main/c/uring_echo.c -luring
  fi
}

# The JVM flags each JVM server runs with, here and in the scripts that start one: jsock's are
# those its launcher passes (cli/jvm.options), jsock_plain_flags the same without them.
jsock_plain_flags=(--enable-native-access=ALL-UNNAMED)
mapfile -t jsock_jvm_options < <(grep -Ev '^[[:space:]]*(#|$)' "$(dirname "${BASH_SOURCE[0]}")/../cli/jvm.options")
jsock_flags=("${jsock_plain_flags[@]}" "${jsock_jvm_options[@]}")
netty_flags=(--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED)

# The scripts wait on the load generator's CPU (pinned there to stay off the server's), so a wait
# must not take that CPU from the load generator: polling with grep and sleep, two programs started
# fifty times a second, cut jsock bench's ping-pong rate against the C server to 0.46-0.79x
# (docs/benchmarks/FINDINGS.md, "The scripts' own waiting"). So the waits start no
# program while they wait: CONDITION is a shell function, and the pause between tries is a
# `read -t` on a pipe that nothing writes to, open only while waiting.
# Runs CONDITION... every INTERVAL seconds until it succeeds; fails if PID ends first or after TRIES.
# An interrupt that comes during the pause is acted on once the read has returned (exit_on_interrupt).
poll() { # interval tries pid condition...
  local interval=$1 tries=$2 pid=$3 quiet i status=1
  shift 3
  exec {quiet}<> <(:)
  for (( i = 0; i < tries; i++ )); do
    if "$@"; then status=0; break; fi
    kill -0 "$pid" 2>/dev/null || break
    in_timed_read=1
    read -r -t "$interval" -u "$quiet" _ || true
    in_timed_read=0
    [ -z "${interrupted:-}" ] || exit "$interrupted"
  done
  exec {quiet}<&-
  return "$status"
}

# Makes SIGINT (Ctrl-C) and SIGTERM exit the script 130 and 143, which runs its EXIT trap (its
# clean-up); each script calls it just after setting that trap. Not from inside poll's `read -t`:
# bash (5.2.15) leaves the read's timeout set when a trap exits during it, and the next check of
# signals once the timeout is due (in the clean-up: a $(...), a sleep) jumps back into the read's
# gone stack frame: bench/compare died of SIGSEGV or "longjmp causes uninitialized stack frame"
# midway through its clean-up, servers and temporary directory left behind (the scripts without an
# INT trap, on SIGINT's own exit, at times ran on in poll's loop without a clean-up, for ever). So a
# signal that comes while poll reads is only noted there, and poll exits once the read has returned.
exit_on_interrupt() {
  interrupted=
  in_timed_read=0
  trap 'on_interrupt 130' INT
  trap 'on_interrupt 143' TERM
}
on_interrupt() { # exit-status
  interrupted=$1
  (( ${in_timed_read:-0} )) || exit "$1"
}

# Sets found_line to the first line of FILE that contains TEXT; fails if there is none, or no FILE
# yet. A file that a wait reads must be emptied before the process that writes it starts, or the
# wait may read what the file held from an earlier run.
find_line() { # file text
  local line
  [ -f "$1" ] || return 1
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line == *"$2"* ]]; then
      found_line=$line
      return 0
    fi
  done <"$1"
  return 1
}

# Waits until a server whose output goes to FILE says "... listening on HOST:PORT" (every server
# the bench scripts start does), and prints PORT; fails if PID ends first or SECONDS pass.
listening_port() { # file pid seconds
  poll 0.1 $(( $3 * 10 )) "$2" find_line "$1" 'listening on' || return 1
  echo "${found_line##*[!0-9]}"
}

# Waits until `jsock bench --phases` has written "jsock bench: PHASE" to FILE; fails if PID ends
# first or SECONDS pass.
await_phase() { # file phase pid seconds
  poll 0.02 $(( $4 * 50 )) "$3" find_line "$1" "jsock bench: $2"
}

# The syscall tracepoints --syscalls counts, by kind; every call is in raw_syscalls:sys_enter.
syscall_kinds=(
  "reads|read readv recvfrom recvmsg recvmmsg"
  "writes|write writev sendto sendmsg sendmmsg"
  "waits|epoll_wait epoll_pwait epoll_pwait2 epoll_ctl poll ppoll io_uring_enter"
  "futex|futex"
)
syscall_events=raw_syscalls:sys_enter
for kind in "${syscall_kinds[@]}"; do
  for call in ${kind#*|}; do syscall_events+=",syscalls:sys_enter_$call"; done
done

# --netns: a network namespace joined to this one by a veth pair on a free /29 of 198.18.0.0/15 (the
# benchmarking block), made with the commands io.jsock.testing.NetnsHost runs. This namespace's end
# is netns_local (the /29's first address: the servers listen there), the namespace's end
# netns_remote (the second: the load generator runs there, behind netns_exec). Named after PID, the
# script's: namespace jsock-bench-PID, veth jbPID (eth0 inside). Nothing else is touched here: no
# other interface, route, qdisc or sysctl of this namespace. The caller's EXIT trap must call
# netns_down, which deletes whatever part of them exists (netns_up names them before it makes them).
netns_up() { # pid
  netns_name=jsock-bench-$1
  netns_link=jb$1
  netns_exec=(ip netns exec "$netns_name")
  netns_delete_stale
  local subnet offset
  subnet=$(netns_free_subnet) || return 1
  offset=$(( subnet * 8 ))
  netns_local=198.$(( 18 + (offset >> 16) )).$(( (offset >> 8) & 255 )).$(( (offset & 255) + 1 ))
  netns_remote=${netns_local%.*}.$(( (offset & 255) + 2 ))
  ip netns add "$netns_name" \
    && ip link add "$netns_link" type veth peer name eth0 netns "$netns_name" \
    && ip addr add "$netns_local/29" dev "$netns_link" \
    && ip link set "$netns_link" up \
    && ip -n "$netns_name" addr add "$netns_remote/29" dev eth0 \
    && ip -n "$netns_name" link set eth0 up \
    && ip -n "$netns_name" link set lo up \
    && "${netns_exec[@]}" sysctl -q -w net.ipv4.tcp_tw_reuse=1 "net.ipv4.ip_local_port_range=1024 65535"
  # The namespace's own sysctls, for the connect scenario's cycles from its one address: its closed
  # connections' ports in TIME_WAIT may be taken again after a second (loopback's tcp_tw_reuse=2 does
  # that for 127.0.0.0/8 only), from 64,512 ports rather than 28,232.
}

# Deletes the veth pair and the namespace netns_up made, if they exist.
netns_down() {
  [ -n "${netns_name:-}" ] || return 0
  ip link del "$netns_link" 2>/dev/null || true
  ip netns del "$netns_name" 2>/dev/null || true
}

# Deletes the namespaces named jsock-bench-PID whose script has gone without deleting them (killed).
netns_delete_stale() {
  local name pid
  while read -r name _; do
    [[ $name =~ ^jsock-bench-([0-9]+)$ ]] || continue
    pid=${BASH_REMATCH[1]}
    kill -0 "$pid" 2>/dev/null && continue
    ip link del "jb$pid" 2>/dev/null || true
    ip netns del "$name" 2>/dev/null || true
  done < <(ip netns list 2>/dev/null)
}

# Prints the number of a /29 of 198.18.0.0/15 (0 to 16383) that no address of this namespace is in,
# from a random start, as NetnsHost picks its own.
netns_free_subnet() {
  local used=" " address a b c start i subnet
  for address in $(ip -o -4 addr show | grep -Eo 'inet 198\.1[89]\.[0-9]+\.[0-9]+' | cut -d' ' -f2); do
    IFS=. read -r _ a b c <<<"$address"
    used+="$(( (((a - 18) << 16) | (b << 8) | c) / 8 )) "
  done
  start=$(( (RANDOM << 15 | RANDOM) % 16384 ))
  for (( i = 0; i < 16384; i++ )); do
    subnet=$(( (start + i) % 16384 ))
    [[ $used == *" $subnet "* ]] || { echo "$subnet"; return 0; }
  done
  echo "no free /29 left in 198.18.0.0/15" >&2
  return 1
}
