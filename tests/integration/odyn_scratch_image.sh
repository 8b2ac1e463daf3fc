#!/usr/bin/env bash
# odyn is fully static and runs alone in an empty (FROM scratch) image:
# the image holds nothing but /sbin/odyn and its manifest.
#   odyn_scratch_image.sh ODYN_BINARY FIXTURES_DIR
set -euo pipefail
odyn="$1"; fixtures="$2"
export DOCKER_HOST="${DOCKER_HOST:-unix:///run/enclaver-docker/docker.sock}"
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. The binary is static: no program interpreter, no dynamic section.
file "$odyn" | grep -q "statically linked" || fail "file(1) does not call $odyn statically linked: $(file "$odyn")"
if readelf -l "$odyn" | grep -qE 'INTERP|DYNAMIC'; then fail "$odyn has an INTERP or DYNAMIC program header"; fi

# 2. An image FROM scratch: a one-layer image from a tarball with only odyn and the manifest.
work="$(mktemp -d)"
image="enclaver-test/odyn-scratch:$$"
cleanup() { docker rmi -f "$image" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root/sbin" "$work/root/etc/enclaver"
cp "$odyn" "$work/root/sbin/odyn"
cp "$fixtures/full.yaml" "$work/root/etc/enclaver/enclaver.yaml"
tar -C "$work/root" --owner=0 --group=0 -cf "$work/rootfs.tar" .
docker import --change 'ENTRYPOINT ["/sbin/odyn", "--check-config"]' "$work/rootfs.tar" "$image" >/dev/null
layers="$(docker image inspect -f '{{len .RootFS.Layers}}' "$image")"
[[ "$layers" == 1 ]] || fail "expected a single-layer image, got $layers layers"

# 3. It runs, loads /etc/enclaver/enclaver.yaml and prints it normalised.
out="$(docker run --rm --network none "$image" 2>&1)" || fail "odyn exited non-zero in the scratch image: $out"
grep -q '^\[odyn\] loaded /etc/enclaver/enclaver.yaml$' <<<"$out" || fail "no load line in: $out"
grep -q 'name: "fixture-app"' <<<"$out" || fail "normalised manifest missing in: $out"
grep -q 'prefix: "apps/fixture/"' <<<"$out" || fail "S3 prefix not normalised in: $out"

# 4. A bad manifest is reported with file, line and field, and odyn exits 1.
set +e
bad="$(docker run --rm --network none -v "$(realpath "$fixtures/broken.yaml")":/etc/enclaver/enclaver.yaml:ro "$image" 2>&1)"
code=$?
set -e
[[ $code == 1 ]] || fail "expected exit 1 for a bad manifest, got $code: $bad"
grep -q '/etc/enclaver/enclaver.yaml:6:1: ingres: unknown field "ingres"; did you mean `ingress`?' <<<"$bad" || fail "diagnostic missing in: $bad"
grep -q 'fatal: the manifest is invalid' <<<"$bad" || fail "no fatal line in: $bad"
echo "odyn runs in a FROM scratch image: ok"
