#!/usr/bin/env bash
# Footprint of dbss-jobs: crates in the normal dependency tree, what a build.rs user pays to build
# it (clean build of a tiny crate with dbss-jobs as a build-dependency), release size of the
# example binary, and the effect of the `native-tls` feature.
# Run from the repository root: bash benches/footprint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/target/footprint
mkdir -p "$work"

crates() { cargo tree -e normal --prefix none "$@" | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l; }
echo "crates in cargo tree -e normal (dbss-jobs included): default $(crates), native-tls $(crates --features native-tls)"

# A tiny crate whose build script uses dbss-jobs, built from clean in its own target dir.
tiny=$work/tiny
rm -rf "$tiny"
mkdir -p "$tiny/src"
cat > "$tiny/Cargo.toml" <<TOML
[package]
name = "tiny"
version = "0.1.0"
edition = "2024"
[build-dependencies]
dbss-jobs = { path = "$root" }
TOML
echo 'fn main() {}' > "$tiny/src/main.rs"
echo 'fn main() { println!("cargo:rustc-env=DBSS_REGIONS={}", dbss_jobs::REGIONS.len()); }' > "$tiny/build.rs"
(cd "$tiny" && cargo fetch -q)
start=$(date +%s.%N)
(cd "$tiny" && CARGO_TARGET_DIR="$tiny/target" cargo build -q)
end=$(date +%s.%N)
echo "clean build of a tiny crate with dbss-jobs as build-dependency: $(awk "BEGIN{printf \"%.1f\", $end - $start}") s ($(nproc) cores)"

size() { stat -c %s "$1"; }
cargo build -q --release --bin dbss-jobs --features cli
cp target/release/dbss-jobs "$work/get_jobs"
strip -o "$work/get_jobs.stripped" "$work/get_jobs"
echo "release example binary: $(size "$work/get_jobs") bytes, stripped $(size "$work/get_jobs.stripped") bytes"
if pkg-config --exists openssl 2>/dev/null; then
  CARGO_TARGET_DIR="$work/native" cargo build -q --release --bin dbss-jobs --features cli,native-tls
  strip -o "$work/get_jobs.native.stripped" "$work/native/release/dbss-jobs"
  echo "release example binary with native-tls: stripped $(size "$work/get_jobs.native.stripped") bytes"
else
  echo "native-tls: skipped (no OpenSSL headers)"
fi
