#!/usr/bin/env bash
# The GPU check, in one call, on the device machine (bare, no network):
#
#   bash bench/device/run.sh "$OUT"        (output folder as $1, default ./device-out)
#
# It needs .device/ from bench/device/pack.sh (carried). It unpacks the Vulkan loader debs
# to / (the device README's recipe), points the loader at NVIDIA's ICD, unpacks Deno into
# /tmp/bin and node_modules into the repo, and prints the machine, Deno and the WebGPU
# adapter. Then it runs these parts, each under its own `timeout`, whatever the others did
# (`deno task bench --section gpu` takes no size flags, so its two modules run directly):
#
#   gpu        bench/gpu.ts --json: widths 128 (the target, first), 10, 64, 256; batches
#              1, 16, 256, 4096, 65536; 5 timed steps; --limit-s 140
#   adaptive   bench/gpu_adaptive.ts --json (the adaptive half of `--section gpu`)
#   tests      the GPU test files (webgpu, train_webgpu, webgpu_adaptive, webgpu_limits, webgpu_whole)
#              with REVODE_REQUIRE_GPU=1
#   inference  bench/inference.ts --json (`--section inference`), only when pack.sh could
#              carry onnxruntime-node's binaries
#
# and ends with a summary of which parts passed (exit 1 when one failed or timed out).
# Worst case about 9 minutes (timeouts: gpu 200 s, adaptive 75 s, tests 120 s,
# inference 120 s, setup and probe well under a minute); usually about 4.
# Files in the output folder (8, the tool's limit): run.log (everything printed, the
# .device manifest too), summary.txt, gpu.json, gpu_adaptive.json, gpu.txt (both GPU
# reports), tests.log, inference.json, inference.txt.
#
# Env: REVODE_DEVICE_QUICK=1     short runs (a local try on llvmpipe);
#      REVODE_DEVICE_PARTS       parts to run, default "gpu adaptive tests inference";
#                                e.g. "tests" to rerun one part on a warm machine;
#      REVODE_DEVICE_SKIP_DEBS=1 do not unpack .device/*.deb into /.
set -uo pipefail

out=${1:-./device-out}
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
dev=.device
quick=${REVODE_DEVICE_QUICK:-0}
parts=" ${REVODE_DEVICE_PARTS:-gpu adaptive tests inference} "
started=$SECONDS
files=(run.log summary.txt gpu.json gpu_adaptive.json gpu.txt tests.log inference.json inference.txt)
for f in "${files[@]}"; do rm -f "${out:?}/$f"; done
last=/tmp/revode-device-report.txt

exec > >(tee -a "$out/run.log") 2>&1
tee_pid=$!

# No network there: --cached-only keeps Deno from trying the npm registry at all.
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
summary=()
note() { summary+=("$(printf '%-10s %s' "$1" "$2")"); }
hr() { printf '\n==== %s (t=%ds) ====\n' "$*" $((SECONDS - started)); }
rc_word() {
  case $1 in
    0) echo PASS ;;
    124 | 137) echo "TIMEOUT (${2}s)" ;;
    *) echo "FAIL (rc $1)" ;;
  esac
}
wanted() { [[ $parts == *" $1 "* ]]; }

hr "setup"
if [ -f "$dev/MANIFEST.txt" ]; then
  cat "$dev/MANIFEST.txt"
else
  echo "run: ERROR: $dev/MANIFEST.txt missing: run bench/device/pack.sh here and carry .device"
fi

# debx DEB DIR: `dpkg -x`, or ar + tar where the image has no dpkg.
debx() {
  if command -v dpkg >/dev/null 2>&1; then
    dpkg -x "$1" "$2"
  else
    local member
    member=$(ar t "$1" | grep '^data\.tar') || return 1
    case $member in
      *.xz) ar p "$1" "$member" | tar -xJf - -C "$2" ;;
      *.gz) ar p "$1" "$member" | tar -xzf - -C "$2" ;;
      *.zst) ar p "$1" "$member" | zstd -q -dc | tar -xf - -C "$2" ;;
      *) ar p "$1" "$member" | tar -xf - -C "$2" ;;
    esac
  fi
}

