// Which code may import which, by folder (the README's contributor map says what each folder is). A later block
// replaces an earlier one's list for the files both match, so the stricter blocks come last and repeat what they
// keep. test/unit/import-rules.test.ts checks that each rule catches what it forbids.
const rule = '@typescript-eslint/no-restricted-imports';
const forbid = (...patterns) => ({ [rule]: ['error', { patterns }] });
const folders = (names) => ({
  regex: `(^|/)(${names.join('|')})/`,
  message: `this folder may not import ${names.join('/, ')}/ (see .ci/import-rules.js)`,
});

export default [
  {
    // The adapters and plumbing every mode shares never import a mode or a command.
    files: ['src/kube/**/*.ts', 'src/redis/**/*.ts', 'src/runtime/**/*.ts', 'src/config/**/*.ts'],
    rules: forbid(folders(['sentinel', 'cluster', 'commands'])),
  },
  {
    // The plain shared data and text at the top import nothing of the product's folders.
    files: ['src/model.ts', 'src/engines.ts', 'src/text-table.ts'],
    rules: forbid(folders(['sentinel', 'cluster', 'commands', 'kube', 'redis', 'runtime', 'config'])),
  },
  { files: ['src/sentinel/**/*.ts'], rules: forbid(folders(['cluster', 'commands'])) },
  { files: ['src/cluster/**/*.ts'], rules: forbid(folders(['sentinel', 'commands'])) },
  { files: ['src/main.ts'], rules: forbid(folders(['commands'])) },
  {
    // Pure rules: the shared model, the names and types of the settings, the status table, and sibling rules.
    // Packages only for their types.
    files: ['src/**/rules/**/*.ts'],
    rules: forbid(
      {
        regex: '^\\.\\./(?!\\.\\./(model|engines|text-table|config/types|config/names)\\.ts$)',
        message:
          'a rule imports only model.ts, engines.ts, text-table.ts, config/types.ts, config/names.ts and sibling rules',
      },
      { regex: '^(?!\\.|node:)', allowTypeImports: true, message: 'a rule imports packages only for their types' },
      { regex: '^node:', message: 'a rule does no I/O: no node: modules' },
    ),
  },
  {
    // The promote hook Sentinel runs at each failover loads nothing heavy: node: modules and its protocol only.
    files: ['src/hook-main.ts', 'src/sentinel/promote/hook-client.ts', 'src/sentinel/promote/hook-protocol.ts'],
    rules: forbid({
      regex: '^(?!node:)(?!.*hook-(client|protocol)\\.ts$)',
      message: 'the promote hook imports only node: modules and its protocol (keep its bundle small)',
    }),
  },
];
