#!/usr/bin/env bash
# Makes a new Workron API token and prints it once, with the SHA-256 the gateway is configured
# with (the gateway stores hashes only, so a leaked configuration is no token). README "Tokens".
#
#   scripts/new-token.sh [NAME [SCOPES]]  a token for NAME (default: admin) with SCOPES, a comma
#                                         list of jobs:read, jobs:write, jobs:write:<queue>, admin
#                                         (default: admin), and the lines that configure it
#   scripts/new-token.sh --internal       a shared token for scheduler-core's internal API
#                                         (WORKRON_INTERNAL_API_TOKEN, the same on the gateway)
#   scripts/new-token.sh --compose [FILE] writes WORKRON_ADMIN_TOKEN_SHA256,
#                                         WORKRON_INTERNAL_API_TOKEN and WORKRON_KAFKA_PASSWORD
#                                         to FILE (default: .env next to docker-compose.yml)
#                                         unless set there, and prints the admin token
#
# Needs only bash, head, base64 and sha256sum (or shasum), so it runs where the JDK is not.
set -euo pipefail
umask 077 # .env holds the internal API token and the Kafka password

random_token() { # 32 random bytes, base64url without padding
  head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    printf '%s' "$1" | sha256sum | cut -d' ' -f1
  else
    printf '%s' "$1" | shasum -a 256 | cut -d' ' -f1
  fi
}

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case "${1:-}" in
  -h|--help) usage ;;
  --internal)
    [ $# -eq 1 ] || usage
    random_token
    echo
    exit 0
    ;;
  --compose)
    [ $# -le 2 ] || usage
    file="${2:-$(cd "$(dirname "$0")/.." && pwd)/.env}"
    touch "$file"
    chmod 600 "$file"
    # a last line without its newline would be joined with ours
    if [ -s "$file" ] && [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" != '\n' ]; then
      echo >>"$file"
    fi
    # the shared secrets docker-compose.yml asks for; one already in the file is kept
    for secret in WORKRON_INTERNAL_API_TOKEN WORKRON_KAFKA_PASSWORD; do
      if ! grep -q "^$secret=" "$file"; then
        echo "$secret=$(random_token)" >>"$file"
      fi
    done
    if grep -q '^WORKRON_ADMIN_TOKEN_SHA256=' "$file"; then
      echo "$file already has WORKRON_ADMIN_TOKEN_SHA256 (kept); remove that line to make a new admin token" >&2
      exit 0
    fi
    token="wrk_$(random_token)"
    hash="$(sha256_of "$token")"
    [ ${#hash} -eq 64 ] || { echo "could not hash the token (no sha256sum or shasum)" >&2; exit 1; }
    echo "WORKRON_ADMIN_TOKEN_SHA256=$hash" >>"$file"
    echo "token:  $token"
    echo "name:   admin"
    echo "scopes: admin"
    echo
    echo "Wrote its hash to $file. This is the only time the token is shown: keep it, e.g."
    echo "  export WORKRON_TOKEN=$token"
    echo "  curl -H \"Authorization: Bearer \$WORKRON_TOKEN\" http://localhost:8080/jobs"
    exit 0
    ;;
  -*) usage ;;
esac

[ $# -le 2 ] || usage
name="${1:-admin}"
scopes="${2:-admin}"
if ! [[ "$name" =~ ^[A-Za-z0-9._@-]{1,64}$ ]]; then
  echo "NAME must be 1 to 64 of [A-Za-z0-9._@-]: $name" >&2
  exit 2
fi
case "$scopes" in
  ""|,*|*,|*,,*) echo "SCOPES is a comma list without empty entries: $scopes" >&2; exit 2 ;;
esac
IFS=',' read -r -a list <<<"$scopes"
for scope in "${list[@]}"; do
  case "$scope" in
    jobs:read|jobs:write|admin) ;;
    jobs:write:*[[:space:]]*) echo "a queue name has no spaces: $scope" >&2; exit 2 ;;
    jobs:write:?*) [ ${#scope} -le $((11 + 128)) ] || { echo "a queue name has at most 128 characters" >&2; exit 2; } ;;
    *) echo "unknown scope $scope: use jobs:read, jobs:write, jobs:write:<queue>, admin" >&2; exit 2 ;;
  esac
done

token="wrk_$(random_token)"
hash="$(sha256_of "$token")"
[ ${#hash} -eq 64 ] || { echo "could not hash the token (no sha256sum or shasum)" >&2; exit 1; }
cat <<OUT
token:  $token
name:   $name
scopes: $scopes
sha256: $hash

This is the only time the token is shown; hand it to whoever uses it. Configure the gateway with
its hash, as token number N (0, 1, ...: one number per token):

  environment (docker compose, systemd, ...):
    WORKRON_AUTH_TOKENS_N_NAME=$name
    WORKRON_AUTH_TOKENS_N_SHA256=$hash
    WORKRON_AUTH_TOKENS_N_SCOPES=$scopes

  Kubernetes: add to the api-gateway container's env (k8s/README.md, "Tokens")
    - name: WORKRON_AUTH_TOKENS_N_NAME
      value: "$name"
    - name: WORKRON_AUTH_TOKENS_N_SHA256
      value: "$hash"
    - name: WORKRON_AUTH_TOKENS_N_SCOPES
      value: "$scopes"
OUT
