// ESLint (flat config) for the whole tree; `npm run lint` runs it together with Prettier's check.
// Kept in .ci/ because the repository's top level is fixed; paths below are relative to the repository root.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importRules from './import-rules.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'image/dist/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname + '/..' },
    },
    rules: {
      // Real bugs in this code's style: an un-awaited promise that can reject, or one passed where a callback's
      // result is ignored.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and describe() return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'multi-line'],
      'max-len': ['error', { code: 120, ignoreUrls: false }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...importRules,
  {
    // Tests and the stand-in API handle raw JSON objects and assert on them: `any` and `!` are the tests' own risk.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['bin/*.mjs'], languageOptions: { globals: { process: 'readonly' } } },
);
