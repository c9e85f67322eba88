#!/usr/bin/env bash
# Fetches the official CycloneDX JSON schemas the SBOM tests validate against, from a package
# registry this machine can reach: the CycloneDX .NET tool (NuGet package "CycloneDX", Apache-2.0)
# embeds bom-1.6.schema.json, spdx.schema.json and jsf-0.82.schema.json in CycloneDX.Core.dll;
# the tests read them from there. Nothing is copied into the repository.
# Idempotent and cached: returns at once when the tool is already installed.
#
# Usage: bash eng/sbom-schemas.sh            (CONTAINERS_SDK_SBOM_SCHEMAS overrides the directory)
set -euo pipefail

readonly version=6.3.1
readonly directory="${CONTAINERS_SDK_SBOM_SCHEMAS:-/var/cache/containers-sdk-tests/cyclonedx-tool}"

existing="$(find "$directory" -path "*/cyclonedx/$version/*/CycloneDX.Core.dll" -print -quit 2>/dev/null || true)"
if [[ -n "$existing" ]]; then
  echo "CycloneDX schemas: $existing (cached)"
  exit 0
fi

mkdir -p "$directory"
dotnet tool install --tool-path "$directory" CycloneDX --version "$version" >/dev/null
existing="$(find "$directory" -path "*/cyclonedx/$version/*/CycloneDX.Core.dll" -print -quit)"
[[ -n "$existing" ]] || { echo "CycloneDX $version installed but CycloneDX.Core.dll not found under $directory" >&2; exit 1; }
echo "CycloneDX schemas: $existing"
