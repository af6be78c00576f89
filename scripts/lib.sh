# Shell helpers for the load test scripts (sourced, not run).

# start_evkv LOG COMMAND...: starts evkv-server (COMMAND) in the background
# with stderr to LOG, and waits up to 120 s for its start line. Sets
# SERVER_PID, and SERVER_PORT from "listening on HOST:PORT (...)".
start_evkv() {
  local log=$1; shift
  "$@" 2>"$log" &
  SERVER_PID=$!
  local i
  for i in $(seq 1 1200); do
    SERVER_PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\) (.*/\1/p' "$log" | head -n 1)
    [ -n "$SERVER_PORT" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "server did not start: $(cat "$log")" >&2
  return 1
}

# free_port: a TCP port nobody listens on now, on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cpu_seconds PID: user + system CPU time the process has used, in seconds.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# rss_kib PID: resident memory now, in KiB.
rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# watch_rss PID FILE: until PID exits or FILE is removed, keeps the highest
# VmRSS seen (KiB) in FILE, sampled every 0.2 s. Run in the background.
watch_rss() {
  local pid=$1 file=$2 max=0 r
  echo 0 >"$file"
  while [ -f "$file" ] && kill -0 "$pid" 2>/dev/null; do
    r=$(rss_kib "$pid" 2>/dev/null || echo 0)
    if [ "${r:-0}" -gt "$max" ]; then max=$r; echo "$max" >"$file"; fi
    sleep 0.2
  done
}
