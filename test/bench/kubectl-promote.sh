#!/bin/sh
# The comparison for the bench: a client-reconfig-script the way the launcher design's promote.sh works (stable/redis-ha
# 2.x): label the pod with the new master's IP ($6) master and every other pod labelled master slave, with kubectl
# against the same API. Written for the bench; not part of the product.
set -eu
to_ip=$6
pods=$(kubectl get pods -n "$NAMESPACE" -l "$SELECTOR" \
  -o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP} {.metadata.labels.redis-role}{"\n"}{end}')
printf '%s\n' "$pods" |
  while read -r name ip role; do
    if [ "$ip" = "$to_ip" ]; then
      kubectl label --overwrite -n "$NAMESPACE" pod "$name" redis-role=master >/dev/null
    elif [ "$role" = master ]; then
      kubectl label --overwrite -n "$NAMESPACE" pod "$name" redis-role=slave >/dev/null
    fi
  done
