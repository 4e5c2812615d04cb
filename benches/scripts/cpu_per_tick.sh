#!/usr/bin/env bash
# CPU time per steady tick of two builds of the `sweeps` example, run at once on one
# thread each, so that both see the same load (a shared machine makes wall times of
# runs taken one after the other incomparable). Reads utime+stime from /proc over
# three 40 s windows once both are past tick 60.
#
#   cargo build --release -p chokepoint-benches --example sweeps
#   cp target/release/examples/sweeps /tmp/sweeps_a   # build A; then build B likewise
#   benches/scripts/cpu_per_tick.sh /tmp/sweeps_a /tmp/sweeps_b [NATIONS FIRMS]
set -euo pipefail
A=$1; B=$2; N=${3:-200}; F=${4:-20000}
out=$(mktemp -d)
RAYON_NUM_THREADS=1 "$A" "$N" "$F" 100000 > "$out/a.txt" 2>&1 & PA=$!
RAYON_NUM_THREADS=1 "$B" "$N" "$F" 100000 > "$out/b.txt" 2>&1 & PB=$!
trap 'kill $PA $PB 2>/dev/null || true; rm -rf "$out"' EXIT
ticks() { grep -c '^tick' "$1" || true; }
while [ "$(ticks "$out/a.txt")" -lt 60 ] || [ "$(ticks "$out/b.txt")" -lt 60 ]; do sleep 5; done
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for _ in 1 2 3; do
  a1=$(cpu $PA); b1=$(cpu $PB); na1=$(ticks "$out/a.txt"); nb1=$(ticks "$out/b.txt")
  sleep 40
  a2=$(cpu $PA); b2=$(cpu $PB); na2=$(ticks "$out/a.txt"); nb2=$(ticks "$out/b.txt")
  awk -v a=$((a2 - a1)) -v na=$((na2 - na1)) -v b=$((b2 - b1)) -v nb=$((nb2 - nb1)) -v hz="$hz" \
    'BEGIN { ca = a * 1000 / hz / na; cb = b * 1000 / hz / nb;
             printf "A %.2f ms/tick (%d ticks)  B %.2f ms/tick (%d ticks)  B/A %.3f\n", ca, na, cb, nb, cb / ca }'
done
