#!/usr/bin/env bash
# Print a fingerprint of everything a trained model depends on: config,
# domain, training data, the lexicon and red-flag files the NLU components
# read at training time, and those components' code. The Makefile retrains
# only when this fingerprint differs from the one stored beside the model.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  find config.yml domain.yml data knowledge/facts.yml knowledge/red_flags.yml components \
    -type f \( -name '*.yml' -o -name '*.py' \) -not -path '*/__pycache__/*' | LC_ALL=C sort
} | xargs sha256sum | sha256sum | cut -d' ' -f1
