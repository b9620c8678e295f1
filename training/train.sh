#!/usr/bin/env bash
# Train the acs planner with SkyRL (RL on the acs-localize environment): one command.
#
#   training/train.sh [--preset 1gpu|8gpu] [--algo grpo|gspo] [--run-dir DIR] [--dataset SRC]
#                     [--dry-run] DATA_DIR REPOS_DIR [key=value ...]
#
# DATA_DIR: holds train.parquet and validation.parquet; when they are missing they are built
#   first with `python -m acs.train.planner.rl_data SRC --repos REPOS_DIR --out DATA_DIR` (SRC:
#   --dataset, default DATA_DIR/instances.jsonl: a SWE-Gym-style file, a Hub id or
#   `acs data mine` output). REPOS_DIR: git mirrors of the instances' repositories.
# --preset: training/configs/{1gpu,8gpu}.args on top of base.args (default 1gpu);
# --algo: training/configs/{grpo,gspo}.args (default grpo); --run-dir: checkpoints, HF
#   exports and logs (default DATA_DIR/run). Extra key=value arguments override the presets.
# ACS_MODEL: the policy to start from (default Qwen/Qwen3-0.6B; e.g. an SFT warm-start export).
# --dry-run prints the command (and the rl_data command when the data is missing), runs nothing.
# Needs SkyRL in this Python (training/README.md): python -m acs.train.planner.skyrl_main.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
preset=1gpu algo=grpo run_dir="" dataset="" dry=0
python=${PYTHON:-python}
while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --preset) preset=${2:?--preset needs a value}; shift 2 ;;
    --algo) algo=${2:?--algo needs a value}; shift 2 ;;
    --run-dir) run_dir=${2:?--run-dir needs a value}; shift 2 ;;
    --dataset) dataset=${2:?--dataset needs a value}; shift 2 ;;
    --dry-run) dry=1; shift ;;
    --) shift; break ;;
    -*) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -ge 2 ]] || { usage >&2; exit 2; }
case $preset in 1gpu|8gpu) ;; *) echo "error: --preset must be 1gpu or 8gpu" >&2; exit 2 ;; esac
case $algo in grpo|gspo) ;; *) echo "error: --algo must be grpo or gspo" >&2; exit 2 ;; esac
abspath() { (mkdir -p "$1" 2>/dev/null || true; cd "$1" 2>/dev/null && pwd) || echo "$1"; }
data=$1 repos=$2; shift 2
if [[ $dry -eq 0 ]]; then data=$(abspath "$data"); repos=$(cd "$repos" && pwd); fi
run_dir=${run_dir:-$data/run}
dataset=${dataset:-$data/instances.jsonl}
configs=$here/configs

build=("$python" -m acs.train.planner.rl_data "$dataset" --repos "$repos" --out "$data")
cmd=(env "ACS_DATA=$data" "ACS_REPOS=$repos" "ACS_RUN_DIR=$run_dir" "ACS_MODEL=${ACS_MODEL:-Qwen/Qwen3-0.6B}"
  "$python" -m acs.train.planner.skyrl_main
  "@$configs/base.args" "@$configs/$preset.args" "@$configs/$algo.args" "$@")

if [[ ! -f $data/train.parquet || ! -f $data/validation.parquet ]]; then
  if [[ $dry -eq 1 ]]; then
    printf '%q ' "${build[@]}"; echo
  else
    "${build[@]}"
  fi
fi
if [[ $dry -eq 1 ]]; then
  printf '%q ' "${cmd[@]}"; echo
  exit 0
fi
exec "${cmd[@]}"
