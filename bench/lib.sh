# Sourced by the bench scripts: where the binaries are, and how they are built.
# By default every script builds what it runs in release mode and runs it from
# $CARGO_TARGET_DIR/release. With BENCH_BIN_DIR=DIR set, nothing is built and the binaries
# already in DIR are run: the test command passes its debug build, so that `bench/run
# --quick` checks the scripts without a release build (its figures are then meaningless).
bin="${BENCH_BIN_DIR:-${CARGO_TARGET_DIR:-target}/release}"

# Builds the given packages (cargo -p arguments) in release mode, unless BENCH_BIN_DIR is set.
build() {
    [ -n "${BENCH_BIN_DIR:-}" ] || cargo build --release --locked "$@" >&2
}
