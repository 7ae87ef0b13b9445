# Two commands a new user needs: `make lab` and `make test` (see README.md).
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.zoo_lab-installed
KERNEL  := zoo_lab
PORT    ?= 8888
# pytest workers; the notebook runs are parallel with pytest-xdist
WORKERS ?= 2

.PHONY: setup lab test lint lock clean bench browser

setup: $(STAMP)

# Re-run only when the lock file or the package metadata change, so a second
# `make test` skips straight to the tests.
$(STAMP): requirements-lock.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements-lock.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (zoo_lab)"
	@$(MAKE) --no-print-directory browser
	@touch $(STAMP)

# Chromium and its driver from Debian's packages for the real-browser test, and MathJax 2
# (libjs-mathjax) that `zoo-lab run` copies next to the hand-outs for offline maths;
# skipped (the browser test skips with the reason, hand-outs show TeX) where apt is unavailable.
browser:
	@if command -v chromium >/dev/null 2>&1 && [ -f /usr/share/javascript/mathjax/MathJax.js ]; then \
	  echo "chromium: $$(command -v chromium); mathjax: /usr/share/javascript/mathjax"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver libjs-mathjax >/dev/null) \
	    || echo "warning: could not install chromium/libjs-mathjax: without chromium the browser test skips, without MathJax hand-outs show TeX"; \
	else \
	  echo "note: no root apt-get for chromium/libjs-mathjax: without chromium the browser test skips, without MathJax hand-outs show TeX"; \
	fi

# --allow-root only when run as root (containers, CI-like machines)
lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ServerApp.port=$(PORT) --ip=127.0.0.1 \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n $(WORKERS) --timeout=600

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lock: setup
	$(PY) -m pip freeze --exclude-editable | grep -vi '^zoo' | sed 's/^torch==\(.*\)+cpu/torch==\1/' > requirements-lock.txt.new
	@echo "review requirements-lock.txt.new, then move it over requirements-lock.txt"

clean:
	rm -rf $(VENV) build .pytest_cache
