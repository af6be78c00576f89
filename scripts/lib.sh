# shellcheck shell=bash
# Shell helpers for the load test scripts (sourced, not run).

# start_evkv LOG COMMAND...: starts evkv-server (COMMAND) in the background
# with stderr to LOG, and waits up to 120 s for its start line. Sets
# SERVER_PID, and SERVER_PORT from "listening on HOST:PORT (...)".
start_evkv() {
  local log=$1; shift
  "$@" 2>"$log" &
  SERVER_PID=$!
  for _ in $(seq 1 1200); do
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

# Argument checks: the scripts make them all before anything is built,
# generated or started, and exit 2 with the reason on the first bad one.

# usage_error PROG MESSAGE: "PROG: MESSAGE (see --help)" on stderr, exit 2.
usage_error() {
  echo "$1: $2 (see --help)" >&2
  exit 2
}

# need_value PROG OPTION ARGC: OPTION (the caller's $1) must have a value
# after it, ARGC being the caller's $#.
need_value() {
  [ "$3" -ge 2 ] || usage_error "$1" "$2 needs a value"
}

# check_int PROG OPTION VALUE MIN [MAX]: VALUE is a whole number from MIN
# (to MAX).
check_int() {
  local prog=$1 opt=$2 v=$3 min=$4 max=${5:-}
  if ! [[ $v =~ ^[0-9]+$ ]] || [ "${#v}" -gt 12 ] || [ "$v" -lt "$min" ] ||
     { [ -n "$max" ] && [ "$v" -gt "$max" ]; }; then
    usage_error "$prog" "$opt must be a whole number from $min${max:+ to $max}, not '$v'"
  fi
}

# check_seconds PROG OPTION VALUE: VALUE is a number of seconds above 0.
check_seconds() {
  if ! [[ $3 =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk -v v="$3" 'BEGIN { exit !(v > 0) }'; then
    usage_error "$1" "$2 must be a number of seconds above 0, not '$3'"
  fi
}

# check_scenarios PROG LIST KNOWN: every comma-separated name in LIST is
# one of the space-separated names in KNOWN, and there is at least one.
check_scenarios() {
  local prog=$1 list=$2 known=$3 name
  local -a names
  [ -n "$list" ] || usage_error "$prog" "--scenarios needs at least one name (of: ${known// /, })"
  IFS=, read -r -a names <<<"$list"
  for name in "${names[@]}"; do
    case " $known " in
      *" $name "*) ;;
      *) usage_error "$prog" "unknown scenario '$name' (known: ${known// /, })" ;;
    esac
  done
}

# data_file DIR KEYS VALUE_SIZE SEED: the path of the data set that
# scripts/gen-data makes with these parameters, named by all of them, so
# that a run with other parameters never reuses another run's data.
data_file() {
  echo "$1/data-n$2-v$3-s$4.tsv"
}

# ensure_data DIR KEYS VALUE_SIZE SEED: makes data_file's data set (and its
# .keys) with scripts/gen-data unless it is there, and prints its path. The
# files are written under temporary names and renamed, the key list first,
# so that a data file present is a whole one with its key list.
ensure_data() {
  local path tmp
  path=$(data_file "$@")
  if [ ! -f "$path" ] || [ ! -f "$path.keys" ]; then
    tmp=$1/.gen-$$.tsv
    scripts/gen-data -n "$2" --value-size "$3" --seed "$4" "$tmp" >&2
    mv -f "$tmp.keys" "$path.keys"
    mv -f "$tmp" "$path"
  else
    echo "reusing $path ($2 keys, $3-byte values, seed $4)" >&2
  fi
  echo "$path"
}

# ensure_rb_data PATH: a copy of the data set PATH (and its .keys) with its
# keys as redis-benchmark makes them (key:__rand_int__ with -r: "key:" and
# 12 digits, key:000000000123), unless it is there; prints its path. Made
# under temporary names and renamed, as ensure_data's.
ensure_rb_data() {
  local path=${1%.tsv}-rb.tsv tmp
  if [ ! -f "$path" ] || [ ! -f "$path.keys" ]; then
    tmp=$(dirname "$1")/.rb-$$.tsv
    sed 's/^key:/key:000/' "$1.keys" >"$tmp.keys"
    sed 's/^key:/key:000/' "$1" >"$tmp"
    mv -f "$tmp.keys" "$path.keys"
    mv -f "$tmp" "$path"
  else
    echo "reusing $path" >&2
  fi
  echo "$path"
}
