/** CPU time and memory of another process, from /proc (Linux). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * Peak and current resident set size in MB, and the current split: anonymous memory (heap, buffers) and
 * file-backed pages (mostly the mapped executable itself, shared with the page cache).
 */
export function memoryMB(pid: number): { peakRssMB: number; rssMB: number; anonMB: number; fileMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (key: string) => {
    const kb = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return Math.round(Number(kb ?? Number.NaN) / 1024);
  };
  return { peakRssMB: mb('VmHWM'), rssMB: mb('VmRSS'), anonMB: mb('RssAnon'), fileMB: mb('RssFile') };
}

/** CPU share of one core over `seconds` (after `warmUpMs`), then memory, of a running process. */
export async function measureProcess(
  pid: number,
  seconds: number,
  warmUpMs = 5000,
): Promise<{
  cpuPercentOfOneCore: number;
  peakRssMB: number;
  rssMB: number;
  anonMB: number;
  fileMB: number;
}> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await sleep(warmUpMs); // JIT, first cycles, first history pages
  const cpuStart = cpuSeconds(pid);
  const wallStart = performance.now();
  await sleep(seconds * 1000);
  const cpu = cpuSeconds(pid) - cpuStart;
  const wall = (performance.now() - wallStart) / 1000;
  return { cpuPercentOfOneCore: Number(((cpu / wall) * 100).toFixed(2)), ...memoryMB(pid) };
}

/**
 * Drops a file's pages from the page cache (written back first), so the next process that maps it
 * starts as it would after a reboot, reading it from disk. The binary the benchmark has just built sits
 * in the cache as the build wrote it, in larger folios; a process maps whole folios, so the same run
 * counts some 15 to 20 MB more of the executable in its RSS than a binary read from disk (measured).
 */
export function dropFromPageCache(file: string): void {
  execFileSync('sync', [file]);
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}
