#!/usr/bin/env bash
# Usage: scripts/ci/nightly-data.sh fetch|save DIR   (in the repository's checkout)
# The nightly's history and baselines live on the branch nightly-data of origin.
#   fetch  DIR becomes a worktree of that branch (an empty orphan on the first night), with
#          baselines/ and history/.
#   save   commits DIR's changes and pushes them to nightly-data; nothing changed, nothing pushed.
# On a runner the checkout keeps no credentials: with GH_TOKEN set, git asks a credential helper
# that reads it from the environment, so the token is on no command line and in no file.
set -euo pipefail
usage="usage: nightly-data.sh fetch|save DIR"
action=${1:?$usage} dir=${2:?$usage}
auth=()
if [[ -n "${GH_TOKEN:-}" ]]; then
    # shellcheck disable=SC2016 # the helper's own shell expands $GH_TOKEN, when git asks
    auth=(-c 'credential.helper=!f() { echo username=x-access-token; echo "password=$GH_TOKEN"; }; f')
fi

case "$action" in
    fetch)
        if git "${auth[@]}" ls-remote --exit-code origin nightly-data >/dev/null; then
            git "${auth[@]}" fetch --depth 1 origin nightly-data
            git worktree add "$dir" FETCH_HEAD
        else
            git worktree add --detach "$dir"
            git -C "$dir" checkout -q --orphan nightly-data
            git -C "$dir" rm -rfq --ignore-unmatch .
        fi
        mkdir -p "$dir/baselines" "$dir/history"
        ;;
    save)
        git -C "$dir" add -A
        if git -C "$dir" diff --cached --quiet; then
            echo "nightly-data.sh: nothing changed in $dir" >&2
            exit 0
        fi
        git -C "$dir" -c user.name="abibench nightly" -c user.email="nightly@abibench.invalid" \
            commit -qm "nightly ${GITHUB_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)}"
        git -C "$dir" "${auth[@]}" push origin HEAD:nightly-data
        ;;
    *)
        echo "nightly-data.sh: unknown action '$action' ($usage)" >&2
        exit 2
        ;;
esac
