// Where test/support/tools.ts keeps promtool when the machine has none on PATH.
import { resolve } from 'node:path';

export const PROMTOOL_CACHE = resolve(import.meta.dirname, '../../node_modules/.cache/redis-ha-launcher/promtool');
