# The build: a static library (core/, autograd/, and the layers above as they come),
# the doctest suite, and one program per folder under examples/.
#
#   make            library, tests and examples           (build/)
#   make test       builds and runs the whole test suite
#   make demo       builds and runs the main job on the bundled data
#   make protein    builds and runs the protein language model's default run
#   make bench      builds the benchmark program as build/bench
#   make install PREFIX=DIR   headers, static library and pkg-config file (default /usr/local)
#   make custom_attention     a user's program against that install: build/custom_attention
#   make test SANITIZE=1   the same under AddressSanitizer + UBSan (build-asan/)
#   make CXX=clang++       any of the above with clang (build-clang/, build-asan-clang/)
#   make clang-check       builds everything with clang, warnings as errors, and runs the tests
#   make fuzz              builds the libFuzzer targets of the loaders and the flags (tests/fuzz/) and runs each
#                          for FUZZ_SECONDS (default 20) seconds
#   make deps       installs missing Debian packages (as root) or prints the command
#   make MPICXX=    builds without MPI even where it is installed (distributed/ then
#                   runs one process, and the tests that need two are skipped)
#
# The CUDA backend is built when nvcc is found (on PATH, or in /usr/local/cuda/bin);
# otherwise core/cuda/cuda_stub.cpp makes every CUDA entry point throw a clear error.
# Its kernels are also tested without nvcc or GPU, under the SIMT emulation of
# tests/cuda/simt.h; with a GPU present the tests compare the device with the CPU too.
#
# Data-parallel training (distributed/) is built on MPI when mpicxx is found, and on
# NCCL for CUDA tensors when nvcc, NCCL (in the CUDA toolkit) and MPI all are; it is
# a library of its own, so the main library and its headers never need MPI.
# `make test` runs its tests (build/tests_distributed) under mpirun with 2 processes.

CXX      ?= g++
NPROC    := $(shell nproc)
SANITIZE ?= 0
# Objects of another compiler go to their own folders (build-clang/, ...).
CLANG    := $(if $(findstring clang,$(notdir $(CXX))),1)
COMPILER_SUFFIX := $(if $(CLANG),-clang)
# clang reports every `omp simd` loop its vectorizer declines (all of them at -O1,
# float max reductions at -O3) as a warning: a missed optimization, not a fault of
# the code; our speed figures come from g++ builds.
CLANG_QUIET := $(if $(CLANG),-Wno-pass-failed)
ifeq ($(SANITIZE),1)
  BUILD    ?= build-asan$(COMPILER_SUFFIX)
  OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN    := -fsanitize=address,undefined
else ifeq ($(SANITIZE),fuzz)
  # The library as the fuzz targets link it (clang only): instrumented for libFuzzer's
  # coverage, AddressSanitizer and UBSan; the targets add libFuzzer's main when linked.
  BUILD    ?= build-fuzz
  OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  LDSAN    := -fsanitize=address,undefined
else
  BUILD    ?= build$(COMPILER_SUFFIX)
  OPTFLAGS := -O3 -march=native -g1
  LDSAN    :=
endif
WERROR ?=

# No -ffast-math anywhere: the numerics (NaN checks, exact masking, gradchecks) rely on IEEE floats.
CXXFLAGS := -std=c++20 $(OPTFLAGS) -Wall -Wextra $(CLANG_QUIET) $(if $(WERROR),-Werror) -fopenmp -I. -MMD -MP
# Link the OpenMP build of OpenBLAS by its own directory (and find it there at run
# time), so that another OpenBLAS variant installed later cannot take its place.
OPENBLAS_DIR := /usr/lib/$(shell $(CXX) -print-multiarch)/openblas-openmp
LDLIBS   := -L$(OPENBLAS_DIR) -Wl,-rpath,$(OPENBLAS_DIR) -lopenblas -fopenmp $(LDSAN)

