#!/usr/bin/env bash
# The check step of the GitHub Action (action.yml): runs `kubereach check` on the workspace and
# writes SARIF. Inputs arrive as environment variables, never interpolated into this script:
#   INPUT_PATHS       files or folders to analyse, one per line (default: the workspace)
#   INPUT_PROFILE     cluster profile (passed only when set)
#   INPUT_CONFIG      configuration file (passed only when set)
#   INPUT_FAIL_ON     error, warning, note or never (default: warning)
#   INPUT_CATEGORY    SARIF category, written as `automationDetails.id` `<category>/`
#   INPUT_SARIF_FILE  where to write the SARIF (default: $RUNNER_TEMP/kubereach.sarif)
# Writes `sarif-file` (absolute path, only once a report exists) and `exit-code` to $GITHUB_OUTPUT.
# Exits with kubereach's code: 1 when a finding is at or above the fail-on level, 2 on a usage or
# configuration error. The upload step runs after a failure, so findings still reach code scanning.
set -uo pipefail

fail() {
  echo "::error title=kubereach::$1"
  exit 2
}

cd "${GITHUB_WORKSPACE:-.}" || fail "cannot enter the workspace"

sarif=${INPUT_SARIF_FILE:-}
if [[ -z $sarif ]]; then
  sarif="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/kubereach.sarif"
fi
# A newline would let the value forge other outputs in $GITHUB_OUTPUT.
[[ $sarif != *$'\n'* ]] || fail "sarif-file must not contain a newline"
# Absolute, so that the upload step finds it whatever its working folder (`D:\…` on Windows).
[[ $sarif == /* || $sarif == [A-Za-z]:* ]] || sarif="$PWD/$sarif"
mkdir -p "$(dirname "$sarif")" || fail "cannot create the folder of $sarif"

args=(check --format sarif --output "$sarif" --fail-on "${INPUT_FAIL_ON:-warning}")
if [[ -n ${INPUT_CATEGORY:-} ]]; then args+=(--category "$INPUT_CATEGORY"); fi
if [[ -n ${INPUT_CONFIG:-} ]]; then args+=(--config "$INPUT_CONFIG"); fi
if [[ -n ${INPUT_PROFILE:-} ]]; then args+=(--profile "$INPUT_PROFILE"); fi

paths=()
while IFS= read -r line; do
  # Surrounding blanks are YAML indentation, not part of a path.
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  if [[ -n $line ]]; then paths+=("$line"); fi
done <<<"${INPUT_PATHS:-}"
if [[ ${#paths[@]} -eq 0 ]]; then paths=(.); fi

command -v kubereach >/dev/null 2>&1 || fail "kubereach is not on PATH (the install step did not run or failed)"
# Quoted, so that no input can start a line that the runner would read as a workflow command.
printf 'running: kubereach'
printf ' %q' "${args[@]}" -- "${paths[@]}"
printf '\n'

rm -f "$sarif"
kubereach "${args[@]}" -- "${paths[@]}"
code=$?

if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  {
    # Only a complete report is worth uploading: exit 0 and 1 write one, exit 2 does not.
    if [[ ($code -eq 0 || $code -eq 1) && -s $sarif ]]; then echo "sarif-file=$sarif"; fi
    echo "exit-code=$code"
  } >>"$GITHUB_OUTPUT"
fi
case $code in
  0) echo "kubereach: no finding fails the step (fail-on ${INPUT_FAIL_ON:-warning})" ;;
  1) echo "::error title=kubereach::findings at or above ${INPUT_FAIL_ON:-warning}; see the code scanning alerts or $sarif" ;;
  *) echo "::error title=kubereach::kubereach check failed (exit $code)" ;;
esac
exit "$code"
