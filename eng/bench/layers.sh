#!/usr/bin/env bash
# Layer writing throughput: Containers.Oci's LayerWriter (gzip, zstd) versus `tar | gzip -6` and
# `tar | zstd -3` on the same 200 MB / 2,000-file tree (generated once from a fixed seed).
# Usage: eng/bench/layers.sh [data-directory] [repetitions]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${1:-${TMPDIR:-/tmp}/layer-bench-data}"
repetitions="${2:-3}"
dotnet build "$here/LayerBench/LayerBench.csproj" -c Release -nologo -v quiet
dotnet "$here/LayerBench/bin/Release/net10.0/LayerBench.dll" "$data" "$repetitions"