# Debian packages the build needs. libopenblas-openmp-dev is the OpenMP build of
# OpenBLAS: matrix products share OpenMP's threads with our own loops.
# nlohmann-json3-dev reads and writes JSON (safetensors headers, run summaries);
# libcli11-dev parses the example programs' command lines (examples/common/flags.h);
# libopenmpi-dev and openmpi-bin: MPI for data-parallel training (distributed/);
# clang and libclang-rt-dev are for `make clang-check` and `make fuzz` only.
DEB_PACKAGES := g++ make libopenblas-openmp-dev doctest-dev libstb-dev nlohmann-json3-dev libcli11-dev libopenmpi-dev openmpi-bin
CLANG_PACKAGES := clang libclang-rt-dev libomp-dev

# CUDA: device code for sm_80 (A100) and sm_90 (H100), plus compute_90 PTX that the
# driver compiles for newer GPUs. Host-only CUDA files (core/cuda/*.cpp) need just
# the toolkit's headers. Kernels defined in headers are `inline` for the host
# compiler (tests include them in several files); nvcc warns that it ignores that
# (warning 20050) while emitting them as weak symbols, as it does template kernels.
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
ifneq ($(NVCC),)
  CUDA_HOME := $(realpath $(dir $(realpath $(NVCC)))..)
  CUDA_SRCS := $(wildcard core/cuda/*.cu core/cuda/attention/*.cu)
  CUDA_CPPS := $(filter-out core/cuda/cuda_stub.cpp,$(wildcard core/cuda/*.cpp))
  NVCCFLAGS := -std=c++20 -O3 -I. --expt-relaxed-constexpr -diag-suppress 20050 -Xcompiler -Wall,-Wextra -MMD -MP \
               -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90]
  CUDA_LIBS := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart
  CUDA_INCLUDE := -I$(CUDA_HOME)/include
else
  CUDA_SRCS :=
  CUDA_CPPS := core/cuda/cuda_stub.cpp
  CUDA_LIBS :=
  CUDA_INCLUDE :=
endif
LDLIBS += $(CUDA_LIBS)

# MPI: the flags of Open MPI's wrapper compiler (--showme:compile / --showme:link),
# without its deprecated C++ bindings (OMPI_SKIP_MPICXX, and MPICH's equivalent:
# the C API is all we call). Only distributed/mpi.cpp and the distributed
# tests include mpi.h. Without mpicxx, distributed/single_process.cpp stands in.
ifeq ($(origin MPICXX),undefined)
  MPICXX := $(shell command -v mpicxx 2>/dev/null)
endif
ifneq ($(MPICXX),)
  MPI_CFLAGS := $(shell $(MPICXX) --showme:compile) -DOMPI_SKIP_MPICXX -DMPICH_SKIP_MPICXX -DTA_WITH_MPI
  MPI_LIBS   := $(filter-out -lmpi_cxx,$(shell $(MPICXX) --showme:link))
  MPIRUN     := $(shell command -v mpirun 2>/dev/null)
  DIST_WORLD := distributed/mpi.cpp
else
  MPI_CFLAGS :=
  MPI_LIBS   :=
  MPIRUN     :=
  DIST_WORLD := distributed/single_process.cpp
endif
# NCCL (distributed/ on CUDA tensors) ships with the CUDA toolkit and is bootstrapped
# over MPI, so it is built when nvcc, nccl.h, libnccl and MPI are all there.
NCCL_FOUND := $(if $(and $(NVCC),$(MPICXX)),$(and $(wildcard $(CUDA_HOME)/include/nccl.h),$(wildcard $(CUDA_HOME)/lib64/libnccl.so)))
ifneq ($(NCCL_FOUND),)
  DIST_NCCL := distributed/nccl_api_cuda.cpp
  NCCL_LIBS := -lnccl
else
  DIST_NCCL := distributed/nccl_api_stub.cpp
  NCCL_LIBS :=
endif
DIST_SRCS := $(filter-out distributed/mpi.cpp distributed/single_process.cpp distributed/nccl_api_%.cpp,\
               $(wildcard distributed/*.cpp)) $(DIST_WORLD) $(DIST_NCCL)
DIST_LDLIBS := $(MPI_LIBS) $(NCCL_LIBS)

LIB_DIRS  := core autograd layers attention optim viz
LIB_SRCS  := $(shell find $(LIB_DIRS) -name '*.cpp' -not -path 'core/cuda/*') $(CUDA_CPPS)
# tests/distributed/ is a test program of its own (build/tests_distributed, run
# under mpirun), with its own main; tests/fuzz/ holds libFuzzer targets (make fuzz).
TEST_SRCS := $(shell find tests -name '*.cpp' -not -path 'tests/fuzz/*' -not -path 'tests/distributed/*')
# The library parts of the CIFAR-10 and protein examples (all but their main.cpp)
# and the code they share (common/) are tested in tests/examples/, and in the
# data-parallel equivalence tests.
TESTED_EXAMPLES := cifar_gen protein_lm common
EXAMPLE_LIB_SRCS := $(filter-out %/main.cpp,$(foreach e,$(TESTED_EXAMPLES),$(wildcard examples/$(e)/*.cpp)))
TEST_SRCS += $(EXAMPLE_LIB_SRCS)
DIST_TEST_SRCS := $(wildcard tests/distributed/*.cpp)
# Every folder of examples/ with .cpp files is a program, except common/, whose code
# (flags, progress bar, run logs) is linked into each of them, and custom_attention/,
# a user's program built against the installed library (below).
EXAMPLES  := $(filter-out common custom_attention,$(sort $(notdir $(patsubst %/,%,$(dir $(wildcard examples/*/*.cpp))))))

