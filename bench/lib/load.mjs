// How busy the machine was with other work while a benchmark ran (Linux only; elsewhere null).
// Machine-wide busy time comes from /proc/stat; this process's own time, including its children
// once they have exited and been waited for (utime, stime, cutime, cstime in /proc/self/stat),
// is subtracted. What remains is other processes' CPU, reported in cores on average.
import { readFileSync } from 'node:fs';

function read() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const idle = cpu[3] + (cpu[4] ?? 0);
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    // Fields after the command name, which is in parentheses and may contain spaces.
    const self = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime are fields 14-17 of the whole line, 12-15 after "(comm) ".
    const own = Number(self[11]) + Number(self[12]) + Number(self[13]) + Number(self[14]);
    return { busy: total - idle, total, own };
  } catch {
    return null;
  }
}

/** Starts a measurement; call the result to get `{ otherCores, busyCores }` since then. */
export function loadProbe(cores) {
  const before = read();
  return () => {
    const after = read();
    if (!before || !after || after.total === before.total) return null;
    // `total` counts every CPU's ticks, so ticks per CPU = total / cores.
    const elapsedPerCpu = (after.total - before.total) / cores;
    const busyCores = (after.busy - before.busy) / elapsedPerCpu;
    const ownCores = (after.own - before.own) / elapsedPerCpu;
    return {
      busyCores: Math.round(busyCores * 100) / 100,
      otherCores: Math.round(Math.max(0, busyCores - ownCores) * 100) / 100,
    };
  };
}