# 1. Vulkan loader and GL dispatch libraries (the device README's recipe).
if [ "${REVODE_DEVICE_SKIP_DEBS:-0}" != 1 ] && compgen -G "$dev/*.deb" >/dev/null; then
  for f in "$dev"/*.deb; do debx "$f" / || echo "run: warning: unpacking $f failed"; done
  ldconfig
fi
for p in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
  /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$p" ]; then
    export VK_DRIVER_FILES="$p" VK_ICD_FILENAMES="$p"
    break
  fi
done
for p in /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json \
  /usr/share/glvnd/egl_vendor.d/10_nvidia.json; do
  if [ -f "$p" ]; then
    export __EGL_VENDOR_LIBRARY_FILENAMES="$p"
    break
  fi
done

# 2. Decompressor: zstd (the carried one, under /tmp, if the image lacks it) or gzip.
unz() {
  case $1 in
    *.zst)
      if command -v zstd >/dev/null 2>&1; then
        zstd -q -dc "$1"
      else
        LD_LIBRARY_PATH=/tmp/zstdroot/usr/lib/x86_64-linux-gnu /tmp/zstdroot/usr/bin/zstd -q -dc "$1"
      fi
      ;;
    *.gz) gzip -dc "$1" ;;
    *) cat "$1" ;;
  esac
}
if compgen -G "$dev/*.zst" >/dev/null && ! command -v zstd >/dev/null 2>&1; then
  echo "run: no zstd here; unpacking the carried one under /tmp/zstdroot"
  mkdir -p /tmp/zstdroot
  for f in "$dev"/zstd/*.deb; do [ -f "$f" ] && debx "$f" /tmp/zstdroot; done
fi

# 3. Deno and node_modules.
setup_ok=1
mkdir -p /tmp/bin
deno_pack=$(compgen -G "$dev/deno.*" | head -1)
if [ -n "$deno_pack" ] && unz "$deno_pack" >/tmp/bin/deno.new && chmod +x /tmp/bin/deno.new; then
  mv /tmp/bin/deno.new /tmp/bin/deno
else
  echo "run: ERROR: could not unpack Deno from '${deno_pack:-$dev/deno.*}'"
  setup_ok=0
fi
export PATH="/tmp/bin:$PATH"
# Deno's cache, with the npm metadata that keeps every deno (the tests' subprocesses too) from
# trying the registry.
export DENO_DIR=${DENO_DIR:-/tmp/revode-deno-dir}
mkdir -p "$DENO_DIR/npm"
meta_pack=$(compgen -G "$dev/deno-npm-meta.tar.*" | head -1)
if [ -n "$meta_pack" ]; then
  unz "$meta_pack" | tar -xf - -C "$DENO_DIR/npm" || echo "run: warning: npm metadata unpack failed"
else
  echo "run: warning: no $dev/deno-npm-meta.tar.*: Deno may print 'Download …' lines that break a test"
fi
nm_pack=$(compgen -G "$dev/node_modules.tar.*" | head -1)
if [ -n "$nm_pack" ]; then
  unz "$nm_pack" | tar -xf - || {
    echo "run: ERROR: node_modules unpack failed"
    setup_ok=0
  }
else
  echo "run: ERROR: no $dev/node_modules.tar.*"
  setup_ok=0
fi
have_ort=0
ort_pack=$(compgen -G "$dev/ort-linux-x64.tar.*" | head -1)
if [ -n "$ort_pack" ]; then
  if unz "$ort_pack" | tar -xf -; then have_ort=1; else echo "run: ERROR: ONNX Runtime unpack failed"; fi
fi
if [ "$setup_ok" = 1 ] && deno --version >/dev/null 2>&1; then
  note setup "PASS ($((SECONDS - started)) s)"
else
  note setup "FAIL (see run.log)"
fi

hr "machine"
uname -srm
# shellcheck disable=SC1091
(. /etc/os-release 2>/dev/null && echo "os: ${PRETTY_NAME:-?}")
echo "cpus: $(nproc)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi -L 2>&1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1
else
  echo "nvidia-smi: not available"
fi
ldconfig -p | grep 'libvulkan\.so' ||
  echo "run: warning: no libvulkan in ldconfig: requestAdapter() will return null"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-<unset>}"
deno --version 2>&1

hr "adapter probe"
# shellcheck disable=SC2016 # JavaScript, not shell
probe_js='const a = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
if (!a) { console.log("adapter: none (requestAdapter() returned null)"); Deno.exit(3); }
const i = a.info ?? {};
const fb = Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter);
console.log("adapter:", JSON.stringify({ vendor: i.vendor, architecture: i.architecture,
  device: i.device, description: i.description, isFallbackAdapter: fb,
  timestampQuery: a.features.has("timestamp-query"), maxBufferSize: a.limits.maxBufferSize,
  maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize }));
Deno.exit(fb ? 4 : 0);'
timeout -k 5 60 deno eval --cached-only "$probe_js"
case $? in
  0) note probe "PASS (hardware adapter)" ;;
  4) note probe "WARN: software/fallback adapter only (its figures say nothing about GPU speed)" ;;
  3) note probe "FAIL: requestAdapter() returned null (Vulkan loader or ICD missing?)" ;;
  *) note probe "FAIL (deno eval failed)" ;;
esac

# Formats a bench's JSON file ($REVODE_JSON) as its text report; for gpu, also one line on
# the issue's target (batch 4096, width 128) to put in the summary.
# shellcheck disable=SC2016 # JavaScript, not shell
format_js='const kind = Deno.env.get("REVODE_KIND");
const r = JSON.parse(Deno.readTextFileSync(Deno.env.get("REVODE_JSON")));
if (kind === "gpu") {
  const m = await import("./bench/gpu_result.ts");
  console.log((await import("./bench/gpu_report.ts")).formatGpuReport(r));
  const measured = r.rows.filter((x) => x.skipped === null).length;
  console.log(`\nadapter: ${r.adapter} (software: ${r.software}); ${measured}/${r.rows.length} configurations measured`);
  const t = r.rows.find((x) => x.width === 128 && x.batch === 4096);
  const check = m.gpuTargetCheck ? m.gpuTargetCheck(r) : null;
  const fig = !t ? "not in this run" : t.gpuMs === null ? `skipped: ${t.skipped}` :
    `GPU ${t.gpuMs.toFixed(2)} ms, CPU ${t.cpuMeasuredBatch !== t.batch ? "≈" : ""}` +
    `${t.cpuMs?.toFixed(1)} ms, ${t.speedup?.toFixed(1)}×, ${t.readbacks} read-backs`;
  console.log(`target: ${check ? check.status : "?"}; width 128, batch 4096: ${fig}`);
  if (measured === 0) Deno.exit(5);
} else if (kind === "adaptive") {
  const m = await import("./bench/gpu_adaptive.ts");
  console.log(m.formatGpuAdaptiveReport(r));
  if (r.rows.length === 0) Deno.exit(5);
} else {
  const m = await import("./bench/inference.ts");
  console.log(m.formatInferenceReport(r));
}'
# report KIND JSON TXT: prints the text report, appends it to TXT (and leaves it in $last).
report() {
  local rc
  REVODE_KIND=$1 REVODE_JSON=$2 timeout 60 deno eval --cached-only "$format_js" >"$last" 2>&1
  rc=$?
  cat "$last"
  cat "$last" >>"$3"
  return "$rc"
}
# bench NAME TIMEOUT JSON TXT KIND -- deno run args...: one bench part.
bench() {
  local name=$1 limit=$2 json=$3 txt=$4 kind=$5 t0 rc
  shift 6
  echo "deno run $*  (timeout ${limit}s)"
  t0=$SECONDS
  timeout -k 10 "$limit" deno run "$@" >"$json"
  rc=$?
  echo "$name: rc $rc after $((SECONDS - t0)) s; $(stat -c %s "$json") bytes of JSON"
  if [ "$rc" != 0 ]; then
    note "$name" "$(rc_word "$rc" "$limit") ($((SECONDS - t0)) s)"
  elif report "$kind" "$json" "$txt"; then
    note "$name" "PASS ($((SECONDS - t0)) s)"
    if [ "$kind" = gpu ]; then note "" "  $(grep -m1 '^target: ' "$last")"; fi
    if grep -q 'SOFTWARE ADAPTER\|software fallback' "$last"; then
      note "" "  WARN: software adapter: the figures say nothing about GPU speed"
    fi
  else
    note "$name" "FAIL (it ran, but its report did not: see run.log)"
  fi
}

if wanted gpu; then
  hr "gpu bench (training step)"
  if [ "$quick" = 1 ]; then
    gpu_args=(--batches 1,256 --widths 10,128 --steps 5 --reps 1 --limit-s 60)
  else
    gpu_args=(--batches 1,16,256,4096,65536 --widths 128,10,64,256 --reps 5 --limit-s 140)
  fi
  bench gpu 200 "$out/gpu.json" "$out/gpu.txt" gpu -- --cached-only --allow-read \
    --allow-env --allow-sys bench/gpu.ts --json "${gpu_args[@]}"
fi

if wanted adaptive; then
  hr "gpu bench (adaptive training step)"
  a_args=()
  [ "$quick" = 1 ] && a_args=(--quick)
  [ -f "$out/gpu.txt" ] && printf '\n\n' >>"$out/gpu.txt"
  bench adaptive 75 "$out/gpu_adaptive.json" "$out/gpu.txt" adaptive -- --cached-only \
    --allow-read --allow-env --allow-sys bench/gpu_adaptive.ts --json "${a_args[@]}"
fi

if wanted tests; then
  hr "gpu tests (REVODE_REQUIRE_GPU=1)"
  t0=$SECONDS
  REVODE_REQUIRE_GPU=1 timeout -k 10 120 deno test --cached-only --allow-read --allow-write \
    --allow-env --allow-run --allow-ffi --allow-sys tests/webgpu_test.ts \
    tests/train_webgpu_test.ts tests/webgpu_adaptive_test.ts tests/webgpu_limits_test.ts \
    tests/webgpu_whole_test.ts \
    2>&1 | tee "$out/tests.log"
  rc=${PIPESTATUS[0]}
  counts=$(grep -E '^(ok|FAILED) \|' "$out/tests.log" | tail -1)
  note tests "$(rc_word "$rc" 120) ($((SECONDS - t0)) s${counts:+; $counts})"
  if [ "$rc" != 0 ]; then
    while read -r line; do note "" "  failed: $line"; done < <(
      sed -n '/ FAILURES /,$p' "$out/tests.log" | grep ' => ' | sed 's/ => .*//' | head -8
    )
  fi