LIB      := $(BUILD)/libtinyattn.a
LIB_OBJS := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o) $(CUDA_SRCS:%.cu=$(BUILD)/obj/%.o)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/obj/%.o)
EXAMPLE_BINS := $(EXAMPLES:%=$(BUILD)/%)
DIST_LIB := $(BUILD)/libtinyattn_distributed.a
DIST_OBJS := $(DIST_SRCS:%.cpp=$(BUILD)/obj/%.o)
DIST_TEST_OBJS := $(DIST_TEST_SRCS:%.cpp=$(BUILD)/obj/%.o) $(EXAMPLE_LIB_SRCS:%.cpp=$(BUILD)/obj/%.o)

.PHONY: all test demo protein bench deps clang-deps clang-check fuzz cuda-info mpi-info clean
all: deps cuda-info mpi-info $(LIB) $(DIST_LIB) $(BUILD)/tests $(BUILD)/tests_distributed $(EXAMPLE_BINS)

deps clang-deps: PACKAGES = $(DEB_PACKAGES) $(if $(filter clang-deps,$@),$(CLANG_PACKAGES))
deps clang-deps:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "deps: installing$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else echo "deps: missing Debian packages:$$missing"; \
	    echo "deps: run: sudo apt-get install -y$$missing"; exit 1; fi; \
	fi

cuda-info:
	@echo "cuda: $(if $(NVCC),building the CUDA backend with $(NVCC),nvcc not found: CPU-only build (CUDA entry points throw a clear error))"

mpi-info:
	@echo "mpi: $(if $(MPICXX),building distributed/ on MPI: $(MPICXX) ($(MPI_LIBS))$(if $(MPIRUN),, but no mpirun: the 2-process tests are skipped),mpicxx not found: distributed/ runs one process (the 2-process tests are skipped))"
	@echo "nccl: $(if $(NCCL_FOUND),building distributed/ for CUDA tensors on NCCL ($(CUDA_HOME)/lib64/libnccl.so),not built (needs nvcc, nccl.h and libnccl in the CUDA toolkit, and MPI): CUDA tensors cannot be reduced across processes)"

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(CUDA_CPPS:%.cpp=$(BUILD)/obj/%.o) $(BUILD)/obj/distributed/nccl_api_cuda.o: CXXFLAGS += $(CUDA_INCLUDE)
$(BUILD)/obj/distributed/mpi.o: CXXFLAGS += $(MPI_CFLAGS)
$(BUILD)/obj/tests/distributed/%.o: CXXFLAGS += $(MPI_CFLAGS)

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# --whole-archive keeps every op's registration in the test binary, so the
# gradient-coverage test sees ops that no other test calls.
# The examples' code in it runs data-parallel when started by mpirun, so it links
# the distributed library too (as one process it never starts MPI).
$(BUILD)/tests: $(TEST_OBJS) $(DIST_LIB) $(LIB)
	$(CXX) $(CXXFLAGS) $(TEST_OBJS) $(DIST_LIB) -Wl,--whole-archive $(LIB) -Wl,--no-whole-archive $(LDLIBS) $(DIST_LDLIBS) -o $@

