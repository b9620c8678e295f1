#!/usr/bin/env bash
# Train the learned ranker from scratch: mine the training repositories, search every mined
# instance with the default planner, train LambdaMART on the mined data (repository folds),
# report on the development set, and write the model acs ships.
#
#   training/train_ranker.sh MIRRORS_DIR WORK_DIR [DEV_JSONL]
#
# MIRRORS_DIR: git mirrors of training/repos.txt (<owner>+<name>/repo, see mine.sh) and of
# the dev set's repositories; WORK_DIR: mined data, search records, report (never commit it).
# DEV_JSONL defaults to ../shared/data/swe_gym_dev.jsonl. Needs `pip install -e '.[train]'`.
# Writes python/acs/rank/models/ranker.json and WORK_DIR/report.md. About 15 minutes on 2 cores.
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mirrors=$1 work=$2 dev=${3:-$here/../../shared/data/swe_gym_dev.jsonl}
mkdir -p "$work"
bash "$here/mine.sh" "$mirrors" "$work/mined"
python -m acs.train.ranker.collect "$work/mined/train.jsonl" --repos "$mirrors" --out "$work/train_records.jsonl"
eval_args=()
if [[ -f $dev ]]; then
  python -m acs.train.ranker.collect "$dev" --repos "$mirrors" --out "$work/dev_records.jsonl"
  eval_args=(--eval "$work/dev_records.jsonl")
fi
python -m acs.train.ranker --train "$work/train_records.jsonl" "${eval_args[@]}" --ablation \
  --out "$here/../python/acs/rank/models/ranker.json" --report "$work/report.md"
