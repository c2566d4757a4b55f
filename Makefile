# cs_exporter — see README.md. `make check` runs every test; `make demo` runs
# the exporter on generated data in a private PostgreSQL cluster.

PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0
REVISION := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH   := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
# SOURCE_DATE_EPOCH, when set, makes the date reproducible.
BUILD_DATE := $(shell date -u -d "@$${SOURCE_DATE_EPOCH:-$$(date +%s)}" +%Y%m%d-%H:%M:%S)

CC      ?= cc
PKGS    := libmicrohttpd libpq libconfig zlib gnutls yaml-0.1
WARN    := -Wall -Wextra -Wpedantic -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wshadow -Wwrite-strings -Wvla -Werror
OPT     ?= -O2 -g
CFLAGS  ?=
CPPFLAGS += -D_GNU_SOURCE -DCS_VERSION='"$(VERSION)"' -DCS_REVISION='"$(REVISION)"' \
            -DCS_BRANCH='"$(BRANCH)"' -DCS_BUILD_DATE='"$(BUILD_DATE)"'
ALL_CFLAGS = -std=c11 -I. $(OPT) $(WARN) -pthread $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypt -lm -pthread

# make SANITIZE=address,undefined check
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDLIBS     += -fsanitize=$(SANITIZE)
BUILD ?= build/san
endif
BUILD ?= build

# The floors, lowest first: lib <- config <- collectors <- exporter. Every
# include names its file from the root (-I.), so a reader sees the floor.
SRC_DIRS := lib config collectors exporter/sources exporter/eval exporter/serve exporter/commands
LIB_SRC  := $(filter-out exporter/commands/main.c,$(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOLS    := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/%)

BIN      := $(BUILD)/cs_exporter
UNIT     := $(BUILD)/unit_tests

.PHONY: all deps check unit integration demo bench soak fuzz metric-reference install deb format format-check valgrind clean FORCE

all: $(BIN) $(TOOLS)

deps:
	@tests/scripts/install-deps.sh

$(BUILD)/%.o: %.c $(wildcard */*.h */*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The revision is compiled into main.o and snapshot.o, and make does not see a
# flag change: a stamp that changes with HEAD rebuilds them.
$(BUILD)/revision.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(REVISION)' | cmp -s - $@ || echo '$(REVISION)' >$@
$(BUILD)/exporter/commands/main.o $(BUILD)/exporter/serve/snapshot.o: $(BUILD)/revision.stamp
FORCE:

$(BUILD)/libcs.a: $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BIN): $(BUILD)/exporter/commands/main.o $(BUILD)/libcs.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(UNIT_OBJ) $(BUILD)/libcs.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(shell pkg-config --libs criterion 2>/dev/null) $(LDLIBS)

$(BUILD)/%: tests/tools/%.c $(BUILD)/libcs.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# Everything a submission must pass. Ends with criterion's summary of the
# unit tests and the line "N passed, M failed" over the whole suite.
check: deps
	@$(MAKE) --no-print-directory all $(UNIT)
	@BUILD=$(BUILD) tests/run.sh

unit: $(UNIT)
	$(UNIT)

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) TIER="$(TIER)" tests/bench/run.sh

soak: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/bench/soak.sh

# libFuzzer harnesses, each for FUZZ_SECONDS (default 300) from tests/fuzz/corpus.
FUZZ_SECONDS ?= 300
fuzz: deps
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

# docs/metrics.md and dashboards/metrics.txt (down to its hand-kept
# self-metrics) are generated from the kind table (collectors/kinds.c);
# tests/integration/test_metric_reference.sh fails when either is stale.
metric-reference: $(BUILD)/metricref
	@$(BUILD)/metricref markdown >docs/metrics.md
	@$(BUILD)/metricref metrics-txt >dashboards/metrics.txt

valgrind: deps
	@$(MAKE) --no-print-directory all $(UNIT) OPT='-O0 -g'
	@BUILD=$(BUILD) VALGRIND=1 tests/run.sh

# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc] [UNITDIR=...]
#   PREFIX/bin/cs_exporter                       the binary
#   PREFIX/share/man/man1/cs_exporter.1          the manual
#   PREFIX/share/cs_exporter/                    everything under dashboards/, generate.py (with its
#                                                libconf.py and gen/ modules) to render them for your
#                                                config (generate.py --config FILE --out DIR):
#                                                grafana/, provisioning/ (its dashboard provider's
#                                                path set to PREFIX/share/cs_exporter/grafana),
#                                                rules/, runbook.md, alertmanager.yml; example.conf;
#                                                mapping recipes (recipes/)
#   SYSCONFDIR/cs_exporter/cs_exporter.conf      the example config, only when none is there
#   UNITDIR/cs_exporter.service                  the systemd unit (PREFIX/lib/systemd/system,
#                                                which systemd searches for /usr and /usr/local)
#   UNITDIR/cs_exporter.socket                   its socket unit, for socket activation
#                                                (--web.systemd-socket; not enabled)
# An existing config is never overwritten: upgrades keep the operator's file.
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/cs_exporter $(DESTDIR)$(SYSCONFDIR)/cs_exporter \
		$(DESTDIR)$(UNITDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/cs_exporter
	install -m 0644 docs/cs_exporter.1 $(DESTDIR)$(PREFIX)/share/man/man1/cs_exporter.1
	for u in cs_exporter.service cs_exporter.socket; do \
		sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			packaging/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	cd dashboards && find . -type f ! -name '*.py' ! -name '*~' ! -path '*/__pycache__/*' | LC_ALL=C sort | \
		while read -r f; do \
		install -D -m 0644 "$$f" "$(DESTDIR)$(PREFIX)/share/cs_exporter/$$f" || exit 1; \
	done
	install -m 0755 dashboards/generate.py $(DESTDIR)$(PREFIX)/share/cs_exporter/generate.py
	install -m 0644 dashboards/libconf.py $(DESTDIR)$(PREFIX)/share/cs_exporter/libconf.py
	install -d $(DESTDIR)$(PREFIX)/share/cs_exporter/gen
	install -m 0644 dashboards/gen/*.py $(DESTDIR)$(PREFIX)/share/cs_exporter/gen/
	sed -i 's|^\( *path: \)/usr/local/share/cs_exporter/|\1$(PREFIX)/share/cs_exporter/|' \
		$(DESTDIR)$(PREFIX)/share/cs_exporter/provisioning/dashboards/cs_exporter.yaml
	install -m 0644 config/example.conf $(DESTDIR)$(PREFIX)/share/cs_exporter/example.conf
	install -d $(DESTDIR)$(PREFIX)/share/cs_exporter/recipes
	install -m 0644 config/recipes/*.conf config/recipes/README.md $(DESTDIR)$(PREFIX)/share/cs_exporter/recipes/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/cs_exporter/cs_exporter.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/cs_exporter/cs_exporter.conf"; \
	else \
		echo "install -m 0644 config/example.conf $(DESTDIR)$(SYSCONFDIR)/cs_exporter/cs_exporter.conf"; \
		install -m 0644 config/example.conf $(DESTDIR)$(SYSCONFDIR)/cs_exporter/cs_exporter.conf; \
	fi

# make deb: a Debian package built with dpkg-deb alone (packaging/deb/build.sh):
# $(BUILD)/deb/cs-exporter_VERSION-1_ARCH.deb, from its own hardened objects.
deb:
	@packaging/deb/build.sh $(BUILD) $(VERSION)

FORMAT_FILES = $(foreach d,$(SRC_DIRS) tests/unit tests/tools tests/fuzz,$(wildcard $(d)/*.[ch]))

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf build
