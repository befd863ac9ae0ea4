# The two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help setup train run shell test eval bench audit prune-conversations constraints clean

help:
	@echo "make run    set up, train if needed, start the bot (REST on :5005)"
	@echo "make shell  chat with the bot in the terminal (rasa shell)"
	@echo "make test   set up, train if needed, run every test"
	@echo "make eval   score the bot on the question sets in tests/data"
	@echo "make bench  measure speed, memory and understanding (docs/benchmarks.md)"

$(STAMP): requirements.txt constraints.txt scripts/setup-venv.sh
	@scripts/setup-venv.sh
	@touch $@

# The widget's files (rasa-webchat, the Inter font) and the browser test
# driver (playwright-core), from the npm registry, at the locked versions.
$(WEB_STAMP): web/package.json web/package-lock.json
	@echo "setup: installing the web widget's npm packages"
	@cd web && npm ci --ignore-scripts --no-audit --no-fund --legacy-peer-deps --loglevel=error
	@touch $@

setup: $(STAMP) $(WEB_STAMP)

train: setup
	@scripts/train-if-stale.sh

run: train
	@scripts/run.sh

shell: train
	@scripts/shell.sh

test: train
	@scripts/test.sh

eval: train
	@$(PY) scripts/evaluate.py --show tests/data/dev_real_questions.jsonl \
	  tests/data/holdout_questions.jsonl tests/data/fresh_questions.jsonl \
	  tests/data/probe_questions.jsonl tests/data/probe2_questions.jsonl tests/data/probe3_questions.jsonl \
	  tests/data/probe4_questions.jsonl tests/data/probe5_questions.jsonl tests/data/probe6_questions.jsonl \
	  tests/data/probe7_questions.jsonl tests/data/probe8_questions.jsonl \
	  tests/data/probe9_questions.jsonl tests/data/probe10_questions.jsonl \
	  tests/data/probe11_questions.jsonl tests/data/probe12_questions.jsonl \
	  tests/data/probe13_questions.jsonl tests/data/probe14_questions.jsonl \
	  tests/data/probe15_questions.jsonl tests/data/probe16_questions.jsonl \
	  tests/data/probe17_questions.jsonl tests/data/probe18_questions.jsonl \
	  tests/data/probe19_questions.jsonl tests/data/probe20_questions.jsonl \
	  tests/data/probe21_questions.jsonl tests/data/probe22_questions.jsonl \
	  tests/data/probe23_questions.jsonl tests/data/probe24_questions.jsonl \
	  tests/data/probe25_questions.jsonl tests/data/probe26_questions.jsonl \
	  tests/data/probe27_questions.jsonl tests/data/probe28_questions.jsonl \
	  tests/data/probe29_questions.jsonl tests/data/probe30_questions.jsonl \
	  tests/data/probe31_questions.jsonl tests/data/probe32_questions.jsonl \
	  tests/data/probe33_questions.jsonl tests/data/probe34_questions.jsonl \
	  tests/data/probe35_questions.jsonl tests/data/probe36_questions.jsonl \
	  tests/data/probe37_questions.jsonl tests/data/probe38_questions.jsonl \
	  tests/data/probe39_questions.jsonl tests/data/probe40_questions.jsonl \
	  tests/data/probe41_questions.jsonl \
	  tests/data/safety_questions.jsonl

# Speed, memory and understanding against Rasa's default config, measured in
# one run; writes docs/benchmarks.md, docs/benchmarks.json, docs/benchmarks.png.
bench: train
	@$(PY) scripts/bench.py

# Pinned dependencies against known advisories, in a separate venv.
AUDIT_VENV := .venv-audit
$(AUDIT_VENV)/.installed:
	@$$(scripts/find-python.sh) -m venv $(AUDIT_VENV)
	@$(AUDIT_VENV)/bin/pip install --quiet --disable-pip-version-check "pip-audit==2.10.1" "safety-db==2021.7.17" "packaging>=23" 2> >(grep -v "is ignored" >&2)
	@touch $@

audit: $(AUDIT_VENV)/.installed
	@$(AUDIT_VENV)/bin/python scripts/audit_dependencies.py

# Delete stored conversations older than DAYS (default: RETENTION_DAYS or 90).
prune-conversations: setup
	@$(PY) -m server.retention $(if $(DAYS),--days $(DAYS))

# Re-resolve the pinned dependency set after changing requirements.txt.
constraints: setup
	@$(PY) -m pip freeze --exclude-editable | grep -v -E '^(pip|setuptools|wheel)==' > constraints.txt
	@echo "constraints.txt updated"

clean:
	rm -rf models var tests/artifacts .pytest_cache
