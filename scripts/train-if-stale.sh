#!/usr/bin/env bash
# Train models/current.tar.gz when its inputs changed since it was trained.
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/current.tar.gz
stamp=models/current.inputs
want=$(scripts/model-inputs.sh)
if [ -f "$model" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "train: model is up to date ($model)"
  exit 0
fi
echo "train: training data, config or NLU components changed; training $model"
# --force: Rasa's own fingerprint does not see the facts file's lexicon or the
# components' code; the fingerprint above does, so when it differs we train.
.venv/bin/rasa train --force --fixed-model-name current --out models --num-threads 2
echo "$want" > "$stamp"
