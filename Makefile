# The two commands: `make run` (the terminal on simulators + sandbox platform) and `make test`.
.PHONY: run test lint demo bench deps deps-test clean

OUT ?= demo-out
PYTHON := .venv/bin/python

deps:
	packaging/install-deps.sh runtime

deps-test:
	packaging/install-deps.sh test

run: deps
	$(PYTHON) main.py

lint: deps-test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

test: deps-test lint
	QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest

demo: deps
	QT_QPA_PLATFORM=offscreen $(PYTHON) -m ui.demo --out "$(OUT)"

bench: deps-test
	@set -e; for f in bench/*.py; do \
	  m=$$(basename $$f .py); case $$m in __init__|_*) continue;; esac; \
	  echo "== bench.$$m"; QT_QPA_PLATFORM=offscreen $(PYTHON) -m bench.$$m; \
	done

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache demo-out var
