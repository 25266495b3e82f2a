# Sourced by the scripts that compare socprof with onnxruntime (scripts/bench/networks,
# int8-networks, onnx-outputs): builds socprof once and checks the Python packages.
# Usage: socprof_onnx_bench_setup TOP    (sets bin to the release socprof)

socprof_onnx_bench_setup() {
    local top=$1 pkg
    "$top/scripts/socprof" --version >/dev/null   # builds once
    bin="$top/.build/release/socprof"
    for pkg in numpy onnx onnxruntime; do
        if ! python3 -c "import $pkg" 2>/dev/null; then
            echo "$pkg is not installed: pip install onnx onnxruntime (the reference; numpy comes with them)" >&2
            exit 1
        fi
    done
}
