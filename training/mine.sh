#!/usr/bin/env bash
# Mine the training corpus: `acs data mine` over every repository in training/repos.txt.
#
#   training/mine.sh MIRRORS_DIR OUT_DIR [--max N] [--layout mirror|clone] [--jobs N]
#                    [--min-closeness F]
#
# MIRRORS_DIR holds one git repository per line of repos.txt. Layouts:
#   mirror (default)  MIRRORS_DIR/<owner>+<name>/repo   (bare mirrors)
#   clone             MIRRORS_DIR/<owner>__<name>, else MIRRORS_DIR/<owner>/<name>, else
#                     MIRRORS_DIR/<name> (plain `git clone` folders, .git suffix allowed)
# Writes OUT_DIR/<owner>__<name>.jsonl and .summary.json per repository, then
# OUT_DIR/train.jsonl (all of them concatenated, in repos.txt order) and OUT_DIR/card.md
# (the data card's tables, `acs data card`). Newest commits first, --max (250) per repository;
# --min-closeness drops instances whose message is further from an issue (0, keep all).
# Mined data and fetched code stay outside the repository: never commit them.
# Environment: REPOS (another repos file), ACS (the command, default `python -m acs`).
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 2 ]] || usage
mirrors=$1 out=$2
shift 2
max=250 layout=mirror jobs=2 min_closeness=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --max) max=$2; shift 2 ;;
    --layout) layout=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --min-closeness) min_closeness=$2; shift 2 ;;
    *) usage ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
repos_file=${REPOS:-$here/repos.txt}
acs=${ACS:-python -m acs}
mkdir -p "$out"

locate() { # owner/name -> its git directory under $mirrors
  local owner=${1%%/*} name=${1#*/} c
  if [[ $layout == mirror ]]; then
    c=$mirrors/$owner+$name/repo
    [[ -d $c ]] && { echo "$c"; return; }
  else
    for c in "$mirrors/${owner}__$name" "$mirrors/$owner/$name" "$mirrors/$name"; do
      for d in "$c" "$c.git"; do [[ -d $d ]] && { echo "$d"; return; }; done
    done
  fi
  echo "mine.sh: no repository for $1 under $mirrors (layout $layout)" >&2
  return 1
}

mine_one() { # owner/name
  local repo=$1 dir base
  dir=$(locate "$repo") || return 1
  base=$out/${repo/\//__}
  $acs data mine "$dir" --name "$repo" --max "$max" --min-closeness "$min_closeness" \
    --out "$base.jsonl" --summary "$base.summary.json" 2>"$base.log" ||
    { cat "$base.log" >&2; return 1; }
  head -1 "$base.log" >&2
}
export -f locate mine_one
export mirrors out max layout acs min_closeness

repos=$(sed 's/#.*//' "$repos_file" | awk 'NF { print $1 }')
printf '%s\n' $repos | xargs -P "$jobs" -I{} bash -c 'mine_one "$@"' _ {}

: >"$out/train.jsonl"
for repo in $repos; do cat "$out/${repo/\//__}.jsonl" >>"$out/train.jsonl"; done
$acs data card "$out" --repos-file "$repos_file" >"$out/card.md"
echo "mine.sh: $(wc -l <"$out/train.jsonl") instances in $out/train.jsonl; tables in $out/card.md" >&2
