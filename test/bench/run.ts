// Benchmarks (npm run bench) print figures and ratios; targets come with the performance issue.
// Until then this placeholder says so instead of pretending to measure.
console.log(
  'bench: no benchmarks yet (the performance issue defines the targets); timings of boot, failover relabel and ' +
    'promote are reported by the integration tests as diagnostics.',
);
