#!/usr/bin/env bash
# Layer writing throughput: Containers.Oci's LayerWriter (block-parallel gzip with 1, 2 and 4 threads, zstd)
# versus `tar | gzip -6`, `tar | pigz -p 2 -6` and `tar | zstd -3` on the same 200 MB / 2,000-file tree
# (generated once from a fixed seed), then on each further directory given (e.g. a self-contained publish
# directory; one with a .deps.json also gets a row copying its NuGet packages' deflate data); prints the gzip
# digests of the three thread counts (they must be identical).
# Usage: eng/bench/layers.sh [data-directory] [repetitions] [directory...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${1:-${TMPDIR:-/tmp}/layer-bench-data}"
repetitions="${2:-3}"
dotnet build "$here/LayerBench/LayerBench.csproj" -c Release -nologo -v quiet
dotnet "$here/LayerBench/bin/Release/net10.0/LayerBench.dll" "$data" "$repetitions" "${@:3}"
