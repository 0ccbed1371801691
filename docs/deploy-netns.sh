#!/usr/bin/env bash
# A PennCloud spread over hosts, on one Linux machine: every host is a network namespace with its
# own address on a private subnet, joined to a bridge in the root namespace. docs/deploy.md walks
# through it.
#
#   docs/deploy-netns.sh up   [DIR]   create the hosts, write DIR/conf.json and DIR/cluster.secret,
#                                     start every role, wait until each says READY
#   docs/deploy-netns.sh down [DIR]   stop the roles, remove every namespace, veth and the bridge
#   docs/deploy-netns.sh status [DIR] list the hosts and whether each role runs
#   docs/deploy-netns.sh cut HOST     take HOST's link down (a network partition), e.g. cut kv0
#   docs/deploy-netns.sh heal HOST    bring HOST's link up again
#
# DIR defaults to ./netns-cloud. Needs root, iproute2 and a built tree (npm run build).
# Environment:
#   PENNCLOUD_NETNS_PREFIX  prefix of every namespace, veth and bridge name (default pc; at most 4
#                           characters, since Linux interface names are at most 15)
#   PENNCLOUD_NETNS_SUBNET  the first three octets of the /24 the hosts live on (default 10.77.0)
set -euo pipefail

ACTION=${1:-}
# DIR is taken from where the script is run; the roles run from the repository root.
case "$ACTION" in
  cut|heal) TARGET=${2:-} DIR="" ;;
  *) TARGET="" DIR=$(realpath -m "${2:-netns-cloud}") ;;
esac
cd "$(dirname "$0")/.."
PREFIX=${PENNCLOUD_NETNS_PREFIX:-pc}
SUBNET=${PENNCLOUD_NETNS_SUBNET:-10.77.0}
BRIDGE="${PREFIX}br0"
BRIDGE_ADDRESS="$SUBNET.1"
# Seconds each role has to print its READY line; generous for a loaded machine.
READY_TIMEOUT_S=60
# Seconds a role has to exit after SIGTERM before it gets SIGKILL.
STOP_TIMEOUT_S=20

if [ "${#PREFIX}" -gt 4 ] || ! [[ "$PREFIX" =~ ^[a-z][a-z0-9]*$ ]]; then
  echo "PENNCLOUD_NETNS_PREFIX must be 1-4 lower-case letters or digits, starting with a letter (got \"$PREFIX\")" >&2
  exit 2
