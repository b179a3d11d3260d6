#!/bin/sh
# Runtime-needs detection speed on real Go binaries (goal: <= 100 ms for a ~50 MB binary).
# Usage: bench/needs.sh [BINARY...]   (default: the Go toolchain's own compiler)
set -eu
cd "$(dirname "$0")/.."
exec cargo run --quiet --release --example needs_bench -- "$@"
