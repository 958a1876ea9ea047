import { Command, InvalidArgumentError } from 'commander';
import {
  listDlqs,
  loadConfig,
  peekDlq,
  replayDlq,
  resolveDlq,
  topologyFor,
  type Config,
} from '@payments/platform';
import { countUnpublished, openDataSource } from '@payments/core';
import { ReconExit, registerRecon } from './recon';
import { approveRefund, listRefunds, retryRefund, settleRefundManually } from './refunds';
import { paymentTimeline } from './timeline';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

async function withDatabase<T>(
  config: Config,
  work: (dataSource: Awaited<ReturnType<typeof openDataSource>>) => Promise<T>,
): Promise<T> {
  const dataSource = await openDataSource(config.DATABASE_URL, { poolSize: 2 });
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

const print = (value: unknown) =>
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);

export function buildCli(config: Config): Command {
  const topology = topologyFor(config);
  const program = new Command('payctl')
    .description('Operate the payment pipeline: dead letters, payments, refunds, outbox')
    .exitOverride();

  const dlq = program.command('dlq').description('dead-letter queues');
  dlq
    .command('list')
    .description('every dlq with its depth')
    .action(async () => {
      for (const { queue, messages } of await listDlqs(config.AMQP_URL, topology))
        print(`${String(messages ?? 'absent').padStart(8)}  ${queue}`);
    });
  dlq
    .command('peek <queue>')
    .description('show dead letters without removing them')
    .option('--limit <n>', 'how many', positiveInt, 10)
    .action(async (queue: string, options: { limit: number }) => {
      print(await peekDlq(config.AMQP_URL, resolveDlq(topology, queue), options.limit));
    });
  dlq
    .command('replay <queue>')
    .description('put dead letters back on the queue they came from, retry counts reset')
    .option('--limit <n>', 'at most this many', positiveInt)
    .action(async (queue: string, options: { limit?: number }) => {
      const moved = await replayDlq(config.AMQP_URL, resolveDlq(topology, queue), options.limit);
      print(`replayed ${moved} message(s) from ${resolveDlq(topology, queue)}`);
    });

  program
    .command('payment <merchantOrderNo>')
    .description('the timeline of one payment')
    .action(async (merchantOrderNo: string) => {
      const timeline = await withDatabase(config, (dataSource) =>
        paymentTimeline(dataSource, merchantOrderNo),
      );
      for (const entry of timeline) print(`${entry.at}  ${entry.what.padEnd(22)} ${entry.detail}`);
    });

  const refund = program.command('refund').description('refunds');
  refund
    .command('list')
    .option('--pending', 'only those waiting for approval')
    .option('--manual', 'only those owed back by hand (MANUAL_REQUIRED: the provider cannot refund them)')
    .action(async (options: { pending?: boolean; manual?: boolean }) => {
      const status = options.manual ? 'MANUAL_REQUIRED' : options.pending ? 'PENDING_APPROVAL' : undefined;
      print(await withDatabase(config, (dataSource) => listRefunds(dataSource, status)));
    });
  refund
    .command('approve <refundNo>')
    .description('send a refund that waits for approval')
    .requiredOption('--by <name>', 'who approves it (recorded with the time)')
    .action(async (refundNo: string, options: { by: string }) => {
      print(await withDatabase(config, (dataSource) => approveRefund(dataSource, refundNo, options.by)));
    });
  refund
    .command('retry <refundNo>')
    .description(
      'send a refund owed by hand (MANUAL_REQUIRED) to its provider again, with the same refund number',
    )
    .requiredOption('--by <name>', 'who asks for it (recorded in the refund)')
    .action(async (refundNo: string, options: { by: string }) => {
      print(await withDatabase(config, (dataSource) => retryRefund(dataSource, refundNo, options.by)));
    });
  refund
    .command('settle-manually <refundNo>')
    .description('record a refund owed by hand (MANUAL_REQUIRED) as paid back outside the provider')
    .requiredOption('--by <name>', 'who paid it back (recorded with the time)')
    .requiredOption('--reference <text>', 'the bank transfer or other proof of the payment back')
    .action(async (refundNo: string, options: { by: string; reference: string }) => {
      print(
        await withDatabase(config, (dataSource) =>
          settleRefundManually(dataSource, refundNo, options.by, options.reference),
        ),
      );
    });

  const outbox = program.command('outbox').description('transactional outbox');
  outbox.command('status').action(async () => {
    const status = await withDatabase(config, async (dataSource) => {
      const [oldest] = await dataSource.query(
        'SELECT MIN(created_at) AS oldest FROM outbox WHERE sent_at IS NULL',
      );
      return { unpublished: await countUnpublished(dataSource), oldestUnpublishedAt: oldest?.oldest ?? null };
    });
    print(status);
  });
  registerRecon(program, config);
  return program;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  try {
    await buildCli(config).parseAsync(process.argv);
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number; message: string };
    if (commanderError.code?.startsWith('commander.')) {
      process.exit(commanderError.exitCode === 0 ? 0 : 2);
    }
    process.stderr.write(`payctl: ${commanderError.message}\n`);
    process.exit(error instanceof ReconExit ? error.exitCode : 1);
  }
}

if (
  require.main === module ||
  process.argv[1]?.endsWith('payctl') ||
  process.argv[1]?.endsWith('payctl.js')
) {
  void main();
}
