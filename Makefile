# Escalation-cycle datasets and reports: a graph of files.
#
# Each notebook stage is one pattern rule below (the stage rules): its tables, $(<stage>_OUT);
# its notebook; the profile sections it reads, $(P)/params/<section>.yaml, its own first; the
# tables it reads; and the analysis/ files its notebook imports, $(<stage>_CODE). The stem % is
# the report: reports/<report>.html is built from notebooks/params/<report>.yaml (default.yaml
# for the default dyad, us-iran-proxies) and dyads/<dyad>.yaml, where <report> is <dyad> or
# <dyad>--<variant>; its tables go to data/processed/<report>/.
#
# data/processed/graph.mk is written on every run by `python -m analysis.build graph` from these
# rules, the notebooks, the profiles and the dyad specs (analysis/stages.py). It defines
# $(<stage>_OUT) (the notebook's <table>_out parameters), $(<stage>_CODE) (its imports, followed
# through analysis/), $(REPORT_NAMES) and $(SKIPPED); it adds each report's own inputs (its
# profile, its dyad spec and every file the spec names, the files under data/raw/<dyad>/ and
# data/external/<dyad>/); and it splits each profile into one file per section, rewriting a file
# only when it changes, so editing one parameter reruns only the stages that read it.
#
# Adding a stage: a notebook, a stage rule here, a section in notebooks/params/default.yaml
# (`make sync-params` copies it into the notebook), and a line in REPORT_TABLES.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules --no-print-directory
ifneq ($(filter 3.7% 3.80 3.81,$(MAKE_VERSION)),)
$(error GNU make 3.82 or newer is needed (this is $(MAKE_VERSION)); on macOS: brew install make, then run gmake)
endif

# stages run side by side (the build is parallel-safe); `make JOBS=1 reports` for one at a time
JOBS ?= 2
ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
MAKEFLAGS += -j$(JOBS)
endif

