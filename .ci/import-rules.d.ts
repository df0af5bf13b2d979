// Types of import-rules.js, for the test that checks it (test/unit/import-rules.test.ts).
import type { Linter } from 'eslint';

declare const importRules: Linter.Config[];
export default importRules;
