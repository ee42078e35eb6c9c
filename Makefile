# The study's rituals: `make test` and `make book` (both set up .venv and the data first).
# PROFILE=smoke|cpu|paper picks the book's experiment sizes (notebooks/profiles.yml);
# DRY_RUN=1 checks a profile without running it (e.g. make book PROFILE=paper DRY_RUN=1).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
CHAPTER ?=
STAMP := $(VENV)/.installed-stamp
DEBIAN_FMNIST := /usr/share/datasets/fashion-mnist

.PHONY: install data test book benchmarks clean-results clean

install: $(STAMP)

# Create the virtual environment if missing, install the library with its test extras, and
# register the venv's Jupyter kernel so papermill runs notebooks with this environment.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (pruninglib)" >/dev/null
	touch $(STAMP)

# Fashion-MNIST offline: from Debian's dataset-fashion-mnist (installed here when apt-get is
# available and we are root), else torchvision's download, else a message saying what to do.
data: install
	@if [ ! -d $(DEBIAN_FMNIST) ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	    && ! $(PY) -m pruninglib.data fashion_mnist --check >/dev/null 2>&1; then \
	  echo "installing Debian's dataset-fashion-mnist"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null 2>&1 \
	  || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null 2>&1; } \
	  || echo "apt-get could not install dataset-fashion-mnist; trying a download"; \
	fi
	$(PY) -m pruninglib.data fashion_mnist

test: data
	$(PY) -m pytest -q

book: data
ifdef DRY_RUN
	$(PY) -m pruninglib.chapters.dry_run --profile $(PROFILE) $(if $(CHAPTER),--chapter $(CHAPTER))
else
	$(PY) -m pruninglib.book build --profile $(PROFILE) $(if $(CHAPTER),--chapter $(CHAPTER))
endif

benchmarks: data
	$(PY) benchmarks/run_all.py

clean-results:
	rm -rf results

clean:
	rm -rf _build
