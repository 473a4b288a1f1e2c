#!/usr/bin/env bash
# Builds .device/ in the repository root: what the GPU machine (x86-64, NVIDIA H200,
# NVIDIA's Vulkan driver, no network, bare) needs for bench/device/run.sh and lacks:
#
#   .device/deno.zst | deno.gz     the Deno binary, compressed (≈96 MB raw is over the
#                                  64 MiB that travels)
#   .device/*.deb                  the Vulkan loader and GL dispatch libraries (amd64), for
#                                  `dpkg -x $f /` there (the device README's recipe)
#   .device/zstd/*.deb             the zstd CLI, unpacked under /tmp there only if the image
#                                  has no zstd (only with zstd compression)
#   .device/node_modules.tar.*     node_modules without onnxruntime-node's native binaries
#                                  and protobufjs' CLI dependencies (not used at run time)
#   .device/deno-npm-meta.tar.*    Deno's npm registry.json files (keeps Deno off the network)
#   .device/ort-linux-x64.tar.*    onnxruntime-node's linux/x64 binaries (optional: left out
#                                  when they do not fit; run.sh then skips the inference part)
#   .device/MANIFEST.txt           versions, sizes, sha256
#
# Run here, from anywhere inside the repo:  bash bench/device/pack.sh
# Env: REVODE_PACK_LIMIT_MIB (default 60) total that may travel (working tree + .device);
#      REVODE_PACK_NO_ORT=1 leaves onnxruntime-node's binaries out;
#      REVODE_PACK_ZSTD_LEVEL (default 15).
# It prints the total and the `carry` list, and exits non-zero when over the limit.
set -euo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
dev=.device
limit_mib=${REVODE_PACK_LIMIT_MIB:-60}
limit=$((limit_mib * 1024 * 1024))
level=${REVODE_PACK_ZSTD_LEVEL:-15}

