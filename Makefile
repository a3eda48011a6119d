# Quick start (a fresh machine needs nothing but Python 3.11, make and this repository):
#   make demo   set up .venv, build the demo park into var/nengtan.db (SQLite), serve on 127.0.0.1:8000
#   make test   set up .venv with the test tools and run the whole test suite
.PHONY: demo test bench

demo:
	scripts/bootstrap.sh
	.venv/bin/nengtan demo

test:
	scripts/bootstrap.sh test
	.venv/bin/python -m pytest

bench:
	scripts/bootstrap.sh test
	.venv/bin/python benchmarks/ingest.py
	.venv/bin/python benchmarks/energy_report.py
