#!/usr/bin/env bash
# Runs the Pulumi CLI (the `pulumi` npm package) against a local file state backend, so no
# account is needed. Usage: scripts/pulumi.sh <up|preview|destroy|...> [args]; STACK picks the
# stack (default dev).
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${STACK:-dev}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
if [ -z "${PULUMI_CONFIG_PASSPHRASE+x}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  if [ "$stack" = dev ]; then
    # The dev stack holds only a generated password for a registry on localhost.
    export PULUMI_CONFIG_PASSPHRASE="private-registry-dev"
  else
    echo "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for stack '$stack'." >&2
    exit 2
  fi
fi
mkdir -p .pulumi-state
npx --no-install pulumi stack select "$stack" --create --secrets-provider passphrase >/dev/null
exec npx --no-install pulumi "$@" --stack "$stack"
