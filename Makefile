# Escalation-cycle datasets and reports.
#
# The build is a graph of files: each notebook stage is a rule whose prerequisites are the
# notebook, the analysis/ sources, its own parameter file and its inputs. Parameters live in
# notebooks/params/<profile>.yaml, one section per stage; make splits a profile into one file
# per stage (data/processed/<report>/params/<stage>.yaml), rewriting a file only when its
# content changes, so editing one parameter rebuilds only the stages that read it.
#
# Profiles and reports: notebooks/params/default.yaml builds reports/$(DEFAULT_DYAD).html;
# any other notebooks/params/<dyad>[--<variant>].yaml builds reports/<dyad>[--<variant>].html
# from dyads/<dyad>.yaml and the files under data/raw/<dyad>/ and data/external/<dyad>/.
# A curated dataset with official running totals (data/raw/<dyad>/official_counts.csv) also
# gets reports/<dyad>--coverage.html from notebooks/11-dataset-coverage.ipynb, and one with
# reviewed news articles (data/raw/<dyad>/news/reviews.csv) gets reports/<dyad>--news.html from
# notebooks/05-news-to-events.ipynb (its parameters: the `news` section of the dyad's profile).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules --no-print-directory

PYTHON ?= python3
# small optimisations (Hawkes likelihoods, Cox models) slow down when BLAS threads compete
export OPENBLAS_NUM_THREADS ?= 1
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.setup-stamp
KERNEL := escalation
DEFAULT_DYAD := us-iran-proxies
PAPERMILL := $(BIN)/papermill --kernel $(KERNEL) --cwd . --log-level WARNING --no-progress-bar
# HTML pages through templates/report (nothing loaded from the network; see analysis/htmlpage.py)
TEMPLATE := $(wildcard templates/report/*)
NBCONVERT := $(BIN)/jupyter nbconvert --to html --no-input --log-level WARN \
  --TemplateExporter.extra_template_basedirs=templates --template report

ANALYSIS := $(shell find analysis -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort)
STAGES := events cycles timing reaction hawkes replication sensitivity report news
ALL_PROFILES := $(basename $(notdir $(wildcard notebooks/params/*.yaml)))
report_of = $(if $(filter default,$(1)),$(DEFAULT_DYAD),$(1))
dyad_of = $(firstword $(subst --, ,$(1)))
has_data = $(wildcard data/raw/$(1)/*.* data/external/$(1)/*.*)
# a profile is built when its dyad has data (the default always has: it is committed)
PROFILES := $(foreach p,$(ALL_PROFILES),$(if $(or $(filter default,$(p)),$(call has_data,$(call dyad_of,$(p)))),$(p)))
SKIPPED := $(filter-out $(PROFILES),$(ALL_PROFILES))
REPORT_NAMES := $(foreach p,$(PROFILES),$(call report_of,$(p)))
COVERAGE_DYADS := $(patsubst data/raw/%/official_counts.csv,%,$(wildcard data/raw/*/official_counts.csv))
NEWS_DYADS := $(filter $(REPORT_NAMES),$(patsubst data/raw/%/news/reviews.csv,%,$(wildcard data/raw/*/news/reviews.csv)))
REPORTS := $(foreach r,$(REPORT_NAMES),reports/$(r).html) $(foreach d,$(COVERAGE_DYADS),reports/$(d)--coverage.html) \
  $(foreach d,$(NEWS_DYADS),reports/$(d)--news.html)
CYCLES := $(foreach r,$(REPORT_NAMES),data/processed/$(r)/cycles.parquet)
MODELS := $(foreach r,$(REPORT_NAMES),$(foreach t,km_summary var_granger hawkes_params replication_comparison sensitivity,data/processed/$(r)/$(t).parquet))

.DEFAULT_GOAL := help
.PHONY: help setup data reports test lab bench clean distclean lock

help: ## show this help
	@echo "Escalation-cycle datasets and reports. Targets:"
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "Reports built: $(REPORTS)"
	@if [ -n "$(SKIPPED)" ]; then echo "Not built for want of data (see data/external/README.md): $(SKIPPED)"; fi

setup: $(STAMP) ## create .venv, install the package (-e .[dev]) and the 'escalation' Jupyter kernel

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))" >/dev/null
	touch $@

lock: $(STAMP) ## re-pin requirements.lock from the packages installed in .venv
	$(BIN)/pip freeze --exclude-editable | LC_ALL=C sort > requirements.lock

data: $(CYCLES) $(MODELS) ## build the processed tables (data/processed/<report>/*.parquet)

reports: reports/index.html ## build every report (reports/<dyad>.html) and reports/index.html

test: $(STAMP) ## run the tests, including a papermill run of the notebook pipeline
	$(BIN)/pytest

bench: $(STAMP) ## run the benchmarks in benchmarks/ and print their figures
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) -m benchmarks.$$(basename $$script .py); done

lab: $(STAMP) ## open JupyterLab on 127.0.0.1 with the 'escalation' kernel
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser --notebook-dir . $(if $(filter 0,$(shell id -u)),--allow-root)

clean: ## remove processed data and built reports (keeps .venv)
	rm -rf data/processed/*/
	find reports -name '*.html' -delete
	find reports -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +

distclean: clean ## also remove .venv
	rm -rf $(VENV)

# The B'Tselem records are not redistributable: users put their copy here; where the project's
# shared fixtures are present (CI, developers), this links them instead.
BTSELEM_FIXTURE := ../shared/fixtures/btselem/fatalities_isr_pse_2000_2023.csv
data/external/israel-palestinians/fatalities.csv:
	@if [ -f $(BTSELEM_FIXTURE) ]; then mkdir -p $(@D) && ln -sf $(abspath $(BTSELEM_FIXTURE)) $@ && echo "linked $@ -> $(BTSELEM_FIXTURE)"; \
	else echo "$@ is missing: see data/external/README.md for how to obtain the B'Tselem records"; exit 1; fi

reports/index.html: $(REPORTS) analysis/build.py $(STAMP)
	$(PY) -m analysis.build index reports >/dev/null

# Tables each stage writes (data/processed/<report>/<table>.parquet); notebooks take them as
# <table>_out parameters, and the report as <table>_in.
EVENT_TABLES := events rejects unmatched_actors excluded load_counts dedup_audit events_undeduped
CYCLE_TABLES := cycles chains episodes pauses pause_enders panel response_ratio permutation_null rates response_rule response_scope spacetime
TIMING_TABLES := km_curve km_summary cox ph_test
HAWKES_TABLES := hawkes_params hawkes_excitation hawkes_triggered hawkes_gof hawkes_bootstrap hawkes_selection
REACTION_TABLES := reaction_coefficients reaction_tests var_adf var_lag_order var_granger var_irf
REPLICATION_TABLES := replication_granger replication_pauses replication_comparison
MODEL_TABLES := $(TIMING_TABLES) $(REACTION_TABLES) $(HAWKES_TABLES) $(REPLICATION_TABLES) sensitivity

# Rules for one report: $(1) report name, $(2) profile file, $(3) dyad.
define REPORT_RULES
$(1)_P := data/processed/$(1)
$(1)_RAW := dyads/$(3).yaml $$(shell find data/raw/$(3) data/external/$(3) -type f -name '*.*' -not -name '*.md' -not -path '*/news/*' 2>/dev/null | LC_ALL=C sort)
$(1)_EVENTS := $$(foreach t,$(EVENT_TABLES),$$($(1)_P)/$$(t).parquet)
$(1)_CYCLES := $$(foreach t,$(CYCLE_TABLES),$$($(1)_P)/$$(t).parquet)
$(1)_TIMING := $$(foreach t,$(TIMING_TABLES),$$($(1)_P)/$$(t).parquet)
$(1)_HAWKES := $$(foreach t,$(HAWKES_TABLES),$$($(1)_P)/$$(t).parquet)
$(1)_REACTION := $$(foreach t,$(REACTION_TABLES),$$($(1)_P)/$$(t).parquet)
$(1)_REPLICATION := $$(foreach t,$(REPLICATION_TABLES),$$($(1)_P)/$$(t).parquet)

$$($(1)_P)/params/.stamp: $(2) analysis/build.py $(STAMP)
	$(PY) -m analysis.build split-params $(2) $$($(1)_P)/params >/dev/null
	touch $$@

$$(foreach stage,$(STAGES),$$($(1)_P)/params/$$(stage).yaml): $$($(1)_P)/params/.stamp ;

$$($(1)_EVENTS) &: notebooks/10-build-events.ipynb $$($(1)_P)/params/events.yaml $$($(1)_RAW) $(ANALYSIS) $(STAMP)
	@echo "events  -> $$($(1)_P)/events.parquet"
	@mkdir -p $$($(1)_P)/notebooks
	$(PAPERMILL) $$< $$($(1)_P)/notebooks/10-build-events.ipynb -f $$($(1)_P)/params/events.yaml \
	  -p dyad_spec dyads/$(3).yaml $$(foreach t,$(EVENT_TABLES),-p $$(t)_out $$($(1)_P)/$$(t).parquet)

$$($(1)_CYCLES) &: notebooks/20-build-cycles.ipynb $$($(1)_P)/params/cycles.yaml $$($(1)_P)/events.parquet dyads/$(3).yaml $(ANALYSIS) $(STAMP)
	@echo "cycles  -> $$($(1)_P)/cycles.parquet"
	$(PAPERMILL) $$< $$($(1)_P)/notebooks/20-build-cycles.ipynb -f $$($(1)_P)/params/cycles.yaml \
	  -p dyad_spec dyads/$(3).yaml -p profile $(2) -p events_in $$($(1)_P)/events.parquet \
	  $$(foreach t,$(CYCLE_TABLES),-p $$(t)_out $$($(1)_P)/$$(t).parquet)

$$($(1)_TIMING) &: notebooks/30-retaliation-timing.ipynb $$($(1)_P)/params/timing.yaml $$($(1)_P)/events.parquet $$($(1)_P)/cycles.parquet dyads/$(3).yaml $(ANALYSIS) $(STAMP)
	@echo "timing  -> $$($(1)_P)/km_summary.parquet"
	$(PAPERMILL) $$< $$($(1)_P)/notebooks/30-retaliation-timing.ipynb -f $$($(1)_P)/params/timing.yaml \
	  -p dyad_spec dyads/$(3).yaml -p events_in $$($(1)_P)/events.parquet -p cycles_in $$($(1)_P)/cycles.parquet \
	  $$(foreach t,$(TIMING_TABLES),-p $$(t)_out $$($(1)_P)/$$(t).parquet)

$$($(1)_HAWKES) &: notebooks/32-hawkes.ipynb $$($(1)_P)/params/hawkes.yaml $$($(1)_P)/events.parquet dyads/$(3).yaml $(ANALYSIS) $(STAMP)
	@echo "hawkes  -> $$($(1)_P)/hawkes_params.parquet"
	$(PAPERMILL) $$< $$($(1)_P)/notebooks/32-hawkes.ipynb -f $$($(1)_P)/params/hawkes.yaml \
	  -p dyad_spec dyads/$(3).yaml -p events_in $$($(1)_P)/events.parquet \
	  $$(foreach t,$(HAWKES_TABLES),-p $$(t)_out $$($(1)_P)/$$(t).parquet)

$$($(1)_REACTION) &: notebooks/31-reaction-functions.ipynb $$($(1)_P)/params/reaction.yaml $$($(1)_P)/panel.parquet dyads/$(3).yaml $(ANALYSIS) $(STAMP)
	@echo "reaction -> $$($(1)_P)/var_granger.parquet"
	$(PAPERMILL) $$< $$($(1)_P)/notebooks/31-reaction-functions.ipynb -f $$($(1)_P)/params/reaction.yaml \
	  -p dyad_spec dyads/$(3).yaml -p panel_in $$($(1)_P)/panel.parquet \
	  $$(foreach t,$(REACTION_TABLES),-p $$(t)_out $$($(1)_P)/$$(t).parquet)

$$($(1)_REPLICATION) &: notebooks/33-replications.ipynb $$($(1)_P)/params/replication.yaml $$($(1)_P)/events.parquet dyads/$(3).yaml $(ANALYSIS) $(STAMP)
	@echo "replication -> $$($(1)_P)/replication_comparison.parquet"
	$(PAPERMILL) $$< $$($(1)_P)/notebooks/33-replications.ipynb -f $$($(1)_P)/params/replication.yaml \
	  -p dyad_spec dyads/$(3).yaml -p events_in $$($(1)_P)/events.parquet \
	  $$(foreach t,$(REPLICATION_TABLES),-p $$(t)_out $$($(1)_P)/$$(t).parquet)

$$($(1)_P)/sensitivity.parquet: notebooks/34-sensitivity.ipynb $$($(1)_P)/params/sensitivity.yaml $$($(1)_P)/events.parquet $$($(1)_P)/events_undeduped.parquet $$($(1)_P)/response_rule.parquet dyads/$(3).yaml $(ANALYSIS) $(STAMP)
	@echo "sensitivity -> $$@"
	$(PAPERMILL) $$< $$($(1)_P)/notebooks/34-sensitivity.ipynb -f $$($(1)_P)/params/sensitivity.yaml \
	  -p dyad_spec dyads/$(3).yaml -p events_in $$($(1)_P)/events.parquet \
	  -p events_undeduped_in $$($(1)_P)/events_undeduped.parquet -p response_rule_in $$($(1)_P)/response_rule.parquet \
	  -p sensitivity_out $$@

# The report also reads the dyad's coverage table and official counts when it has them, links the
# dyad's coverage and news reports, and writes its full tables as CSV to reports/<report>/.
$(1)_COVERAGE := $(if $(filter $(3),$(COVERAGE_DYADS)),data/processed/$(3)/coverage.parquet)
reports/$(1).html: notebooks/40-report.ipynb $$($(1)_P)/params/report.yaml $(2) $$($(1)_EVENTS) $$($(1)_CYCLES) $$($(1)_TIMING) $$($(1)_REACTION) $$($(1)_HAWKES) $$($(1)_REPLICATION) $$($(1)_P)/sensitivity.parquet $$($(1)_COVERAGE) $$($(1)_RAW) $(ANALYSIS) $(TEMPLATE) $(STAMP)
	@echo "report  -> $$@"
	$(PAPERMILL) $$< $$($(1)_P)/notebooks/$(1).ipynb -f $$($(1)_P)/params/report.yaml \
	  -p dyad_spec dyads/$(3).yaml -p profile $(2) \
	  $$(foreach t,$(filter-out events_undeduped,$(EVENT_TABLES)) $(CYCLE_TABLES) $(MODEL_TABLES),-p $$(t)_in $$($(1)_P)/$$(t).parquet) \
	  -p coverage_in "$$($(1)_COVERAGE)" -p official_counts "$(if $(filter $(3),$(COVERAGE_DYADS)),data/raw/$(3)/official_counts.csv)" \
	  -p coverage_report "$(if $(filter $(3),$(COVERAGE_DYADS)),$(3)--coverage.html)" \
	  -p news_report "$(if $(filter $(3),$(NEWS_DYADS)),$(3)--news.html)" -p downloads_out reports/$(1)
	$(PY) -m analysis.build scrub $$($(1)_P)/notebooks/$(1).ipynb --title "$(1): escalation-cycle report"
	$(NBCONVERT) --output-dir reports --output $(1) $$($(1)_P)/notebooks/$(1).ipynb
endef

$(foreach p,$(PROFILES),$(eval $(call REPORT_RULES,$(call report_of,$(p)),notebooks/params/$(p).yaml,$(call dyad_of,$(call report_of,$(p))))))

# Coverage report of a curated dataset: $(1) dyad (its default report's events table is the input).
define COVERAGE_RULES
reports/$(1)--coverage.html data/processed/$(1)/coverage.parquet data/processed/$(1)/monthly.parquet &: notebooks/11-dataset-coverage.ipynb data/processed/$(1)/events.parquet data/raw/$(1)/official_counts.csv data/raw/$(1)/README.md $(ANALYSIS) $(TEMPLATE) $(STAMP)
	@echo "coverage -> reports/$(1)--coverage.html"
	$(PAPERMILL) $$< data/processed/$(1)/notebooks/$(1)--coverage.ipynb \
	  -p dyad_spec dyads/$(1).yaml -p events_in data/processed/$(1)/events.parquet \
	  -p official_counts data/raw/$(1)/official_counts.csv -p codebook data/raw/$(1)/README.md \
	  -p coverage_out data/processed/$(1)/coverage.parquet -p monthly_out data/processed/$(1)/monthly.parquet \
	  -p main_report $(1).html -p news_report "$(if $(filter $(1),$(NEWS_DYADS)),$(1)--news.html)"
	$(PY) -m analysis.build scrub data/processed/$(1)/notebooks/$(1)--coverage.ipynb --title "$(1): dataset coverage"
	$(NBCONVERT) --output-dir reports --output $(1)--coverage data/processed/$(1)/notebooks/$(1)--coverage.ipynb
endef

$(foreach d,$(COVERAGE_DYADS),$(eval $(call COVERAGE_RULES,$(d))))

# News report of a dyad: $(1) dyad. Reads the events stage's table before dedup (to merge the
# accepted news events into) and the events stage's dedup settings.
NEWS_TABLES := news_articles news_mentions news_candidates news_evidence news_scores news_decisions news_events news_merged news_merge_audit
define NEWS_RULES
reports/$(1)--news.html $(foreach t,$(NEWS_TABLES),data/processed/$(1)/$(t).parquet) &: notebooks/05-news-to-events.ipynb $(TEMPLATE) data/processed/$(1)/params/news.yaml data/processed/$(1)/params/events.yaml data/processed/$(1)/events_undeduped.parquet dyads/$(1).yaml $$(shell find data/raw/$(1)/news dyads/gazetteers -type f | LC_ALL=C sort) $(ANALYSIS) $(STAMP)
	@echo "news    -> reports/$(1)--news.html"
	$(PAPERMILL) $$< data/processed/$(1)/notebooks/$(1)--news.ipynb \
	  -f data/processed/$(1)/params/events.yaml -f data/processed/$(1)/params/news.yaml \
	  -p dyad_spec dyads/$(1).yaml -p events_in data/processed/$(1)/events_undeduped.parquet \
	  $(foreach t,$(NEWS_TABLES),-p $(t)_out data/processed/$(1)/$(t).parquet) \
	  -p review_template_out data/processed/$(1)/news_review_template.csv \
	  -p downloads_out reports/$(1)--news -p main_report $(1).html \
	  -p coverage_report "$(if $(filter $(1),$(COVERAGE_DYADS)),$(1)--coverage.html)"
	$(PY) -m analysis.build scrub data/processed/$(1)/notebooks/$(1)--news.ipynb --title "$(1): news articles to events"
	$(NBCONVERT) --output-dir reports --output $(1)--news data/processed/$(1)/notebooks/$(1)--news.ipynb
endef

$(foreach d,$(NEWS_DYADS),$(eval $(call NEWS_RULES,$(d))))
