# Sourced by the scripts under scripts/bench: `socprof_help "$@"` prints the calling script's
# header comment (its usage, the lines after the #! line up to the first line that is not a
# comment) without the leading "# ", and exits 0, when the first argument is -h or --help.
socprof_help() {
    case "${1:-}" in
        -h|--help) sed -n '2,/^[^#]/{/^#/{s/^# \{0,1\}//;p}}' "${BASH_SOURCE[1]}"; exit 0 ;;
    esac
}
