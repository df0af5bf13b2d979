// Label and field selectors with kube-apiserver's grammar and matching rules
// (apimachinery pkg/labels/selector.go, pkg/fields/selector.go).
import { labelKeyErrors, labelValueErrors } from './labels.ts';

export class SelectorError extends Error {}

type Op = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';
type Requirement = { key: string; op: Op; values: string[] };
export type LabelSelector = Requirement[];

type Token = { kind: 'id' | 'op' | '(' | ')' | ',' | '!' | 'end'; text: string };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const special = '!=<>(),';
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(') {
      out.push({ kind: '(', text: c });
      i++;
      continue;
    }
    if (c === ')') {
      out.push({ kind: ')', text: c });
      i++;
      continue;
    }
    if (c === ',') {
      out.push({ kind: ',', text: c });
      i++;
      continue;
    }
    if (c === '!' && s[i + 1] === '=') {
      out.push({ kind: 'op', text: '!=' });
      i += 2;
      continue;
    }
    if (c === '!') {
      out.push({ kind: '!', text: c });
      i++;
      continue;
    }
    if (c === '=' && s[i + 1] === '=') {
      out.push({ kind: 'op', text: '==' });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      out.push({ kind: 'op', text: c });
      i++;
      continue;
    }
    let j = i;
    while (j < s.length && !special.includes(s[j]) && !' \t\n\r'.includes(s[j])) j++;
    out.push({ kind: 'id', text: s.slice(i, j) });
    i = j;
  }
  out.push({ kind: 'end', text: '' });
  return out;
}

const describe = (t: Token) => t.text;

/** Parses a label selector; throws SelectorError with the parser's message. */
export function parseLabelSelector(input: string): LabelSelector {
  const toks = tokenize(input);
  let p = 0;
  const reqs: Requirement[] = [];
  if (toks[0].kind === 'end') return reqs;
  const next = () => toks[p++];
  const peek = () => toks[p];
  for (;;) {
    let t = next();
    let req: Requirement;
    if (t.kind === '!') {
      const k = next();
      if (k.kind !== 'id') {
        throw new SelectorError(`unable to parse requirement: found '${describe(k)}', expected: identifier`);
      }
      req = { key: k.text, op: '!', values: [] };
    } else if (t.kind === 'id') {
      const key = t.text;
      const o = peek();
      if (o.kind === 'end' || o.kind === ',') {
        req = { key, op: 'exists', values: [] };
      } else if (o.kind === 'op') {
        next();
        const op: Op = o.text === '>' ? 'gt' : o.text === '<' ? 'lt' : (o.text as Op);
        const v = peek();
        let value = '';
        if (v.kind === 'id') {
          next();
          value = v.text;
        } else if (v.kind !== 'end' && v.kind !== ',') {
          throw new SelectorError(`unable to parse requirement: found '${describe(v)}', expected: identifier`);
        }
        if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(value)) {
          throw new SelectorError(
            `unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`,
          );
        }
        req = { key, op, values: [value] };
      } else if (o.kind === 'id' && (o.text === 'in' || o.text === 'notin')) {
        next();
        const open = next();
        if (open.kind !== '(') {
          throw new SelectorError(`unable to parse requirement: found '${describe(open)}', expected: '('`);
        }
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v.kind === 'id') {
            next();
            values.push(v.text);
          } else values.push('');
          const sep = next();
          if (sep.kind === ')') break;
          if (sep.kind !== ',') {
            throw new SelectorError(`unable to parse requirement: found '${describe(sep)}', expected: ',' or ')'`);
          }
        }
        req = { key, op: o.text as Op, values };
      } else {
        throw new SelectorError(
          `unable to parse requirement: found '${describe(o)}', expected: in, notin, =, ==, !=, gt, lt`,
        );
      }
    } else {
      throw new SelectorError(`unable to parse requirement: found '${describe(t)}', expected: !, identifier`);
    }
    for (const e of labelKeyErrors(req.key)) {
      throw new SelectorError(`unable to parse requirement: key: Invalid value: ${JSON.stringify(req.key)}: ${e}`);
    }
    if (req.op !== 'gt' && req.op !== 'lt') {
      for (const v of req.values) {
        for (const e of labelValueErrors(v)) {
          throw new SelectorError(
            `unable to parse requirement: values[0][${req.key}]: Invalid value: ${JSON.stringify(v)}: ${e}`,
          );
        }
      }
    }
    reqs.push(req);
    t = next();
    if (t.kind === 'end') return reqs;
    if (t.kind !== ',') throw new SelectorError(`found '${describe(t)}', expected: ',' or 'end of string'`);
  }
}

export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
      case '==':
      case 'in':
        return has && r.values.includes(v);
      case '!=':
      case 'notin':
        return !has || !r.values.includes(v);
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v)) return false;
        return r.op === 'gt' ? Number(v) > Number(r.values[0]) : Number(v) < Number(r.values[0]);
      }
    }
  });
}

// ---- field selectors ----

type FieldReq = { key: string; op: '=' | '!='; value: string };
export type FieldSelector = FieldReq[];

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
      continue;
    }
    if (s[i] === sep) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += s[i];
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(input: string, allowedKeys: readonly string[]): FieldSelector {
  if (input.trim() === '') return [];
  const out: FieldReq[] = [];
  for (const term of splitUnescaped(input, ',')) {
    let m: RegExpMatchArray | null = null;
    let op: '=' | '!=' | undefined;
    // find the first unescaped operator
    for (let i = 0; i < term.length; i++) {
      if (term[i] === '\\') {
        i++;
        continue;
      }
      if (term.startsWith('!=', i)) {
        op = '!=';
        m = [term.slice(0, i), term.slice(i + 2)];
        break;
      }
      if (term.startsWith('==', i)) {
        op = '=';
        m = [term.slice(0, i), term.slice(i + 2)];
        break;
      }
      if (term[i] === '=') {
        op = '=';
        m = [term.slice(0, i), term.slice(i + 1)];
        break;
      }
    }
    if (!m || !op) throw new SelectorError(`invalid selector: '${input}'; can't understand '${term}'`);
    const key = unescape(m[0]).trim();
    if (!allowedKeys.includes(key)) throw new SelectorError(`field label not supported: ${key}`);
    out.push({ key, op, value: unescape(m[1]) });
  }
  return out;
}

export function matchesFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  return sel.every((r) => ((fields[r.key] ?? '') === r.value) === (r.op === '='));
}
