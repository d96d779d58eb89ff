# The two commands a new user needs: `make up` and `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# Debian packages the cluster runs on (and Chromium for the browser tests); installed by
# `make bootstrap` when missing.
DEBIAN_PACKAGES := postgresql redis-server nginx-light chromium
PRODUCTS ?= 200
REVIEWS ?= 8

.PHONY: help
help:  ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: bootstrap
bootstrap: $(VENV)/.installed  ## Install missing Debian packages and the virtualenv.
	@missing=""; for package in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing; \
	fi

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 (Debian 12: apt-get install python3 python3-venv)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

.PHONY: up
up: bootstrap  ## Start the whole local cluster, seed demo data, print the URLs.
	$(PY) -m deploy up
	$(MANAGE) seed_catalog --if-empty --products $(PRODUCTS) --reviews-per-product $(REVIEWS)
	@$(MAKE) --no-print-directory admin-user
	@$(PY) -m deploy status
	@echo "Shop:  $$($(PY) -m deploy url)/"
	@echo "Admin: $$($(PY) -m deploy url)/admin/  user: admin  password: $$(cat .run/admin-password)"

.PHONY: admin-user
admin-user:
	@if [ ! -s .run/admin-password ]; then \
	  $(PY) -c 'import secrets; print(secrets.token_urlsafe(12))' > .run/admin-password; \
	  DJANGO_SUPERUSER_PASSWORD="$$(cat .run/admin-password)" $(MANAGE) createsuperuser \
	    --noinput --username admin --email admin@localhost; \
	fi

.PHONY: down
down:  ## Stop every process `make up` started (data stays in .run/).
	@if [ -x $(PY) ]; then $(PY) -m deploy down; fi

.PHONY: status status-json rollout
status:  ## Show every component of the cluster and its health.
	@$(PY) -m deploy status
status-json:  ## The same as JSON, for scripts.
	@$(PY) -m deploy status-json
rollout:  ## Restart the clones one by one on the current code (zero failed requests).
	$(PY) -m deploy rollout

.PHONY: bench
bench: bootstrap  ## Measure the serving tiers of the running cluster (make up first).
	$(PY) -m deploy.bench

.PHONY: test
test: bootstrap  ## Start the services the tests need, then run every test, lint and deploy checks.
	$(PY) -m deploy up
	$(VENV)/bin/pytest --cov
	@$(MAKE) --no-print-directory lint check-deploy

.PHONY: lint
lint: $(VENV)/.installed  ## ruff lint and format check, mypy with django-stubs.
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The django-stubs plugin loads the settings: placeholders stand in for the services.
	DATABASE_URL=postgres://shop@localhost/shop REDIS_URL=redis://localhost/0 \
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
