#!/bin/sh
# A pod's container for the test harness (test/support/cluster.ts `entrypoint`), run by podman as the manifests
# run it: the image's own user (10001), a read-only root (no writable /tmp either: --read-only-tmpfs=false), every
# capability dropped, no privilege escalation; the data directory (Redis container only) and the config directory
# as volumes (owned by the container's user, as fsGroup makes them), the kubeconfig read-only (where Kubernetes
# mounts the ServiceAccount's token instead). The pod's network is the host's loopback address the harness gave it
# (--network host), so the stand-in API and the other pods are reached as before.
#   podman-entry.sh IMAGE [launcher arguments...]
# With RHL_INJECT_DIR set, IMAGE is a stock engine image (no Node): the launcher comes from that directory (what the
# launcher-only image's init container copied into the pod's emptyDir), run as manifests/components/stock-engine-image
# runs it: tini, then Node and the bundle from /launcher.
# The launcher's settings (RHL_SETTINGS names them, test/support/containers.ts) are passed on by name, so no value
# appears in podman's argv; a setting that names a host file or directory other than the two mapped here stops
# this script (it would not exist in the container). RHL_TEST_LABEL labels the container for its run's cleanup.
# SIGTERM reaches the container through podman's signal proxy. SIGKILL cannot be proxied: a watchdog in its own
# session removes the container as soon as this process is gone, as a dead node takes its containers with it.
set -eu
image=$1
shift
role=$(basename "$REDIS_CONF_DIR") # conf (the Redis container) or sentinel
name="rhl-test-${POD_NAME}-${role}-$$"
mkdir -p "$REDIS_DATA_DIR" "$REDIS_CONF_DIR"
setsid sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.1; done; podman rm -f -t 0 "$2"' sh "$$" "$name" \
  </dev/null >/dev/null 2>&1 &
if [ -n "${RHL_INJECT_DIR:-}" ]; then
  set -- -v "$RHL_INJECT_DIR:/launcher:ro" -e LAUNCHER_PROMOTE_SCRIPT=/launcher/launcher-promote \
    --entrypoint /launcher/tini "$image" -- /launcher/node --max-semi-space-size=1 /launcher/launcher.mjs "$@"
else
  set -- "$image" "$@"
fi
if [ "$role" != sentinel ]; then set -- -v "$REDIS_DATA_DIR:/data:U" "$@"; fi
set -- --rm --name "$name" --label "${RHL_TEST_LABEL:-rhl-test=1}" --label "rhl-pod=$POD_NAME" --network host \
  --read-only --read-only-tmpfs=false --cap-drop=all --security-opt no-new-privileges --user 10001:10001 \
  -v "$REDIS_CONF_DIR:/etc/redis-ha:U" -v "$KUBECONFIG:/etc/kubeconfig:ro,U" \
  -e KUBECONFIG=/etc/kubeconfig -e REDIS_DATA_DIR=/data -e REDIS_CONF_DIR=/etc/redis-ha "$@"
prefixed=$(env | sed -n 's/^\(\(POD\|REDIS\|SENTINEL\|LAUNCHER\|HANDOVER\|LISTEN\|PROBE\|CLUSTER\|FENCE\)_[A-Z0-9_]*\)=.*/\1/p')
for n in ${RHL_SETTINGS:-} $prefixed; do
  eval "set_=\${$n+x}"
  [ -n "$set_" ] || continue
  case " $* " in *" -e $n "*) continue ;; esac # named twice
  case $n in
    REDIS_DATA_DIR | REDIS_CONF_DIR | LAUNCHER_PROMOTE_SCRIPT) ;;
    *_FILE | *_DIR | *_BIN | *_SCRIPT)
      echo "podman-entry.sh: $n names a host path, which this container does not mount" >&2
      exit 2
      ;;
    *) set -- -e "$n" "$@" ;;
  esac
done
exec podman run "$@"
