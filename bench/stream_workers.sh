#!/usr/bin/env bash
# Distributed-mode throughput: the same generated posts through NATS JetStream into 1 and then 2 workers
# (fresh database and stream each time). Prints, per run, the seconds until every post was committed
# (analysis + PostgreSQL) and until every post was also threaded into cases (the case + storm stage).
# Usage: bench/stream_workers.sh POSTS [EARSHOT_BIN]   (needs NATS on 127.0.0.1:4222, PostgreSQL on 127.0.0.1:5432)
set -euo pipefail
posts=${1:-200000}
earshot=${2:-target/release/earshot}
nats=nats://127.0.0.1:4222
pg=postgres://postgres@127.0.0.1:5432
dir=$(mktemp -d)
start=$(date -u -d '3 days ago' +%Y-%m-%dT00:00:00Z)
"$earshot" gen --posts "$posts" --brands 50 --rate $((posts / 100 + 1)) --start "$start" --out "$dir/p.jsonl" \
  --config-out "$dir/e.toml" --data "${EARSHOT_DATA:-../shared/data}" >/dev/null
for workers in 1 2; do
  name=bench_w${workers}_$$
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $name"
  "$earshot" ingest --stream $nats --stream-name "$name" --config "$dir/e.toml" "$dir/p.jsonl" >/dev/null
  t0=$(date +%s.%N)
  pids=()
  for i in $(seq "$workers"); do
    "$earshot" worker --stream $nats --stream-name "$name" --db "$pg/$name" --config "$dir/e.toml" \
      --exit-when-idle 2 --status-every 1 2>"$dir/w$name-$i.log" &
    pids+=($!)
  done
  committed=""
  while [ -z "$committed" ]; do
    n=$(psql -h 127.0.0.1 -U postgres -d "$name" -Atc "SELECT count(*) FROM posts" 2>/dev/null || echo 0)
    [ "$n" -ge "$posts" ] && committed=$(echo "$(date +%s.%N) - $t0" | bc)
    sleep 0.5
  done
  wait "${pids[@]}"
  # The workers wait 2 s of idleness before exiting.
  threaded=$(echo "$(date +%s.%N) - $t0 - 2" | bc)
  printf '%s posts, %d worker(s): all committed in %.1fs (%.0f posts/s); all threaded in %.1fs (%.0f posts/s)\n' \
    "$posts" "$workers" "$committed" "$(echo "$posts / $committed" | bc -l)" "$threaded" "$(echo "$posts / $threaded" | bc -l)"
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE $name WITH (FORCE)"
  # Delete the (empty) stream: a JetStream API request over the plain NATS protocol.
  python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',4222)); s.recv(4096); s.sendall(b'CONNECT {}\r\nPUB \$JS.API.STREAM.DELETE.'+sys.argv[1].encode()+b' 0\r\n\r\nPING\r\n'); s.recv(4096)" "$name"
done
rm -rf "$dir"
