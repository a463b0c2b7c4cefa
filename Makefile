# Two commands for a newcomer: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_ROWS ?= 2000000
BENCH_FILES ?= 1
BENCH_PLATFORM ?= pinduoduo

.PHONY: demo test bench golden fuzz clean browser phrase-eval

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cservice-audit audit samples/pinduoduo-2026-11-22.csv --platform pinduoduo --format table --exit-zero --no-history

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The HTML report's browser test loads it in Debian's Chromium (with a CJK font for the
# screenshot). Installed once where apt-get exists and we are root; elsewhere the test says
# why it skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; } || \
	  echo "make: could not install chromium; the browser test will be skipped" >&2

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --rows $(BENCH_ROWS) --files $(BENCH_FILES) --platform $(BENCH_PLATFORM)

# Regenerate the samples and their reviewed golden reports (on purpose only; review the diff).
golden: $(STAMP)
	$(BIN)/python tests/golden.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis benchmarks/data

# The fuzz test with many more examples than `make test` runs (HYPOTHESIS_PROFILE=fuzz).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_fuzz.py -q

# Precision and recall of every phrase rule on the labelled corpus, dev, heldout and fresh splits
# (tests/phrase_eval.yaml maps corpus categories to rules; heldout is never used for tuning).
phrase-eval: $(STAMP)
	$(BIN)/python tests/phrase_eval.py