$(DIST_LIB): $(DIST_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests_distributed: $(DIST_TEST_OBJS) $(DIST_LIB) $(LIB)
	$(CXX) $(CXXFLAGS) $(DIST_TEST_OBJS) $(DIST_LIB) $(LIB) $(LDLIBS) $(DIST_LDLIBS) -o $@

# Every program links the distributed library (the objects it does not use stay out).
.SECONDEXPANSION:
example_objs = $(patsubst %.cpp,$(BUILD)/obj/%.o,$(wildcard examples/$(1)/*.cpp examples/common/*.cpp))
$(EXAMPLE_BINS): $(BUILD)/%: $$(call example_objs,$$*) $(DIST_LIB) $(LIB)
	$(CXX) $(CXXFLAGS) $(filter %.o,$^) $(DIST_LIB) $(LIB) $(LDLIBS) $(DIST_LDLIBS) -o $@

# Passive waiting: an idle OpenMP thread sleeps instead of spinning, so the suite
# stays fast on a machine whose cores are busy with other work.
# Under AddressSanitizer the CUDA driver needs the shadow gap unprotected to map GPU memory.
# The tests of tests/examples/ also run the example programs next to the test binary.
TEST_ENV := OMP_WAIT_POLICY=passive $(if $(NVCC),$(if $(filter 1,$(SANITIZE)),ASAN_OPTIONS=protect_shadow_gap=0))
TESTED_PROGRAMS := $(BUILD)/cifar_gen $(BUILD)/protein_lm
test: deps cuda-info mpi-info
	@$(MAKE) --no-print-directory -j$(NPROC) $(BUILD)/tests $(BUILD)/tests_distributed $(TESTED_PROGRAMS)
	cd $(CURDIR) && $(TEST_ENV) $(BUILD)/tests
	$(DIST_TEST_RUN)

# The data-parallel tests: 2 processes of one thread each (the machine may have
# fewer cores: --oversubscribe; no pinning, so neither waits for the other's core),
# as root too where the tests run as root; a hang (a collective one rank never
# joins) ends at the timeout instead of blocking the suite. Under AddressSanitizer,
# LeakSanitizer is told to ignore what Open MPI's own libraries keep until exit
# (tests/distributed/lsan_open_mpi.supp); the full (slow) unwinder and Open MPI's
# plugins kept loaded make those stacks nameable, so nothing else is suppressed.
MPI_ASAN_ENV := -x OMPI_MCA_mca_base_component_disable_dlclose=1 -x ASAN_OPTIONS=fast_unwind_on_malloc=0$(if $(NVCC),:protect_shadow_gap=0) \
                -x LSAN_OPTIONS=suppressions=$(CURDIR)/tests/distributed/lsan_open_mpi.supp:print_suppressions=0
MPIRUN_FLAGS := -np 2 --oversubscribe --bind-to none $(if $(filter 0,$(shell id -u)),--allow-run-as-root) \
                -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY=passive $(if $(filter 1,$(SANITIZE)),$(MPI_ASAN_ENV))
# Then the abort check: an error on rank 1 while rank 0 waits must end both ranks
# with rank 1's message (tests/distributed/main.cpp), not hang until the timeout (124).
ifneq ($(MPIRUN),)
  DIST_TEST_RUN = cd $(CURDIR) && timeout 900 $(MPIRUN) $(MPIRUN_FLAGS) $(BUILD)/tests_distributed && \
    { timeout 120 $(MPIRUN) $(MPIRUN_FLAGS) $(BUILD)/tests_distributed --abort-check > $(BUILD)/abort_check.log 2>&1; \
      status=$$?; if [ $$status -eq 0 ] || [ $$status -eq 124 ] || \
                     ! grep -q "rank 1: error: abort check: rank 1 fails on purpose" $(BUILD)/abort_check.log; then \
        echo "distributed: FAILED: an error on rank 1 did not end both ranks with its message (status $$status):"; \
        cat $(BUILD)/abort_check.log; exit 1; fi; \
      echo "distributed: an error on rank 1 ended both ranks with its message (status $$status), as it should"; }
else
  DIST_TEST_RUN = @echo "distributed: MPI not found (mpicxx, mpirun): the tests that need 2 processes are skipped"; \
                  cd $(CURDIR) && $(TEST_ENV) $(BUILD)/tests_distributed
endif

# The CIFAR-10 default run: about four minutes on 2 idle cores (examples/cifar_gen/README.md),
# with passive waiting for the same reason.
demo: deps
	@$(MAKE) --no-print-directory -j$(NPROC) $(BUILD)/cifar_gen
	OMP_WAIT_POLICY=passive $(BUILD)/cifar_gen --show-attention

# The protein language model's default run: a few minutes on 2 cores (examples/protein_lm/README.md).
# Passive waiting as for the tests: on busy cores, spinning OpenMP threads cost it 3-5x.
protein: deps
	@$(MAKE) --no-print-directory -j$(NPROC) $(BUILD)/protein_lm
	OMP_WAIT_POLICY=passive $(BUILD)/protein_lm

bench: deps
	@$(MAKE) --no-print-directory -j$(NPROC) $(BUILD)/bench

# The whole tree with clang (build-clang/), warnings as errors, then its test suite:
# the CI step that keeps the code portable across compilers. The CUDA files are still
# compiled by nvcc, with its own host compiler. The suite runs on one thread: clang's
# OpenMP runtime (LLVM's libomp) is not the one Debian's OpenMP OpenBLAS is built for
# (GCC's libgomp), and an OpenBLAS call from a one-thread parallel region (the fused
# attention kernels make them) then never returns. Threaded clang builds need an
# OpenBLAS built for libomp, or its pthreads build.
clang-check: clang-deps
	@$(MAKE) --no-print-directory -j$(NPROC) CXX=clang++ WERROR=1 all
	cd $(CURDIR) && OMP_NUM_THREADS=1 $(TEST_ENV) build-clang/tests

# libFuzzer targets for the loaders and the examples' flags (tests/fuzz/README.md):
# the library and the examples' parts built with clang, instrumented, without the CUDA backend
# (build-fuzz/); each target runs for FUZZ_SECONDS on its own corpus folder, seeded
# from tests/data/ and by the target itself. A crash leaves its input in
# build-fuzz/fuzz/ and fails the target.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.cpp)))
FUZZ_EXAMPLE_SRCS := $(EXAMPLE_LIB_SRCS)
FUZZ_SEEDS_fuzz_safetensors := tests/data/safetensors_malformed
FUZZ_SEEDS_fuzz_checkpoint := tests/data/safetensors_malformed
define run_fuzzer
	@cd build-fuzz/fuzz && mkdir -p corpus/$(1) && echo "fuzz: $(1) for $(FUZZ_SECONDS) s (log: build-fuzz/fuzz/$(1).log)" && \
	{ ./$(1) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 corpus/$(1) \
	    $(addprefix $(CURDIR)/,$(FUZZ_SEEDS_$(1))) > $(1).log 2>&1; status=$$?; }; \
	grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY" $(1).log; \
	[ $$status = 0 ] || { tail -n 40 $(1).log; exit 1; }

endef
fuzz: clang-deps
	@$(MAKE) --no-print-directory -j$(NPROC) CXX=clang++ SANITIZE=fuzz NVCC= $(FUZZ_TARGETS:%=build-fuzz/fuzz/%)
	$(foreach t,$(FUZZ_TARGETS),$(call run_fuzzer,$(t)))

ifeq ($(SANITIZE),fuzz)
$(BUILD)/fuzz/%: tests/fuzz/%.cpp $(FUZZ_EXAMPLE_SRCS:%.cpp=$(BUILD)/obj/%.o) $(DIST_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -fsanitize=fuzzer $< $(FUZZ_EXAMPLE_SRCS:%.cpp=$(BUILD)/obj/%.o) $(DIST_LIB) $(LIB) $(LDLIBS) $(DIST_LDLIBS) -o $@
endif

clean:
	rm -rf build build-asan build-clang build-asan-clang build-fuzz

# ---- install, and a user's program built against it ------------------------------------
# `make install PREFIX=DIR` (default /usr/local; DESTDIR for packaging) writes
#   DIR/include/tinyattn/   tinyattn.h and every header of the library's folders, in
#                           the repository's layout (they include each other as
#                           "core/tensor.h"; pkg-config puts this folder on the path)
#   DIR/lib/libtinyattn.a
#   DIR/lib/pkgconfig/tinyattn.pc   (from tinyattn.pc.in: Cflags, and Libs with what
#                           this build links: OpenBLAS-openmp, OpenMP, CUDA if built)
# Files whose content has not changed are left untouched (install -C).
# examples/custom_attention is compiled as its users compile it: against an install
# into $(BUILD)/staging, with the flags pkg-config gives and nothing of the
# repository on its include path, so building it proves the install works.
PREFIX ?= /usr/local
DEB_PACKAGES += pkgconf
INSTALL_HEADERS := tinyattn.h $(shell find $(LIB_DIRS) -name '*.h')

# $(call install_headers,DIR)
define install_headers
	@echo "install: $(words $(INSTALL_HEADERS)) headers -> $(1)/include/tinyattn"
	@for h in $(INSTALL_HEADERS); do install -C -D -m 644 $$h $(1)/include/tinyattn/$$h || exit 1; done
endef
# $(call install_library,DIR,PREFIX written into the .pc file)
define install_library
	install -C -D -m 644 $(LIB) $(1)/lib/libtinyattn.a
	@mkdir -p $(1)/lib/pkgconfig
	sed -e 's|@PREFIX@|$(2)|' -e 's|@LIBS@|$(strip $(LDLIBS))|' tinyattn.pc.in > $(BUILD)/tinyattn.pc
	install -C -m 644 $(BUILD)/tinyattn.pc $(1)/lib/pkgconfig/tinyattn.pc
endef

.PHONY: install custom_attention test-custom-attention
install: $(LIB)
	$(if $(strip $(PREFIX)),,$(error install: PREFIX is empty))
	$(call install_headers,$(DESTDIR)$(abspath $(PREFIX)))
	$(call install_library,$(DESTDIR)$(abspath $(PREFIX)),$(abspath $(PREFIX)))

STAGING        := $(BUILD)/staging
STAGED_HEADERS := $(STAGING)/include/tinyattn/.installed
STAGED_LIB     := $(STAGING)/lib/libtinyattn.a
STAGED_PKG     := PKG_CONFIG_PATH=$(STAGING)/lib/pkgconfig pkg-config
CUSTOM_OBJS    := $(patsubst %.cpp,$(BUILD)/obj/%.o,$(wildcard examples/custom_attention/*.cpp))
# The library's own compiler flags, without its include path and OpenMP (a user's
# program gets both from pkg-config).
CUSTOM_CXXFLAGS := $(filter-out -I. -MMD -MP -fopenmp,$(CXXFLAGS))

$(STAGED_HEADERS): $(INSTALL_HEADERS)
	$(call install_headers,$(STAGING))
	@touch $@
$(STAGED_LIB): $(LIB) tinyattn.pc.in
	$(call install_library,$(STAGING),$(abspath $(STAGING)))

$(CUSTOM_OBJS): $(BUILD)/obj/%.o: %.cpp $(wildcard examples/custom_attention/*.h) $(STAGED_HEADERS) | $(STAGED_LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CUSTOM_CXXFLAGS) $$($(STAGED_PKG) --cflags tinyattn) -c $< -o $@
$(BUILD)/custom_attention: $(CUSTOM_OBJS) $(STAGED_LIB)
	$(CXX) $(OPTFLAGS) $(CUSTOM_OBJS) $$($(STAGED_PKG) --libs tinyattn) -o $@

all: $(BUILD)/custom_attention
custom_attention: deps
	@$(MAKE) --no-print-directory -j$(NPROC) $(BUILD)/custom_attention

# `make test` also runs the conformance suite on the program's own variant, and
# trains it for a few steps (a second or two: the program runs end to end).
test: test-custom-attention
test-custom-attention: deps cuda-info
	@$(MAKE) --no-print-directory -j$(NPROC) $(BUILD)/custom_attention
	$(TEST_ENV) $(BUILD)/custom_attention --check
	$(TEST_ENV) $(BUILD)/custom_attention --steps 5 --eval-seqs 16

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
