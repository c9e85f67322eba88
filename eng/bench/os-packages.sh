#!/usr/bin/env bash
# ContainerOsPackage cost: first resolution versus a locked, cached no-change publish (and one without OS packages),
# with curl and fonts-dejavu-core from a local signed apt repository onto the test base image.
# Needs eng/base-images.sh, and apt-get, dpkg-dev, apt-utils, gnupg (eng/install-deps.sh).
# Usage: eng/bench/os-packages.sh [repetitions]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dotnet build "$here/OsPackageBench/OsPackageBench.csproj" -c Release -nologo -v quiet
dotnet "$here/OsPackageBench/bin/Release/net10.0/OsPackageBench.dll" "${1:-5}"