fi
if ! [[ "$SUBNET" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; then
  echo "PENNCLOUD_NETNS_SUBNET must be three octets such as 10.77.0 (got \"$SUBNET\")" >&2
  exit 2
fi

# The hosts: name and last octet. One namespace each.
HOSTS=(coord:10 kv0:20 kv1:21 kv2:22 kv3:23 kv4:24 kv5:25 kv6:26 kv7:27 kv8:28 fe1:31 fe2:32 fe3:33 disp:40 mail:50)
# The roles: host, then the penncloud command line after `penncloud`.
ROLES=(
  "coord|coordinator"
  "kv0|kvnode --id 0" "kv1|kvnode --id 1" "kv2|kvnode --id 2"
  "kv3|kvnode --id 3" "kv4|kvnode --id 4" "kv5|kvnode --id 5"
  "kv6|kvnode --id 6" "kv7|kvnode --id 7" "kv8|kvnode --id 8"
  "fe1|frontend --id 1" "fe2|frontend --id 2" "fe3|frontend --id 3"
  "disp|dispatcher"
  "mail|smtp" "mail|pop3"
)

address_of() { # host name -> its address
  local entry
  for entry in "${HOSTS[@]}"; do
    if [ "${entry%%:*}" = "$1" ]; then echo "$SUBNET.${entry#*:}"; return; fi
  done
  echo "no host $1" >&2
  exit 1
}
ns_of() { echo "$PREFIX-$1"; }
veth_of() { echo "${PREFIX}v-$1"; }
role_name() { echo "$2" | awk '{ print $1 ($3 == "" ? "" : "-" $3) }'; }

write_conf() {
  local coord kv fe disp mail
  coord=$(address_of coord) disp=$(address_of disp) mail=$(address_of mail)
  kv=""
  for i in 0 1 2 3 4 5 6 7 8; do
    kv+="${kv:+,}{\"id\":$i,\"host\":\"$(address_of kv$i)\",\"port\":10000}"
  done
  fe=""
  for i in 1 2 3; do
    fe+="${fe:+,}{\"id\":$i,\"host\":\"$(address_of fe$i)\",\"port\":8000}"
  done
  cat >"$DIR/conf.json" <<EOF
{
  "frontends": [$fe],
  "dispatcher": { "host": "$disp", "port": 9000 },
  "coordinator": { "host": "$coord", "port": 9999 },
  "kv": {
    "nodes": [$kv],
    "groups": [[0, 1, 2], [3, 4, 5], [6, 7, 8]],
    "tablets": [{ "start": "", "group": 0 }, { "start": "h", "group": 1 }, { "start": "q", "group": 2 }]
  },
  "admins": ["operator"],
  "mail": { "domain": "localhost" },
  "smtp": { "host": "$mail", "port": 2500 },
  "pop3": { "host": "$mail", "port": 11000 },
  "secretFile": "$DIR/cluster.secret"
}
EOF
}

write_secret() {
  [ -f "$DIR/cluster.secret" ] && return
  (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$DIR/cluster.secret" && echo >>"$DIR/cluster.secret")
  chmod 600 "$DIR/cluster.secret"
}

create_hosts() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$BRIDGE_ADDRESS/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local entry host ns veth
  for entry in "${HOSTS[@]}"; do
    host=${entry%%:*}
    ns=$(ns_of "$host") veth=$(veth_of "$host")
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" addr add "$(address_of "$host")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
}

start_roles() {
  mkdir -p "$DIR/logs" "$DIR/pids"
  local spec host cmd name ns flags
  for spec in "${ROLES[@]}"; do
    host=${spec%%|*} cmd=${spec#*|}
    name=$(role_name "$host" "$cmd")
    ns=$(ns_of "$host")
    mkdir -p "$DIR/hosts/$host"
    # The runtime flags penncloud up gives each role (lib/cli/role-node-flags.ts).
    if [ "${cmd%% *}" = frontend ]; then flags=""; else flags="--initial-old-space-size=64"; fi
    # Word splitting of $flags and $cmd is wanted: they are the role's arguments.
    # shellcheck disable=SC2086
    setsid ip netns exec "$ns" node $flags dist/bin/penncloud.js $cmd --conf "$DIR/conf.json" \
      --data "$DIR/hosts/$host" --secret-file "$DIR/cluster.secret" \
      </dev/null >"$DIR/logs/$name.log" 2>&1 &
    echo $! >"$DIR/pids/$name.pid"
  done
  for spec in "${ROLES[@]}"; do
    host=${spec%%|*} cmd=${spec#*|}
    name=$(role_name "$host" "$cmd")
    wait_ready "$name"
  done
}

wait_ready() {
  local name=$1 deadline=$((SECONDS + READY_TIMEOUT_S))
  until grep -q '^READY ' "$DIR/logs/$name.log" 2>/dev/null; do
    if ! kill -0 "$(cat "$DIR/pids/$name.pid")" 2>/dev/null; then
      echo "$name exited before it was ready; its log:" >&2
      tail -n 20 "$DIR/logs/$name.log" >&2
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$name printed no READY line within $READY_TIMEOUT_S s" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "$(grep -m1 '^READY ' "$DIR/logs/$name.log")"
}

stop_roles() {
  [ -d "$DIR/pids" ] || return 0
  local file pid
  for file in "$DIR"/pids/*.pid; do
    [ -e "$file" ] || continue
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
  done
  for file in "$DIR"/pids/*.pid; do
    [ -e "$file" ] || continue
    pid=$(cat "$file")
    local deadline=$((SECONDS + STOP_TIMEOUT_S))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$file"
  done
}

remove_hosts() {
  local entry ns
  for entry in "${HOSTS[@]}"; do
    ns=$(ns_of "${entry%%:*}")
    # Removing a namespace removes its end of the veth pair, and so the pair.
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$(veth_of "${entry%%:*}")" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
}

case "$ACTION" in
  up)
    [ -f dist/bin/penncloud.js ] || { echo "dist/bin/penncloud.js is missing: run npm run build first" >&2; exit 1; }
    if ip link show "$BRIDGE" >/dev/null 2>&1; then
      echo "bridge $BRIDGE exists already: run $0 down first, or set PENNCLOUD_NETNS_PREFIX" >&2
      exit 1
    fi
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    write_secret
    write_conf
    # A failed start leaves the hosts and logs for a look; `down` removes them.
    trap '[ $? -eq 0 ] || echo "up failed: see $DIR/logs, then run $0 down $DIR" >&2' EXIT
    create_hosts
    start_roles
    trap - EXIT
    echo "the cloud is up: http://$(address_of disp):9000/ (conf $DIR/conf.json, logs $DIR/logs)"
    ;;
  down)
    stop_roles
    remove_hosts
    echo "removed every role, namespace and link of prefix $PREFIX"
    ;;
  status)
    for entry in "${HOSTS[@]}"; do
      host=${entry%%:*}
      if ip netns list | grep -q "^$(ns_of "$host")\b"; then state="present"; else state="absent"; fi
      printf '%-6s %-14s %s\n' "$host" "$(address_of "$host")" "namespace $state"
    done
    for spec in "${ROLES[@]}"; do
      name=$(role_name "${spec%%|*}" "${spec#*|}")
      if [ -f "$DIR/pids/$name.pid" ] && kill -0 "$(cat "$DIR/pids/$name.pid")" 2>/dev/null; then
        echo "$name running (pid $(cat "$DIR/pids/$name.pid"))"
      else
        echo "$name not running"
      fi
    done
    ;;
  cut|heal)
    address_of "$TARGET" >/dev/null
    if [ "$ACTION" = cut ]; then state=down; else state=up; fi
    ip link set "$(veth_of "$TARGET")" "$state"
    echo "link of $TARGET ($(address_of "$TARGET")) $state"
    ;;
  *)
    echo "usage: $0 up|down|status [DIR] | cut|heal HOST" >&2
    exit 2
    ;;
esac
