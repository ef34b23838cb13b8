#!/usr/bin/env bash
# Fuzzes one harness of bench/WrinkleFree.Fuzz with afl-fuzz for MINUTES minutes.
# Usage: bench/fuzz.sh TARGET MINUTES        TARGET: gguf | request | jinja | spec
# Installs afl++ (Debian) and the SharpFuzz instrumenter (dotnet tool SharpFuzz.CommandLine 2.3.0) when missing, publishes
# the harness, instruments the assemblies the target exercises, then runs afl-fuzz over the seed corpus in
# bench/WrinkleFree.Fuzz/corpus/TARGET. Findings go to $WF_FUZZ_OUT/TARGET (default /tmp/wf-fuzz/TARGET): crashes in
# findings/default/crashes, each reproducible in-process with `dotnet run ... -- TARGET --corpus DIR --execs 0`.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: bench/fuzz.sh TARGET MINUTES (TARGET: gguf, request, jinja, spec)}"
minutes="${2:?usage: bench/fuzz.sh TARGET MINUTES}"
case "$target" in
  gguf) assemblies="WrinkleFree.Inference.dll" ;;
  request) assemblies="WrinkleFree.Replica.dll" ;;
  jinja) assemblies="WrinkleFree.Jinja.dll" ;;
  spec) assemblies="WrinkleFree.Service.dll WrinkleFree.Jobs.dll WrinkleFree.Platform.dll YamlDotNet.dll" ;;
  *) echo "unknown target '$target' (gguf, request, jinja, spec)" >&2; exit 2 ;;
esac
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "installing afl++ (apt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++; } >/dev/null
fi
tools="${WF_FUZZ_TOOLS:-$HOME/.cache/wf-fuzz/tools}"
if [ ! -x "$tools/sharpfuzz" ]; then
  echo "installing SharpFuzz.CommandLine 2.3.0 into $tools"
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
fi

out="${WF_FUZZ_OUT:-/tmp/wf-fuzz}/$target"
publish="$out/publish"
rm -rf "$publish"
mkdir -p "$out"
dotnet publish bench/WrinkleFree.Fuzz -c Release -o "$publish" --nologo -v quiet >/dev/null
for assembly in $assemblies; do
  "$tools/sharpfuzz" "$publish/$assembly" >/dev/null
done
dotnet "$publish/WrinkleFree.Fuzz.dll" "$target" --dict "$out/$target.dict"

# The child is `dotnet`, not an afl-instrumented binary (SharpFuzz instruments the IL): skip afl's binary check.
# A fresh findings folder per run unless WF_FUZZ_RESUME=1 (then afl resumes the previous one).
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
if [ "${WF_FUZZ_RESUME:-0}" = 1 ] && [ -d "$out/findings/default" ]; then input=-; else rm -rf "$out/findings"; input="bench/WrinkleFree.Fuzz/corpus/$target"; fi
echo "fuzzing $target for $minutes min; log $out/afl.log, crashes in $out/findings/default/crashes"
afl-fuzz -i "$input" -o "$out/findings" -x "$out/$target.dict" -t 10000 -m none -V $((minutes * 60)) \
  -- dotnet "$publish/WrinkleFree.Fuzz.dll" "$target" --afl >"$out/afl.log" 2>&1 || { tail -30 "$out/afl.log"; exit 1; }

stats="$out/findings/default/fuzzer_stats"
echo "target $target, $minutes min:"
grep -E '^(execs_done|execs_per_sec|corpus_count|corpus_found|bitmap_cvg|edges_found|total_edges|saved_crashes|saved_hangs) ' "$stats" | sed 's/^/  /'
crashes=$(find "$out/findings/default/crashes" -type f -name 'id:*' | wc -l)
echo "crashes: $crashes (in $out/findings/default/crashes)"
