# The two commands a new user needs: `make up` and `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# manage.py as the cluster's app tier runs it: its user (as root), code and settings.
CLUSTER_MANAGE := $(PY) -m deploy manage
# Debian packages the cluster runs on; `make bootstrap` installs the missing ones (with sudo
# when not root), and the venv module when `$(PYTHON) -m venv` cannot work. The browser tests'
# Chromium comes with `make test` only (deploy/install-packages.sh picks the package).
# fonts-dejavu-core: the cake writing's font (CAKE_FONT_PATH).
DEBIAN_PACKAGES := postgresql redis-server nginx-light fonts-dejavu-core
INSTALL_PACKAGES := bash deploy/install-packages.sh
PRODUCTS ?= 200
REVIEWS ?= 8
# MONGO=1: the catalog's Mongo read model on, with a local server; MONGO=0: off again.
# Unset: as the previous `up` left it.
MONGO ?=
MONGO_FLAG := $(if $(filter 1,$(MONGO)),--mongo,$(if $(filter 0,$(MONGO)),--no-mongo,))

.PHONY: help
help:  ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

.PHONY: bootstrap bootstrap-test
bootstrap:  ## Install missing Debian packages, the app tier's user (as root), the virtualenv.
	@$(INSTALL_PACKAGES) --python $(PYTHON) $(DEBIAN_PACKAGES)
	@bash deploy/create-app-user.sh
	@$(MAKE) --no-print-directory $(VENV)/.installed
bootstrap-test: bootstrap  ## Also a Chromium for the browser tests (when none is installed) and wrk.
	@$(INSTALL_PACKAGES) --browser wrk

# requirements-dev.txt locks the app's, the local servers' and the tools' dependencies.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-local.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 (Debian 12: apt-get install python3 python3-venv)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

# The lock files, in this order: each is compiled at the versions of the ones before it.
LOCKS := requirements.txt requirements-local.txt requirements-dev.txt requirements-hosts.txt
.PHONY: lock
lock: $(VENV)/.installed  ## Pin every indirect dependency: requirements*.in -> requirements*.txt.
	@for lock in $(LOCKS); do \
	  CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile -q --strip-extras \
	    --no-emit-index-url --no-emit-find-links --output-file $$lock $${lock%.txt}.in || exit 1; \
	done

.PHONY: up
up: bootstrap  ## Start the whole local cluster, seed demo data, print the URLs (MONGO=1: read model).
	$(PY) -m deploy up $(MONGO_FLAG)
	$(CLUSTER_MANAGE) seed_catalog --if-empty --products $(PRODUCTS) --reviews-per-product $(REVIEWS)
	@# Switched on now: project the catalog that is already there into documents.
	@if [ "$(MONGO)" = 1 ]; then $(CLUSTER_MANAGE) catalog_sync_mongo; fi
	@# The first build of the prerendered pages; later ones come nightly (lesson 4.1).
	$(CLUSTER_MANAGE) prerender --if-unpublished --verbosity 0
	@$(MAKE) --no-print-directory admin-user
	@# The URLs are printed whatever the health; the exit code tells it.
	@$(PY) -m deploy status --wait 60; healthy=$$?; \
	url="$$($(PY) -m deploy url)"; \
	password="$$(cat "$$($(PY) -m deploy run-dir)/admin-password" 2>/dev/null)"; \
	echo "Shop:  $$url/"; \
	echo "Admin: $$url/admin/  user: admin  password: $${password:-unknown (set one: $(CLUSTER_MANAGE) changepassword admin)}"; \
	exit $$healthy

.PHONY: admin-user
admin-user:  # The password file is written (mode 600) only once the user exists.
	@file="$$($(PY) -m deploy run-dir)/admin-password"; \
	if [ ! -s "$$file" ]; then \
	  password="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(12))')"; \
	  if DJANGO_SUPERUSER_PASSWORD="$$password" $(CLUSTER_MANAGE) createsuperuser \
	      --noinput --username admin --email admin@localhost; then \
	    (umask 077 && echo "$$password" > "$$file"); \
	  else \
	    echo "no admin user created (see above); set a password: $(CLUSTER_MANAGE) changepassword admin"; \
	  fi; \
	fi; \
	chmod 600 "$$file" 2>/dev/null || true

.PHONY: down
down:  ## Stop every process `make up` started (data stays in .run/).
	@if [ -x $(PY) ]; then $(PY) -m deploy down; fi

.PHONY: status status-json rollout rollback
status:  ## Show every component of the cluster and its health.
	@$(PY) -m deploy status
status-json:  ## The same as JSON, for scripts.
	@$(PY) -m deploy status-json
rollout:  ## Move the clones one by one to a release of the current code (zero failed requests).
	$(PY) -m deploy rollout
rollback:  ## Move the clones one by one back to the previous release.
	$(PY) -m deploy rollback

.PHONY: bench
bench: bootstrap  ## Measure the serving tiers of the running cluster (make up first).
	@# wrk: a load client fast enough to measure what nginx serves from files.
	@$(INSTALL_PACKAGES) wrk
	$(PY) -m deploy.bench

.PHONY: test test-machinery
test: bootstrap-test  ## Start the services the tests need, then run every test, lint and deploy checks.
	$(PY) -m deploy up
	$(VENV)/bin/pytest --cov
	@$(MAKE) --no-print-directory lint check-deploy test-machinery
test-machinery: $(VENV)/.installed  ## The machinery's tests in a copy without the demo shop (cluster up).
	$(PY) -m tests.machinery

.PHONY: hosts-test
hosts-test: bootstrap  ## As root: Ansible deploys to network-namespace hosts, checked from outside, then torn down.
	@# sshd for the hosts, wrk for the load during the rollout (deploy/hosts).
	@$(INSTALL_PACKAGES) openssh-server wrk
	@$(MAKE) --no-print-directory $(VENV)/.hosts-installed
	$(PY) -m deploy.hosts test

$(VENV)/.hosts-installed: requirements-hosts.txt $(VENV)/.installed
	$(VENV)/bin/pip install -q -r requirements-hosts.txt
	touch $@

.PHONY: lint mypy
lint: $(VENV)/.installed  ## ruff lint and format check, mypy with django-stubs.
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(MAKE) --no-print-directory mypy
mypy: $(VENV)/.installed  # lint's type check (also a pre-commit hook).
	@# The django-stubs plugin loads the settings: placeholders stand in for the services.
	@# PYTHONPATH: the project's tests package before the one django-distill installs.
	PYTHONPATH=. DJANGO_SECRET_KEY=lint-placeholder DATABASE_URL=postgres://shop@localhost/shop REDIS_URL=redis://localhost/0 \
	REDIS_CACHE_URL=redis://localhost/1 DRAMATIQ_BROKER_URL=redis://localhost/2 \
	$(VENV)/bin/mypy

.PHONY: check-deploy
check-deploy: $(VENV)/.installed  ## Django's deploy checks on production settings, warnings fail.
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY="check-deploy-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')" \
	DJANGO_ALLOWED_HOSTS=shop.example.com DJANGO_MEDIA_ROOT_IS_SHARED=true \
	DATABASE_URL=postgres://shop@db.example.com/shop \
	REDIS_URL=redis://sessions.example.com/0 REDIS_CACHE_URL=redis://cache.example.com/0 \
	DRAMATIQ_BROKER_URL=redis://broker.example.com/0 \
	$(MANAGE) check --deploy --fail-level WARNING
