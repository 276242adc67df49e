# `make install PREFIX=/usr/local`: builds the C library and installs it like librdkafka
# (see scripts/install.sh).
PREFIX ?= /usr/local

.PHONY: install
install:
	bash scripts/install.sh "$(PREFIX)"
