#!/usr/bin/env bash
# The install step of the GitHub Action (action.yml). With INPUT_VERSION (`0.2.0`, `v0.2.0` or
# `latest`), downloads the release archive built for this runner from the action's repository
# (ACTION_REPOSITORY, on GITHUB_SERVER_URL), `kubereach-<target>.tar.gz` (`.zip` on Windows), and
# checks it against its `.sha256` when one is published. When there is none, or no version is
# given, builds the action's own source with `cargo install --locked`. Puts the binary on PATH for
# the later steps ($GITHUB_PATH).
# Inputs arrive as environment variables, never interpolated into this script.
set -euo pipefail

root="${RUNNER_TEMP:?RUNNER_TEMP is not set}/kubereach-install"
bin="$root/bin"
mkdir -p "$bin"

# The release target built for a runner; nothing for a runner without a prebuilt binary.
target() {
  case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# Downloads and unpacks the release binary; returns 1 (with a notice) when there is none to use.
download() {
  local version=$1 target repository=${ACTION_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}
  target=$(target)
  if [[ -z $target ]]; then
    echo "::notice title=kubereach::no prebuilt binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; building from source"
    return 1
  fi
  if [[ -z $repository ]]; then
    echo "::notice title=kubereach::the action's repository is unknown (a local action?); building from source"
    return 1
  fi
  local archive="kubereach-$target.tar.gz"
  [[ $target == *windows* ]] && archive="kubereach-$target.zip"
  local base
  # GITHUB_SERVER_URL is the GitHub Enterprise server where there is one.
  local server=${GITHUB_SERVER_URL:-https://github.com}
  if [[ $version == latest ]]; then
    base="$server/$repository/releases/latest/download"
  else
    base="$server/$repository/releases/download/v${version#v}"
  fi
  local work
  work=$(mktemp -d)
  if ! curl -fsSL --retry 3 -o "$work/$archive" "$base/$archive"; then
    echo "::notice title=kubereach::no release asset $base/$archive; building from source"
    return 1
  fi
  if curl -fsSL --retry 3 -o "$work/$archive.sha256" "$base/$archive.sha256"; then
    local expected actual
    expected=$(cut -d' ' -f1 <"$work/$archive.sha256")
    actual=$(sha256_of "$work/$archive")
    if [[ $expected != "$actual" ]]; then
      echo "::error title=kubereach::checksum mismatch for $archive (expected $expected, got $actual)"
      exit 1
    fi
  else
    echo "::warning title=kubereach::no checksum published for $archive; not verified"
  fi
  if [[ $archive == *.zip ]]; then
    unzip -q -o "$work/$archive" -d "$work/unpacked"
  else
    mkdir -p "$work/unpacked" && tar -xzf "$work/$archive" -C "$work/unpacked"
  fi
  local found
  found=$(find "$work/unpacked" -type f \( -name kubereach -o -name kubereach.exe \) | head -n 1)
  if [[ -z $found ]]; then
    echo "::error title=kubereach::$archive holds no kubereach binary"
    exit 1
  fi
  cp "$found" "$bin/"
  chmod +x "$bin/$(basename "$found")"
}

version=${INPUT_VERSION:-}
if [[ -z $version ]] || ! download "$version"; then
  command -v cargo >/dev/null 2>&1 || {
    echo "::error title=kubereach::cargo is needed to build kubereach from source (set up Rust, or give a released version)"
    exit 1
  }
  cargo install --locked --path "${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}" --root "$root"
fi
if [[ -n ${GITHUB_PATH:-} ]]; then echo "$bin" >>"$GITHUB_PATH"; fi
"$bin/kubereach" --version
