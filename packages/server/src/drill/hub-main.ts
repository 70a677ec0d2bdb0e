/**
 * Stand-in launcher for a hub process, used by the drill only when `steadfast serve --role hub` does
 * not yet start hub mode (processes.ts tries the CLI first). Same code path as the CLI would use:
 * `startHub` from hub/.
 *
 *   node --import tsx hub-main.ts --database-url postgres://... [--port 0]
 *   (admin token from STEADFAST_HUB_ADMIN_TOKEN)
 */
import { startHub } from '../hub/index.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const databaseUrl = arg('--database-url') ?? process.env.STEADFAST_DATABASE_URL;
if (!databaseUrl) {
  process.stderr.write('error: --database-url is required (postgres://...)\n');
  process.exit(1);
}
const hub = await startHub({ databaseUrl, port: Number(arg('--port') ?? 0), host: '127.0.0.1' });
process.stdout.write(`Steadfast hub at ${hub.url}\n`);
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await hub.close();
