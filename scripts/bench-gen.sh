#!/usr/bin/env bash
# Measures `trenv-bench gen` as the README's Performance section reports it:
# wall time (hyperfine, median of runs) and peak RSS (GNU time) of the built
# binary on the golden datasets (decompressed, as upstream reads them; and
# as .gz) and on a full-size synthetic Azure day.
# Needs: hyperfine and time (apt-get install hyperfine time); reads testdata/golden.
# Usage: scripts/bench-gen.sh [RUNS]   (default 20 runs per command)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
golden=testdata/golden/datasets
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/tb" ./cmd/trenv-bench
tb=$work/tb
mkdir -p "$work/azure" "$work/huawei/requests_minute"
for f in "$golden"/azure/*.gz; do gzip -dc "$f" >"$work/azure/$(basename "$f" .gz)"; done
for f in "$golden"/huawei/requests_minute/*.gz; do gzip -dc "$f" >"$work/huawei/requests_minute/$(basename "$f" .gz)"; done
"$tb" traces synth azure -o "$work/synth-azure" --seed 5 2>/dev/null

cmds=(
  "gen -w azure --dataset $work/azure"
  "gen -w azure --dataset $golden/azure"
  "gen -w azure --dataset $work/synth-azure"
  "gen -w huawei --dataset $work/huawei/requests_minute"
  "gen -w huawei --dataset $golden/huawei/requests_minute"
  "gen -w 1"
  "gen -w 2"
  "gen -w func"
)
hf=()
for c in "${cmds[@]}"; do hf+=("$tb $c -o $work/out --force"); done
hyperfine -N -w 3 -r "$runs" --export-csv "$work/h.csv" "${hf[@]}" >/dev/null
printf '%-60s %10s %10s\n' command median_s peak_rss_MB
i=0
for c in "${cmds[@]}"; do
  med=$(awk -F, -v row=$((i+2)) 'NR==row {printf "%.3f", $4}' "$work/h.csv")
  rss=$(/usr/bin/time -f %M "$tb" $c -o "$work/out" --force 2>&1 >/dev/null | tail -1)
  printf '%-60s %10s %10.1f\n' "${c//$work/TMP}" "$med" "$(awk -v k="$rss" 'BEGIN {print k/1024}')"
  i=$((i+1))
done