PYTHON ?= python3
# small optimisations (Hawkes likelihoods, Cox models) slow down when BLAS threads compete
export OPENBLAS_NUM_THREADS ?= 1
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.setup-stamp
KERNEL := escalation
P := data/processed/%
GRAPH := data/processed/graph.mk
# the template of every HTML page (nothing loaded from the network; analysis/htmlpage.py)
TEMPLATE := $(wildcard templates/report/*)
# a stage's recipe: one line on the console; commands and kernel output in data/processed/<report>/logs/
RUN = @$(PY) -m analysis.build run $* $^

.DEFAULT_GOAL := help
.PHONY: help setup data reports sync-params test test-fast lint lab bench bench-pipeline clean distclean lock FORCE

help: ## show this help
	@echo "Escalation-cycle datasets and reports. Targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-11s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv, install the package (-e .[dev]) and the 'escalation' Jupyter kernel

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))" >/dev/null
	touch $@

lock: $(STAMP) ## re-pin requirements.lock from the packages installed in .venv
	$(BIN)/pip freeze --exclude-editable | LC_ALL=C sort > requirements.lock

test: $(STAMP) ## run every test, the pipeline tests (make reports in a temporary copy) included
	$(BIN)/pytest

test-fast: $(STAMP) ## run the tests but the pipeline ones and the calibrations over many seeds, on 2 cores (under a minute)
	$(BIN)/pytest -m "not pipeline and not slow" -n 2

lint: $(STAMP) ## check the code with ruff (rules in pyproject.toml)
	$(BIN)/ruff check analysis tests benchmarks

sync-params: $(STAMP) ## copy notebooks/params/default.yaml into every notebook's parameters cell
	@$(PY) -m analysis.build sync-params

bench: $(STAMP) ## run the benchmarks in benchmarks/ and print their figures (not bench-pipeline)
	@for script in benchmarks/bench_*.py; do \
	  if [ "$$script" = benchmarks/bench_pipeline.py ]; then echo "== $$script: left out (a build of about 10 minutes); run make bench-pipeline"; continue; fi; \
	  echo "== $$script"; $(PY) -m benchmarks.$$(basename $$script .py); done

bench-pipeline: $(STAMP) ## build a million-event synthetic dyad through make: time and memory per stage
	@$(PY) -m benchmarks.bench_pipeline

lab: $(STAMP) ## open JupyterLab on 127.0.0.1 with the 'escalation' kernel
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser --notebook-dir . $(if $(filter 0,$(shell id -u)),--allow-root)

clean: ## remove processed data and built reports (keeps .venv and the lab's scratch folder)
	rm -rf data/processed/*/ $(GRAPH) reports/*/
	find reports -name '*.html' -delete

distclean: clean ## also remove .venv
	rm -rf $(VENV)

# The graph (see the top of this file); goals that build nothing do not need it, nor .venv.
ifneq ($(filter-out help setup lock test test-fast lint sync-params bench bench-pipeline lab clean distclean,$(or $(MAKECMDGOALS),help)),)
include $(GRAPH)
endif

$(GRAPH): $(STAMP) FORCE
	@$(PY) -m analysis.build graph $@

# ---- stage rules ------------------------------------------------------------------------------

# 10-build-events: every source of the dyad spec -> canonical events with sides, rejects, counts
$(events_OUT): notebooks/10-build-events.ipynb $(P)/params/events.yaml $(events_CODE)
	$(RUN)

# 20-build-cycles: strike -> response pairs, chains, episodes, pauses, daily panel, response ratios
$(cycles_OUT): notebooks/20-build-cycles.ipynb $(P)/params/cycles.yaml $(P)/events.parquet $(cycles_CODE)
	$(RUN)

# 30-retaliation-timing: Kaplan-Meier and Cox models of the time to response
$(timing_OUT): notebooks/30-retaliation-timing.ipynb $(P)/params/timing.yaml $(P)/events.parquet $(P)/cycles.parquet \
  $(timing_CODE)
	$(RUN)

# 31-reaction-functions: reaction functions and a VAR on the daily panel
$(reaction_OUT): notebooks/31-reaction-functions.ipynb $(P)/params/reaction.yaml $(P)/panel.parquet $(reaction_CODE)
	$(RUN)

# 32-hawkes: bivariate Hawkes process
$(hawkes_OUT): notebooks/32-hawkes.ipynb $(P)/params/hawkes.yaml $(P)/events.parquet $(hawkes_CODE)
	$(RUN)

# 33-replications: published results re-estimated
$(replication_OUT): notebooks/33-replications.ipynb $(P)/params/replication.yaml $(P)/events.parquet $(replication_CODE)
	$(RUN)

# 34-sensitivity: the main results under other windows, dedup off, other tie rules, imprecise dates moved
$(sensitivity_OUT): notebooks/34-sensitivity.ipynb $(P)/params/sensitivity.yaml $(P)/events.parquet \
  $(P)/events_undeduped.parquet $(P)/response_rule.parquet $(sensitivity_CODE)
	$(RUN)

# 35-escalation: does the answer escalate (level matrix, response curves, episode trajectories), and
# did the named strikes deter (interrupted time series with placebo dates)
$(escalation_OUT): notebooks/35-escalation.ipynb $(P)/params/escalation.yaml $(P)/events.parquet $(P)/cycles.parquet \
  $(P)/episodes.parquet $(P)/panel.parquet $(P)/rates.parquet $(escalation_CODE)
	$(RUN)

# 40-report: reports/<report>.html, from the tables of these stages (one line each)
REPORT_TABLES = \
  $(events_OUT) \
  $(cycles_OUT) \
  $(timing_OUT) \
  $(reaction_OUT) \
  $(hawkes_OUT) \
  $(replication_OUT) \
  $(sensitivity_OUT) \
  $(escalation_OUT)
reports/%.html $(report_OUT): notebooks/40-report.ipynb $(P)/params/report.yaml $(REPORT_TABLES) $(report_CODE) \
  $(TEMPLATE)
	$(RUN) --html reports/$*.html

# 11-dataset-coverage: reports/<dyad>--coverage.html, for a curated dataset with official running
# totals (data/raw/<dyad>/official_counts.csv)
reports/%--coverage.html $(coverage_OUT): notebooks/11-dataset-coverage.ipynb $(P)/params/coverage.yaml \
  $(P)/events.parquet data/raw/%/official_counts.csv data/raw/%/README.md $(coverage_CODE) $(TEMPLATE)
	$(RUN) --html reports/$*--coverage.html

# 05-news-to-events: reports/<dyad>--news.html, for a dyad with reviewed news articles
# (data/raw/<dyad>/news/reviews.csv); it merges into the events before dedup, with the events
# stage's dedup settings
reports/%--news.html $(news_OUT): notebooks/05-news-to-events.ipynb $(P)/params/news.yaml $(P)/params/events.yaml \
  $(P)/events_undeduped.parquet $(news_CODE) $(TEMPLATE)
	$(RUN) --html reports/$*--news.html

# ---- reports ----------------------------------------------------------------------------------

REPORTS := $(foreach r,$(REPORT_NAMES),reports/$(r).html) \
  $(foreach r,$(REPORT_NAMES),$(if $(wildcard data/raw/$(r)/official_counts.csv),reports/$(r)--coverage.html)) \
  $(foreach r,$(REPORT_NAMES),$(if $(wildcard data/raw/$(r)/news/reviews.csv),reports/$(r)--news.html))
DATA := $(foreach r,$(REPORT_NAMES),$(subst %,$(r),$(REPORT_TABLES)))

data: $(DATA) ## build the processed tables (data/processed/<report>/*.parquet)

reports: reports/index.html ## build every report (reports/<dyad>.html) and reports/index.html

reports/index.html: $(REPORTS) analysis/build.py $(STAMP)
	@$(PY) -m analysis.build index reports

# The B'Tselem records are not redistributable: users put their copy here; where the project's
# shared fixtures are present (CI, developers), this links them instead.
BTSELEM_FIXTURE := ../shared/fixtures/btselem/fatalities_isr_pse_2000_2023.csv
data/external/israel-palestinians/fatalities.csv:
	@if [ -f $(BTSELEM_FIXTURE) ]; then mkdir -p $(@D) && ln -sf $(abspath $(BTSELEM_FIXTURE)) $@ && echo "linked $@ -> $(BTSELEM_FIXTURE)"; \
	else echo "$@ is missing: see data/external/README.md for how to obtain the B'Tselem records"; exit 1; fi
