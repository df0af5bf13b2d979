// One line per message on stderr (stdout belongs to Redis/Sentinel in the container log): time, level, text.

type Level = 'info' | 'warn' | 'error';
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');
let tag = 'launcher';

function write(level: Level, msg: string) {
  sink(`${new Date().toISOString()} ${tag} ${level.toUpperCase().padEnd(5)} ${msg}`);
}

export const log = {
  info: (msg: string) => write('info', msg),
  warn: (msg: string) => write('warn', msg),
  error: (msg: string) => write('error', msg),
  setTag: (t: string) => {
    tag = t;
  },
  setSink: (s: (line: string) => void) => {
    sink = s;
  },
};
