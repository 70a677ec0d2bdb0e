/**
 * The `steadfast` command line. Every command that touches data takes `--data DIR` (or the
 * STEADFAST_DATA environment variable; default ./data) and, for PostgreSQL, `--database-url`.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command, Option } from 'commander';
import { roles, SteadfastError } from '@steadfast/domain';
import { exportNdjson } from '../records/export.ts';
import { API_TOKEN_MS } from '../auth/accounts.ts';
import { TwoFactor } from '../auth/twofactor.ts';
import { SQLITE_FILE } from '@steadfast/store';
import { readStdin, reportError, withNode, type DataOptions } from './common.ts';
import { importFile } from './import.ts';
import { serveForever, startServer, type ServeOptions } from './serve.ts';
import { capabilities } from '../capabilities.ts';
import { ensureWebAppBuilt } from '../webapp/build.ts';
import { describeSeed, seedData } from './seed.ts';
import { registerSyncCommands, serveHub, syncStatusLines } from '../sync/cli.ts';
import { registerDrillCommand } from './drill.ts';
import { addServeAtRestOptions, keyFileOption, registerAtRestCommands } from './atrest.ts';

const program = new Command();
program
  .name('steadfast')
  .description('Steadfast: a local-first clinical system for English GP practices')
  // One line pointing at --help: the whole help after an error scrolled the error itself off screen.
  .showHelpAfterError('(run the command with --help to see its options)')
  .configureHelp({ showGlobalOptions: true });

const dataOption = () => new Option('--data <dir>', 'data directory (env STEADFAST_DATA)').default(undefined, 'STEADFAST_DATA or ./data');
const initOption = () => new Option('--init', 'start a new empty practice when the --data directory does not exist yet (without it a mistyped --data is refused)');
const dbOption = () => new Option('--database-url <url>', 'PostgreSQL URL instead of SQLite in the data dir (env STEADFAST_DATABASE_URL)');

function dataCommand(name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .addOption(dataOption())
    .addOption(dbOption())
    .addOption(initOption());
}

const serve = addServeAtRestOptions(dataCommand('serve', 'serve the practice record over HTTP (FHIR at /fhir/R4, web app at /)').addOption(keyFileOption()))
  .addOption(new Option('--port <port>', 'HTTP port (env PORT)').default(undefined, 'PORT or 8080'))
  .option('--host <host>', 'address to listen on (env HOST)', undefined)
  .addOption(new Option('--role <role>', 'node (a practice) or hub (a region)').choices(['node', 'hub']))
  .option('--practice <ods>', 'ODS code of the practice (first use of a data dir only)')
  .option('--log', 'log each request to stdout')
  .option('--tls', 'serve HTTPS only (certificate from DATA/tls/, generated self-signed on first start when missing)')
  .option('--tls-cert <file>', 'PEM certificate (chain) to serve HTTPS with, instead of DATA/tls/cert.pem')
  .option('--tls-key <file>', 'PEM private key of --tls-cert, instead of DATA/tls/key.pem');
// Each capability's own flags (pathology's MLLP and laboratory link, backups, ...).
for (const capability of capabilities) for (const flag of capability.cli?.flags ?? []) serve.option(flag.flags, flag.description);
serve
  .action(async (options: ServeOptions & { role?: string; databaseUrl?: string }) => {
    if (options.role === 'hub') return serveHub(options);
    await ensureWebAppBuilt();
    const server = await startServer(options);
    process.stdout.write(`Steadfast ${server.node.identity.role} for practice ${server.node.identity.practice} at ${server.url}\n`);
    if (server.tls) {
      process.stdout.write(`  TLS certificate: ${server.tls.certPath}${server.tls.generated ? ' (self-signed, generated now)' : ''}, valid to ${server.tls.validTo}\n`);
      process.stdout.write(`  SHA-256 fingerprint: ${server.tls.fingerprint256}\n`);
    }
    process.stdout.write(`  data: ${server.node.dataDir}\n  FHIR: ${server.url}/fhir/R4\n`);
    await serveForever(server);
  });

dataCommand('seed', 'fill the data directory with a synthetic demo practice')
  .requiredOption('--patients <n>', 'how many patients')
  .option('--seed <s>', 'random seed (same seed, same practice)', '1')
  .option('--practice <ods>', 'ODS code of the practice (first use of a data dir only)')
  .action(async (options: DataOptions & { patients: string; seed: string }) => {
    const patients = Number(options.patients);
    if (!Number.isInteger(patients) || patients < 1) throw new SteadfastError('invalid', `--patients ${options.patients} is not a positive whole number`, { field: '--patients' });
    // Seeding is asked to make a practice: a new directory is what it is for.
    await withNode({ ...options, init: true }, async (node) => {
      const result = await seedData(node, { patients, seed: options.seed });
      process.stdout.write(`seeded ${describeSeed(result)}\n`);
    });
  });

dataCommand('import', 'import FHIR resources from an NDJSON file (one resource a line)')
  .argument('<file>', 'NDJSON file')
  .addOption(new Option('--on-error <mode>', 'at a bad line: stop, or skip it and carry on').choices(['stop', 'skip']).default('stop'))
  .option('--batch-size <n>', 'lines per transaction', '500')
  .option('--no-progress', 'no progress bar')
  .option('--workers <n>', 'validate lines on this many worker threads beside the writes (use with idle cores)', '0')
  .action(async (file: string, options: DataOptions & { onError: 'stop' | 'skip'; batchSize: string; progress: boolean; workers: string }) => {
    await withNode(options, async (node) => {
      const started = Date.now();
      const report = await importFile(node, file, {
        onError: options.onError,
        batchSize: Math.max(1, Number(options.batchSize) || 500),
        workers: Math.max(0, Math.min(16, Number(options.workers) || 0)),
        ...(options.progress === false ? { progress: false } : {}),
      });
      for (const e of report.errors) process.stderr.write(`line ${e.line}: ${e.message}\n`);
      const secs = (Date.now() - started) / 1000;
      process.stdout.write(
        `imported ${report.imported} resources from ${report.lines} lines in ${secs.toFixed(1)} s` +
          (report.existing ? `; ${report.existing} matched existing patients` : '') +
          (report.errors.length ? `; ${report.errors.length} bad line(s)${report.stopped ? ', stopped at the first' : ' skipped'}` : '') +
          '\n',
      );
      if (report.errors.length) process.exitCode = 1;
    });
  });

dataCommand('export', 'export every current resource as NDJSON (Patients first)')
  .option('--out <file>', 'write to this file instead of stdout')
  .action(async (options: DataOptions & { out?: string }) => {
    await withNode(options, async (node) => {
      const out = options.out ? createWriteStream(options.out) : process.stdout;
      let n = 0;
      for await (const line of exportNdjson(node.store)) {
        if (!out.write(`${line}\n`)) await once(out, 'drain');
        n += 1;
      }
      await node.audit.append([{ actor: { id: 'system:export', name: 'steadfast export', role: 'system', workstation: '' }, event: 'export', outcome: 'success', detail: `${n} resources${options.out ? ` to ${options.out}` : ''}` }]);
      if (options.out) {
        out.end();
        await once(out, 'finish');
        process.stderr.write(`exported ${n} resources to ${options.out}\n`);
      }
    });
  });

const users = program.command('users').description('staff accounts');
users
  .command('add')
  .description('add a user; the password is read from stdin')
  .addOption(dataOption())
  .addOption(initOption())
  .addOption(dbOption())
  .requiredOption('--username <u>', 'sign-in name')
  .addOption(new Option('--role <role>', 'what the user may do').choices([...roles]).makeOptionMandatory())
  .option('--name <name>', 'display name')
  .option('--password-stdin', 'read the password from stdin (required)')
  .action(async (options: DataOptions & { username: string; role: string; name?: string; passwordStdin?: boolean }) => {
    if (!options.passwordStdin) throw new SteadfastError('required', '--password-stdin is required', { hint: "e.g. echo 'long passphrase' | steadfast users add ... --password-stdin" });
    const password = (await readStdin()).replace(/\r?\n$/, '');
    await withNode(options, async (node) => {
      const user = await node.accounts.addUser({ username: options.username, role: options.role, password, ...(options.name ? { name: options.name } : {}) });
      process.stdout.write(`added ${user.username} (${user.role}) id ${user.id}\n`);
    });
  });
users
  .command('list')
  .description('list users')
  .addOption(dataOption())
  .addOption(initOption())
  .addOption(dbOption())
  .option('--json', 'print JSON')
  .action(async (options: DataOptions & { json?: boolean }) => {
    await withNode(options, async (node) => {
      const list = await node.accounts.listUsers();
      if (options.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else for (const u of list) process.stdout.write(`${u.username.padEnd(20)} ${u.role.padEnd(15)} ${u.name}${u.disabled ? ' (disabled)' : ''}\n`);
    });
  });
users
  .command('token')
  .description('mint a long-lived bearer token (one year) for a machine client acting as this user')
  .addOption(dataOption())
  .addOption(initOption())
  .addOption(dbOption())
  .requiredOption('--username <u>', 'the user the client acts as')
  .option('--workstation <id>', 'label recorded in the audit trail', 'api-client')
  .action(async (options: DataOptions & { username: string; workstation: string }) => {
    await withNode(options, async (node) => {
      const user = (await node.accounts.listUsers()).find((u) => u.username === options.username.toLowerCase());
      if (!user) throw new SteadfastError('not-found', `User "${options.username}" was not found`, { field: '--username', hint: 'See steadfast users list' });
      const { token, expiresAt } = await node.accounts.createSession(user.id, options.workstation, 'api');
      process.stderr.write(`token for ${user.username} (${user.role}), valid until ${expiresAt} (${Math.round(API_TOKEN_MS / 86_400_000)} days):\n`);
      process.stdout.write(`${token}\n`);
    });
  });
users
  .command('unlock')
  .description('clear a sign-in lockout')
  .addOption(dataOption())
  .addOption(initOption())
  .addOption(dbOption())
  .requiredOption('--username <u>', 'user to unlock')
  .action(async (options: DataOptions & { username: string }) => {
    await withNode(options, async (node) => {
      await node.accounts.unlock(options.username);
      process.stdout.write(`unlocked ${options.username}\n`);
    });
  });

users
  .command('2fa-reset')
  .description("switch off a user's two-factor sign-in (lost phone, no recovery codes); they enrol again at next sign-in if required (audited)")
  .addOption(dataOption())
  .addOption(initOption())
  .addOption(dbOption())
  .requiredOption('--username <u>', 'user whose two-factor sign-in is reset')
  .action(async (options: DataOptions & { username: string }) => {
    await withNode(options, async (node) => {
      const user = (await node.accounts.listUsers()).find((u) => u.username === options.username.trim().toLowerCase());
      if (!user) throw new SteadfastError('not-found', `User "${options.username}" was not found`, { field: '--username', hint: 'See steadfast users list' });
      const wasOn = await new TwoFactor(node.store).reset(user.id);
      await node.audit.append([
        { actor: { id: 'system:cli', name: 'steadfast users 2fa-reset', role: 'system', workstation: '' }, event: 'two-factor-reset', outcome: 'success', detail: `${user.username}${wasOn ? '' : ' (was not enrolled)'}` },
      ]);
      process.stdout.write(wasOn ? `two-factor sign-in reset for ${user.username}; they set it up again at next sign-in\n` : `${user.username} had no two-factor sign-in; nothing to reset\n`);
    });
  });

const audit = program.command('audit').description('the audit trail');
audit
  .command('verify')
  .description('check the hash chain of the audit trail; reports the first broken entry (keep the printed newest hash: a later run must still contain it)')
  .addOption(dataOption())
  .addOption(initOption())
  .addOption(dbOption())
  .action(async (options: DataOptions) => {
    await withNode(options, async (node) => {
      const result = await node.audit.verify();
      if (result.ok) {
        process.stdout.write(`audit chain intact: ${result.checked} entries checked${result.head ? `; newest seq ${result.head.seq} hash ${result.head.hash}` : ''}\n`);
      }
      else {
        process.stdout.write(`audit chain BROKEN at seq ${result.brokenSeq}: ${result.reason} (${result.checked} entries before it are intact)\n`);
        process.exitCode = 2;
      }
    });
  });

dataCommand('status', 'show the data directory: practice, node, record counts, users, audit').action(async (options: DataOptions) => {
  await withNode(options, async (node) => {
    const counts = await node.store.db
      .selectFrom('resources')
      .select(['resource_type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('practice', '=', node.store.practice)
      .where('deleted', '=', 0)
      .groupBy('resource_type')
      .orderBy('resource_type')
      .execute();
    const userList = await node.accounts.listUsers();
    const last = (await node.audit.list({ limit: 1 }))[0];
    process.stdout.write(
      [
        `data dir:  ${node.dataDir}${node.store.dialect === 'sqlite' ? ` (${SQLITE_FILE})` : ' (PostgreSQL)'}`,
        `practice:  ${node.identity.practice}`,
        `node:      ${node.identity.nodeId} (${node.identity.role})`,
        `users:     ${userList.length}`,
        `audit:     ${last ? `${last.seq} entries, last ${last.recorded}` : 'empty'}`,
        'records:',
        ...counts.map((c) => `  ${String(c.resource_type).padEnd(22)} ${Number(c.n)}`),
        ...(await syncStatusLines(node.store, node.dataDir)),
      ].join('\n') + '\n',
    );
  });
});

registerSyncCommands(program);

registerDrillCommand(program);

// Encryption at rest and backups of a SQLite practice node: encrypt, backup, restore.
registerAtRestCommands(program, dataCommand);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  reportError(err);
}
