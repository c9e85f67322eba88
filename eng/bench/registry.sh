#!/usr/bin/env bash
# Push and pull throughput of the registry client against a local distribution registry
# (docker-registry, htpasswd Basic auth on 127.0.0.1): a ~200 MB image of 4 random 50 MiB layers,
# pushed monolithically and in 16 MiB chunks, then pulled with digest verification.
# Usage: eng/bench/registry.sh            (prints the BENCH lines)
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet test tests/Containers.Oci.Tests -c Release -p:ContainersSdkBenchmarks=true \
  --filter "TestCategory=Benchmark&FullyQualifiedName~Containers.Oci.Tests.Registry.RegistryBenchmark" \
  --logger "console;verbosity=detailed" 2>&1 | tee /tmp/registry-bench.log | grep -E "BENCH|Passed!|Failed!|error" || true
grep -q "BENCH" /tmp/registry-bench.log
