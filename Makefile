# gxtax-ops: two commands on a fresh machine — `make inspect` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
INVENTORY ?= inventories/local
PLAYBOOK ?= playbooks/inspection.yml
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the test harness needs on the control machine.
TEST_DEBS := debootstrap systemd-container dpkg-dev iproute2 openssh-client util-linux faketime
# Code runs on managed hosts, which must stay valid on Python 3.7 (Kylin V10),
# unless listed here as control-node only (delegate_to: localhost, callbacks).
CONTROLLER_PY := plugins/module_utils/report_archive.py plugins/module_utils/inspection_report.py \
  plugins/module_utils/inspection_html.py plugins/module_utils/notify.py \
  plugins/module_utils/oracle_checks.py plugins/module_utils/oracle_sql.py plugins/module_utils/sql_redact.py \
  plugins/module_utils/oracle_conn.py plugins/module_utils/oracle_errors.py plugins/modules/oracle_health.py \
  plugins/module_utils/tax_calendar.py plugins/module_utils/release_notice.py plugins/module_utils/run_context.py plugins/module_utils/schedule_gate.py \
  plugins/module_utils/release_report.py plugins/module_utils/release_html.py \
  plugins/module_utils/release_package.py plugins/module_utils/version_archive.py \
  plugins/modules/release_package.py plugins/modules/release_archive.py \
  plugins/module_utils/sql_script.py plugins/module_utils/oracle_script_run.py plugins/modules/oracle_script.py
TARGET_PY = $(filter-out $(CONTROLLER_PY),$(wildcard plugins/modules/*.py plugins/module_utils/*.py))
# Tools run with the virtualenv first on PATH, as ansible-lint expects.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help inspect test lint unit integration molecule bench bench-harness venv constraints test-debs verify-reports bundle clean

help:
	@echo "make inspect   create .venv, install, inspect $(INVENTORY), print the report path"
	@echo "make test      install what the tests need, then lint, unit and integration tests"
	@echo "make bundle    dist/gxtax-ops-bundle-<release>.tar.gz: installs the control node offline"
	@echo "make lint | unit | integration | molecule | bench | bench-harness | verify-reports | constraints | clean"

# Bad input stops here, at parse time, with one line and status 2 — before
# pip or ansible could fail deep inside with a page of traceback.
ifneq ($(filter inspect,$(MAKECMDGOALS)),)
  ifeq ($(wildcard $(INVENTORY)),)
    $(error inventory '$(INVENTORY)' does not exist)
  endif
endif
ifeq ($(wildcard $(STAMP)),)
  ifneq ($(filter-out help clean test-debs constraints,$(or $(MAKECMDGOALS),help)),)
    ifeq ($(shell command -v $(PYTHON)),)
      $(error $(PYTHON) not found: install Python >= 3.11)
    endif
    ifneq ($(shell $(PYTHON) -c 'import sys; print(sys.version_info >= (3, 11))'),True)
      $(error $(PYTHON) is older than 3.11: gxtax-ops needs Python >= 3.11 on the control node)
    endif
    ifneq ($(shell $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null && echo ok),ok)
      $(error $(PYTHON) cannot create a virtualenv: install python3-venv (apt-get install python3-venv))
    endif
  endif
endif

$(STAMP): requirements/controller.txt requirements/dev.txt requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	@touch $@

# Re-pin the whole dependency tree after changing a direct pin.
constraints:
	rm -rf $(VENV).pin && $(PYTHON) -m venv $(VENV).pin
	$(VENV).pin/bin/python -m pip install --quiet -r requirements/dev.txt
	{ echo "# Full pinned set (pip freeze of requirements/dev.txt); regenerate with"; \
	  echo "# 'make constraints' after changing a direct pin."; \
	  $(VENV).pin/bin/python -m pip freeze --all --exclude pip --exclude setuptools; } > requirements/constraints.txt
	rm -rf $(VENV).pin

venv: $(STAMP)

inspect: $(STAMP)
	@rc=0; $(BIN)/ansible-playbook -i "$(INVENTORY)" $(PLAYBOOK) || rc=$$?; \
	  path=$$($(BIN)/python bin/gxtax-reports latest --kind inspection) && echo "Inspection report: $$path"; \
	  exit $$rc

# Install the harness's Debian packages once (root on a fresh CI machine).
test-debs:
	@missing=$$(for p in $(TEST_DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make: missing Debian packages ($$missing); run as root" >&2; exit 2; fi; \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/vermin --target=3.7- --no-tips --violations --eval-annotations $(TARGET_PY)
	$(BIN)/ansible-lint --profile production

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP) test-debs
	$(BIN)/pytest -q tests/integration

# Every role's Molecule scenarios, on harness hosts (delegated driver).
molecule: $(STAMP) test-debs
	@for scenario in roles/*/molecule/*/; do \
	  role=$${scenario%%/molecule/*}; name=$$(basename $$scenario); \
	  echo "== molecule $$role ($$name)"; \
	  (cd $$role && molecule test --scenario-name $$name) || exit 1; \
	done

# --durations: the slowest tests in the log, so CI shows where the time goes (figures, not asserts).
test: $(STAMP) test-debs lint
	$(BIN)/pytest --durations=25 --junitxml=.pytest_cache/junit.xml tests/unit tests/integration
	@$(MAKE) --no-print-directory molecule

# Quick benchmarks; bench-harness needs root and ~7 minutes (50 SSH hosts).
bench: $(STAMP)
	@for b in $(filter-out bench/inspection_scale_bench.py,$(wildcard bench/*.py)); do \
	  echo "== $$b"; $(BIN)/python $$b; done

bench-harness: $(STAMP) test-debs
	$(BIN)/python bench/inspection_scale_bench.py

verify-reports: $(STAMP)
	$(BIN)/python bin/gxtax-reports verify

# One tarball with the project, every pinned wheel and the collections, for the isolated network (内网).
bundle: $(STAMP)
	$(BIN)/python scripts/make-bundle

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache dist