say() { printf 'pack: %s\n' "$*"; }
die() {
  printf 'pack: ERROR: %s\n' "$*" >&2
  exit 1
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
bytes() { stat -c %s "$1"; }

# --- compression: zstd if present, else gzip ---------------------------------------------
if command -v zstd >/dev/null 2>&1; then
  ext=zst
  compress() { zstd -q -"$level" -T0 -c; }
  say "compression: zstd -$level"
elif command -v gzip >/dev/null 2>&1; then
  ext=gz
  compress() { gzip -9 -c; }
  say "compression: gzip -9 (no zstd here)"
else
  die "neither zstd nor gzip found"
fi

# --- the Deno binary (x86-64 ELF) --------------------------------------------------------
is_x64_elf() {
  # ELF magic and e_machine 0x3e (x86-64) at offset 18, little-endian.
  [ -f "$1" ] || return 1
  [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] || return 1
  [ "$(od -An -tx1 -j18 -N2 "$1" | tr -d ' \n')" = 3e00 ]
}
deno_bin=""
candidates=()
if command -v deno >/dev/null 2>&1; then
  # Deno.execPath() is the real binary even behind npm's bin.cjs shim.
  exec_path=$(deno eval 'console.log(Deno.execPath())' 2>/dev/null || true)
  [ -n "$exec_path" ] && candidates+=("$exec_path")
  resolved=$(readlink -f "$(command -v deno)")
  candidates+=("$resolved" "$(dirname "$resolved")/deno")
fi
if command -v npm >/dev/null 2>&1; then
  npm_root=$(npm root -g 2>/dev/null || true)
  if [ -n "$npm_root" ]; then
    candidates+=("$npm_root/deno/node_modules/@deno/linux-x64-glibc/deno"
      "$npm_root/@deno/linux-x64-glibc/deno" "$npm_root/deno/deno")
  fi
fi
for c in "${candidates[@]}"; do
  if is_x64_elf "$c"; then
    deno_bin=$(readlink -f "$c")
    break
  fi
done
[ -n "$deno_bin" ] || die "no x86-64 Deno binary found (tried: ${candidates[*]:-none})"
deno_version=$("$deno_bin" --version | head -1)
say "deno: $deno_bin ($deno_version, $(mib "$(bytes "$deno_bin")"))"

# --- node_modules ------------------------------------------------------------------------
[ -d node_modules/.deno ] || die "node_modules/.deno missing: run 'deno install' (or any deno task) here first"
ort_dir=""
if [ -e node_modules/onnxruntime-node ]; then
  ort_dir=$(realpath --relative-to=. "$(readlink -f node_modules/onnxruntime-node)")
fi
excludes=(--exclude='node_modules/.deno/protobufjs@*/node_modules/protobufjs/cli/node_modules')
[ -n "$ort_dir" ] && excludes+=(--exclude="$ort_dir/bin")
ort_x64=""
if [ -n "$ort_dir" ] && [ -d "$ort_dir/bin/napi-v6/linux/x64" ]; then
  ort_x64="$ort_dir/bin/napi-v6/linux/x64"
fi

# --- build .device/ ----------------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/new/zstd"

say "compressing deno ..."
compress <"$deno_bin" >"$tmp/new/deno.$ext"

say "packing node_modules (without onnxruntime-node/bin, protobufjs/cli/node_modules) ..."
tar -cf - "${excludes[@]}" node_modules | compress >"$tmp/new/node_modules.tar.$ext"

# Deno's npm metadata (registry.json, a few KiB): without it every `deno run` there, the tests'
# own subprocesses too, first tries the registry and prints "Download https://registry…" lines.
npm_cache=$("$deno_bin" info --json 2>/dev/null |
  "$deno_bin" eval 'console.log(JSON.parse(await new Response(Deno.stdin.readable).text()).npmCache ?? "")' ||
  true)
if [ -n "$npm_cache" ] && [ -d "$npm_cache" ] &&
  [ -n "$(find "$npm_cache" -name registry.json -print -quit)" ]; then
  (cd "$npm_cache" && find . -name registry.json -print0 | tar --null -T - -cf -) |
    compress >"$tmp/new/deno-npm-meta.tar.$ext"
  say "npm metadata: $(cd "$npm_cache" && find . -name registry.json | wc -l) registry.json from $npm_cache"
else
  say "warning: no registry.json under Deno's npm cache (${npm_cache:-unknown}); run 'deno install' here first"
fi

# Debs, as the device README says: amd64 lists in a private state dir, whatever this
# machine's architecture.
debs=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
lists="$tmp/amd64"
mkdir -p "$lists/partial" "$tmp/debs" "$tmp/zstd"
apt_o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
say "apt-get update (amd64 lists under $lists) ..."
if apt-get "${apt_o[@]}" -qq update >"$tmp/apt-update.log" 2>&1; then
  for p in "${debs[@]}"; do
    (cd "$tmp/debs" && apt-get "${apt_o[@]}" -qq download "$p") >>"$tmp/apt.log" 2>&1 ||
      say "warning: apt-get download $p failed"
  done
  if [ "$ext" = zst ]; then
    for p in zstd libzstd1; do
      (cd "$tmp/zstd" && apt-get "${apt_o[@]}" -qq download "$p") >>"$tmp/apt.log" 2>&1 ||
        say "warning: apt-get download $p failed"
    done
  fi
else
  say "warning: apt-get update failed:"
  sed 's/^/  /' "$tmp/apt-update.log" >&2
fi
if ! compgen -G "$tmp/debs/libvulkan1_*.deb" >/dev/null; then
  if compgen -G "$dev/libvulkan1_*.deb" >/dev/null; then
    say "warning: no fresh debs; keeping the ones already in $dev/"
    cp "$dev"/*.deb "$tmp/debs/"
    if [ -d "$dev/zstd" ]; then cp "$dev"/zstd/*.deb "$tmp/zstd/" 2>/dev/null || true; fi
  else
    die "could not download libvulkan1 (see apt output above); the GPU machine needs it"
  fi
fi
mv "$tmp"/debs/*.deb "$tmp/new/"
if compgen -G "$tmp/zstd/*.deb" >/dev/null; then mv "$tmp"/zstd/*.deb "$tmp/new/zstd/"; fi
rmdir "$tmp/new/zstd" 2>/dev/null || true

# What travels besides .device: tracked and untracked-not-ignored files.
tree_bytes=$(git ls-files -z -co --exclude-standard -- . ':!.device' | du -cb --files0-from=- 2>/dev/null |
  tail -1 | cut -f1)
core_bytes=$(du -sb "$tmp/new" | cut -f1)
total=$((tree_bytes + core_bytes))
say "working tree that travels: $(mib "$tree_bytes"); .device without ONNX Runtime: $(mib "$core_bytes")"
[ "$total" -le "$limit" ] ||
  die "over the limit without ONNX Runtime: $(mib "$total") > $limit_mib MiB"

ort_note="inference part OFF: onnxruntime-node not found in node_modules"
if [ -n "$ort_x64" ]; then
  if [ "${REVODE_PACK_NO_ORT:-0}" = 1 ]; then
    ort_note="inference part OFF: REVODE_PACK_NO_ORT=1"
  else
    say "packing $ort_x64 ..."
    tar -cf - "$ort_x64" | compress >"$tmp/ort.tar.$ext"
    ort_bytes=$(bytes "$tmp/ort.tar.$ext")
    if [ $((total + ort_bytes)) -le "$limit" ]; then
      mv "$tmp/ort.tar.$ext" "$tmp/new/ort-linux-x64.tar.$ext"
      total=$((total + ort_bytes))
      ort_note="inference part ON: onnxruntime-node linux/x64 binaries ($(mib "$ort_bytes")) included"
    else
      ort_note="inference part OFF: onnxruntime-node's binaries ($(mib "$ort_bytes")) would bring the total to $(mib $((total + ort_bytes))) > $limit_mib MiB"
    fi
  fi
fi

# shellcheck disable=SC1091
{
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m) $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "git: $(git rev-parse --short HEAD) ($(git status --porcelain | wc -l) changed/untracked paths)"
  echo "deno: $deno_version ($deno_bin)"
  echo "$ort_note"
  echo
  (cd "$tmp/new" && find . -type f ! -name MANIFEST.txt | sort | while read -r f; do
    printf '%10d  %s  %s\n' "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -c1-16)" "${f#./}"
  done)
} >"$tmp/new/MANIFEST.txt"

rm -rf "$dev"
mv "$tmp/new" "$dev"
total=$((tree_bytes + $(du -sb "$dev" | cut -f1)))

echo
cat "$dev/MANIFEST.txt"
echo
say "$ort_note"
say ".device: $(du -sh "$dev" | cut -f1); working tree: $(mib "$tree_bytes"); total that travels: $(mib "$total") (limit here $limit_mib MiB, the tool's 64 MiB)"
if ! git check-ignore -q "$dev"; then
  say "warning: $dev/ is not ignored by git: add the line '/.device/' to .gitignore"
  say "         (.git/info/exclude is not enough: deno publish, in 'deno task ok', reads .gitignore)"
fi
[ "$total" -le "$limit" ] || die "total $(mib "$total") over $limit_mib MiB"
echo
say "carry: [\".device\"]"
say "device command: bash bench/device/run.sh \"\$OUT\""
