/** The `steadfast` command as tests run it: a real process, to completion, with its output collected. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const STEADFAST_BIN = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `steadfast ARGS` and wait for it to exit. STEADFAST_DATA is cleared so that a developer's own
 * setting never points a test at a real data directory; `env` replaces the rest of the environment.
 */
export function runCli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STEADFAST_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...(options.env ?? process.env), STEADFAST_DATA: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
