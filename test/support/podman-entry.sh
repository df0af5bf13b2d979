#!/bin/sh
# A pod's container for the test harness (test/support/cluster.ts `entrypoint`), run by podman as the manifests
# run it: the image's own user (10001), a read-only root, every capability dropped, no privilege escalation; the
# data and config directories as volumes (owned by the container's user, as fsGroup makes them), the kubeconfig
# read-only. The pod's network is the host's loopback address the harness gave it (--network host), so the
# stand-in API and the other pods are reached as before.
#   podman-entry.sh IMAGE [launcher arguments...]
# With RHL_INJECT_DIR set, IMAGE is a stock engine image (no Node): the launcher comes from that directory (what the
# launcher-only image's init container copied into the pod's emptyDir), run as manifests/components/stock-engine-image
# runs it: tini, then Node and the bundle from /launcher.
# The settings come from this process's environment, passed on by name (no value appears in podman's argv); the
# host's paths are mapped to the image's (/data, /etc/redis-ha).
# SIGTERM reaches the container through podman's signal proxy. SIGKILL cannot be proxied: a watchdog in its own
# session removes the container as soon as this process is gone, as a dead node takes its containers with it.
set -eu
image=$1
shift
name="rhl-test-${POD_NAME}-$(basename "$REDIS_CONF_DIR")-$$"
mkdir -p "$REDIS_DATA_DIR" "$REDIS_CONF_DIR"
setsid sh -c "while kill -0 $$ 2>/dev/null; do sleep 0.1; done; podman rm -f -t 0 $name" \
  </dev/null >/dev/null 2>&1 &
if [ -n "${RHL_INJECT_DIR:-}" ]; then
  set -- -v "$RHL_INJECT_DIR:/launcher:ro" -e LAUNCHER_PROMOTE_SCRIPT=/launcher/launcher-promote \
    --entrypoint /launcher/tini "$image" -- /launcher/node --max-semi-space-size=1 /launcher/launcher.mjs "$@"
else
  set -- "$image" "$@"
fi
set -- --rm --name "$name" --label rhl-test=1 --network host \
  --read-only --cap-drop=all --security-opt no-new-privileges --user 10001:10001 \
  -v "$REDIS_DATA_DIR:/data:U" -v "$REDIS_CONF_DIR:/etc/redis-ha:U" -v "$KUBECONFIG:/etc/kubeconfig:ro,U" \
  -e KUBECONFIG=/etc/kubeconfig -e REDIS_DATA_DIR=/data -e REDIS_CONF_DIR=/etc/redis-ha "$@"
for n in $(env | sed -n 's/^\(\(POD\|REDIS\|SENTINEL\|LAUNCHER\|HANDOVER\|LISTEN\|PROBE\)_[A-Z0-9_]*\)=.*/\1/p'); do
  case $n in
    *_DIR | *_BIN | *_FILE | *_SCRIPT) ;;
    *) set -- -e "$n" "$@" ;;
  esac
done
exec podman run "$@"