fi

if wanted inference; then
  hr "inference bench (ONNX Runtime)"
  if [ "$have_ort" != 1 ]; then
    echo "skipped: onnxruntime-node's binaries were not carried (see the manifest above)"
    note inference "SKIP (onnxruntime-node not carried)"
  else
    i_args=()
    [ "$quick" = 1 ] && i_args=(--quick)
    bench inference 120 "$out/inference.json" "$out/inference.txt" inference -- --cached-only \
      --allow-read --allow-write --allow-env --allow-ffi --allow-sys bench/inference.ts --json \
      "${i_args[@]}"
  fi
fi

hr "summary"
{
  echo "revode device run, $(date -u +%Y-%m-%dT%H:%M:%SZ), $((SECONDS - started)) s in all"
  echo "gpu: $(nvidia-smi -L 2>/dev/null | head -1 | grep . || echo 'none (no nvidia-smi)')"
  echo "deno: $(deno --version 2>/dev/null | head -1)"
  echo "source: $(grep -m1 '^git: ' "$dev/MANIFEST.txt" 2>/dev/null || echo '?')${REVODE_DEVICE_QUICK:+ (quick=$quick)}"
  printf '%s\n' "${summary[@]}"
} | tee "$out/summary.txt"

# Let tee write the last lines before the tool collects $OUT.
exec >&- 2>&-
wait "$tee_pid" 2>/dev/null
# Non-zero when a part failed or timed out (the summary says which).
if printf '%s\n' "${summary[@]}" | grep -qE '^[a-z]+ +(FAIL|TIMEOUT)'; then exit 1; fi
exit 0
